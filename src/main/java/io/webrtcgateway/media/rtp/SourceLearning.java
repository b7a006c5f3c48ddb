package io.webrtcgateway.media.rtp;

import java.net.InetSocketAddress;
import java.time.Duration;

/**
 * The {@code learning} source policy of one SIP-side RTP socket, for one SDP of the SIP side
 * (docs/media.md "Which senders are accepted"): which datagrams it accepts, and where the gateway sends.
 *
 * <ol>
 *   <li>The SDP's address is the destination, and its datagrams are accepted, from the first one. One
 *       arriving after another source took over makes it the destination again at once: what the
 *       signalling says wins over what was learnt.</li>
 *   <li>Another source takes over (becomes the destination, its datagrams accepted) only when all of these
 *       hold, else its datagrams are dropped:
 *       <ul>
 *         <li>it sent {@code packets} RTP packets in a row, with one SSRC and each sequence number one more
 *             than the one before (a stream, RFC 3550 A.1's probation, not a stray datagram), spread over at
 *             least {@link #MIN_SPACING_NANOS} per packet after the first (a burst squeezed between two
 *             packets of another stream does not count; Asterisk's strictrtp has the same guard);</li>
 *         <li>nothing at all came from the destination since this SDP: a source that spoke is a live stream
 *             and keeps the call for the rest of it (until an SDP with another address);</li>
 *         <li>the gateway has been sending to the destination for at least {@code silence}: a peer that
 *             only answers what it hears (an echo, a media server waiting for the caller's voice) has had
 *             the time to answer, and is not replaced by whoever sent first.</li>
 *       </ul>
 *       That is what a SIP peer behind NAT looks like: its SDP names a private address, which never sends;
 *       its packets, a regular stream, come from its public address. It is learnt after {@code silence}
 *       plus {@code packets} packets.</li>
 *   <li>Datagrams from the SDP's host but another port are accepted (some media servers send from another
 *       port than they receive on), without moving the destination unless they take over as above.</li>
 *   <li>RTCP never takes over (it has no sequence numbers); it is accepted from the destination and from
 *       the SDP's host.</li>
 * </ol>
 *
 * <p>Two sources streaming to the port at once (a stranger and a peer behind NAT) break each other's runs,
 * so neither takes over: the call's inbound audio stays dropped while a stranger competes, but its outbound
 * audio never goes to the stranger.
 *
 * <p>Not thread-safe: the socket's receive-loop thread only. The caller publishes {@link #destination()}.
 */
final class SourceLearning {

    /** Packets of a run must be at least this far apart on average (10 ms packets with jitter pass). */
    static final long MIN_SPACING_NANOS = Duration.ofMillis(8).toNanos();

    private final int packets;
    private final long silenceNanos;
    private final long minRunNanos;

    /** The SDP's address; null before the first SDP: then nothing is accepted. */
    private InetSocketAddress sdp;
    /** The source that took over, or null while the SDP's address is the destination. */
    private InetSocketAddress learnt;
    /** A datagram came from the destination since this SDP: nobody else takes over any more. */
    private boolean heard;

    /** The source whose run is being counted, or null. */
    private InetSocketAddress candidate;
    private int candidateSsrc;
    private int candidateSeq;
    private int run;
    private long runStartNanos;

    SourceLearning(int packets, Duration silence) {
        if (packets < 2) {
            throw new IllegalArgumentException("packets must be >= 2, not " + packets);
        }
        this.packets = packets;
        this.silenceNanos = silence.toNanos();
        this.minRunNanos = (packets - 1) * MIN_SPACING_NANOS;
    }

    /** A new SDP with another address (or the first one): everything learnt before is forgotten. */
    void restart(InetSocketAddress sdpAddress) {
        sdp = sdpAddress;
        learnt = null;
        heard = false;
        candidate = null;
        run = 0;
    }

    /**
     * Whether a datagram from {@code source} is accepted; may change {@link #destination()}.
     *
     * @param rtp           the datagram is an RTP packet with this {@code ssrc} and {@code seq} (false for RTCP,
     *                      and for anything too short to be RTP)
     * @param nowNanos      System.nanoTime() now
     * @param sendingSince  System.nanoTime() of the gateway's first packet to the destination under this SDP,
     *                      or 0 if it has sent none yet
     */
    boolean accept(InetSocketAddress source, boolean rtp, int ssrc, int seq, long nowNanos, long sendingSince) {
        if (sdp == null) {
            return false;
        }
        if (source.equals(sdp)) {
            learnt = null;
            heard = true;
            return true;
        }
        if (source.equals(learnt)) {
            return true;
        }
        boolean sdpHost = source.getAddress().equals(sdp.getAddress());
        if (heard || !rtp) {
            return sdpHost;
        }
        if (countRun(source, ssrc, seq, nowNanos) && sendingSince != 0 && nowNanos - sendingSince >= silenceNanos) {
            learnt = source;
            heard = true;
            candidate = null;
            run = 0;
            return true;
        }
        return sdpHost;
    }

    /** Where packets go: the source that took over, else the SDP's address (null before any SDP). */
    InetSocketAddress destination() {
        return learnt != null ? learnt : sdp;
    }

    /** Whether a source other than the SDP's address took over. */
    boolean learntAnother() {
        return learnt != null;
    }

    /** Counts {@code source}'s run of in-sequence packets; true once it is long enough and not a burst. */
    private boolean countRun(InetSocketAddress source, int ssrc, int seq, long nowNanos) {
        if (run > 0 && source.equals(candidate) && ssrc == candidateSsrc && seq == ((candidateSeq + 1) & 0xFFFF)) {
            run++;
        } else {
            candidate = source;
            candidateSsrc = ssrc;
            run = 1;
            runStartNanos = nowNanos;
        }
        candidateSeq = seq;
        if (run >= packets && nowNanos - runStartNanos < minRunNanos) {
            // Too fast for a stream: count again from this packet.
            run = 1;
            runStartNanos = nowNanos;
        }
        return run >= packets;
    }
}
