package io.webrtcgateway.media.srtp;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.Random;
import javax.crypto.Cipher;
import javax.crypto.Mac;
import javax.crypto.spec.IvParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.api.Test;

class SrtpSessionTest {
    private static final int SSRC = 0x1234abcd;

    private final Random random = new Random(42);
    private final SrtpMasterKey a = key(1);
    private final SrtpMasterKey b = key(2);

    private static SrtpMasterKey key(int seed) {
        Random r = new Random(seed);
        byte[] k = new byte[16];
        byte[] s = new byte[14];
        r.nextBytes(k);
        r.nextBytes(s);
        return new SrtpMasterKey(k, s);
    }

    /** A 12-byte header + payload RTP packet with 64 spare bytes after it. */
    private byte[] rtp(int seq, int ssrc, int payloadLength) {
        byte[] p = new byte[12 + payloadLength + 64];
        ByteBuffer bb = ByteBuffer.wrap(p);
        bb.put((byte) 0x80).put((byte) 0).putShort((short) seq).putInt(seq * 160).putInt(ssrc);
        for (int i = 12; i < 12 + payloadLength; i++) {
            p[i] = (byte) random.nextInt();
        }
        return p;
    }

    private static byte[] rtcp(int ssrc) {
        // a sender report without report blocks, then an SDES chunk: 28 + 12 bytes
        byte[] p = new byte[40 + 64];
        ByteBuffer bb = ByteBuffer.wrap(p);
        bb.put((byte) 0x80).put((byte) 200).putShort((short) 6).putInt(ssrc).putLong(0x0102030405060708L)
                .putInt(160).putInt(10).putInt(1600);
        bb.put((byte) 0x81).put((byte) 202).putShort((short) 2).putInt(ssrc).put((byte) 1).put((byte) 2)
                .put((byte) 'a').put((byte) 'b');
        return p;
    }

    @ParameterizedTest
    @EnumSource(SrtpProfile.class)
    void rtpRoundTripBothDirections(SrtpProfile profile) {
        SrtpSession alice = SrtpSession.create(profile, a, b);
        SrtpSession bob = SrtpSession.create(profile, b, a);
        for (int seq = 100; seq < 110; seq++) {
            byte[] p = rtp(seq, SSRC, 160);
            byte[] plain = Arrays.copyOf(p, 172);
            int n = alice.protectRtp(p, 0, 172);
            assertEquals(172 + profile.rtpTagLength(), n);
            assertTrue(!Arrays.equals(plain, 12, 172, p, 12, 172), "payload encrypted");
            assertArrayEquals(Arrays.copyOf(plain, 12), Arrays.copyOf(p, 12), "header in clear");
            assertEquals(172, bob.unprotectRtp(p, 0, n));
            assertArrayEquals(plain, Arrays.copyOf(p, 172));

            byte[] back = rtp(seq, 0x55, 160);
            byte[] backPlain = Arrays.copyOf(back, 172);
            assertEquals(172, alice.unprotectRtp(back, 0, bob.protectRtp(back, 0, 172)));
            assertArrayEquals(backPlain, Arrays.copyOf(back, 172));
        }
        assertEquals(0, bob.counters().authFailures() + bob.counters().replayDropped());
    }

    @ParameterizedTest
    @EnumSource(SrtpProfile.class)
    void rtcpRoundTripWithEightyBitTag(SrtpProfile profile) {
        SrtpSession alice = SrtpSession.create(profile, a, b);
        SrtpSession bob = SrtpSession.create(profile, b, a);
        for (int i = 0; i < 5; i++) {
            byte[] p = rtcp(SSRC);
            byte[] plain = Arrays.copyOf(p, 40);
            int n = alice.protectRtcp(p, 0, 40);
            assertEquals(40 + 4 + 10, n);
            assertEquals(0x80, p[40] & 0x80, "E flag set");
            assertEquals(i, ByteBuffer.wrap(p, 40, 4).getInt() & 0x7fffffff, "SRTCP index");
            assertTrue(!Arrays.equals(plain, 8, 40, p, 8, 40), "body after the sender SSRC encrypted");
            assertEquals(40, bob.unprotectRtcp(p, 0, n));
            assertArrayEquals(plain, Arrays.copyOf(p, 40));
        }
    }

    @Test
    void offsetInsideALargerBuffer() {
        SrtpSession alice = SrtpSession.create(SrtpProfile.AES_CM_128_HMAC_SHA1_80, a, b);
        SrtpSession bob = SrtpSession.create(SrtpProfile.AES_CM_128_HMAC_SHA1_80, b, a);
        byte[] p = rtp(7, SSRC, 33);
        byte[] buf = new byte[300];
        System.arraycopy(p, 0, buf, 37, 45);
        int n = alice.protectRtp(buf, 37, 45);
        assertEquals(45, bob.unprotectRtp(buf, 37, n));
        assertArrayEquals(Arrays.copyOf(p, 45), Arrays.copyOfRange(buf, 37, 82));
    }

    @Test
    void tamperedTagOrPayloadIsDroppedAndCounted() {
        SrtpSession alice = SrtpSession.create(SrtpProfile.AES_CM_128_HMAC_SHA1_80, a, b);
        SrtpSession bob = SrtpSession.create(SrtpProfile.AES_CM_128_HMAC_SHA1_80, b, a);
        byte[] p = rtp(1, SSRC, 160);
        int n = alice.protectRtp(p, 0, 172);
        p[n - 1] ^= 1;
        assertEquals(-1, bob.unprotectRtp(p, 0, n));
        assertEquals(1, bob.counters().authFailures());
        p[n - 1] ^= 1;
        p[50] ^= 0x40;
        assertEquals(-1, bob.unprotectRtp(p, 0, n));
        assertEquals(2, bob.counters().authFailures());
        p[50] ^= 0x40;
        assertEquals(172, bob.unprotectRtp(p, 0, n), "the genuine packet still passes: failures changed no state");

        byte[] c = rtcp(SSRC);
        int m = alice.protectRtcp(c, 0, 40);
        c[m - 3] ^= 1;
        assertEquals(-1, bob.unprotectRtcp(c, 0, m));
        assertEquals(3, bob.counters().authFailures());
    }

    @Test
    void replayedPacketIsDroppedAndCounted() {
        SrtpSession alice = SrtpSession.create(SrtpProfile.AES_CM_128_HMAC_SHA1_80, a, b);
        SrtpSession bob = SrtpSession.create(SrtpProfile.AES_CM_128_HMAC_SHA1_80, b, a);
        byte[] p = rtp(1000, SSRC, 160);
        int n = alice.protectRtp(p, 0, 172);
        byte[] copy = p.clone();
        assertEquals(172, bob.unprotectRtp(p, 0, n));
        assertEquals(-1, bob.unprotectRtp(copy, 0, n));
        assertEquals(1, bob.counters().replayDropped());

        byte[] c = rtcp(SSRC);
        int m = alice.protectRtcp(c, 0, 40);
        byte[] ccopy = c.clone();
        assertEquals(40, bob.unprotectRtcp(c, 0, m));
        assertEquals(-1, bob.unprotectRtcp(ccopy, 0, m));
        assertEquals(2, bob.counters().replayDropped());
        assertEquals(0, bob.counters().authFailures());
    }

    @Test
    void reorderedWithinWindowAcceptedOlderThanWindowDropped() {
        SrtpSession alice = SrtpSession.create(SrtpProfile.AES_CM_128_HMAC_SHA1_80, a, b);
        SrtpSession bob = SrtpSession.create(SrtpProfile.AES_CM_128_HMAC_SHA1_80, b, a);
        byte[][] sent = new byte[300][];
        int[] len = new int[300];
        for (int i = 0; i < 300; i++) {
            sent[i] = rtp(i, SSRC, 20);
            len[i] = alice.protectRtp(sent[i], 0, 32);
        }
        assertEquals(32, bob.unprotectRtp(sent[0], 0, len[0]));
        assertEquals(32, bob.unprotectRtp(sent[200], 0, len[200]));
        assertEquals(32, bob.unprotectRtp(sent[199], 0, len[199]));
        assertEquals(32, bob.unprotectRtp(sent[73], 0, len[73]), "127 behind the highest: inside the window");
        assertEquals(-1, bob.unprotectRtp(sent[72], 0, len[72]), "128 behind: outside");
        assertEquals(1, bob.counters().replayDropped());
        assertEquals(32, bob.unprotectRtp(sent[201], 0, len[201]));
    }

    @Test
    void sequenceWrapAdvancesTheRolloverCounterAsRfc3711Says() throws Exception {
        SrtpProfile profile = SrtpProfile.AES_CM_128_HMAC_SHA1_80;
        SrtpSession alice = SrtpSession.create(profile, a, b);
        SrtpSession bob = SrtpSession.create(profile, b, a);
        SessionKeys keys = SessionKeys.forRtp(a);
        int[] seqs = {65530, 65533, 65535, 0, 2, 65534, 1, 20000, 40000, 65000, 100, 5};
        long[] rocs = {0, 0, 0, 1, 1, 0, 1, 1, 1, 1, 2, 2};
        for (int i = 0; i < seqs.length; i++) {
            byte[] p = rtp(seqs[i], SSRC, 160);
            byte[] expected = referenceProtect(keys, Arrays.copyOf(p, 172), rocs[i], profile.rtpTagLength());
            int n = alice.protectRtp(p, 0, 172);
            assertArrayEquals(expected, Arrays.copyOf(p, n), "seq " + seqs[i] + " protected with ROC " + rocs[i]);
            assertEquals(172, bob.unprotectRtp(p, 0, n), "seq " + seqs[i]);
        }
        assertEquals(0, bob.counters().authFailures() + bob.counters().replayDropped());
    }

    /** RFC 3711 §4.1.1 and §4.2 written the obvious way with JCA AES/CTR and Mac, to check against. */
    private static byte[] referenceProtect(SessionKeys keys, byte[] rtp, long roc, int tagLength) throws Exception {
        int seq = ((rtp[2] & 0xff) << 8) | (rtp[3] & 0xff);
        long index = (roc << 16) | seq;
        byte[] iv = Arrays.copyOf(keys.salt(), 16);
        for (int i = 0; i < 4; i++) {
            iv[4 + i] ^= rtp[8 + i];
        }
        for (int i = 0; i < 6; i++) {
            iv[8 + i] ^= (byte) (index >>> (40 - 8 * i));
        }
        Cipher ctr = Cipher.getInstance("AES/CTR/NoPadding");
        ctr.init(Cipher.ENCRYPT_MODE, new SecretKeySpec(keys.encryptionKey(), "AES"), new IvParameterSpec(iv));
        byte[] out = Arrays.copyOf(rtp, rtp.length + tagLength);
        ctr.doFinal(rtp, 12, rtp.length - 12, out, 12);
        Mac mac = Mac.getInstance("HmacSHA1");
        mac.init(new SecretKeySpec(keys.authenticationKey(), "HmacSHA1"));
        mac.update(out, 0, rtp.length);
        mac.update(ByteBuffer.allocate(4).putInt((int) roc).array());
        System.arraycopy(mac.doFinal(), 0, out, rtp.length, tagLength);
        return out;
    }

    @Test
    void headerExtensionAndCsrcsStayInClear() {
        SrtpSession alice = SrtpSession.create(SrtpProfile.AES_CM_128_HMAC_SHA1_80, a, b);
        SrtpSession bob = SrtpSession.create(SrtpProfile.AES_CM_128_HMAC_SHA1_80, b, a);
        byte[] p = new byte[200];
        ByteBuffer bb = ByteBuffer.wrap(p);
        // V=2, X=1, CC=1; one CSRC; one-byte-header extension of 1 word; 20-byte payload
        bb.put((byte) 0x91).put((byte) 111).putShort((short) 9).putInt(1).putInt(SSRC).putInt(0x77777777)
                .putShort((short) 0xBEDE).putShort((short) 1).putInt(0x10ff0000);
        int header = bb.position();
        int len = header + 20;
        byte[] plain = Arrays.copyOf(p, len);
        int n = alice.protectRtp(p, 0, len);
        assertArrayEquals(Arrays.copyOf(plain, header), Arrays.copyOf(p, header));
        assertEquals(len, bob.unprotectRtp(p, 0, n));
        assertArrayEquals(plain, Arrays.copyOf(p, len));
    }

    @Test
    void mkiIsAppendedAndChecked() {
        SrtpMasterKey am = new SrtpMasterKey(a.key(), a.salt(), new byte[] {0, 0, 0, 7});
        SrtpSession alice = SrtpSession.create(SrtpProfile.AES_CM_128_HMAC_SHA1_32, am, b);
        SrtpSession bob = SrtpSession.create(SrtpProfile.AES_CM_128_HMAC_SHA1_32, b, am);
        assertEquals(8, alice.rtpOverhead());
        byte[] p = rtp(3, SSRC, 160);
        int n = alice.protectRtp(p, 0, 172);
        assertEquals(172 + 4 + 4, n);
        assertEquals(7, p[175]);
        byte[] wrongMki = p.clone();
        wrongMki[175] = 8;
        assertEquals(-1, bob.unprotectRtp(wrongMki, 0, n));
        assertEquals(1, bob.counters().malformedDropped());
        assertEquals(172, bob.unprotectRtp(p, 0, n));

        byte[] c = rtcp(SSRC);
        int m = alice.protectRtcp(c, 0, 40);
        assertEquals(40 + 4 + 4 + 10, m);
        assertEquals(40, bob.unprotectRtcp(c, 0, m));
    }

    @Test
    void protectWithoutRoomOrOnGarbageFailsAndCounts() {
        SrtpSession alice = SrtpSession.create(SrtpProfile.AES_CM_128_HMAC_SHA1_80, a, b);
        byte[] p = Arrays.copyOf(rtp(1, SSRC, 160), 172);
        assertEquals(-1, alice.protectRtp(p, 0, 172), "no room for the tag");
        assertEquals(-1, alice.protectRtp(new byte[100], 0, 50), "version 0");
        assertEquals(-1, alice.protectRtp(p, 100, 100), "out of bounds");
        assertEquals(-1, alice.protectRtcp(new byte[8], 0, 8), "no room");
        assertEquals(4, alice.counters().protectFailures());
    }

    @Test
    void forgedPacketsForNewSsrcsCreateNoState() {
        SrtpSession alice = SrtpSession.create(SrtpProfile.AES_CM_128_HMAC_SHA1_80, a, b);
        SrtpSession bob = SrtpSession.create(SrtpProfile.AES_CM_128_HMAC_SHA1_80, b, a);
        byte[] first = rtp(500, SSRC, 160);
        assertEquals(172, bob.unprotectRtp(first, 0, alice.protectRtp(first, 0, 172)));
        for (int i = 0; i < 1000; i++) {
            byte[] forged = rtp(i, 1000 + i, 160);
            assertEquals(-1, bob.unprotectRtp(forged, 0, 182));
        }
        assertEquals(1000, bob.counters().authFailures());
        byte[] next = rtp(501, SSRC, 160);
        assertEquals(172, bob.unprotectRtp(next, 0, alice.protectRtp(next, 0, 172)), "known stream unaffected");
    }

    @Test
    void randomGarbageNeverThrows() {
        SrtpSession bob = SrtpSession.create(SrtpProfile.AES_CM_128_HMAC_SHA1_80, b, a);
        Random r = new Random(7);
        for (int i = 0; i < 20_000; i++) {
            byte[] junk = new byte[r.nextInt(300)];
            r.nextBytes(junk);
            if (i % 2 == 0 && junk.length > 0) {
                junk[0] = (byte) (0x80 | (junk[0] & 0x3f)); // looks like version 2
            }
            int off = junk.length == 0 ? 0 : r.nextInt(junk.length);
            int len = junk.length - off;
            assertEquals(-1, bob.unprotectRtp(junk, off, len));
            assertEquals(-1, bob.unprotectRtcp(junk, off, len));
        }
        assertEquals(-1, bob.unprotectRtp(null, 0, 10));
        assertEquals(-1, bob.unprotectRtp(new byte[10], 5, 10));
        assertEquals(-1, bob.unprotectRtcp(new byte[10], -1, 5));
        long counted = bob.counters().authFailures() + bob.counters().malformedDropped()
                + bob.counters().replayDropped();
        assertEquals(40_003, counted);
    }

    @Test
    void steadyStateAllocatesNothing() {
        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        SrtpSession alice = SrtpSession.create(SrtpProfile.AES_CM_128_HMAC_SHA1_80, a, b);
        SrtpSession bob = SrtpSession.create(SrtpProfile.AES_CM_128_HMAC_SHA1_80, b, a);
        byte[] p = rtp(0, SSRC, 160);
        byte[] c = rtcp(SSRC);
        int seq = 0;
        for (int i = 0; i < 2_000; i++) {
            seq = roundTrip(alice, bob, p, c, seq);
        }
        long before = threads.getCurrentThreadAllocatedBytes();
        int rounds = 50_000;
        for (int i = 0; i < rounds; i++) {
            seq = roundTrip(alice, bob, p, c, seq);
        }
        long allocated = threads.getCurrentThreadAllocatedBytes() - before;
        // a few KB appear once (JIT transitions), whatever the count; one object per packet would be 1.6 MB+
        assertTrue(allocated < 16 * 1024, "allocated " + allocated + " bytes for 50,000 RTP+RTCP round trips");
    }

    private static int roundTrip(SrtpSession alice, SrtpSession bob, byte[] p, byte[] c, int seq) {
        p[2] = (byte) (seq >>> 8);
        p[3] = (byte) seq;
        int n = alice.protectRtp(p, 0, 172);
        if (bob.unprotectRtp(p, 0, n) != 172) {
            throw new AssertionError("round trip failed at " + seq);
        }
        int m = alice.protectRtcp(c, 0, 40);
        if (bob.unprotectRtcp(c, 0, m) != 40) {
            throw new AssertionError("RTCP round trip failed");
        }
        return (seq + 1) & 0xffff;
    }
}
