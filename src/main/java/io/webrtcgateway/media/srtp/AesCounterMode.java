package io.webrtcgateway.media.srtp;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.security.GeneralSecurityException;
import javax.crypto.Cipher;
import javax.crypto.ShortBufferException;
import javax.crypto.spec.SecretKeySpec;

/**
 * AES-128 in counter mode as SRTP uses it (RFC 3711 §4.1.1): keystream block j is AES_k(IV + j), j a 16-bit
 * block counter. Built on AES/ECB over a reused buffer of counter blocks, not on JCA's AES/CTR: CTR must be
 * re-initialised per packet with a new IvParameterSpec (the IV is copied twice), which allocates on every
 * packet and measured no faster for 160-byte payloads (SrtpBench).
 * Not thread-safe: one instance per key and direction.
 */
final class AesCounterMode {
    private static final VarHandle LONGS = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.BIG_ENDIAN);
    /** 2^16 blocks of 16 bytes: the counter is 16 bits (RFC 3711 §4.1.1). */
    static final int MAX_LENGTH = 1 << 20;

    private final Cipher aes;
    private byte[] counters = new byte[1536];
    private byte[] keystream = new byte[1536];

    AesCounterMode(byte[] key) {
        try {
            aes = Cipher.getInstance("AES/ECB/NoPadding");
            aes.init(Cipher.ENCRYPT_MODE, new SecretKeySpec(key, "AES"));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("AES/ECB unavailable", e);
        }
    }

    /**
     * XORs {@code buf[off, off+len)} with the keystream for the IV given as its two big-endian 64-bit halves;
     * the low 16 bits of {@code ivLow} (the block counter) must be zero.
     */
    void apply(long ivHigh, long ivLow, byte[] buf, int off, int len) {
        if (len <= 0) {
            return;
        }
        if (len > MAX_LENGTH) {
            throw new IllegalArgumentException("AES-CM input longer than 2^16 blocks");
        }
        int blocks = (len + 15) >>> 4;
        int bytes = blocks << 4;
        if (counters.length < bytes) {
            counters = new byte[bytes];
            keystream = new byte[bytes];
        }
        byte[] ctr = counters;
        for (int i = 0, b = 0; i < blocks; i++, b += 16) {
            LONGS.set(ctr, b, ivHigh);
            LONGS.set(ctr, b + 8, ivLow | i);
        }
        byte[] ks = keystream;
        try {
            aes.update(ctr, 0, bytes, ks, 0);
        } catch (ShortBufferException e) {
            throw new IllegalStateException(e);
        }
        int i = 0;
        for (; i + 8 <= len; i += 8) {
            LONGS.set(buf, off + i, (long) LONGS.get(buf, off + i) ^ (long) LONGS.get(ks, i));
        }
        for (; i < len; i++) {
            buf[off + i] ^= ks[i];
        }
    }

    /** Big-endian bytes 0-7 of a 14-byte salt (or any array), as the high half of a 16-byte IV. */
    static long high(byte[] salt) {
        return (long) LONGS.get(salt, 0);
    }

    /** Bytes 8-13 of a 14-byte salt, shifted into bytes 8-13 of the low half of a 16-byte IV. */
    static long low(byte[] salt) {
        long v = 0;
        for (int i = 8; i < 14; i++) {
            v = (v << 8) | (salt[i] & 0xff);
        }
        return v << 16;
    }
}
