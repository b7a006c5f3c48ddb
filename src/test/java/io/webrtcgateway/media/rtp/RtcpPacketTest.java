package io.webrtcgateway.media.rtp;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.webrtcgateway.media.rtp.Packets.Block;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class RtcpPacketTest {

    private static final Block BLOCK = new Block(0x11111111, 5, 7, 0x00011234L, 33, 0xaabbccddL, 0x00010000L);

    @Test
    void walksACompoundOfEveryType() {
        byte[] c = Packets.compound(Packets.sr(42, 0x01020304L, 0x05060708L, 16000, 100, 16000, BLOCK),
                Packets.rr(42, BLOCK, BLOCK), Packets.sdes(42, "user@host"), Packets.bye(42), Packets.app(42),
                Packets.nack(42, 7, 3), Packets.pli(42, 7), Packets.remb(42, 7), Packets.transportCc(42, 7));
        assertTrue(RtcpPacket.isValidCompound(c, 0, c.length));
        List<Integer> types = new ArrayList<>();
        for (int p = 0; p < c.length; p = RtcpPacket.next(c, p)) {
            types.add(RtcpPacket.packetType(c, p));
            assertEquals(42, RtcpPacket.senderSsrc(c, p));
        }
        assertEquals(List.of(200, 201, 202, 203, 204, 205, 206, 206, 205), types);
    }

    @Test
    void readsSenderReportAndBlockFields() {
        byte[] sr = Packets.sr(42, 0x01020304L, 0x05060708L, 16000, 100, 16000, BLOCK);
        assertEquals(0x03040506L, RtcpPacket.srNtpMiddle(sr, 0));
        assertEquals(16000, RtcpPacket.srRtpTimestamp(sr, 0));
        assertEquals(1, RtcpPacket.count(sr, 0));
        int r = RtcpPacket.SR_BLOCKS;
        assertEquals(0x11111111, RtcpPacket.blockSource(sr, r));
        assertEquals(0x00011234L, RtcpPacket.blockHighestSequence(sr, r));
        assertEquals(0xaabbccddL, RtcpPacket.blockLsr(sr, r));
        assertEquals(0x00010000L, RtcpPacket.blockDlsr(sr, r));
        byte[] pli = Packets.pli(1, 0x77);
        assertEquals(0x77, RtcpPacket.mediaSourceSsrc(pli, 0));
    }

    @Test
    void walksSdesChunks() {
        byte[] a = Packets.sdes(1, "abc");
        byte[] b = Packets.sdes(2, "a-longer-cname@example");
        // two chunks in one SDES: header of a with SC=2, then both chunks
        byte[] two = new byte[a.length + b.length - 4];
        System.arraycopy(a, 0, two, 0, a.length);
        System.arraycopy(b, 4, two, a.length, b.length - 4);
        two[0] = (byte) 0x82;
        two[3] = (byte) (two.length / 4 - 1);
        assertTrue(RtcpPacket.isValidCompound(two, 0, two.length));
        int first = RtcpPacket.firstSdesChunk(0);
        int second = RtcpPacket.nextSdesChunk(two, 0, first);
        assertEquals(a.length, second);
        assertEquals(2, Packets.i32(two, second));
        // the chunk walk is relative to the packet start, not the array
        byte[] shifted = new byte[two.length + 3];
        System.arraycopy(two, 0, shifted, 3, two.length);
        assertTrue(RtcpPacket.isValidCompound(shifted, 3, two.length));
        assertEquals(3 + a.length, RtcpPacket.nextSdesChunk(shifted, 3, RtcpPacket.firstSdesChunk(3)));
    }

    @Test
    void rejectsBadLengthsAndStructure() {
        byte[] rr = Packets.rr(42, BLOCK);
        assertFalse(RtcpPacket.isValidCompound(rr, 0, rr.length - 4), "length says more than the datagram");
        byte[] trailing = Packets.compound(rr, new byte[] {(byte) 0x80, (byte) 201, 0});
        assertFalse(RtcpPacket.isValidCompound(trailing, 0, trailing.length), "3 trailing bytes");
        byte[] tooManyBlocks = rr.clone();
        tooManyBlocks[0] = (byte) 0x82;
        assertFalse(RtcpPacket.isValidCompound(tooManyBlocks, 0, tooManyBlocks.length), "RC 2 with one block");
        byte[] v1 = rr.clone();
        v1[0] = 0x41;
        assertFalse(RtcpPacket.isValidCompound(v1, 0, v1.length), "version 1");
        byte[] notRtcp = rr.clone();
        notRtcp[1] = 0;
        assertFalse(RtcpPacket.isValidCompound(notRtcp, 0, notRtcp.length), "packet type 0");
        byte[] paddedFirst = Packets.compound(Packets.rr(42), Packets.sdes(42, "x"));
        paddedFirst[0] |= 0x20;
        paddedFirst[7] = 4;
        assertFalse(RtcpPacket.isValidCompound(paddedFirst, 0, paddedFirst.length), "padding before the last");
        byte[] paddedLast = Packets.compound(Packets.sdes(42, "x"), new byte[4]);
        paddedLast[0] |= 0x20;
        paddedLast[3]++;
        paddedLast[paddedLast.length - 1] = 4;
        assertTrue(RtcpPacket.isValidCompound(paddedLast, 0, paddedLast.length), "padding on the last");
        paddedLast[paddedLast.length - 1] = 100;
        assertFalse(RtcpPacket.isValidCompound(paddedLast, 0, paddedLast.length), "padding beyond the packet");
        byte[] sdes = Packets.sdes(42, "abcdef");
        sdes[9] = 100;
        assertFalse(RtcpPacket.isValidCompound(sdes, 0, sdes.length), "SDES item longer than the packet");
        byte[] bye = Packets.bye(42);
        bye[0] = (byte) 0x83;
        assertFalse(RtcpPacket.isValidCompound(bye, 0, bye.length), "BYE with 3 sources in one word");
        byte[] shortFb = {(byte) 0x81, (byte) 206, 0, 1, 0, 0, 0, 1};
        assertFalse(RtcpPacket.isValidCompound(shortFb, 0, shortFb.length), "feedback without media SSRC");
        assertFalse(RtcpPacket.isValidCompound(new byte[0], 0, 0));
        assertFalse(RtcpPacket.isValidCompound(new byte[] {(byte) 0x80, (byte) 201, 0, 0}, 0, 3));
    }

    @Test
    void randomBytesNeverThrow() {
        Random random = new Random(4585);
        byte[] buf = new byte[256];
        int valid = 0;
        for (int i = 0; i < 300_000; i++) {
            int len = random.nextInt(buf.length + 1);
            random.nextBytes(buf);
            if (len >= 4 && random.nextBoolean()) {
                // plausible headers reach the per-type checks
                buf[0] = (byte) (0x80 | (buf[0] & 0x3f));
                buf[1] = (byte) (200 + random.nextInt(8));
                int words = random.nextInt(len / 4);
                buf[2] = 0;
                buf[3] = (byte) words;
            }
            if (RtcpPacket.isValidCompound(buf, 0, len)) {
                valid++;
                for (int p = 0; p < len; p = RtcpPacket.next(buf, p)) {
                    if (RtcpPacket.packetType(buf, p) == RtcpPacket.SDES) {
                        int c = RtcpPacket.firstSdesChunk(p);
                        for (int k = 0; k < RtcpPacket.count(buf, p); k++) {
                            c = RtcpPacket.nextSdesChunk(buf, p, c);
                        }
                    }
                }
            }
        }
        assertTrue(valid > 0);
    }

    @Test
    void keyframeRequestIsAnRrAndAPli() {
        byte[] b = new byte[RtcpPacket.KEYFRAME_REQUEST + 4];
        assertEquals(RtcpPacket.KEYFRAME_REQUEST, RtcpPacket.writeKeyframeRequest(b, 4, 0x11, 0x22));
        assertTrue(RtcpPacket.isValidCompound(b, 4, RtcpPacket.KEYFRAME_REQUEST));
        byte[] expected = Packets.compound(new byte[4], Packets.rr(0x11), Packets.pli(0x11, 0x22));
        assertArrayEquals(expected, b);
    }

    @Test
    void concernsTheStreamItIsSentByOrAbout() {
        int sender = 0xA;
        int about = 0xB;
        byte[] sentBy = Packets.compound(Packets.sr(sender, 1, 2, 3, 4, 5), Packets.sdes(sender, "c"));
        assertTrue(concerns(sentBy, true, sender, about));
        assertFalse(concerns(sentBy, false, sender, about), "a sender not known yet matches nothing");
        assertTrue(concerns(Packets.compound(Packets.rr(1, Block.about(about, 9)), Packets.sdes(1, "c")), false, 0, about));
        assertTrue(concerns(Packets.compound(Packets.rr(1), Packets.pli(1, about)), true, sender, about));
        assertTrue(concerns(Packets.compound(Packets.rr(1), Packets.nack(1, about, 3)), true, sender, about));
        byte[] fir = Packets.compound(Packets.rr(1), new byte[] {(byte) 0x84, (byte) 206, 0, 4, 0, 0, 0, 1, 0, 0, 0, 0,
                0, 0, 0, (byte) about, 7, 0, 0, 0});
        assertTrue(RtcpPacket.isValidCompound(fir, 0, fir.length));
        assertTrue(concerns(fir, true, sender, about), "FIR names the SSRC in its FCI (RFC 5104 4.3.1.1)");
        byte[] other = Packets.compound(Packets.sr(0xC, 1, 2, 3, 4, 5, Block.about(0xD, 1)), Packets.sdes(0xC, "c"),
                Packets.pli(0xC, 0xD), Packets.nack(0xC, 0xD, 1), Packets.bye(0xC));
        assertFalse(concerns(other, true, sender, about));
    }

    private static boolean concerns(byte[] c, boolean senderKnown, int sender, int about) {
        return RtcpPacket.concerns(c, 0, c.length, senderKnown, sender, about);
    }
}
