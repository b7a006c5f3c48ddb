package io.webrtcgateway.media.srtp;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import javax.crypto.Cipher;
import javax.crypto.Mac;
import javax.crypto.spec.IvParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import org.jitsi.srtp.SrtpContextFactory;
import org.jitsi.srtp.SrtpCryptoContext;
import org.jitsi.srtp.SrtpPolicy;
import org.jitsi.srtp.crypto.JitsiOpenSslProvider;
import org.jitsi.utils.ByteArrayBuffer;
import org.jitsi.utils.logging2.LoggerImpl;
import org.junit.jupiter.api.Test;

/**
 * ns per 172-byte RTP packet (12-byte header, 160-byte G.711 payload, 20 ms) for SRTP protect and for a
 * protect + unprotect round trip, comparing the gateway's {@link SrtpSession} with jitsi-srtp and with the
 * obvious JCA code (AES/CTR re-initialised per packet + {@code Mac}). Median of 9 interleaved rounds after warm-up, one
 * thread; also bytes allocated per packet.
 * Run: {@code mvn -B verify -Pbench -Dit.test=SrtpBench} (writes target/bench/srtp.md), or {@code main()}.
 * Not a test: it asserts nothing about speed.
 */
public class SrtpBench {
    private static final int PACKET = 172;
    private static final int WARMUP = 300_000;
    private static final int ROUND = 200_000;
    private static final int ROUNDS = 9;

    interface Variant {
        /** Processes one packet with sequence number {@code seq}; returns something to keep the JIT honest. */
        int run(int seq);
    }

    @Test
    void srtpCostPerPacket() throws Exception {
        main(new String[0]);
    }

    public static void main(String[] args) throws Exception {
        Random r = new Random(1);
        byte[] k1 = new byte[16];
        byte[] s1 = new byte[14];
        byte[] k2 = new byte[16];
        byte[] s2 = new byte[14];
        r.nextBytes(k1);
        r.nextBytes(s1);
        r.nextBytes(k2);
        r.nextBytes(s2);
        byte[] template = new byte[PACKET + 64];
        template[0] = (byte) 0x80;
        template[8] = 0x11;
        for (int i = 12; i < PACKET; i++) {
            template[i] = (byte) r.nextInt();
        }

        List<String> names = List.of(
                "gateway SrtpSession: protect",
                "gateway SrtpSession: protect + unprotect",
                "jitsi-srtp (OpenSSL JNI loaded: " + JitsiOpenSslProvider.isLoaded() + "): protect",
                "jitsi-srtp: protect + unprotect",
                "plain JCA (AES/CTR init per packet + Mac): protect");
        List<Variant> variants = List.of(
                gatewayProtect(k1, s1, k2, s2, template),
                gatewayRoundTrip(k1, s1, k2, s2, template),
                jitsiProtect(k1, s1, template),
                jitsiRoundTrip(k1, s1, template),
                plainJcaProtect(k1, s1, template));
        List<String> rows = measure(names, variants);

        StringBuilder table = new StringBuilder(String.format("%n| SRTP, 172-byte RTP packet, %s | ns/packet (median of %d) | "
                + "bytes allocated/packet |%n|---|---|---|%n", System.getProperty("java.vm.version"), ROUNDS));
        rows.forEach(table::append);
        System.out.println(table);
        Path out = Path.of("target", "bench");
        try {
            Files.createDirectories(out);
            Files.writeString(out.resolve("srtp.md"), table.toString());
        } catch (IOException e) {
            System.out.println("could not write target/bench/srtp.md: " + e);
        }
    }

    /**
     * STACK.md's crypto floor measured now, for other benches to print beside their own figures: ns per
     * 172-byte packet of the plain JCA SRTP protect (median of {@value #ROUNDS} rounds after warm-up).
     */
    public static double jcaProtectFloorNanos() throws Exception {
        Random r = new Random(2);
        byte[] key = new byte[16];
        byte[] salt = new byte[14];
        r.nextBytes(key);
        r.nextBytes(salt);
        byte[] template = new byte[PACKET + 64];
        template[0] = (byte) 0x80;
        Variant jca = plainJcaProtect(key, salt, template);
        int sink = 0;
        for (int i = 0; i < WARMUP; i++) {
            sink += jca.run(i & 0xffff);
        }
        double[] ns = new double[ROUNDS];
        for (int round = 0; round < ROUNDS; round++) {
            long t0 = System.nanoTime();
            for (int i = 0; i < ROUND; i++) {
                sink += jca.run(i & 0xffff);
            }
            ns[round] = (System.nanoTime() - t0) / (double) ROUND;
        }
        Arrays.sort(ns);
        return sink == 42 ? -1 : ns[ROUNDS / 2];
    }

    /**
     * Rounds interleave the variants (A B C A B C ...), so a noisy neighbour on this shared machine slows
     * them all alike instead of whichever ran at the wrong moment.
     */
    private static List<String> measure(List<String> names, List<Variant> variants) {
        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        int n = variants.size();
        int sink = 0;
        int[] seq = new int[n];
        for (int v = 0; v < n; v++) {
            for (int i = 0; i < WARMUP; i++) {
                sink += variants.get(v).run(seq[v]++ & 0xffff);
            }
        }
        double[][] ns = new double[n][ROUNDS];
        long[] allocated = new long[n];
        for (int round = 0; round < ROUNDS; round++) {
            for (int v = 0; v < n; v++) {
                Variant variant = variants.get(v);
                long a0 = threads.getCurrentThreadAllocatedBytes();
                long t0 = System.nanoTime();
                for (int i = 0; i < ROUND; i++) {
                    sink += variant.run(seq[v]++ & 0xffff);
                }
                ns[v][round] = (System.nanoTime() - t0) / (double) ROUND;
                allocated[v] += threads.getCurrentThreadAllocatedBytes() - a0;
            }
        }
        List<String> rows = new ArrayList<>();
        for (int v = 0; v < n; v++) {
            Arrays.sort(ns[v]);
            rows.add(String.format("| %s | %.0f (%.0f-%.0f) | %.1f |%n", names.get(v), ns[v][ROUNDS / 2], ns[v][0],
                    ns[v][ROUNDS - 1], allocated[v] / (double) ROUND / ROUNDS));
        }
        if (sink == 42) {
            System.out.println();
        }
        return rows;
    }

    private static void setSeq(byte[] p, int seq) {
        p[2] = (byte) (seq >>> 8);
        p[3] = (byte) seq;
    }

    private static Variant gatewayProtect(byte[] k1, byte[] s1, byte[] k2, byte[] s2, byte[] template) {
        SrtpSession tx = SrtpSession.create(SrtpProfile.AES_CM_128_HMAC_SHA1_80, new SrtpMasterKey(k1, s1),
                new SrtpMasterKey(k2, s2));
        byte[] p = template.clone();
        return seq -> {
            setSeq(p, seq);
            return tx.protectRtp(p, 0, PACKET);
        };
    }

    private static Variant gatewayRoundTrip(byte[] k1, byte[] s1, byte[] k2, byte[] s2, byte[] template) {
        SrtpSession tx = SrtpSession.create(SrtpProfile.AES_CM_128_HMAC_SHA1_80, new SrtpMasterKey(k1, s1),
                new SrtpMasterKey(k2, s2));
        SrtpSession rx = SrtpSession.create(SrtpProfile.AES_CM_128_HMAC_SHA1_80, new SrtpMasterKey(k2, s2),
                new SrtpMasterKey(k1, s1));
        byte[] p = template.clone();
        return seq -> {
            setSeq(p, seq);
            int n = rx.unprotectRtp(p, 0, tx.protectRtp(p, 0, PACKET));
            if (n != PACKET) {
                throw new IllegalStateException("round trip failed");
            }
            return n;
        };
    }

    private static SrtpPolicy jitsiPolicy() {
        return new SrtpPolicy(SrtpPolicy.AESCM_ENCRYPTION, 16, SrtpPolicy.HMACSHA1_AUTHENTICATION, 20, 10, 14);
    }

    private static Variant jitsiProtect(byte[] k1, byte[] s1, byte[] template) throws Exception {
        SrtpContextFactory f = new SrtpContextFactory(true, k1, s1, jitsiPolicy(), jitsiPolicy(),
                new LoggerImpl("bench"));
        SrtpCryptoContext tx = f.deriveContext(0x11000000, 0);
        Buffer b = new Buffer(template.clone());
        return seq -> {
            try {
                b.reset(template);
                setSeq(b.buf, seq);
                tx.transformPacket(b);
                return b.len;
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        };
    }

    private static Variant jitsiRoundTrip(byte[] k1, byte[] s1, byte[] template) throws Exception {
        SrtpCryptoContext tx = new SrtpContextFactory(true, k1, s1, jitsiPolicy(), jitsiPolicy(),
                new LoggerImpl("bench")).deriveContext(0x11000000, 0);
        SrtpCryptoContext rx = new SrtpContextFactory(false, k1, s1, jitsiPolicy(), jitsiPolicy(),
                new LoggerImpl("bench")).deriveContext(0x11000000, 0);
        Buffer b = new Buffer(template.clone());
        return seq -> {
            try {
                b.reset(template);
                setSeq(b.buf, seq);
                tx.transformPacket(b);
                if (rx.reverseTransformPacket(b, false) != org.jitsi.srtp.SrtpErrorStatus.OK) {
                    throw new IllegalStateException("round trip failed");
                }
                return b.len;
            } catch (java.security.GeneralSecurityException e) {
                throw new IllegalStateException(e);
            }
        };
    }

    /** The straightforward JCA version, for comparison: allocates a new IvParameterSpec and MAC per packet. */
    private static Variant plainJcaProtect(byte[] k1, byte[] s1, byte[] template) throws Exception {
        SessionKeys keys = SessionKeys.forRtp(new SrtpMasterKey(k1, s1));
        Cipher ctr = Cipher.getInstance("AES/CTR/NoPadding");
        SecretKeySpec aesKey = new SecretKeySpec(keys.encryptionKey(), "AES");
        Mac mac = Mac.getInstance("HmacSHA1");
        mac.init(new SecretKeySpec(keys.authenticationKey(), "HmacSHA1"));
        byte[] p = template.clone();
        byte[] iv = new byte[16];
        byte[] roc = new byte[4];
        byte[] tag = new byte[20];
        return seq -> {
            try {
                setSeq(p, seq);
                System.arraycopy(keys.salt(), 0, iv, 0, 14);
                iv[14] = 0;
                iv[15] = 0;
                for (int i = 0; i < 4; i++) {
                    iv[4 + i] ^= p[8 + i];
                }
                iv[12] ^= p[2];
                iv[13] ^= p[3];
                ctr.init(Cipher.ENCRYPT_MODE, aesKey, new IvParameterSpec(iv));
                ctr.doFinal(p, 12, PACKET - 12, p, 12);
                mac.update(p, 0, PACKET);
                mac.update(roc);
                mac.doFinal(tag, 0);
                System.arraycopy(tag, 0, p, PACKET, 10);
                return PACKET + 10;
            } catch (java.security.GeneralSecurityException e) {
                throw new IllegalStateException(e);
            }
        };
    }

    /** The ByteArrayBuffer jitsi-srtp works on, over a fixed array with room for the tag. */
    private static final class Buffer implements ByteArrayBuffer {
        final byte[] buf;
        int off;
        int len;

        Buffer(byte[] buf) {
            this.buf = buf;
        }

        void reset(byte[] template) {
            System.arraycopy(template, 0, buf, 0, PACKET);
            off = 0;
            len = PACKET;
        }

        @Override
        public byte[] getBuffer() {
            return buf;
        }

        @Override
        public int getOffset() {
            return off;
        }

        @Override
        public int getLength() {
            return len;
        }

        @Override
        public void setLength(int len) {
            this.len = len;
        }

        @Override
        public void setOffset(int off) {
            this.off = off;
        }

        @Override
        public boolean isInvalid() {
            return false;
        }

        @Override
        public void readRegionToBuff(int at, int length, byte[] out) {
            System.arraycopy(buf, off + at, out, 0, length);
        }

        @Override
        public void grow(int howMuch) {
            if (off + len + howMuch > buf.length) {
                throw new IllegalStateException("no room");
            }
        }

        @Override
        public void append(byte[] data, int length) {
            grow(length);
            System.arraycopy(data, 0, buf, off + len, length);
            len += length;
        }

        @Override
        public void shrink(int howMuch) {
            len = Math.max(0, len - howMuch);
        }
    }
}
