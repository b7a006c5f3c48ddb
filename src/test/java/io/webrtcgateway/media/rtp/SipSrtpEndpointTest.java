package io.webrtcgateway.media.rtp;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.webrtcgateway.media.srtp.SdesCrypto;
import io.webrtcgateway.media.srtp.SrtpProfile;
import io.webrtcgateway.media.srtp.SrtpSession;
import io.webrtcgateway.testsupport.FreePorts;
import io.webrtcgateway.testsupport.Poll;
import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The SIP-side endpoint with SDES keys (docs/sip.md "SRTP toward SIP Server"): over real loopback sockets, a SIP
 * peer with its own {@link SrtpSession} sends SRTP/SRTCP that the relay's handlers receive as clear RTP/RTCP,
 * and what the relay sends reaches the peer protected; forged packets are counted and go no further; a rekey
 * swaps keys without a lost packet; the caller's buffer is never changed (the DTMF injector resends it).
 */
class SipSrtpEndpointTest {
    private static final Duration WAIT = Duration.ofSeconds(5);
    private static final SecureRandom RANDOM = new SecureRandom();

    private UdpReceiveLoops loops;
    private RtpPortAllocator allocator;
    private final List<AutoCloseable> cleanup = new ArrayList<>();
    private final BlockingQueue<byte[]> rtpIn = new LinkedBlockingQueue<>();
    private final BlockingQueue<byte[]> rtcpIn = new LinkedBlockingQueue<>();

    @BeforeEach
    void setUp() throws IOException {
        loops = new UdpReceiveLoops("srtp-test", 1);
        FreePorts.Range range = FreePorts.udpRange(20);
        allocator = new RtpPortAllocator(FreePorts.LOOPBACK, range.low(), range.high());
    }

    @AfterEach
    void tearDown() throws Exception {
        for (AutoCloseable c : cleanup) {
            c.close();
        }
        loops.close();
    }

    /** Our key and the peer's, as an SDES exchange would give them; [0] is ours, [1] the peer's view. */
    private static SrtpSession[] exchange(SrtpProfile profile) {
        SdesCrypto offer = SdesCrypto.generate(1, profile, RANDOM);
        SdesCrypto answer = offer.answer(RANDOM);
        return new SrtpSession[] {SrtpSession.fromSdes(answer, offer), SrtpSession.fromSdes(offer, answer)};
    }

    private PlainRtpEndpoint endpoint(DatagramSocket rtpPeer, DatagramSocket rtcpPeer) throws IOException {
        PlainRtpEndpoint e = PlainRtpEndpoint.open(allocator, loops, SourcePolicy.SDP);
        cleanup.add(e);
        e.start((b, o, l) -> rtpIn.add(Arrays.copyOfRange(b, o, o + l)),
                (b, o, l) -> rtcpIn.add(Arrays.copyOfRange(b, o, o + l)));
        e.setRemote((InetSocketAddress) rtpPeer.getLocalSocketAddress(),
                (InetSocketAddress) rtcpPeer.getLocalSocketAddress(), false);
        return e;
    }

    private DatagramSocket peer() throws IOException {
        DatagramSocket s = new DatagramSocket(new InetSocketAddress(FreePorts.LOOPBACK, 0));
        s.setSoTimeout(2000);
        cleanup.add(s);
        return s;
    }

    private static void send(DatagramSocket from, byte[] data, int len, int port) throws IOException {
        from.send(new DatagramPacket(data, len, new InetSocketAddress(FreePorts.LOOPBACK, port)));
    }

    private static byte[] receive(DatagramSocket s) throws IOException {
        DatagramPacket p = new DatagramPacket(new byte[2048], 2048);
        s.receive(p);
        return Arrays.copyOf(p.getData(), p.getLength());
    }

    /** {@code clear} protected by {@code keys} into a buffer with room for the tag; its length. */
    private static byte[] protect(SrtpSession keys, byte[] clear, boolean rtcp) {
        byte[] buf = Arrays.copyOf(clear, clear.length + 64);
        int n = rtcp ? keys.protectRtcp(buf, 0, clear.length) : keys.protectRtp(buf, 0, clear.length);
        assertTrue(n > clear.length, "protected");
        return Arrays.copyOf(buf, n);
    }

    @Test
    void srtpAndSrtcpBothWaysWithEitherSuite() throws Exception {
        for (SrtpProfile profile : SrtpProfile.values()) {
            SrtpSession[] keys = exchange(profile);
            DatagramSocket rtpPeer = peer();
            DatagramSocket rtcpPeer = peer();
            PlainRtpEndpoint e = endpoint(rtpPeer, rtcpPeer);
            e.setSrtp(keys[0]);

            // SIP peer -> gateway: decrypted before the relay sees it
            for (int seq = 1; seq <= 20; seq++) {
                byte[] clear = Packets.rtp(0, seq, seq * 160L, 0x5151, 160);
                byte[] wire = protect(keys[1], clear, false);
                assertFalse(Arrays.equals(Arrays.copyOfRange(wire, 12, 172), Arrays.copyOfRange(clear, 12, 172)),
                        "the payload is encrypted on the wire");
                send(rtpPeer, wire, wire.length, e.localRtpPort());
                assertArrayEquals(clear, rtpIn.poll(WAIT.toMillis(), TimeUnit.MILLISECONDS), profile + " seq " + seq);
            }
            byte[] rr = Packets.rr(0x5151);
            byte[] srtcp = protect(keys[1], rr, true);
            send(rtcpPeer, srtcp, srtcp.length, e.localRtcpPort());
            assertArrayEquals(rr, rtcpIn.poll(WAIT.toMillis(), TimeUnit.MILLISECONDS));

            // gateway -> SIP peer: protected on the way out, the caller's packet untouched
            for (int seq = 100; seq < 120; seq++) {
                byte[] clear = Packets.rtp(0, seq, seq * 160L, 0x7777, 160);
                byte[] copy = clear.clone();
                assertTrue(e.sendRtp(clear, 0, clear.length));
                assertArrayEquals(copy, clear, "sendRtp leaves the caller's buffer as it was");
                byte[] got = receive(rtpPeer);
                assertEquals(clear.length + profile.rtpTagLength(), got.length);
                int n = keys[1].unprotectRtp(got, 0, got.length);
                assertEquals(clear.length, n);
                assertArrayEquals(clear, Arrays.copyOf(got, n));
            }
            byte[] sr = Packets.sr(0x7777, 1, 2, 3, 4, 5);
            assertTrue(e.sendRtcp(sr, 0, sr.length));
            byte[] gotRtcp = receive(rtcpPeer);
            int n = keys[1].unprotectRtcp(gotRtcp, 0, gotRtcp.length);
            assertArrayEquals(sr, Arrays.copyOf(gotRtcp, n));
            assertEquals(0, keys[0].counters().authFailures() + keys[1].counters().authFailures());
        }
    }

    @Test
    void forgedOrReplayedPacketsAreCountedAndGoNoFurther() throws Exception {
        SrtpSession[] keys = exchange(SrtpProfile.AES_CM_128_HMAC_SHA1_80);
        DatagramSocket rtpPeer = peer();
        DatagramSocket rtcpPeer = peer();
        PlainRtpEndpoint e = endpoint(rtpPeer, rtcpPeer);
        e.setSrtp(keys[0]);

        byte[] good = protect(keys[1], Packets.rtp(0, 1, 160, 0x5151, 160), false);
        byte[] forged = good.clone();
        forged[40] ^= 1; // one payload bit
        send(rtpPeer, forged, forged.length, e.localRtpPort());
        // plain RTP from the SDP's address: not authenticated either
        byte[] plain = Packets.rtp(0, 2, 320, 0x5151, 160);
        send(rtpPeer, plain, plain.length, e.localRtpPort());
        send(rtpPeer, good, good.length, e.localRtpPort());
        send(rtpPeer, good, good.length, e.localRtpPort()); // replayed
        byte[] marker = protect(keys[1], Packets.rtp(0, 3, 480, 0x5151, 160), false);
        send(rtpPeer, marker, marker.length, e.localRtpPort());

        assertEquals(1, RtpPacket.sequence(rtpIn.poll(WAIT.toMillis(), TimeUnit.MILLISECONDS), 0));
        assertEquals(3, RtpPacket.sequence(rtpIn.poll(WAIT.toMillis(), TimeUnit.MILLISECONDS), 0));
        assertNull(rtpIn.poll(200, TimeUnit.MILLISECONDS));
        Poll.until(WAIT, "the drops counted", () -> keys[0].counters().authFailures(), n -> n == 2);
        assertEquals(1, keys[0].counters().replayDropped());
    }

    /** Protecting toward SIP allocates nothing per packet (the socket's own buffer, one wrapper). */
    @Test
    void sendingSrtpAllocatesNothingPerPacket() throws Exception {
        SrtpSession[] keys = exchange(SrtpProfile.AES_CM_128_HMAC_SHA1_80);
        DatagramSocket rtpPeer = peer();
        DatagramSocket rtcpPeer = peer();
        PlainRtpEndpoint e = endpoint(rtpPeer, rtcpPeer);
        e.setSrtp(keys[0]);
        byte[] packet = Packets.rtp(0, 1, 160, 0x7777, 160);
        com.sun.management.ThreadMXBean threads =
                (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
        long self = Thread.currentThread().getId();
        int warmup = 5_000;
        int measured = 50_000;
        long before = 0;
        for (int i = 0; i < warmup + measured; i++) {
            if (i == warmup) {
                before = threads.getThreadAllocatedBytes(self);
            }
            RtpPacket.setSequence(packet, 0, i & 0xffff);
            e.sendRtp(packet, 0, packet.length);
        }
        long allocated = threads.getThreadAllocatedBytes(self) - before;
        // under one byte per packet (an allocation per packet is 16 bytes at least); ~5.7 KB of one-off JDK
        // work per 50,000 in the first runs
        assertTrue(allocated < measured, "allocated " + allocated + " bytes for " + measured + " packets");
    }

    @Test
    void aRekeySwapsTheSessionWithoutLosingAPacket() throws Exception {
        SrtpSession[] first = exchange(SrtpProfile.AES_CM_128_HMAC_SHA1_80);
        DatagramSocket rtpPeer = peer();
        DatagramSocket rtcpPeer = peer();
        PlainRtpEndpoint e = endpoint(rtpPeer, rtcpPeer);
        e.setSrtp(first[0]);
        byte[] a = protect(first[1], Packets.rtp(0, 1, 160, 0x5151, 160), false);
        send(rtpPeer, a, a.length, e.localRtpPort());
        assertEquals(1, RtpPacket.sequence(rtpIn.poll(WAIT.toMillis(), TimeUnit.MILLISECONDS), 0));

        // a re-INVITE with new keys on both sides (SipKeying: a new key of the peer gets a new key of ours)
        SrtpSession[] second = exchange(SrtpProfile.AES_CM_128_HMAC_SHA1_32);
        e.setSrtp(second[0]);
        byte[] b = protect(second[1], Packets.rtp(0, 2, 320, 0x5151, 160), false);
        send(rtpPeer, b, b.length, e.localRtpPort());
        assertEquals(2, RtpPacket.sequence(rtpIn.poll(WAIT.toMillis(), TimeUnit.MILLISECONDS), 0));
        byte[] out = Packets.rtp(0, 9, 1440, 0x7777, 160);
        assertTrue(e.sendRtp(out, 0, out.length));
        byte[] got = receive(rtpPeer);
        assertEquals(out.length, second[1].unprotectRtp(got, 0, got.length), "protected with the new keys");
        e.setSrtp(null);
        assertTrue(e.sendRtp(out, 0, out.length));
        assertArrayEquals(out, receive(rtpPeer), "null: plain RTP again");
    }

    /**
     * A rekey while packets under the old keys are in flight (the peer switches when our answer reaches it): they
     * are taken, uncounted, until the first packet under the new keys; a straggler after that is refused and
     * counted, and so is one after the grace time when the new keys were never used.
     */
    @Test
    void packetsInFlightUnderTheOldKeysAreTakenUntilTheNewKeysAreInUse() throws Exception {
        SrtpSession[] first = exchange(SrtpProfile.AES_CM_128_HMAC_SHA1_80);
        DatagramSocket rtpPeer = peer();
        DatagramSocket rtcpPeer = peer();
        PlainRtpEndpoint e = endpoint(rtpPeer, rtcpPeer);
        e.setSrtp(first[0]);
        sendRtp(rtpPeer, e, first[1], 1);
        assertEquals(1, nextSequence());

        SrtpSession[] second = exchange(SrtpProfile.AES_CM_128_HMAC_SHA1_32);
        e.setSrtp(second[0]);
        sendRtp(rtpPeer, e, first[1], 2); // in flight under the old keys
        assertEquals(2, nextSequence());
        sendRtp(rtpPeer, e, second[1], 3); // the peer has switched
        assertEquals(3, nextSequence());
        sendRtp(rtpPeer, e, first[1], 4); // a straggler after the switch: refused
        sendRtp(rtpPeer, e, second[1], 5);
        assertEquals(5, nextSequence());
        assertEquals(1, second[0].counters().authFailures(), "only the straggler counted");

        // A rekey the peer never follows: the old keys are taken only for the grace time.
        SrtpSession[] third = exchange(SrtpProfile.AES_CM_128_HMAC_SHA1_80);
        e.rekeyGrace(Duration.ofMillis(100));
        e.setSrtp(third[0]);
        sendRtp(rtpPeer, e, second[1], 6);
        assertEquals(6, nextSequence());
        long graceOver = System.nanoTime() + Duration.ofMillis(150).toNanos();
        while (System.nanoTime() - graceOver < 0) {
            LockSupport.parkNanos(graceOver - System.nanoTime());
        }
        sendRtp(rtpPeer, e, second[1], 7); // past the grace time: refused
        sendRtp(rtpPeer, e, third[1], 8);
        assertEquals(8, nextSequence());
        assertEquals(1, third[0].counters().authFailures());
        assertNull(rtpIn.poll(200, TimeUnit.MILLISECONDS));
    }

    private static void sendRtp(DatagramSocket from, PlainRtpEndpoint to, SrtpSession keys, int seq) throws IOException {
        byte[] p = protect(keys, Packets.rtp(0, seq, 160 * seq, 0x5151, 160), false);
        send(from, p, p.length, to.localRtpPort());
    }

    private int nextSequence() throws InterruptedException {
        byte[] p = rtpIn.poll(WAIT.toMillis(), TimeUnit.MILLISECONDS);
        assertNotNull(p, "a packet relayed");
        return RtpPacket.sequence(p, 0);
    }
}
