package io.webrtcgateway.sip;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Locale;

/**
 * Answers an HTTP Digest challenge from SIP Server (RFC 3261 §22.4, RFC 2617, RFC 8760 for SHA-256):
 * algorithms MD5, MD5-sess, SHA-256, SHA-256-sess; qop "auth" or none. The nonce count is kept here so a
 * challenge can be reused for refreshes until SIP Server asks again.
 */
public final class DigestChallenge {
    private final String realm;
    private final String nonce;
    private final String opaque;
    private final String algorithm;
    private final boolean qopAuth;
    private final boolean stale;
    private int nonceCount;

    public DigestChallenge(String realm, String nonce, String opaque, String algorithm, String qop, boolean stale) {
        if (realm == null || nonce == null) {
            throw new IllegalArgumentException("digest challenge without realm or nonce");
        }
        this.realm = realm;
        this.nonce = nonce;
        this.opaque = opaque;
        this.algorithm = algorithm == null || algorithm.isBlank() ? "MD5" : algorithm;
        this.qopAuth = qop != null && java.util.Arrays.stream(qop.split(","))
                .anyMatch(q -> q.trim().equalsIgnoreCase("auth"));
        this.stale = stale;
        String alg = this.algorithm.toUpperCase(Locale.ROOT);
        if (!alg.equals("MD5") && !alg.equals("MD5-SESS") && !alg.equals("SHA-256") && !alg.equals("SHA-256-SESS")) {
            throw new IllegalArgumentException("unsupported digest algorithm " + this.algorithm);
        }
    }

    public boolean stale() {
        return stale;
    }

    public String realm() {
        return realm;
    }

    /** The credentials fields for an Authorization / Proxy-Authorization header. */
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
