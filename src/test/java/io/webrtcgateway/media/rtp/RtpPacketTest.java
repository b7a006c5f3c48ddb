package io.webrtcgateway.media.rtp;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

class RtpPacketTest {

    @Test
    void readsTheFixedHeader() {
        byte[] p = Packets.rtp(8, 0xfffe, 0xfedcba98L, 0x9abcdef0, 160, true);
        assertEquals(2, RtpPacket.version(p, 0));
        assertFalse(RtpPacket.hasPadding(p, 0));
        assertFalse(RtpPacket.hasExtension(p, 0));
        assertEquals(0, RtpPacket.csrcCount(p, 0));
        assertTrue(RtpPacket.marker(p, 0));
        assertEquals(8, RtpPacket.payloadType(p, 0));
        assertEquals(0xfffe, RtpPacket.sequence(p, 0));
        assertEquals(0xfedcba98L, RtpPacket.timestamp(p, 0));
        assertEquals(0x9abcdef0, RtpPacket.ssrc(p, 0));
        assertEquals(12, RtpPacket.headerLength(p, 0, p.length));
    }

    @Test
    void readsAtAnOffset() {
        byte[] inner = Packets.rtp(0, 7, 160, 42, 20);
        byte[] outer = new byte[inner.length + 9];
        System.arraycopy(inner, 0, outer, 5, inner.length);
        assertEquals(7, RtpPacket.sequence(outer, 5));
        assertEquals(42, RtpPacket.ssrc(outer, 5));
        assertEquals(12, RtpPacket.headerLength(outer, 5, inner.length));
    }

    @Test
    void writesFieldsInPlace() {
        byte[] p = Packets.rtp(111, 1, 2, 3, 10);
        RtpPacket.setPayloadType(p, 0, 0);
        RtpPacket.setMarker(p, 0, true);
        RtpPacket.setSequence(p, 0, 65535);
        RtpPacket.setTimestamp(p, 0, 0xffffffffL);
        RtpPacket.setSsrc(p, 0, -1);
        assertEquals(0, RtpPacket.payloadType(p, 0));
        assertTrue(RtpPacket.marker(p, 0));
        RtpPacket.setPayloadType(p, 0, 101);
        assertTrue(RtpPacket.marker(p, 0), "setting the PT keeps the marker");
        assertEquals(101, RtpPacket.payloadType(p, 0));
        assertEquals(65535, RtpPacket.sequence(p, 0));
        assertEquals(0xffffffffL, RtpPacket.timestamp(p, 0));
        assertEquals(-1, RtpPacket.ssrc(p, 0));
    }

    @Test
    void headerLengthCountsCsrcsAndExtension() {
        byte[] p = Packets.rtpWithExtension(111, 1, 2, 3, new int[] {10, 11}, 3, 40);
        assertEquals(2, RtpPacket.csrcCount(p, 0));
        assertTrue(RtpPacket.hasExtension(p, 0));
        assertEquals(12 + 8 + 4 + 12, RtpPacket.headerLength(p, 0, p.length));
    }

    @Test
    void rejectsMalformedPackets() {
        byte[] good = Packets.rtp(0, 1, 2, 3, 160);
        assertEquals(-1, RtpPacket.headerLength(good, 0, 11), "shorter than the fixed header");
        byte[] v1 = good.clone();
        v1[0] = 0x40;
        assertEquals(-1, RtpPacket.headerLength(v1, 0, v1.length), "version 1");
        byte[] csrcs = good.clone();
        csrcs[0] = (byte) 0x8f;
        assertEquals(-1, RtpPacket.headerLength(csrcs, 0, 20), "15 CSRCs in 20 bytes");
        byte[] ext = Packets.rtpWithExtension(0, 1, 2, 3, new int[0], 1, 4);
        ext[15] = 100; // extension length: 100 words
        assertEquals(-1, RtpPacket.headerLength(ext, 0, ext.length), "extension longer than the packet");
        assertEquals(-1, RtpPacket.headerLength(ext, 0, 14), "extension header cut");
        byte[] pad = good.clone();
        pad[0] |= 0x20;
        pad[pad.length - 1] = 0;
        assertEquals(-1, RtpPacket.headerLength(pad, 0, pad.length), "padding count 0");
        pad[pad.length - 1] = (byte) 200;
        assertEquals(-1, RtpPacket.headerLength(pad, 0, pad.length), "padding longer than the payload");
        pad[pad.length - 1] = 4;
        assertEquals(12, RtpPacket.headerLength(pad, 0, pad.length), "sane padding");
        byte[] rtcpRange = Packets.rtp(72, 1, 2, 3, 20);
        assertEquals(-1, RtpPacket.headerLength(rtcpRange, 0, rtcpRange.length), "PT 72 is RTCP on a muxed port");
    }

    @Test
    void demultiplexesRtcpByPacketType() {
        assertTrue(RtpPacket.looksLikeRtcp(Packets.rr(1), 0, 8));
        assertTrue(RtpPacket.looksLikeRtcp(Packets.sr(1, 0, 0, 0, 0, 0), 0, 28));
        assertFalse(RtpPacket.looksLikeRtcp(Packets.rtp(0, 1, 2, 3, 160, true), 0, 172));
        assertFalse(RtpPacket.looksLikeRtcp(Packets.rtp(127, 1, 2, 3, 0, true), 0, 12));
        assertFalse(RtpPacket.looksLikeRtcp(new byte[1], 0, 1));
    }

    @Test
    void stripsTheHeaderExtension() {
        byte[] p = Packets.rtpWithExtension(111, 9, 2, 3, new int[] {77}, 2, 30);
        byte[] payload = Arrays.copyOfRange(p, p.length - 30, p.length);
        int len = RtpPacket.stripExtension(p, 0, p.length);
        assertEquals(12 + 4 + 30, len);
        assertFalse(RtpPacket.hasExtension(p, 0));
        assertEquals(1, RtpPacket.csrcCount(p, 0));
        assertEquals(16, RtpPacket.headerLength(p, 0, len));
        assertEquals(9, RtpPacket.sequence(p, 0));
        assertArrayEquals(payload, Arrays.copyOfRange(p, 16, len));
        byte[] plain = Packets.rtp(0, 1, 2, 3, 10);
        assertEquals(plain.length, RtpPacket.stripExtension(plain, 0, plain.length));
    }

    @Test
    void randomBytesNeverThrow() {
        Random random = new Random(3550);
        byte[] buf = new byte[300];
        int accepted = 0;
        for (int i = 0; i < 200_000; i++) {
            int len = random.nextInt(buf.length + 1);
            random.nextBytes(buf);
            if (random.nextBoolean()) {
                buf[0] = (byte) (0x80 | (buf[0] & 0x3f)); // version 2 half the time, to reach deeper checks
            }
            int header = RtpPacket.headerLength(buf, 0, len);
            if (header >= 0) {
                accepted++;
                assertTrue(header <= len);
                RtpPacket.stripExtension(buf, 0, len);
            }
            RtpPacket.looksLikeRtcp(buf, 0, len);
        }
        assertTrue(accepted > 0);
    }
}
