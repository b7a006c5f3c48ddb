package io.webrtcgateway.media.rtp;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.webrtcgateway.media.PacketSender;
import io.webrtcgateway.testsupport.FreePorts;
import io.webrtcgateway.testsupport.Poll;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.net.DatagramPacket;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.time.Duration;
import java.util.Arrays;
import java.util.Random;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class MediaRelayTest {

    private static final Duration WAIT = Duration.ofSeconds(10);
    private static final int BROWSER_SSRC = 0x0B0B0B0B;
    private static final int SIP_SSRC = 0x05050505;
    private static final int TO_SIP = 0x11112222;
    private static final int TO_BROWSER = 0x33334444;
    /** Browser: PCMU 0, telephone-event/8000 126. SIP side: PCMU 0, telephone-event 101. */
    private static final PayloadTypeMap BROWSER_TO_SIP =
            PayloadTypeMap.builder().map(0, 0, 8000).telephoneEvent(126, 101, 8000).build();

    private UdpReceiveLoops loops;
    private RtpPortAllocator allocator;
    private PlainRtpEndpoint endpoint;
    private MediaRelay relay;
    private DatagramChannel sipRtp;
    private DatagramChannel sipRtcp;
    private final Capture browserRtp = new Capture();
    private final Capture browserRtcp = new Capture();

    /** The browser side's sender: what SRTP would protect and ICE would send, captured. */
    private static final class Capture implements PacketSender {
        final BlockingQueue<byte[]> packets = new LinkedBlockingQueue<>();
        volatile boolean keep = true;
        final AtomicLong count = new AtomicLong();

        @Override
        public void send(byte[] buf, int off, int len) {
            count.incrementAndGet();
            if (keep) {
                packets.add(Arrays.copyOfRange(buf, off, off + len));
            }
        }

        byte[] next() throws InterruptedException {
            byte[] p = packets.poll(WAIT.toMillis(), TimeUnit.MILLISECONDS);
            assertNotNull(p, "nothing reached the browser side");
            return p;
        }
    }

    @BeforeEach
    void setUp() throws IOException {
        loops = new UdpReceiveLoops("relay-test", 2);
        FreePorts.Range range = FreePorts.udpRange(10);
        allocator = new RtpPortAllocator(FreePorts.LOOPBACK, range.low(), range.high());
        endpoint = PlainRtpEndpoint.open(allocator, loops, SourcePolicy.SDP);
        sipRtp = DatagramChannel.open().bind(new InetSocketAddress(FreePorts.LOOPBACK, 0));
        sipRtcp = DatagramChannel.open().bind(new InetSocketAddress(FreePorts.LOOPBACK, 0));
        relay = new MediaRelay(endpoint, browserRtp, browserRtcp, MediaRelay.Config.audio(TO_SIP, TO_BROWSER, BROWSER_TO_SIP));
        relay.start();
        relay.updateSipRemote((InetSocketAddress) sipRtp.getLocalAddress(), (InetSocketAddress) sipRtcp.getLocalAddress(),
                false);
    }

    @AfterEach
    void tearDown() throws IOException {
        relay.close();
        sipRtp.close();
        sipRtcp.close();
        loops.close();
        assertEquals(0, allocator.pairsInUse());
    }

    private void sipSendsRtp(byte[] p) throws IOException {
        sipRtp.send(ByteBuffer.wrap(p), new InetSocketAddress(FreePorts.LOOPBACK, endpoint.localRtpPort()));
    }

    private void sipSendsRtcp(byte[] p) throws IOException {
        sipRtcp.send(ByteBuffer.wrap(p), new InetSocketAddress(FreePorts.LOOPBACK, endpoint.localRtcpPort()));
    }

    /** Through the socket adaptor: DatagramChannel.receive itself ignores SO_TIMEOUT. */
    private static byte[] receive(DatagramChannel ch) throws IOException {
        ch.configureBlocking(true);
        ch.socket().setSoTimeout((int) WAIT.toMillis());
        DatagramPacket p = new DatagramPacket(new byte[2048], 2048);
        ch.socket().receive(p);
        return Arrays.copyOf(p.getData(), p.getLength());
    }

    private void browserSendsRtp(byte[] p) {
        relay.fromBrowser(p, 0, p.length, false);
    }

    @Test
    void audioAndDtmfRelayedBothWaysOverUdp() throws Exception {
        assertEquals(Integer.toUnsignedLong(TO_SIP), relay.stats().browserToSip().ssrc());
        assertEquals(Integer.toUnsignedLong(TO_BROWSER), relay.stats().sipToBrowser().ssrc());
        assertEquals(null, relay.stats().sipToBrowser().sourceSsrc(), "no source before the first packet");
        relay.allowMedia();
        // SIP -> browser
        for (int seq = 10; seq < 20; seq++) {
            sipSendsRtp(Packets.rtp(0, seq, 160L * seq, SIP_SSRC, 160));
        }
        for (int seq = 11; seq < 20; seq++) { // the first packet of a source is its probation
            byte[] p = browserRtp.next();
            assertEquals(TO_BROWSER, RtpPacket.ssrc(p, 0));
            assertEquals(seq, RtpPacket.sequence(p, 0));
            assertEquals(0, RtpPacket.payloadType(p, 0));
            assertEquals(172, p.length);
        }
        assertEquals(Integer.toUnsignedLong(SIP_SSRC), relay.stats().sipToBrowser().sourceSsrc());
        sipSendsRtp(Packets.dtmf(101, 20, 3200, SIP_SSRC, 9, false, 160));
        byte[] event = browserRtp.next();
        assertEquals(126, RtpPacket.payloadType(event, 0), "telephone-event renumbered for the browser");
        assertEquals(9, event[12]);

        // browser -> SIP
        for (int seq = 500; seq < 510; seq++) {
            browserSendsRtp(Packets.rtp(0, seq, 160L * seq, BROWSER_SSRC, 160));
        }
        for (int seq = 501; seq < 510; seq++) {
            byte[] p = receive(sipRtp);
            assertEquals(TO_SIP, RtpPacket.ssrc(p, 0));
            assertEquals(seq, RtpPacket.sequence(p, 0));
        }
        browserSendsRtp(Packets.dtmf(126, 510, 160L * 510, BROWSER_SSRC, 1, true, 800));
        byte[] dtmf = receive(sipRtp);
        assertEquals(101, RtpPacket.payloadType(dtmf, 0), "telephone-event renumbered for the SIP side");
        assertEquals(1, dtmf[12]);
        assertTrue((dtmf[13] & 0x80) != 0, "end bit kept");

        // RTCP both ways
        sipSendsRtcp(Packets.compound(Packets.sr(SIP_SSRC, 1, 2, 3200, 10, 1600, Packets.Block.about(TO_SIP, 509)),
                Packets.sdes(SIP_SSRC, "ms")));
        byte[] sr = browserRtcp.next();
        assertEquals(TO_BROWSER, RtcpPacket.senderSsrc(sr, 0));
        assertEquals(BROWSER_SSRC, RtcpPacket.blockSource(sr, RtcpPacket.SR_BLOCKS));
        byte[] rr = Packets.compound(Packets.rr(BROWSER_SSRC, Packets.Block.about(TO_BROWSER, 20)),
                Packets.sdes(BROWSER_SSRC, "b"), Packets.transportCc(BROWSER_SSRC, TO_BROWSER));
        relay.fromBrowser(rr, 0, rr.length, true);
        byte[] atSip = receive(sipRtcp);
        assertEquals(RtcpPacket.RR, RtcpPacket.packetType(atSip, 0));
        assertEquals(TO_SIP, RtcpPacket.senderSsrc(atSip, 0));
        assertEquals(SIP_SSRC, RtcpPacket.blockSource(atSip, RtcpPacket.RR_BLOCKS));
        assertEquals(atSip.length, RtcpPacket.next(atSip, RtcpPacket.next(atSip, 0)), "transport-cc removed");

        // The loop thread counts a packet after handing it on: poll instead of reading the counters at once.
        MediaRelay.Stats stats = io.webrtcgateway.testsupport.Poll.until(java.time.Duration.ofSeconds(5),
                "relay counters to catch up", relay::stats, st -> st.sipToBrowser().rtcpPackets() >= 1
                        && st.sipToBrowser().packets() >= 10 && st.browserToSip().rtcpPackets() >= 1);
        assertEquals(10, stats.sipToBrowser().packets());
        assertEquals(10, stats.browserToSip().packets());
        assertEquals(1, stats.sipToBrowser().rtcpPackets());
        assertEquals(1, stats.browserToSip().rtcpPackets());
        assertEquals(0, stats.sipToBrowser().lost());
    }

    @Test
    void nothingPassesBeforeTheGateOpens() throws Exception {
        for (int seq = 0; seq < 5; seq++) {
            sipSendsRtp(Packets.rtp(0, seq, 160L * seq, SIP_SSRC, 160));
            browserSendsRtp(Packets.rtp(0, seq, 160L * seq, BROWSER_SSRC, 160));
        }
        sipSendsRtcp(Packets.rr(SIP_SSRC));
        Poll.until(WAIT, "gated drops counted", () -> relay.stats().sipToBrowser().drops().gated() == 6);
        assertEquals(5, relay.stats().browserToSip().drops().gated());
        assertTrue(browserRtp.packets.isEmpty() && browserRtcp.packets.isEmpty());
        sipRtp.configureBlocking(false);
        assertEquals(null, sipRtp.receive(ByteBuffer.allocate(2048)));
        relay.allowMedia();
        sipSendsRtp(Packets.rtp(0, 5, 800, SIP_SSRC, 160));
        sipSendsRtp(Packets.rtp(0, 6, 960, SIP_SSRC, 160));
        assertEquals(6, RtpPacket.sequence(browserRtp.next(), 0));
    }

    @Test
    void garbageOnEveryPortChangesNothingForARunningStream() throws Exception {
        relay.allowMedia();
        Random random = new Random(7675);
        DatagramChannel attacker = DatagramChannel.open().bind(new InetSocketAddress(FreePorts.LOOPBACK, 0));
        InetSocketAddress rtpPort = new InetSocketAddress(FreePorts.LOOPBACK, endpoint.localRtpPort());
        InetSocketAddress rtcpPort = new InetSocketAddress(FreePorts.LOOPBACK, endpoint.localRtcpPort());
        int garbageSent = 0;
        try {
            for (int seq = 1000; seq < 1200; seq++) {
                sipSendsRtp(Packets.rtp(0, seq, 160L * seq, SIP_SSRC, 160));
                browserSendsRtp(Packets.rtp(0, seq, 160L * seq, BROWSER_SSRC, 160));
                for (byte[] g : garbage(random, seq)) {
                    attacker.send(ByteBuffer.wrap(g), rtpPort);
                    attacker.send(ByteBuffer.wrap(g), rtcpPort);
                    sipRtp.send(ByteBuffer.wrap(g), rtpPort); // also from the genuine peer's address
                    relay.fromBrowser(g, 0, g.length, false);
                    relay.fromBrowser(g, 0, g.length, true);
                    garbageSent++;
                }
                relay.fromBrowser(new byte[10], 5, 20, false); // a bad (off, len) from a buggy caller
                long relayed = seq - 1000;
                // keep the flood within the socket buffers: a kernel drop would not be the relay's doing
                Poll.until(WAIT, "packet " + seq + " relayed", () -> browserRtp.count.get() >= relayed);
            }
            for (int seq = 1001; seq < 1200; seq++) {
                byte[] p = browserRtp.next();
                assertEquals(TO_BROWSER, RtpPacket.ssrc(p, 0));
                assertEquals(seq, RtpPacket.sequence(p, 0), "the stream toward the browser is untouched");
                assertEquals(172, p.length);
            }
            for (int seq = 1001; seq < 1200; seq++) {
                byte[] p = receive(sipRtp);
                assertEquals(TO_SIP, RtpPacket.ssrc(p, 0));
                assertEquals(seq, RtpPacket.sequence(p, 0), "the stream toward SIP is untouched");
            }
            int expected = garbageSent;
            MediaRelay.Stats stats = Poll.until(WAIT, "all garbage counted", relay::stats,
                    s -> s.sipToBrowser().drops().total() + s.sipToBrowser().rtcpFiltered() >= 3L * expected);
            assertTrue(stats.sipToBrowser().drops().malformed() > 2L * expected,
                    "most garbage is malformed: " + stats.sipToBrowser());
            assertTrue(stats.browserToSip().drops().malformed() > expected, stats.browserToSip().toString());
            assertEquals(0, stats.sipToBrowser().sourceChanges());
            assertEquals(0, stats.browserToSip().sourceChanges());
            assertEquals(199, stats.sipToBrowser().packets());
            assertEquals(199, stats.browserToSip().packets());
            assertEquals(0, loops.receiverFailures(), "no exception reached the receive loop");
        } finally {
            attacker.close();
        }
    }

    /** Random bytes, truncated RTP, RTP with lying CSRC/extension/padding, RTCP with bad lengths. */
    private static byte[][] garbage(Random random, int seq) {
        byte[] randomBytes = new byte[1 + random.nextInt(200)];
        random.nextBytes(randomBytes);
        byte[] truncated = Arrays.copyOf(Packets.rtp(0, seq, 0, SIP_SSRC, 160), 1 + random.nextInt(11));
        byte[] lyingCsrc = Packets.rtp(0, seq, 0, 0x666, 4);
        lyingCsrc[0] = (byte) 0x8f;
        byte[] lyingExtension = Packets.rtpWithExtension(0, seq, 0, 0x666, new int[0], 1, 0);
        lyingExtension[15] = (byte) 0xff;
        byte[] lyingPadding = Packets.rtp(0, seq, 0, 0x666, 8);
        lyingPadding[0] |= 0x20;
        lyingPadding[lyingPadding.length - 1] = (byte) 0xf0;
        byte[] rtcpLongLength = Packets.rr(0x666, Packets.Block.about(TO_BROWSER, 1));
        rtcpLongLength[3] = 40;
        byte[] rtcpShortLength = Packets.compound(Packets.sr(0x666, 1, 2, 3, 4, 5), Packets.sdes(0x666, "x"));
        rtcpShortLength[3] = 2;
        byte[] rtcpTooManyBlocks = Packets.rr(0x666);
        rtcpTooManyBlocks[0] = (byte) 0x9f;
        return new byte[][] {randomBytes, truncated, lyingCsrc, lyingExtension, lyingPadding, rtcpLongLength,
            rtcpShortLength, rtcpTooManyBlocks};
    }

    @Test
    void sourceChangeAfterReInviteIsSeamlessForTheBrowser() throws Exception {
        relay.allowMedia();
        for (int seq = 100; seq < 110; seq++) {
            sipSendsRtp(Packets.rtp(0, seq, 160L * seq, SIP_SSRC, 160));
        }
        int last = 0;
        for (int i = 0; i < 9; i++) {
            last = RtpPacket.sequence(browserRtp.next(), 0);
        }
        // re-INVITE: the media server moves to another port and SSRC
        DatagramChannel newServer = DatagramChannel.open().bind(new InetSocketAddress(FreePorts.LOOPBACK, 0));
        try {
            relay.updateSipRemote((InetSocketAddress) newServer.getLocalAddress(), null, true);
            for (int seq = 40000; seq < 40010; seq++) {
                newServer.send(ByteBuffer.wrap(Packets.rtp(0, seq, 999L * seq, 0x7777, 160)),
                        new InetSocketAddress(FreePorts.LOOPBACK, endpoint.localRtpPort()));
            }
            for (int i = 1; i <= 9; i++) {
                byte[] p = browserRtp.next();
                assertEquals(TO_BROWSER, RtpPacket.ssrc(p, 0));
                assertEquals(last + i, RtpPacket.sequence(p, 0));
                assertEquals(i == 1, RtpPacket.marker(p, 0));
            }
            browserSendsRtp(Packets.rtp(0, 1, 160, BROWSER_SSRC, 160));
            browserSendsRtp(Packets.rtp(0, 2, 320, BROWSER_SSRC, 160));
            assertEquals(2, RtpPacket.sequence(receive(newServer), 0), "toward the new address (rtcp-mux)");
            assertEquals(1, relay.stats().sipToBrowser().sourceChanges());
        } finally {
            newServer.close();
        }
    }

    @Test
    void steadyStateAllocatesNothingPerPacket() throws Exception {
        relay.allowMedia();
        browserRtp.keep = false;
        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long[] loopThreads = loops.threadIds();
        InetSocketAddress rtpPort = new InetSocketAddress(FreePorts.LOOPBACK, endpoint.localRtpPort());
        byte[] packet = Packets.rtp(0, 0, 0, SIP_SSRC, 160);
        ByteBuffer out = ByteBuffer.wrap(packet);
        int seq = 0;

        // SIP -> browser on the loop thread: warm up (JIT), then measure 100k packets
        seq = relaySipToBrowser(rtpPort, packet, out, seq, 20_000);
        long before = sum(threads.getThreadAllocatedBytes(loopThreads));
        seq = relaySipToBrowser(rtpPort, packet, out, seq, 100_000);
        long loopAllocated = sum(threads.getThreadAllocatedBytes(loopThreads)) - before;

        // browser -> SIP on the caller's thread (ICE/SRTP's in production)
        long self = Thread.currentThread().getId();
        for (int i = 0; i < 20_000; i++) {
            browserPacket(packet, i);
            relay.fromBrowser(packet, 0, packet.length, false);
        }
        long callerBefore = threads.getThreadAllocatedBytes(self);
        for (int i = 20_000; i < 120_000; i++) {
            browserPacket(packet, i);
            relay.fromBrowser(packet, 0, packet.length, false);
        }
        long callerAllocated = threads.getThreadAllocatedBytes(self) - callerBefore;

        System.out.printf("allocated for 100k packets: SIP->browser loop threads %d bytes, browser->SIP caller %d bytes%n",
                loopAllocated, callerAllocated);
        assertEquals(120_000 - 1, relay.stats().browserToSip().packets());
        assertTrue(callerAllocated < 64 * 1024, "browser->SIP allocated " + callerAllocated + " bytes for 100k packets");
        // The JDK's epoll selector looks each ready key up by its fd as a boxed Integer (EPollSelectorImpl
        // .processEvents): 16 bytes per ready socket once fds pass 127, unless the Integer cache is raised
        // (-XX:AutoBoxCacheMax=65536, see docs/media.md). What the relay itself does must be zero.
        boolean fdsBoxedFree = Integer.valueOf(FD_LIMIT_PROBE) == Integer.valueOf(FD_LIMIT_PROBE);
        long allowed = fdsBoxedFree ? 64 * 1024 : 64 * 1024 + 16L * 100_000;
        assertTrue(loopAllocated < allowed, "SIP->browser allocated " + loopAllocated + " bytes for 100k packets"
                + (fdsBoxedFree ? "" : " (allowed: one boxed fd per packet)"));
    }

    private static void browserPacket(byte[] packet, int seq) {
        RtpPacket.setSsrc(packet, 0, BROWSER_SSRC);
        RtpPacket.setSequence(packet, 0, seq);
        RtpPacket.setTimestamp(packet, 0, 160L * seq);
    }

    /** Sends {@code n} packets in bursts the socket buffer holds, waiting for each burst to be relayed. */
    private int relaySipToBrowser(InetSocketAddress to, byte[] packet, ByteBuffer out, int seq, int n) throws IOException {
        for (int sent = 0; sent < n; ) {
            for (int i = 0; i < 200; i++, sent++, seq++) {
                RtpPacket.setSsrc(packet, 0, SIP_SSRC);
                RtpPacket.setSequence(packet, 0, seq);
                RtpPacket.setTimestamp(packet, 0, 160L * seq);
                out.clear();
                sipRtp.send(out, to);
            }
            long expected = sent;
            Poll.until(WAIT, "burst relayed", () -> browserRtp.count.get() + 1 >= expected);
        }
        return seq;
    }

    /** An fd number above any this test JVM uses: if it is cached, no fd lookup allocates. */
    private static final int FD_LIMIT_PROBE = 20_000;

    private static long sum(long[] values) {
        long s = 0;
        for (long v : values) {
            s += v;
        }
        return s;
    }

    @Test
    void closeReturnsThePortsAndStopsForwarding() throws Exception {
        relay.allowMedia();
        int port = endpoint.localRtpPort();
        relay.close();
        assertFalse(relay.mediaAllowed());
        assertEquals(0, allocator.pairsInUse());
        assertTrue(FreePorts.udpFree(port) && FreePorts.udpFree(port + 1));
        browserSendsRtp(Packets.rtp(0, 1, 160, BROWSER_SSRC, 160));
        assertEquals(1, relay.stats().browserToSip().drops().gated());
    }

    /** A video relay next to the class's audio one, as BridgedCallMedia pairs them on one BUNDLE transport. */
    private MediaRelay videoRelay(Capture rtcp) throws IOException {
        PlainRtpEndpoint videoEndpoint = PlainRtpEndpoint.open(allocator, loops, SourcePolicy.SDP);
        MediaRelay video = new MediaRelay(videoEndpoint, browserRtp, rtcp,
                MediaRelay.Config.video(TO_SIP_VIDEO, TO_BROWSER_VIDEO, PayloadTypeMap.builder().map(96, 100, 90000).build()));
        video.start();
        video.updateSipRemote((InetSocketAddress) sipRtp.getLocalAddress(), (InetSocketAddress) sipRtcp.getLocalAddress(),
                false);
        return video;
    }

    private static final int BROWSER_VIDEO_SSRC = 0x0D0D0D0D;
    private static final int TO_SIP_VIDEO = 0x55556666;
    private static final int TO_BROWSER_VIDEO = 0x77778888;

    @Test
    void videoAsksTheBrowserForAKeyframeWhenItsStreamStartsReachingSip() throws Exception {
        Capture videoRtcp = new Capture();
        MediaRelay video = videoRelay(videoRtcp);
        try {
            video.allowMedia();
            for (int seq = 1; seq <= 10; seq++) {
                byte[] p = Packets.rtp(96, seq, 3000L * seq, BROWSER_VIDEO_SSRC, 1000);
                video.fromBrowser(p, 0, p.length, false);
            }
            // What came before the gate opened, and the probation packet, never reached the SIP side: the
            // browser is asked for a keyframe (RR + PLI about its stream) once, when the stream takes over.
            assertArrayEquals(Packets.compound(Packets.rr(TO_BROWSER_VIDEO), Packets.pli(TO_BROWSER_VIDEO,
                    BROWSER_VIDEO_SSRC)), videoRtcp.next());
            assertEquals(2, RtpPacket.sequence(receive(sipRtp), 0));
            assertTrue(videoRtcp.packets.isEmpty(), "one request per source, not per packet");

            video.browserSourceMayChange(); // a renegotiation restarted the browser's sender
            for (int seq = 500; seq < 503; seq++) {
                byte[] p = Packets.rtp(96, seq, 3000L * seq, 0x0E0E0E0E, 1000);
                video.fromBrowser(p, 0, p.length, false);
            }
            assertArrayEquals(Packets.compound(Packets.rr(TO_BROWSER_VIDEO), Packets.pli(TO_BROWSER_VIDEO, 0x0E0E0E0E)),
                    videoRtcp.next());

            relay.allowMedia(); // audio: decodable from any packet, nothing to ask for
            for (int seq = 1; seq <= 5; seq++) {
                browserSendsRtp(Packets.rtp(0, seq, 160L * seq, BROWSER_SSRC, 160));
            }
            Poll.until(WAIT, "audio relayed", () -> relay.stats().browserToSip().packets() == 4);
            assertTrue(browserRtcp.packets.isEmpty(), "no keyframe request for audio");
        } finally {
            video.close();
        }
    }

    @Test
    void bundledRtcpIsClaimedByTheRelayOfItsStreams() throws Exception {
        MediaRelay video = videoRelay(new Capture());
        try {
            relay.allowMedia();
            video.allowMedia();
            for (int seq = 1; seq <= 2; seq++) {
                browserSendsRtp(Packets.rtp(0, seq, 160L * seq, BROWSER_SSRC, 160));
                byte[] p = Packets.rtp(96, seq, 3000L * seq, BROWSER_VIDEO_SSRC, 1000);
                video.fromBrowser(p, 0, p.length, false);
            }
            // Sent by a browser source: its relay's.
            byte[] audioSr = Packets.compound(Packets.sr(BROWSER_SSRC, 1, 2, 320, 2, 320), Packets.sdes(BROWSER_SSRC, "c"));
            byte[] videoSr = Packets.compound(Packets.sr(BROWSER_VIDEO_SSRC, 1, 2, 6000, 2, 2000),
                    Packets.sdes(BROWSER_VIDEO_SSRC, "c"));
            assertOwnedBy(audioSr, true, false, relay, video);
            assertOwnedBy(videoSr, false, true, relay, video);
            // From a receive-only stream (libwebrtc's sender SSRC 1): by what the blocks and feedback are about.
            byte[] videoReceiver = Packets.compound(Packets.rr(1, Packets.Block.about(TO_BROWSER_VIDEO, 7)),
                    Packets.pli(1, TO_BROWSER_VIDEO));
            assertOwnedBy(videoReceiver, false, true, relay, video);
            assertOwnedBy(Packets.compound(Packets.rr(1), Packets.pli(1, TO_BROWSER)), true, false, relay, video);
            // Neither's, and not RTCP at all.
            assertOwnedBy(Packets.compound(Packets.rr(0x999), Packets.pli(0x999, 0x1234)), false, false, relay, video);
            assertOwnedBy(new byte[] {(byte) 0x80, 0, 0}, false, false, relay, video);
        } finally {
            video.close();
        }
    }

    private static void assertOwnedBy(byte[] rtcp, boolean audio, boolean video, MediaRelay audioRelay,
            MediaRelay videoRelay) {
        assertEquals(audio, audioRelay.ownsBrowserRtcp(rtcp, 0, rtcp.length), "audio relay");
        assertEquals(video, videoRelay.ownsBrowserRtcp(rtcp, 0, rtcp.length), "video relay");
    }
}
