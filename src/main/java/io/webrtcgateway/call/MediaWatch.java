package io.webrtcgateway.call;

import java.time.Duration;

/**
 * The media deadlines of one call, as pure logic over a clock the caller passes in (nanoseconds), so it
 * is tested without waiting:
 * <ul>
 *   <li><b>setup</b>: from the moment both SDPs are applied, ICE and DTLS must be up within
 *       {@code setupTimeout}, else {@code media-timeout}. ice4j stays CHECKING for ever when no candidate
 *       pair forms (a browser that never does ICE), so nothing else would end such a call.</li>
 *   <li><b>ICE lost</b>: FAILED before media was ever up ends the call at once ({@code ice-failed}); lost
 *       in a call that had media (consent expired, RFC 7675 §5.1) or while a browser's ICE restart is
 *       pending, the browser gets {@code setupTimeout} to restart ICE (the JS library restarts on
 *       failure, RFC 8445 §9) before the call ends with {@code ice-failed}. Each restart request re-arms it.</li>
 *   <li><b>silence</b>: in a connected call that is not on hold, no packet from the browser side or none
 *       from the SIP side for {@code silenceTimeout} ends it ({@code media-timeout}). Compared from
 *       packet counters at each {@link #check}: no per-packet timestamps.</li>
 * </ul>
 * Confined to the call's executor.
 */
final class MediaWatch {

    static final String MEDIA_TIMEOUT = "media-timeout";
    static final String ICE_FAILED = "ice-failed";

    /**
     * What exactly failed, for {@code gateway_call_media_failures_total{cause}} (docs/metrics.md): finer than the
     * two end reasons, which the browser and SIP side see.
     */
    enum Cause {
        /** ICE checks failed before media was ever up (ice-failed). */
        ICE_CHECKS_FAILED("ice-checks-failed"),
        /** ICE lost in a call that had media, or during a restart, and not back within the setup time (ice-failed). */
        ICE_NOT_RESTORED("ice-not-restored"),
        /** The DTLS handshake failed (ice-failed); gateway_dtls_handshake_failures_total says why. */
        DTLS_FAILED("dtls-failed"),
        /** ICE and DTLS not up within gateway.calls.media-setup-timeout (media-timeout). */
        SETUP_TIMEOUT("setup-timeout"),
        /** No RTP/RTCP from the browser for gateway.calls.media-timeout (media-timeout). */
        NO_MEDIA_FROM_BROWSER("no-media-from-browser"),
        /** No RTP/RTCP from the SIP side for gateway.calls.media-timeout (media-timeout). */
        NO_MEDIA_FROM_SIP("no-media-from-sip");

        final String label;

        Cause(String label) {
            this.label = label;
        }
    }

    private enum Phase { IDLE, SETTING_UP, UP, INTERRUPTED }

    private final long setupNanos;
    private final long silenceNanos;

    private Phase phase = Phase.IDLE;
    private boolean everUp;
    private long deadline;
    private boolean restartPending;

    // Silence check: the counters last seen and when each last moved.
    private boolean baseline;
    private long browserPackets;
    private long sipPackets;
    private long browserMovedAt;
    private long sipMovedAt;
    private String lastSilentSide;
    private String explanation;
    private Cause cause;

    MediaWatch(Duration setupTimeout, Duration silenceTimeout) {
        this.setupNanos = setupTimeout.toNanos();
        this.silenceNanos = silenceTimeout.toNanos();
    }

    /** A media state change; returns the end reason when the call must end now, else null. */
    String onMediaState(CallMedia.State state, long now) {
        switch (state) {
            case CONNECTING -> {
                if (phase == Phase.IDLE) {
                    phase = Phase.SETTING_UP;
                    deadline = now + setupNanos;
                }
            }
            case CONNECTED -> {
                phase = Phase.UP;
                everUp = true;
                restartPending = false;
                baseline = false; // counters start afresh: the time before media was up is not silence
            }
            case INTERRUPTED -> {
                if (!everUp && !restartPending) {
                    explanation = "ICE checks failed before media was ever up";
                    cause = Cause.ICE_CHECKS_FAILED;
                    return ICE_FAILED;
                }
                if (phase != Phase.INTERRUPTED) {
                    phase = Phase.INTERRUPTED;
                    deadline = now + setupNanos;
                }
            }
            case FAILED -> {
                explanation = "DTLS failed";
                cause = Cause.DTLS_FAILED;
                return ICE_FAILED;
            }
            case NEW -> { }
        }
        return null;
    }

    /** The browser asked for an ICE restart: its new generation gets the whole setup time. */
    void onIceRestart(long now) {
        restartPending = true;
        if (phase == Phase.SETTING_UP || phase == Phase.INTERRUPTED) {
            deadline = now + setupNanos;
        }
    }

    /** Whether {@link #check} has anything to watch (the call starts its periodic check from then on). */
    boolean armed() {
        return phase != Phase.IDLE;
    }

    /**
     * The periodic check. {@code callConnected}: the call is CONNECTED (not ringing/early, not held).
     * Returns the end reason when the call must end now, else null.
     */
    String check(long now, CallMedia.Activity activity, boolean callConnected) {
        switch (phase) {
            case SETTING_UP -> {
                return expired(now, MEDIA_TIMEOUT, Cause.SETUP_TIMEOUT, "ICE and DTLS not up within the setup timeout");
            }
            case INTERRUPTED -> {
                return expired(now, ICE_FAILED, Cause.ICE_NOT_RESTORED,
                        "ICE lost and not restored within the setup timeout");
            }
            case UP -> {
                return silence(now, activity, callConnected);
            }
            default -> {
                return null;
            }
        }
    }

    /** Why the last non-null verdict was given, for the log. */
    String explanation() {
        return explanation;
    }

    /** What exactly failed when the last non-null verdict was given. */
    Cause cause() {
        return cause;
    }

    /** Which side was silent when {@link #check} returned {@link #MEDIA_TIMEOUT} for silence ("browser", "sip"). */
    String silentSide() {
        return lastSilentSide;
    }

    private String expired(long now, String reason, Cause what, String why) {
        if (now - deadline < 0) {
            return null;
        }
        explanation = why;
        cause = what;
        return reason;
    }

    private String silence(long now, CallMedia.Activity a, boolean callConnected) {
        if (silenceNanos == 0) {
            return null;
        }
        if (!callConnected || a.oneWay() || !baseline) {
            // Held (or early) calls are never reaped; the count starts again when the call is back.
            baseline = true;
            browserPackets = a.fromBrowser();
            sipPackets = a.fromSip();
            browserMovedAt = now;
            sipMovedAt = now;
            return null;
        }
        if (a.fromBrowser() != browserPackets) {
            browserPackets = a.fromBrowser();
            browserMovedAt = now;
        }
        if (a.fromSip() != sipPackets) {
            sipPackets = a.fromSip();
            sipMovedAt = now;
        }
        if (now - browserMovedAt >= silenceNanos) {
            lastSilentSide = "browser";
            explanation = "no RTP/RTCP from the browser side within the media timeout";
            cause = Cause.NO_MEDIA_FROM_BROWSER;
            return MEDIA_TIMEOUT;
        }
        if (now - sipMovedAt >= silenceNanos) {
            lastSilentSide = "sip";
            explanation = "no RTP/RTCP from the SIP side within the media timeout";
            cause = Cause.NO_MEDIA_FROM_SIP;
            return MEDIA_TIMEOUT;
        }
        return null;
    }
}
