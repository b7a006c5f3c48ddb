package io.webrtcgateway.admin;

import java.nio.charset.StandardCharsets;
import java.security.InvalidKeyException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Requests between the instances of a cluster (cluster view, scope=cluster lists, actions forwarded to the
 * instance that owns a call or session) are signed with {@code gateway.admin.cluster-secret}, never with the
 * operator's password: HMAC-SHA256 (RFC 2104) over the method, the path with query, a timestamp, a nonce,
 * the sending instance and the operator on whose behalf it asks. A signature is good for
 * {@link #WINDOW_SECONDS} either side of the receiver's clock and only once (the nonce is remembered for
 * that long), so a captured request cannot be replayed later.
 */
public final class ClusterSignature {
    public static final String PEER_HEADER = "X-Gateway-Peer";
    public static final String USER_HEADER = "X-Gateway-Peer-User";
    public static final String TIME_HEADER = "X-Gateway-Peer-Time";
    public static final String NONCE_HEADER = "X-Gateway-Peer-Nonce";
    public static final String SIGNATURE_HEADER = "X-Gateway-Peer-Signature";
    static final long WINDOW_SECONDS = 60;
    private static final int MAX_REMEMBERED = 100_000;
    private static final SecureRandom RANDOM = new SecureRandom();

    /** The signed headers of one request. */
    public record Signed(String peer, String user, long time, String nonce, String signature) {}

    private final byte[] key;
    /** Nonces seen within the window, with their timestamps, oldest first. Guarded by this. */
    private final Map<String, Long> seen = new LinkedHashMap<>();

    public ClusterSignature(String secret) {
        this.key = secret.getBytes(StandardCharsets.UTF_8);
    }

    /** Signs a request this instance ({@code peer}) sends for operator {@code user}. */
    public Signed sign(String method, String pathAndQuery, String peer, String user, long nowSeconds) {
        byte[] n = new byte[16];
        RANDOM.nextBytes(n);
        String nonce = HexFormat.of().formatHex(n);
        String sig = mac(method, pathAndQuery, nowSeconds, nonce, peer, user);
        return new Signed(peer, user, nowSeconds, nonce, sig);
    }

    /**
     * Whether a received request carries a valid, fresh, unreplayed signature. {@code peer}, {@code user},
     * {@code time}, {@code nonce} and {@code signature} are the header values (any may be null).
     */
    public boolean verify(String method, String pathAndQuery, String peer, String user, String time, String nonce,
                          String signature, long nowSeconds) {
        if (peer == null || user == null || time == null || nonce == null || signature == null
                || !nonce.matches("[0-9a-f]{16,64}") || !peer.matches("[A-Za-z0-9_\\-]{1,64}")) {
            return false;
        }
        long t;
        try {
            t = Long.parseLong(time);
        } catch (NumberFormatException e) {
            return false;
        }
        if (Math.abs(nowSeconds - t) > WINDOW_SECONDS) {
            return false;
        }
        byte[] expected = mac(method, pathAndQuery, t, nonce, peer, user).getBytes(StandardCharsets.US_ASCII);
        if (!MessageDigest.isEqual(expected, signature.getBytes(StandardCharsets.US_ASCII))) {
            return false;
        }
        synchronized (this) {
            for (Iterator<Long> it = seen.values().iterator(); it.hasNext(); ) {
                if (it.next() < nowSeconds - 2 * WINDOW_SECONDS || seen.size() > MAX_REMEMBERED) {
                    it.remove();
                } else {
                    break;
                }
            }
            return seen.putIfAbsent(nonce, nowSeconds) == null;
        }
    }

    private String mac(String method, String pathAndQuery, long time, String nonce, String peer, String user) {
        String text = method + "\n" + pathAndQuery + "\n" + time + "\n" + nonce + "\n" + peer + "\n" + user;
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(key, "HmacSHA256"));
            return Base64.getEncoder().encodeToString(mac.doFinal(text.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException | InvalidKeyException e) {
            throw new IllegalStateException("HmacSHA256 is part of every Java runtime", e);
        }
    }
}
