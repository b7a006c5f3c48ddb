package io.webrtcgateway.media.rtp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetSocketAddress;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * The {@code learning} policy's rules, one packet at a time with a made-up clock (SourceLearning's javadoc
 * lists them). 5 packets in sequence and 1 s of sending without an answer, as the defaults.
 */
class SourceLearningTest {

    private static final long MS = 1_000_000L;
    private static final InetSocketAddress SDP = new InetSocketAddress("192.0.2.10", 40000);
    private static final InetSocketAddress SDP_OTHER_PORT = new InetSocketAddress("192.0.2.10", 40100);
    private static final InetSocketAddress NAT = new InetSocketAddress("198.51.100.7", 61000);
    private static final InetSocketAddress STRANGER = new InetSocketAddress("203.0.113.66", 5004);

    private final SourceLearning learning = new SourceLearning(5, Duration.ofSeconds(1));
    /** The made-up clock, in ns; starts away from 0 (System.nanoTime may be anything). */
    private long now = 7_000_000_000L;

    private boolean rtp(InetSocketAddress from, int ssrc, int seq, long sendingSince) {
        return learning.accept(from, true, ssrc, seq, now, sendingSince);
    }

    /** {@code count} packets 20 ms apart, sequence numbers from {@code firstSeq}; whether the last was accepted. */
    private boolean stream(InetSocketAddress from, int ssrc, int firstSeq, int count, long sendingSince) {
        boolean accepted = false;
        for (int i = 0; i < count; i++) {
            accepted = rtp(from, ssrc, (firstSeq + i) & 0xFFFF, sendingSince);
            now += 20 * MS;
        }
        return accepted;
    }

    @Test
    void nothingIsAcceptedBeforeAnSdp() {
        assertFalse(rtp(SDP, 1, 1, 0));
        assertNull(learning.destination());
    }

    @Test
    void theSdpAddressIsAcceptedFromTheFirstPacketAndIsTheDestination() {
        learning.restart(SDP);
        assertEquals(SDP, learning.destination(), "sent to before anything arrived");
        assertTrue(rtp(SDP, 1, 100, 0));
        assertTrue(learning.accept(SDP, false, 0, 0, now, 0), "its RTCP too");
        assertEquals(SDP, learning.destination());
    }

    /** NAT: the SDP names a private address that never sends; the peer's stream from its public address wins. */
    @Test
    void aStreamIsLearntWhenTheSdpAddressStaysSilentWhileWeSend() {
        learning.restart(SDP);
        long sendingSince = now;
        // 1 s of the peer's stream while we send: dropped, the destination stays the SDP's
        for (int i = 0; i < 49; i++) {
            assertFalse(rtp(NAT, 0xCAFE, 1000 + i, sendingSince), "packet " + i);
            now += 20 * MS;
        }
        assertEquals(SDP, learning.destination());
        assertTrue(now - sendingSince >= 960 * MS);
        now = sendingSince + 1000 * MS;
        assertTrue(rtp(NAT, 0xCAFE, 1049, sendingSince), "learnt once the silence is long enough");
        assertEquals(NAT, learning.destination());
        assertTrue(learning.learntAnother());
        // and from now on it is the call's source: others are not
        assertFalse(stream(STRANGER, 7, 1, 200, sendingSince));
        assertEquals(NAT, learning.destination());
    }

    @Test
    void nothingIsLearntBeforeTheGatewaySendsAnything() {
        learning.restart(SDP);
        // the stranger streams for 10 s while the browser leg is still setting up: nothing sent yet
        assertFalse(stream(STRANGER, 7, 1, 500, 0));
        assertEquals(SDP, learning.destination());
        // we start sending: the silence counts from there
        long sendingSince = now;
        assertFalse(stream(STRANGER, 7, 501, 45, sendingSince));
        assertEquals(SDP, learning.destination());
    }

    /** RTP bleed: an echo peer (it answers what it hears) answers before the stranger has had its second. */
    @Test
    void aStrangerCannotTakeOverOnceTheSdpAddressHasSpoken() {
        learning.restart(SDP);
        long sendingSince = now;
        assertFalse(stream(STRANGER, 7, 1, 10, sendingSince));
        assertTrue(rtp(SDP, 0x5157, 1, sendingSince), "the SIP peer answers");
        // however long and regular the stranger's stream, however silent the peer is from now on
        assertFalse(stream(STRANGER, 7, 11, 1000, sendingSince));
        assertEquals(SDP, learning.destination());
    }

    @Test
    void theSdpAddressTakesBackALearntSourceAtOnce() {
        learning.restart(SDP);
        long sendingSince = now;
        now += 2000 * MS;
        assertTrue(stream(NAT, 0xCAFE, 1, 5, sendingSince));
        assertEquals(NAT, learning.destination());
        assertTrue(rtp(SDP, 0x5157, 1, sendingSince));
        assertEquals(SDP, learning.destination());
        assertFalse(learning.learntAnother());
        assertFalse(rtp(NAT, 0xCAFE, 6, sendingSince), "the learnt source is dropped once the SDP's speaks");
    }

    @Test
    void aRunMustBeInSequenceWithOneSsrc() {
        learning.restart(SDP);
        long sendingSince = now;
        now += 2000 * MS;
        // sequence gaps: each packet starts a new run
        for (int i = 0; i < 20; i++) {
            assertFalse(rtp(STRANGER, 7, i * 2, sendingSince));
            now += 20 * MS;
        }
        // SSRC changing every packet
        for (int i = 0; i < 20; i++) {
            assertFalse(rtp(STRANGER, i, 100 + i, sendingSince));
            now += 20 * MS;
        }
        // RTCP never counts
        for (int i = 0; i < 20; i++) {
            assertFalse(learning.accept(STRANGER, false, 0, 0, now, sendingSince));
            now += 20 * MS;
        }
        assertEquals(SDP, learning.destination());
        // 4 in sequence is not enough, the 5th is
        assertFalse(stream(STRANGER, 7, 65534, 4, sendingSince), "across the sequence number wrap");
        assertTrue(rtp(STRANGER, 7, 2, sendingSince));
        assertEquals(STRANGER, learning.destination());
    }

    @Test
    void aBurstIsNotAStream() {
        learning.restart(SDP);
        long sendingSince = now;
        now += 2000 * MS;
        // 1000 packets in sequence, 1 ms apart: every run of 5 spans 4 ms < 32 ms
        for (int i = 0; i < 1000; i++) {
            assertFalse(rtp(STRANGER, 7, i, sendingSince), "packet " + i);
            now += MS;
        }
        assertEquals(SDP, learning.destination());
        // paced like 10 ms audio, it qualifies
        now += 10 * MS;
        boolean learnt = false;
        for (int i = 1000; i < 1010 && !learnt; i++) {
            learnt = rtp(STRANGER, 7, i, sendingSince);
            now += 10 * MS;
        }
        assertTrue(learnt);
    }

    /** Asterisk's competing streams: a NAT'd peer and a stranger break each other's runs, neither wins. */
    @Test
    void twoCompetingStreamsNeitherTakesOver() {
        learning.restart(SDP);
        long sendingSince = now;
        now += 2000 * MS;
        for (int i = 0; i < 500; i++) {
            assertFalse(rtp(NAT, 0xCAFE, i, sendingSince));
            now += 3 * MS;
            // the stranger squeezes a burst of 5 between two of the peer's packets
            for (int j = 0; j < 5; j++) {
                assertFalse(rtp(STRANGER, 7, i * 5 + j, sendingSince));
                now += 3 * MS;
            }
            now += 2 * MS;
        }
        assertEquals(SDP, learning.destination());
    }

    @Test
    void theSdpHostFromAnotherPortIsAcceptedWithoutMovingTheDestination() {
        learning.restart(SDP);
        long sendingSince = now;
        assertTrue(rtp(SDP_OTHER_PORT, 3, 1, sendingSince));
        assertTrue(learning.accept(SDP_OTHER_PORT, false, 0, 0, now, sendingSince), "RTCP from the SDP's host");
        assertEquals(SDP, learning.destination());
        // it can take over like any other source (NAT of the port only)
        now += 2000 * MS;
        assertTrue(stream(SDP_OTHER_PORT, 3, 2, 5, sendingSince));
        assertEquals(SDP_OTHER_PORT, learning.destination());
    }

    @Test
    void aNewSdpForgetsWhatWasLearnt() {
        learning.restart(SDP);
        long sendingSince = now;
        now += 2000 * MS;
        assertTrue(stream(NAT, 0xCAFE, 1, 5, sendingSince));
        InetSocketAddress moved = new InetSocketAddress("192.0.2.20", 42000);
        learning.restart(moved);
        assertEquals(moved, learning.destination());
        assertFalse(rtp(NAT, 0xCAFE, 6, 0), "the old source is a stranger to the new SDP");
        assertTrue(rtp(moved, 9, 1, 0));
    }
}
