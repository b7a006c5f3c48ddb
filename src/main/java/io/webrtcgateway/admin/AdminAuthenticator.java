package io.webrtcgateway.admin;

import io.webrtcgateway.config.GatewayConfig;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * HTTP Basic (RFC 7617) against {@code gateway.admin.username} / {@code password-hash}. PBKDF2 is slow on
 * purpose, so a header that passed once is remembered (as a SHA-256 digest, not the password) and an
 * admin console polling every second costs one hash, not one per request. Verifications run one at a
 * time: a flood of wrong passwords costs at most one core.
 */
public final class AdminAuthenticator {
    private static final int REMEMBERED = 16;

    private final String username;
    private final PasswordHash hash;
    /** Digests of Authorization headers that passed, oldest first. Guarded by this. */
    private final Map<String, Boolean> passed = new LinkedHashMap<>(REMEMBERED, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Boolean> eldest) {
            return size() > REMEMBERED;
        }
    };

    public AdminAuthenticator(GatewayConfig.Admin config) {
        this.username = config.username();
        this.hash = config.enabled() ? PasswordHash.parse(config.passwordHash()) : null;
    }

    public boolean enabled() {
        return hash != null;
    }

    /** Whether the request's {@code Authorization} header value carries the admin credentials. */
    public synchronized boolean authenticates(String authorization) {
        if (hash == null || authorization == null || !authorization.regionMatches(true, 0, "Basic ", 0, 6)) {
            return false;
        }
        String digest = sha256(authorization);
        if (passed.containsKey(digest)) {
            return true;
        }
        String decoded;
        try {
            decoded = new String(Base64.getDecoder().decode(authorization.substring(6).trim()), StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            return false;
        }
        int colon = decoded.indexOf(':');
        if (colon < 0) {
            return false;
        }
        if (verifies(decoded.substring(0, colon), decoded.substring(colon + 1).toCharArray())) {
            passed.put(digest, Boolean.TRUE);
            return true;
        }
        return false;
    }

    /** Whether these are the admin credentials (console login); one PBKDF2 computation. */
    public synchronized boolean verifies(String user, char[] password) {
        if (hash == null || user == null || password == null) {
            return false;
        }
        boolean userOk = MessageDigest.isEqual(user.getBytes(StandardCharsets.UTF_8),
                username.getBytes(StandardCharsets.UTF_8));
        // Hash even for a wrong user name, so the answer time does not tell which part was wrong.
        boolean passwordOk = hash.matches(password);
        return userOk && passwordOk;
    }

    public String username() {
        return username;
    }

    private static String sha256(String text) {
        try {
            return Base64.getEncoder().encodeToString(
                    MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
