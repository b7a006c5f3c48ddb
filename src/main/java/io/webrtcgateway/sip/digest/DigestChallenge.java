package io.webrtcgateway.sip.digest;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Locale;

/**
 * One HTTP Digest challenge from SIP Server or a proxy (RFC 3261 §22.4, RFC 2617, RFC 7616 / RFC 8760 for
 * SHA-256) and the answers to it: algorithms MD5, MD5-sess, SHA-256, SHA-256-sess; qop "auth" or none. A
 * challenge that offers only qop "auth-int" (a hash of the body) or another algorithm is refused when it is
 * made: the constructor throws, naming what it cannot answer. The nonce count is kept here, so answers reusing
 * the challenge (refreshes, later requests of a dialog) count up: RFC 2617 §3.2.2 "nc".
 *
 * <p>Not thread-safe: confined to its owner's serial executor, like the {@link DigestClient} holding it.
 */
public final class DigestChallenge {
    private final String realm;
    private final String nonce;
    private final String opaque;
    private final String algorithm;
    private final boolean qopAuth;
    private final boolean stale;
    /** Answers given with this nonce so far. */
    private int nonceCount;

    /**
     * The challenge's fields as the WWW-Authenticate / Proxy-Authenticate header has them ({@code algorithm}
     * and {@code qop} may be null: MD5, no qop). Throws IllegalArgumentException for a challenge this class
     * cannot answer; the message says why (e.g. "unsupported digest algorithm SHA-512-256").
     */
    public DigestChallenge(String realm, String nonce, String opaque, String algorithm, String qop, boolean stale) {
        if (realm == null || nonce == null) {
            throw new IllegalArgumentException("digest challenge without realm or nonce");
        }
        this.realm = realm;
        this.nonce = nonce;
        this.opaque = opaque;
        this.algorithm = algorithm == null || algorithm.isBlank() ? "MD5" : algorithm.trim();
        String alg = this.algorithm.toUpperCase(Locale.ROOT);
        if (!alg.equals("MD5") && !alg.equals("MD5-SESS") && !alg.equals("SHA-256") && !alg.equals("SHA-256-SESS")) {
            throw new IllegalArgumentException("unsupported digest algorithm " + this.algorithm);
        }
        if (qop == null || qop.isBlank()) {
            this.qopAuth = false; // RFC 2069 form, still allowed by RFC 2617 §3.2.2.1
        } else if (Arrays.stream(qop.split(",")).anyMatch(q -> q.trim().equalsIgnoreCase("auth"))) {
            this.qopAuth = true;
        } else {
            // "auth-int" alone would need a hash of each request's body; nothing here sends it.
            throw new IllegalArgumentException("unsupported digest qop \"" + qop.trim() + "\" (only auth is answered)");
        }
        this.stale = stale;
    }

    /** RFC 2617 §3.2.1: the previous answer had a good password but an expired nonce; answer this one. */
    public boolean stale() {
        return stale;
    }

    public String realm() {
        return realm;
    }

    public String nonce() {
        return nonce;
    }

    /** Answers so far with this nonce (the last answer's "nc"). */
    public int nonceCount() {
        return nonceCount;
    }

    /** The credentials fields for an Authorization / Proxy-Authorization header; counts "nc" up. */
    public Answer answer(String user, String password, String method, String uri, String cnonce) {
        nonceCount++;
        String nc = String.format("%08x", nonceCount);
        String alg = algorithm.toUpperCase(Locale.ROOT);
        String hashName = alg.startsWith("SHA-256") ? "SHA-256" : "MD5";
        String ha1 = hash(hashName, user + ":" + realm + ":" + password);
        if (alg.endsWith("-SESS")) {
            ha1 = hash(hashName, ha1 + ":" + nonce + ":" + cnonce);
        }
        String ha2 = hash(hashName, method + ":" + uri);
        String response = qopAuth
                ? hash(hashName, ha1 + ":" + nonce + ":" + nc + ":" + cnonce + ":auth:" + ha2)
                : hash(hashName, ha1 + ":" + nonce + ":" + ha2);
        return new Answer(user, realm, nonce, uri, response, algorithm, opaque,
                qopAuth ? "auth" : null, qopAuth ? cnonce : null, qopAuth ? nonceCount : 0);
    }

    /** Fields of the answer; {@code qop}, {@code cnonce} are null and {@code nonceCount} 0 without qop. */
    public record Answer(String username, String realm, String nonce, String uri, String response,
                         String algorithm, String opaque, String qop, String cnonce, int nonceCount) {}

    static String hash(String algorithm, String text) {
        try {
            MessageDigest md = MessageDigest.getInstance(algorithm);
            return HexFormat.of().formatHex(md.digest(text.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
