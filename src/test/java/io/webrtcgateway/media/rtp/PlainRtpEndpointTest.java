package io.webrtcgateway.media.rtp;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.webrtcgateway.testsupport.FreePorts;
import io.webrtcgateway.testsupport.Poll;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class PlainRtpEndpointTest {

    private static final Duration WAIT = Duration.ofSeconds(5);

    private UdpReceiveLoops loops;
    private RtpPortAllocator allocator;
    private final List<AutoCloseable> cleanup = new ArrayList<>();
    private final BlockingQueue<byte[]> rtpIn = new LinkedBlockingQueue<>();
    private final BlockingQueue<byte[]> rtcpIn = new LinkedBlockingQueue<>();

    @BeforeEach
    void setUp() throws IOException {
        loops = new UdpReceiveLoops("rtp-test", 2);
        FreePorts.Range range = FreePorts.udpRange(40);
        allocator = new RtpPortAllocator(FreePorts.LOOPBACK, range.low(), range.high());
    }

    @AfterEach
    void tearDown() throws Exception {
        for (AutoCloseable c : cleanup) {
            c.close();
        }
        loops.close();
    }

    private PlainRtpEndpoint endpoint(SourcePolicy policy) throws IOException {
        PlainRtpEndpoint e = PlainRtpEndpoint.open(allocator, loops, policy);
        cleanup.add(e);
        e.start((b, o, l) -> rtpIn.add(Arrays.copyOfRange(b, o, o + l)),
                (b, o, l) -> rtcpIn.add(Arrays.copyOfRange(b, o, o + l)));
        return e;
    }

    private DatagramSocket peer(InetAddress address) throws IOException {
        DatagramSocket s = new DatagramSocket(new InetSocketAddress(address, 0));
        s.setSoTimeout(2000);
        cleanup.add(s);
        return s;
    }

    private DatagramSocket peer() throws IOException {
        return peer(FreePorts.LOOPBACK);
    }

    private static InetSocketAddress addressOf(DatagramSocket s) {
        return (InetSocketAddress) s.getLocalSocketAddress();
    }

    private static void send(DatagramSocket from, byte[] data, int port) throws IOException {
        from.send(new DatagramPacket(data, data.length, new InetSocketAddress(FreePorts.LOOPBACK, port)));
    }

    private static byte[] receive(DatagramSocket s) throws IOException {
        DatagramPacket p = new DatagramPacket(new byte[2048], 2048);
        s.receive(p);
        return Arrays.copyOf(p.getData(), p.getLength());
    }

    private static boolean nothingArrives(DatagramSocket s) throws IOException {
        s.setSoTimeout(300);
        try {
            s.receive(new DatagramPacket(new byte[2048], 2048));
            return false;
        } catch (SocketTimeoutException expected) {
            return true;
        } finally {
            s.setSoTimeout(2000);
        }
    }

    private byte[] next(BlockingQueue<byte[]> q) throws InterruptedException {
        byte[] p = q.poll(WAIT.toMillis(), TimeUnit.MILLISECONDS);
        assertNotNull(p, "nothing received within " + WAIT);
        return p;
    }

    @Test
    void rtpAndRtcpBothWaysOnSeparatePorts() throws Exception {
        PlainRtpEndpoint e = endpoint(SourcePolicy.SDP_STRICT);
        DatagramSocket peerRtp = peer();
        DatagramSocket peerRtcp = peer();
        e.setRemote(addressOf(peerRtp), addressOf(peerRtcp), false);
        assertEquals(e.localRtpPort() + 1, e.localRtcpPort());

        byte[] rtp = Packets.rtp(0, 1, 160, 42, 160);
        send(peerRtp, rtp, e.localRtpPort());
        assertArrayEquals(rtp, next(rtpIn));
        byte[] rr = Packets.rr(42);
        send(peerRtcp, rr, e.localRtcpPort());
        assertArrayEquals(rr, next(rtcpIn));

        assertTrue(e.sendRtp(rtp, 0, rtp.length));
        assertArrayEquals(rtp, receive(peerRtp));
        byte[] framed = new byte[rr.length + 10];
        System.arraycopy(rr, 0, framed, 3, rr.length);
        assertTrue(e.sendRtcp(framed, 3, rr.length));
        assertArrayEquals(rr, receive(peerRtcp));
    }

    @Test
    void rtcpMuxUsesTheRtpPortBothWays() throws Exception {
        PlainRtpEndpoint e = endpoint(SourcePolicy.SDP);
        DatagramSocket peerRtp = peer();
        e.setRemote(addressOf(peerRtp), null, true);
        byte[] sr = Packets.sr(42, 1, 2, 3, 4, 5);
        send(peerRtp, sr, e.localRtpPort());
        assertArrayEquals(sr, next(rtcpIn), "demultiplexed by packet type (RFC 5761 §4)");
        assertTrue(rtpIn.isEmpty());
        assertTrue(e.sendRtcp(sr, 0, sr.length));
        assertArrayEquals(sr, receive(peerRtp));
    }

    @Test
    void noDestinationBeforeTheSdpIsCountedNotThrown() throws Exception {
        PlainRtpEndpoint e = endpoint(SourcePolicy.SDP);
        byte[] rtp = Packets.rtp(0, 1, 160, 42, 160);
        assertFalse(e.sendRtp(rtp, 0, rtp.length));
        assertFalse(e.sendRtcp(rtp, 0, rtp.length));
        assertEquals(2, e.droppedNoDestination());
    }

    @Test
    void latchingSendsToWherePacketsComeFrom() throws Exception {
        PlainRtpEndpoint e = endpoint(new SourcePolicy(true, false, 3, Duration.ofSeconds(10)));
        DatagramSocket behindNat = peer();
        // the SDP names an address nobody listens on (a private address behind NAT, in real life)
        e.setRemote(new InetSocketAddress(FreePorts.LOOPBACK, FreePorts.udp()), null, true);
        byte[] rtp = Packets.rtp(0, 1, 160, 42, 160);
        send(behindNat, rtp, e.localRtpPort());
        next(rtpIn);
        assertEquals(addressOf(behindNat), e.rtpDestination());
        e.sendRtp(rtp, 0, rtp.length);
        assertArrayEquals(rtp, receive(behindNat));

        // within the first 3 packets the latch may still move (e.g. a NAT re-mapping at call start)
        DatagramSocket moved = peer();
        send(moved, rtp, e.localRtpPort());
        next(rtpIn);
        assertEquals(addressOf(moved), e.rtpDestination());
        send(moved, rtp, e.localRtpPort());
        next(rtpIn);

        // after that it is fixed: others are dropped and counted, the destination stays
        DatagramSocket intruder = peer();
        send(intruder, rtp, e.localRtpPort());
        Poll.until(WAIT, "the intruder's packet counted", () -> e.droppedForeignSource() == 1);
        assertTrue(rtpIn.isEmpty());
        assertEquals(addressOf(moved), e.rtpDestination());

        // a re-INVITE re-arms latching
        e.setRemote(new InetSocketAddress(FreePorts.LOOPBACK, FreePorts.udp()), null, true);
        send(intruder, rtp, e.localRtpPort());
        next(rtpIn);
        assertEquals(addressOf(intruder), e.rtpDestination());
    }

    @Test
    void latchWindowClosesAfterItsTime() throws Exception {
        PlainRtpEndpoint e = endpoint(new SourcePolicy(true, false, 1000, Duration.ofMillis(200)));
        DatagramSocket first = peer();
        e.setRemote(addressOf(first), null, true);
        byte[] rtp = Packets.rtp(0, 1, 160, 42, 160);
        send(first, rtp, e.localRtpPort());
        next(rtpIn);
        long start = System.nanoTime();
        Poll.until(WAIT, "the latch window to pass", () -> System.nanoTime() - start > TimeUnit.MILLISECONDS.toNanos(250));
        DatagramSocket late = peer();
        send(late, rtp, e.localRtpPort());
        Poll.until(WAIT, "the late sender counted", () -> e.droppedForeignSource() == 1);
        assertEquals(addressOf(first), e.rtpDestination());
    }

    @Test
    void strictSourceAcceptsOnlyTheSdpHost() throws Exception {
        PlainRtpEndpoint e = endpoint(SourcePolicy.LATCHING_STRICT);
        DatagramSocket sdpHost = peer();
        DatagramSocket otherHost = peer(InetAddress.getByName("127.0.0.2"));
        e.setRemote(new InetSocketAddress(FreePorts.LOOPBACK, FreePorts.udp()), null, true);
        byte[] rtp = Packets.rtp(0, 1, 160, 42, 160);
        send(otherHost, rtp, e.localRtpPort());
        Poll.until(WAIT, "the other host's packet counted", () -> e.droppedForeignSource() == 1);
        assertTrue(rtpIn.isEmpty());
        assertNotEquals(addressOf(otherHost), e.rtpDestination());
        // the SDP's host, from another port (NAT of the port only): accepted and latched
        send(sdpHost, rtp, e.localRtpPort());
        next(rtpIn);
        assertEquals(addressOf(sdpHost), e.rtpDestination());
    }

    @Test
    void withoutLatchingTheSdpAddressIsKeptAndAnySenderAccepted() throws Exception {
        PlainRtpEndpoint e = endpoint(SourcePolicy.SDP);
        DatagramSocket sdp = peer();
        DatagramSocket asymmetric = peer();
        e.setRemote(addressOf(sdp), null, true);
        byte[] rtp = Packets.rtp(0, 1, 160, 42, 160);
        send(asymmetric, rtp, e.localRtpPort());
        next(rtpIn);
        assertEquals(addressOf(sdp), e.rtpDestination());
        assertEquals(0, e.droppedForeignSource());
    }

    /** {@code learning} with a short silence, so that the tests below run in well under a second each. */
    private static final SourcePolicy LEARNING = SourcePolicy.learning(5, Duration.ofMillis(200));

    /** Sends one RTP packet every 20 ms from {@code from} to the endpoint, in sequence, until closed. */
    private java.util.concurrent.ScheduledExecutorService stream(DatagramSocket from, int ssrc, int port) {
        java.util.concurrent.ScheduledExecutorService pacer = java.util.concurrent.Executors.newSingleThreadScheduledExecutor();
        cleanup.add(pacer::shutdownNow);
        int[] seq = {1};
        pacer.scheduleAtFixedRate(() -> {
            try {
                send(from, Packets.rtp(0, seq[0]++, 160L * seq[0], ssrc, 160), port);
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }, 0, 20, TimeUnit.MILLISECONDS);
        return pacer;
    }

    /** The gateway's side sending every 20 ms (what starts learning's silence clock). */
    private void sendEvery20Ms(PlainRtpEndpoint e) {
        java.util.concurrent.ScheduledExecutorService pacer = java.util.concurrent.Executors.newSingleThreadScheduledExecutor();
        cleanup.add(pacer::shutdownNow);
        byte[] rtp = Packets.rtp(0, 1, 160, 0x6A7E, 160);
        pacer.scheduleAtFixedRate(() -> e.sendRtp(rtp, 0, rtp.length), 0, 20, TimeUnit.MILLISECONDS);
    }

    /** A SIP peer behind NAT: its SDP's address never sends, its stream comes from elsewhere and is learnt. */
    @Test
    void learningFindsAPeerBehindNat() throws Exception {
        PlainRtpEndpoint e = endpoint(LEARNING);
        DatagramSocket privateAddress = peer(); // what the SDP names: nothing ever comes from it
        DatagramSocket publicAddress = peer(InetAddress.getByName("127.0.0.2"));
        e.setRemote(addressOf(privateAddress), null, true);
        assertEquals(addressOf(privateAddress), e.rtpDestination(), "the SDP's address at once");
        stream(publicAddress, 0xCAFE, e.localRtpPort());
        sendEvery20Ms(e);
        Poll.until(WAIT, "the NAT'd peer learnt", e::rtpDestination, addressOf(publicAddress)::equals);
        assertTrue(e.droppedForeignSource() >= 4, "its first packets were dropped: " + e.droppedForeignSource());
        receive(publicAddress); // our packets go there now
        next(rtpIn); // and its packets are passed on
        receive(privateAddress); // before, they went where the SDP said
    }

    /**
     * RTP bleed: a stranger streams in sequence to the port before and during the call. The SDP's peer answers
     * what it hears: the stranger is never learnt, never sent to, and its packets are counted.
     */
    @Test
    void learningKeepsTheSdpPeerAgainstAStranger() throws Exception {
        PlainRtpEndpoint e = endpoint(LEARNING);
        DatagramSocket sipPeer = peer();
        DatagramSocket stranger = peer(InetAddress.getByName("127.0.0.2"));
        stream(stranger, 0xBAD, e.localRtpPort());
        Poll.until(WAIT, "the stranger's packets dropped before any SDP", () -> e.droppedForeignSource() >= 5);
        e.setRemote(addressOf(sipPeer), null, true);
        sendEvery20Ms(e);
        receive(sipPeer);
        send(sipPeer, Packets.rtp(0, 1, 160, 0x5157, 160), e.localRtpPort()); // the echo's first answer
        byte[] first = next(rtpIn);
        assertEquals(0x5157, RtpPacket.ssrc(first, 0));
        long dropped = e.droppedForeignSource();
        // five times the silence later, with the stranger still streaming and the peer silent again
        long start = System.nanoTime();
        Poll.until(WAIT, "1 s of the stranger's stream", () -> System.nanoTime() - start > TimeUnit.MILLISECONDS.toNanos(1000));
        assertEquals(addressOf(sipPeer), e.rtpDestination());
        assertTrue(e.droppedForeignSource() >= dropped + 25, "the stranger's stream counted: " + e.droppedForeignSource());
        assertTrue(nothingArrives(stranger), "the stranger never receives anything");
        for (byte[] p; (p = rtpIn.poll()) != null; ) {
            assertEquals(0x5157, RtpPacket.ssrc(p, 0), "only the SIP peer's packets are passed on");
        }
    }

    @Test
    void learningStartsAgainOnlyWhenTheSdpAddressChanges() throws Exception {
        PlainRtpEndpoint e = endpoint(LEARNING);
        DatagramSocket silent = peer();
        DatagramSocket nat = peer(InetAddress.getByName("127.0.0.2"));
        DatagramSocket natRtcp = peer(InetAddress.getByName("127.0.0.2"));
        e.setRemote(addressOf(silent), new InetSocketAddress(FreePorts.LOOPBACK, addressOf(silent).getPort() + 1), false);
        java.util.concurrent.ScheduledExecutorService natStream = stream(nat, 0xCAFE, e.localRtpPort());
        sendEvery20Ms(e);
        Poll.until(WAIT, "the NAT'd peer learnt", e::rtpDestination, addressOf(nat)::equals);
        // RTCP follows: accepted from the learnt host, and sent where it comes from
        byte[] rr = Packets.rr(0xCAFE);
        send(natRtcp, rr, e.localRtcpPort());
        assertArrayEquals(rr, next(rtcpIn));
        assertEquals(addressOf(natRtcp), e.rtcpDestination());
        // a re-INVITE with the same addresses (hold, session refresh) keeps it
        e.setRemote(addressOf(silent), new InetSocketAddress(FreePorts.LOOPBACK, addressOf(silent).getPort() + 1), false);
        assertEquals(addressOf(nat), e.rtpDestination());
        // another address: the learnt source is a stranger to it
        natStream.shutdownNow();
        DatagramSocket moved = peer();
        e.setRemote(addressOf(moved), null, true);
        assertEquals(addressOf(moved), e.rtpDestination());
        long before = e.droppedForeignSource();
        send(nat, Packets.rtp(0, 999, 160, 0xCAFE, 160), e.localRtpPort());
        Poll.until(WAIT, "the old source dropped", () -> e.droppedForeignSource() > before);
        assertEquals(addressOf(moved), e.rtpDestination());
    }

    @Test
    void closeFromInsideTheHandlerReleasesThePorts() throws Exception {
        PlainRtpEndpoint[] self = new PlainRtpEndpoint[1];
        PlainRtpEndpoint e = PlainRtpEndpoint.open(allocator, loops, SourcePolicy.SDP);
        self[0] = e;
        e.start((b, o, l) -> self[0].close(), (b, o, l) -> { });
        DatagramSocket p = peer();
        send(p, Packets.rtp(0, 1, 160, 42, 160), e.localRtpPort());
        Poll.until(WAIT, "the endpoint closed itself", e::isClosed);
        Poll.until(WAIT, "ports back", () -> allocator.pairsInUse() == 0);
        assertTrue(FreePorts.udpFree(e.localRtpPort()) && FreePorts.udpFree(e.localRtcpPort()));
    }

    @Test
    void closeWithoutStartAndStartAfterCloseLeaveNothing() throws Exception {
        PlainRtpEndpoint e = PlainRtpEndpoint.open(allocator, loops, SourcePolicy.SDP);
        e.close();
        assertEquals(0, allocator.pairsInUse());
        assertThrows(IOException.class, () -> e.start((b, o, l) -> { }, (b, o, l) -> { }));
        assertEquals(0, loops.sockets());
    }

    @Test
    void twoHundredEndpointsOpenedAndClosedLeaveNoPortsOrThreads() throws Exception {
        loops.close();
        int baseline = ManagementFactory.getThreadMXBean().getThreadCount();
        FreePorts.Range range = FreePorts.udpRange(60);
        RtpPortAllocator small = new RtpPortAllocator(FreePorts.LOOPBACK, range.low(), range.high());
        UdpReceiveLoops own = new UdpReceiveLoops("rtp-leak-test", 2);
        DatagramSocket p = peer();
        byte[] rtp = Packets.rtp(0, 1, 160, 42, 160);
        try {
            for (int round = 0; round < 20; round++) {
                List<PlainRtpEndpoint> batch = new ArrayList<>();
                try {
                    for (int i = 0; i < 10; i++) {
                        PlainRtpEndpoint e = PlainRtpEndpoint.open(small, own, SourcePolicy.LATCHING);
                        batch.add(e);
                        e.start((b, o, l) -> { }, (b, o, l) -> { });
                        e.setRemote(addressOf(p), null, false);
                        send(p, rtp, e.localRtpPort()); // traffic in flight while closing
                        e.sendRtp(rtp, 0, rtp.length);
                    }
                    if (round % 5 == 4) {
                        throw new IllegalStateException("a call setup failing half-way");
                    }
                } catch (IllegalStateException expected) {
                    // the endpoints are closed below as in any failed setup
                } finally {
                    batch.forEach(PlainRtpEndpoint::close);
                }
                assertEquals(0, small.pairsInUse(), "round " + round);
            }
            assertEquals(0, own.sockets());
            for (int port = range.low(); port <= range.high(); port++) {
                assertTrue(FreePorts.udpFree(port), "port " + port + " still bound");
            }
        } finally {
            own.close();
        }
        Poll.until(WAIT, "thread count back to " + baseline,
                () -> ManagementFactory.getThreadMXBean().getThreadCount(), n -> n <= baseline);
        assertTrue(Thread.getAllStackTraces().keySet().stream().noneMatch(t -> t.getName().startsWith("rtp-leak-test")));
        loops = new UdpReceiveLoops("rtp-test", 1); // for tearDown
    }

    @Test
    void endpointsSpreadOverTheLoops() throws Exception {
        PlainRtpEndpoint a = endpoint(SourcePolicy.SDP);
        PlainRtpEndpoint b = endpoint(SourcePolicy.SDP);
        assertFalse(a.loopName().equals(b.loopName()));
        assertEquals(4, loops.sockets());
        assertNull(a.rtpDestination());
    }

    private static void assertNotEquals(Object unexpected, Object actual) {
        org.junit.jupiter.api.Assertions.assertNotEquals(unexpected, actual);
    }
}
