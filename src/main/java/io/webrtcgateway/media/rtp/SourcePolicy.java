package io.webrtcgateway.media.rtp;

import java.time.Duration;

/**
 * Which senders a SIP-side socket accepts, and whether it learns where to send from what it receives
 * (symmetric RTP, RFC 4961; "latching").
 *
 * <ul>
 *   <li>{@code latching}: send to the source of the packets received, not to the SDP's address. Needed when
 *       the SIP side is behind NAT (its SDP names a private address). The destination is learnt from the
 *       first packets after the SDP arrives (each re-INVITE re-arms it): it may move while fewer than
 *       {@code latchPackets} packets have arrived and less than {@code latchWindow} has passed since the
 *       first; then it is fixed, and packets from any other address are dropped and counted.</li>
 *   <li>{@code strictSource}: accept (and latch onto) packets only from the host the SDP names. Without
 *       it, before the latch is fixed anyone who sends first to the port can capture the call's outgoing
 *       audio (ports are guessable); with it, only that host can. Without latching and without strict,
 *       packets from any address are accepted (media servers that send from another port than they
 *       receive on keep working) and the destination is always the SDP's.</li>
 * </ul>
 */
public record SourcePolicy(boolean latching, boolean strictSource, int latchPackets, Duration latchWindow) {

    /** Latch on the first packets (up to 50 / 2 s), from any host: works behind NAT. */
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
    }
}
