package io.webrtcgateway.media.rtp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.webrtcgateway.media.rtp.Packets.Block;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class RtcpTranslatorTest {

    private static final long MS = TimeUnit.MILLISECONDS.toNanos(1);
    private static final int BROWSER = 0xB0B0B0B0;
    private static final int SIP_OLD = 0x5100_0001;
    private static final int SIP = 0x5100_0002;
    private static final int TO_SIP = 0x0000_0A11;
    private static final int TO_BROWSER = 0x0000_0B22;

    private final long epoch = 77 * MS;
    private long now = epoch + 3_000 * MS;
    private RelayDirection toSip;
    private RelayDirection toBrowser;
    private RtcpTranslator translator;

    @BeforeEach
    void streamsFlowBothWays() {
        toSip = new RelayDirection("browser->sip", TO_SIP, true, PayloadTypeMap.identity(8000), false);
        toBrowser = new RelayDirection("sip->browser", TO_BROWSER, true, PayloadTypeMap.identity(8000), false);
        translator = new RtcpTranslator(epoch, false);
        rtp(toSip, Packets.rtp(0, 999, 49_840, BROWSER, 160));
        rtp(toSip, Packets.rtp(0, 1000, 50_000, BROWSER, 160));
        rtp(toBrowser, Packets.rtp(0, 199, 6_840, SIP_OLD, 160));
        rtp(toBrowser, Packets.rtp(0, 200, 7_000, SIP_OLD, 160));
        now += 20 * MS;
        // the SIP side switched source: its new numbering gets offsets
        rtp(toBrowser, Packets.rtp(0, 29_999, 899_840, SIP, 160));
        rtp(toBrowser, Packets.rtp(0, 30_000, 900_000, SIP, 160));
        assertEquals(SIP, toBrowser.rewriter.mapping().inSsrc());
    }

    private void rtp(RelayDirection d, byte[] p) {
        d.rtp(p, 0, p.length, now);
    }

    private byte[] fromSip(byte[] compound) {
        assertTrue(RtcpPacket.isValidCompound(compound, 0, compound.length));
        int n = translator.translate(compound, 0, compound.length, toBrowser, toSip, false, now);
        return Arrays.copyOf(compound, n);
    }

    private byte[] fromBrowser(byte[] compound) {
        assertTrue(RtcpPacket.isValidCompound(compound, 0, compound.length));
        int n = translator.translate(compound, 0, compound.length, toSip, toBrowser, true, now);
        return Arrays.copyOf(compound, n);
    }

    @Test
    void sipSenderReportIsRewrittenIntoTheBrowsersTerms() {
        StreamRewriter.Mapping sip = toBrowser.rewriter.mapping();
        byte[] out = fromSip(Packets.compound(
                Packets.sr(SIP, 0xe0000000L, 0x80000000L, 900_160, 51, 8160,
                        Block.about(0x12345678, 5), Block.about(TO_SIP, 0x0001_03f0L)),
                Packets.sdes(SIP, "ms@10.0.0.9"), Packets.bye(SIP), Packets.app(SIP)));
        assertTrue(RtcpPacket.isValidCompound(out, 0, out.length));
        assertEquals(RtcpPacket.SR, RtcpPacket.packetType(out, 0));
        assertEquals(TO_BROWSER, RtcpPacket.senderSsrc(out, 0));
        assertEquals((900_160 + sip.tsOffset()) & 0xffffffffL, RtcpPacket.srRtpTimestamp(out, 0),
                "SR timestamp on the same timeline as the rewritten RTP");
        assertEquals(1, RtcpPacket.count(out, 0), "only the block about our stream to the SIP side remains");
        int block = RtcpPacket.SR_BLOCKS;
        assertEquals(BROWSER, RtcpPacket.blockSource(out, block), "about the browser's own SSRC");
        assertEquals(0x0001_03f0L, RtcpPacket.blockHighestSequence(out, block), "browser->sip has no offset");
        int sdes = RtcpPacket.next(out, 0);
        assertEquals(RtcpPacket.SDES, RtcpPacket.packetType(out, sdes));
        assertEquals(TO_BROWSER, RtcpPacket.senderSsrc(out, sdes));
        assertEquals(out.length, RtcpPacket.next(out, sdes), "BYE and APP removed");
        assertEquals(2, toBrowser.stats.snapshot().rtcpFiltered());
    }

    @Test
    void browserReportLosesFeedbackAndSpeaksOfTheSipSource() {
        StreamRewriter.Mapping sip = toBrowser.rewriter.mapping();
        long highestSeenByBrowser = (1L << 16) | ((30_000 + sip.seqOffset() + 10) & 0xffff);
        byte[] out = fromBrowser(Packets.compound(
                Packets.rr(BROWSER, new Block(TO_BROWSER, 3, 2, highestSeenByBrowser, 80, 0, 0)),
                Packets.sdes(BROWSER, "{f00-ba4}"), Packets.transportCc(BROWSER, TO_BROWSER),
                Packets.remb(BROWSER, TO_BROWSER), Packets.nack(BROWSER, TO_BROWSER, 17)));
        assertTrue(RtcpPacket.isValidCompound(out, 0, out.length));
        assertEquals(RtcpPacket.RR, RtcpPacket.packetType(out, 0));
        assertEquals(TO_SIP, RtcpPacket.senderSsrc(out, 0));
        assertEquals(1, RtcpPacket.count(out, 0));
        int block = RtcpPacket.RR_BLOCKS;
        assertEquals(SIP, RtcpPacket.blockSource(out, block), "the SIP side hears about its current SSRC");
        assertEquals(30_010, RtcpPacket.blockHighestSequence(out, block) & 0xffff,
                "highest sequence in the SIP source's own numbering");
        int sdes = RtcpPacket.next(out, 0);
        assertEquals(TO_SIP, RtcpPacket.senderSsrc(out, sdes));
        assertEquals(out.length, RtcpPacket.next(out, sdes), "transport-cc, REMB and NACK removed");
        assertEquals(3, toSip.stats.snapshot().rtcpFiltered());
    }

    @Test
    void browserByeGoesToSipUnderTheRelaySsrc() {
        byte[] out = fromBrowser(Packets.compound(Packets.rr(BROWSER), Packets.bye(BROWSER)));
        int bye = RtcpPacket.next(out, 0);
        assertEquals(RtcpPacket.BYE, RtcpPacket.packetType(out, bye));
        assertEquals(TO_SIP, RtcpPacket.senderSsrc(out, bye));
    }

    @Test
    void senderReportOfAReplacedSourceIsNotForwarded() {
        byte[] out = fromSip(Packets.compound(Packets.sr(SIP_OLD, 1, 2, 3, 4, 5), Packets.sdes(SIP_OLD, "old")));
        assertEquals(0, out.length, "without its SR the compound would start with SDES: nothing sent");
    }

    @Test
    void reducedSizeFeedbackAloneIsNotForwarded() {
        assertEquals(0, fromBrowser(Packets.transportCc(BROWSER, TO_BROWSER)).length);
    }

    @Test
    void paddingIsDroppedWhenTheLastPacketIsKept() {
        byte[] rr = Packets.rr(BROWSER, Block.about(TO_BROWSER, 1));
        byte[] padded = Packets.compound(rr, new byte[] {0, 0, 0, 4});
        padded[0] |= 0x20;
        padded[3] = (byte) (padded.length / 4 - 1);
        byte[] out = fromBrowser(padded);
        assertEquals(rr.length, out.length);
        assertEquals(0, out[0] & 0x20);
        assertTrue(RtcpPacket.isValidCompound(out, 0, out.length));
    }

    @Test
    void roundTripOfTheSipLegFromLsrAndDlsr() {
        // the browser's SR goes to the SIP side at t; the SIP side's RR echoes it 50 ms later, held 10 ms
        byte[] sr = Packets.sr(BROWSER, 0xe1234567L, 0x89abcdefL, 50_160, 10, 1600);
        fromBrowser(sr);
        long lsr = 0x456789abL;
        now += 50 * MS;
        long dlsr = 10 * 65536 / 1000;
        fromSip(Packets.rr(SIP, new Block(TO_SIP, 0, 0, 1000, 0, lsr, dlsr)));
        assertEquals(40.0, toSip.stats.snapshot().rttMs(), 0.1, "RTT of the leg browser->sip sends to");
        assertTrue(Double.isNaN(toBrowser.stats.snapshot().rttMs()));
    }

    @Test
    void roundTripOfTheBrowserLegFromLsrAndDlsr() {
        fromSip(Packets.sr(SIP, 0x00001111L, 0x22220000L, 900_160, 10, 1600));
        now += 130 * MS;
        long dlsr = 100 * 65536 / 1000;
        fromBrowser(Packets.rr(BROWSER, new Block(TO_BROWSER, 0, 0, 1000, 0, 0x11112222L, dlsr)));
        assertEquals(30.0, toBrowser.stats.snapshot().rttMs(), 0.1);
        // an LSR the relay never forwarded (another SR, or a forged one) teaches nothing
        fromBrowser(Packets.rr(BROWSER, new Block(TO_BROWSER, 0, 0, 1000, 0, 0x0bad0badL, 0)));
        assertEquals(30.0, toBrowser.stats.snapshot().rttMs(), 0.1);
    }

    @Test
    void keyframeRequestsPassOnlyForVideo() {
        byte[] pli = Packets.compound(Packets.rr(BROWSER), Packets.pli(BROWSER, TO_BROWSER));
        assertEquals(8, fromBrowser(pli.clone()).length, "audio: PLI removed");
        translator = new RtcpTranslator(epoch, true);
        byte[] out = fromBrowser(pli.clone());
        int fb = RtcpPacket.next(out, 0);
        assertEquals(RtcpPacket.PSFB, RtcpPacket.packetType(out, fb));
        assertEquals(TO_SIP, RtcpPacket.senderSsrc(out, fb));
        assertEquals(SIP, RtcpPacket.mediaSourceSsrc(out, fb), "asks the SIP source for the keyframe");
        byte[] remb = Packets.compound(Packets.rr(BROWSER), Packets.remb(BROWSER, TO_BROWSER));
        assertEquals(8, fromBrowser(remb).length, "REMB is never forwarded");
    }
}
