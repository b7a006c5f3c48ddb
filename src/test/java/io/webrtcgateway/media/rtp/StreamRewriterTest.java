package io.webrtcgateway.media.rtp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class StreamRewriterTest {

    private static final long MS = TimeUnit.MILLISECONDS.toNanos(1);
    private static final int OUT = 0x0A0B0C0D;

    private final RelayDirection direction = new RelayDirection("test", OUT, true,
            PayloadTypeMap.builder().map(0, 0, 8000).telephoneEvent(101, 126, 8000).build(), false);
    private long now = 1_000 * MS;

    private byte[] pass(byte[] packet) {
        int n = direction.rtp(packet, 0, packet.length, now);
        return n < 0 ? null : packet;
    }

    @Test
    void firstSourcePassesWithTheFixedSsrcAndItsOwnNumbering() {
        assertEquals(null, pass(Packets.rtp(0, 39999, 9000 - 160, 0x1111, 160)), "probation: one packet is no source");
        assertEquals(1, direction.stats.snapshot().drops().unknownSsrc());
        for (int i = 0; i < 5; i++) {
            byte[] p = pass(Packets.rtp(0, 40000 + i, 9000 + 160L * i, 0x1111, 160));
            assertEquals(OUT, RtpPacket.ssrc(p, 0));
            assertEquals(40000 + i, RtpPacket.sequence(p, 0));
            assertEquals(9000 + 160L * i, RtpPacket.timestamp(p, 0));
            assertFalse(RtpPacket.marker(p, 0));
            now += 20 * MS;
        }
    }

    @Test
    void aNewSourceContinuesSequenceAndTimestamp() {
        int lastSeq = 0;
        long lastTs = 0;
        for (int i = 0; i < 50; i++) {
            byte[] p = pass(Packets.rtp(0, 65500 + i, 0xfffff000L + 160L * i, 0x1111, 160));
            if (i == 0) {
                assertEquals(null, p);
                continue;
            }
            lastSeq = RtpPacket.sequence(p, 0);
            lastTs = RtpPacket.timestamp(p, 0);
            now += 20 * MS;
        }
        now += 40 * MS;
        // the media server switched: new SSRC, unrelated numbering; its first packet is on probation
        assertEquals(null, pass(Packets.rtp(0, 7, 123456, 0x2222, 160)));
        now += 20 * MS; // 80 ms since the last packet of the old source
        byte[] first = pass(Packets.rtp(0, 8, 123456 + 160, 0x2222, 160));
        assertEquals(OUT, RtpPacket.ssrc(first, 0), "SSRC toward the receiver never changes");
        assertEquals((lastSeq + 1) & 0xffff, RtpPacket.sequence(first, 0), "sequence continues");
        assertEquals((lastTs + 640) & 0xffffffffL, RtpPacket.timestamp(first, 0), "timestamp advances by 80 ms");
        assertTrue(RtpPacket.marker(first, 0), "marker: a new talkspurt");
        now += 20 * MS;
        byte[] second = pass(Packets.rtp(0, 9, 123456 + 320, 0x2222, 160));
        assertEquals((lastSeq + 2) & 0xffff, RtpPacket.sequence(second, 0));
        assertEquals((lastTs + 800) & 0xffffffffL, RtpPacket.timestamp(second, 0));
        assertFalse(RtpPacket.marker(second, 0));
        // loss inside the new source is preserved (the receiver must see the gap)
        now += 40 * MS;
        byte[] afterGap = pass(Packets.rtp(0, 11, 123456 + 640, 0x2222, 160));
        assertEquals((lastSeq + 4) & 0xffff, RtpPacket.sequence(afterGap, 0));
        assertEquals(1, direction.stats.snapshot().sourceChanges());
    }

    @Test
    void lateOldSourcePacketsAreDroppedUntilAReInviteArmsTheSwitch() {
        start(0x1111, 100);
        now += 20 * MS;
        start(0x2222, 5);
        now += 5 * MS;
        assertEquals(null, pass(Packets.rtp(0, 102, 1160, 0x1111, 160)), "late packet of the replaced source");
        assertEquals(null, pass(Packets.rtp(0, 103, 1320, 0x1111, 160)), "even two in a row");
        assertEquals(4, direction.stats.snapshot().drops().unknownSsrc(), "two on probation, two late");
        now += 15 * MS;
        byte[] p = pass(Packets.rtp(0, 7, 210, 0x2222, 160));
        assertEquals(103, RtpPacket.sequence(p, 0), "the current source goes on undisturbed");

        direction.rewriter.expectSourceChange(); // re-INVITE: back to the first source is legitimate
        now += 20 * MS;
        byte[] back = start(0x1111, 300);
        assertEquals(104, RtpPacket.sequence(back, 0));
        assertTrue(RtpPacket.marker(back, 0));
    }

    @Test
    void strayPacketsThatParseAsRtpNeverTakeTheStreamOver() {
        start(0x1111, 100);
        for (int i = 0; i < 50; i++) {
            now += 10 * MS;
            assertEquals(null, pass(Packets.rtp(0, i * 7, 0, 0x7000 + i, 160)), "stray " + i);
            byte[] p = pass(Packets.rtp(0, 102 + i, 0, 0x1111, 160));
            assertEquals(102 + i, RtpPacket.sequence(p, 0));
        }
        assertEquals(0, direction.stats.snapshot().sourceChanges());
    }

    @Test
    void aReplacedSourceMayReturnAfterTheGuardTime() {
        start(0x1111, 100);
        now += 20 * MS;
        start(0x2222, 5);
        now += 2000 * MS;
        byte[] back = start(0x1111, 400);
        assertEquals(103, RtpPacket.sequence(back, 0));
    }

    /** Two packets (probation) of a new source; returns the second, the first one forwarded. */
    private byte[] start(int ssrc, int seq) {
        assertEquals(null, pass(Packets.rtp(0, seq, 160L * seq, ssrc, 160)));
        byte[] p = pass(Packets.rtp(0, seq + 1, 160L * (seq + 1), ssrc, 160));
        assertEquals(OUT, RtpPacket.ssrc(p, 0));
        return p;
    }

    @Test
    void telephoneEventPayloadTypeIsRemapped() {
        byte[] audio = start(0x1111, 0);
        assertEquals(0, RtpPacket.payloadType(audio, 0));
        byte[] start = Packets.dtmf(101, 2, 320, 0x1111, 5, false, 160);
        RtpPacket.setMarker(start, 0, true);
        byte[] event = pass(start);
        assertEquals(126, RtpPacket.payloadType(event, 0), "SIP side's 101 becomes the browser's 126");
        assertTrue(RtpPacket.marker(event, 0), "the event's marker survives the PT rewrite");
        assertEquals(5, event[12], "payload untouched");
        assertEquals(null, pass(Packets.rtp(8, 3, 480, 0x1111, 160)), "PCMA was not negotiated");
        assertEquals(1, direction.stats.snapshot().drops().unknownPayloadType());
    }

    @Test
    void reversedMapGoesTheOtherWay() {
        PayloadTypeMap toBrowser = PayloadTypeMap.builder().map(0, 0, 8000).telephoneEvent(101, 126, 8000).build();
        PayloadTypeMap toSip = toBrowser.reversed();
        assertEquals(101, toSip.map(126));
        assertTrue(toSip.isTelephoneEvent(126));
        assertEquals(0, toSip.map(0));
        assertEquals(-1, toSip.map(101));
        assertEquals(8000, toSip.clockRate(126));
    }

    @Test
    void videoSourceChangeDoesNotSetTheMarker() {
        RelayDirection video = new RelayDirection("video", OUT, false, PayloadTypeMap.identity(90000), false);
        for (int seq = 0; seq < 2; seq++) {
            byte[] a = Packets.rtp(96, seq, 1000, 1, 100);
            video.rtp(a, 0, a.length, now);
        }
        now += 23 * MS;
        byte[] probation = Packets.rtp(96, 899, 777, 2, 100);
        video.rtp(probation, 0, probation.length, now);
        now += 10 * MS;
        byte[] b = Packets.rtp(96, 900, 777, 2, 100);
        video.rtp(b, 0, b.length, now);
        assertFalse(RtpPacket.marker(b, 0), "in video the marker ends a frame; not ours to set");
        assertEquals(2, RtpPacket.sequence(b, 0));
        assertEquals(1000 + 33 * 90, RtpPacket.timestamp(b, 0));
    }

    @Test
    void headerExtensionsCanBeStripped() {
        RelayDirection strip = new RelayDirection("strip", OUT, true, PayloadTypeMap.identity(48000), true);
        byte[] first = Packets.rtpWithExtension(111, 0, 0, 7, new int[0], 2, 40);
        strip.rtp(first, 0, first.length, now);
        byte[] p = Packets.rtpWithExtension(111, 1, 960, 7, new int[0], 2, 40);
        int n = strip.rtp(p, 0, p.length, now);
        assertEquals(12 + 40, n);
        assertFalse(RtpPacket.hasExtension(p, 0));
        assertEquals(p.length, strip.stats.snapshot().bytes(), "stats count what was received");
    }

    @Test
    void continueFromRebasesTheSameSourceAfterPacketsSentByOthers() {
        for (int i = 0; i < 10; i++) {
            pass(Packets.rtp(0, 100 + i, 16000 + 160L * i, 0x1111, 160));
            now += 20 * MS;
        }
        StreamRewriter.Anchor a = direction.rewriter.anchor();
        assertTrue(a.known());
        assertEquals(109, a.seq());
        // Six telephone-events went out meanwhile (seq 110-115), the last at RTP time a.ts + 2400, now.
        direction.rewriter.continueFrom(115, a.ts() + 2400, now);
        now += 20 * MS;
        byte[] p = pass(Packets.rtp(0, 110, 16000 + 160L * 10, 0x1111, 160)); // the browser's next packet
        assertEquals(116, RtpPacket.sequence(p, 0), "continues after the events");
        assertEquals(a.ts() + 2400 + 160, RtpPacket.timestamp(p, 0), "20 ms after the last event packet");
        assertTrue(RtpPacket.marker(p, 0), "a new talkspurt after the events");
        now += 20 * MS;
        byte[] q = pass(Packets.rtp(0, 111, 16000 + 160L * 11, 0x1111, 160));
        assertEquals(117, RtpPacket.sequence(q, 0), "the new offsets stay");
        assertFalse(RtpPacket.marker(q, 0));
        assertEquals(0, direction.stats.snapshot().sourceChanges(), "not a source change");
    }
}
