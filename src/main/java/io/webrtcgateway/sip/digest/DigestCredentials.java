package io.webrtcgateway.sip.digest;

/**
 * A DN's digest user name (the DN) and password: the ones the browser signed in with, which its registration
 * uses and its calls reuse. {@link #toString()} leaves the password out, so logging one is harmless.
 */
public record DigestCredentials(String username, String password) {
    public DigestCredentials {
        if (username == null || password == null) {
            throw new IllegalArgumentException("digest credentials need a user name and a password");
        }
    }

    @Override
    public String toString() {
        return "DigestCredentials[" + username + "]";
    }
}
