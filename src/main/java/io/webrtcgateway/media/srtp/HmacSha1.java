package io.webrtcgateway.media.srtp;

import java.security.DigestException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/**
 * HMAC-SHA1 (RFC 2104) over a JCA SHA-1 digest with the padded keys prepared once. Same work as
 * {@code Mac.getInstance("HmacSHA1")}, but {@code Mac.doFinal} allocates its result on every call and this
 * writes into a reused buffer; the SHA-1 compression is still the JDK's (SHA-NI intrinsic where present).
 * Not thread-safe: one instance per key and direction.
 */
final class HmacSha1 {
    static final int LENGTH = 20;
    private static final int BLOCK = 64;

    private final MessageDigest sha1;
    private final byte[] innerPad = new byte[BLOCK];
    private final byte[] outerPad = new byte[BLOCK];
    private final byte[] innerHash = new byte[LENGTH];
    private final byte[] result = new byte[LENGTH];
    private final byte[] word = new byte[4];

    HmacSha1(byte[] key) {
        try {
            sha1 = MessageDigest.getInstance("SHA-1");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-1 unavailable", e);
        }
        byte[] k = key.length > BLOCK ? sha1.digest(key) : key;
        for (int i = 0; i < BLOCK; i++) {
            byte b = i < k.length ? k[i] : 0;
            innerPad[i] = (byte) (b ^ 0x36);
            outerPad[i] = (byte) (b ^ 0x5c);
        }
    }

    void start() {
        sha1.reset();
        sha1.update(innerPad, 0, BLOCK);
    }

    void update(byte[] buf, int off, int len) {
        sha1.update(buf, off, len);
    }

    void updateInt(int v) {
        word[0] = (byte) (v >>> 24);
        word[1] = (byte) (v >>> 16);
        word[2] = (byte) (v >>> 8);
        word[3] = (byte) v;
        sha1.update(word, 0, 4);
    }

    /** The MAC of what was fed since {@link #start()}, in a buffer reused by the next call. */
    byte[] finish() {
        try {
            sha1.digest(innerHash, 0, LENGTH);
            sha1.update(outerPad, 0, BLOCK);
            sha1.update(innerHash, 0, LENGTH);
            sha1.digest(result, 0, LENGTH);
        } catch (DigestException e) {
            throw new IllegalStateException(e);
        }
        return result;
    }

    /** Compares the first {@code len} bytes in constant time: a tag check must not leak how much matched. */
    static boolean equalPrefix(byte[] mac, byte[] buf, int off, int len) {
        int diff = 0;
        for (int i = 0; i < len; i++) {
            diff |= mac[i] ^ buf[off + i];
        }
        return diff == 0;
    }
}
