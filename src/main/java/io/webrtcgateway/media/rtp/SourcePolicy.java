package io.webrtcgateway.media.rtp;

import java.time.Duration;

/**
 * Which senders a SIP-side socket accepts, and whether it learns where to send from what it receives
 * (symmetric RTP, RFC 4961).
 *
 * <ul>
 *   <li>{@code learning} (the default, {@link #LEARNING}): send to the SDP's address and accept it from the
 *       first packet; move to another source only when it proves to be a stream (several RTP packets in
 *       sequence) while the SDP's address, sent to for a while, has said nothing at all. A peer behind NAT
 *       (its SDP names a private address) is learnt that way; a stranger who sends to a guessed port cannot
 *       take a live stream over. The rules are {@link SourceLearning}'s.</li>
 *   <li>{@code latching}: send to the source of the packets received, not to the SDP's address. The
 *       destination is learnt from the first packets after the SDP arrives (each re-INVITE re-arms it): it
 *       may move while fewer than {@code latchPackets} packets have arrived and less than {@code latchWindow}
 *       has passed since the first; then it is fixed, and packets from any other address are dropped and
 *       counted. Whoever sends first is latched: a stranger who sends to the port before the SIP peer does
 *       takes the call's audio (RTP bleed).</li>
 *   <li>{@code strictSource}: accept (and latch onto) packets only from the host the SDP names. Without
 *       it, before the latch is fixed anyone who sends first to the port can capture the call's outgoing
 *       audio; with it, only that host can. Without latching and without strict, packets from any address
 *       are accepted (media servers that send from another port than they receive on keep working) and the
 *       destination is always the SDP's.</li>
 * </ul>
 *
 * @param learnPackets RTP packets in sequence another source must send before it can take over ({@code
 *                     learning}; 0 for the other policies)
 * @param learnSilence how long the gateway must have been sending to the current destination, with nothing
 *                     coming back from it, before another source can take over ({@code learning})
 */
public record SourcePolicy(boolean latching, boolean strictSource, int latchPackets, Duration latchWindow,
                           int learnPackets, Duration learnSilence) {

    /** The SDP's address at once; another source only after 5 packets in sequence and 1 s of silence. */
    public static final SourcePolicy LEARNING = learning(5, Duration.ofSeconds(1));
    /** Latch on the first packets (up to 50 / 2 s), from any host: works behind NAT, open to RTP bleed. */
    public static final SourcePolicy LATCHING = new SourcePolicy(true, false, 50, Duration.ofSeconds(2));
    /** Latch, but only onto the SDP's host (NAT of ports only, or trusted network). */
    public static final SourcePolicy LATCHING_STRICT = new SourcePolicy(true, true, 50, Duration.ofSeconds(2));
    /** Send where the SDP says; accept from anyone. */
    public static final SourcePolicy SDP = new SourcePolicy(false, false, 0, Duration.ZERO);
    /** Send where the SDP says; accept only from the SDP's host. */
    public static final SourcePolicy SDP_STRICT = new SourcePolicy(false, true, 0, Duration.ZERO);

    public SourcePolicy {
        if (latchPackets < 0 || latchWindow == null || latchWindow.isNegative()) {
            throw new IllegalArgumentException("latchPackets >= 0 and a non-negative latchWindow required");
        }
        if (latching && latchPackets == 0) {
            throw new IllegalArgumentException("latching needs latchPackets >= 1");
        }
        if (learnPackets < 0 || learnSilence == null || learnSilence.isNegative()) {
            throw new IllegalArgumentException("learnPackets >= 0 and a non-negative learnSilence required");
        }
        if (learnPackets > 0 && (latching || strictSource || learnPackets < 2)) {
            throw new IllegalArgumentException("learning needs learnPackets >= 2 and neither latching nor"
                    + " strictSource");
        }
    }

    /** {@code latching}, {@code latching-strict}, {@code sdp} or {@code sdp-strict}. */
    public SourcePolicy(boolean latching, boolean strictSource, int latchPackets, Duration latchWindow) {
        this(latching, strictSource, latchPackets, latchWindow, 0, Duration.ZERO);
    }

    /** {@code learning} with these limits. */
    public static SourcePolicy learning(int packets, Duration silence) {
        return new SourcePolicy(false, false, 0, Duration.ZERO, packets, silence);
    }

    public boolean learning() {
        return learnPackets > 0;
    }
}
