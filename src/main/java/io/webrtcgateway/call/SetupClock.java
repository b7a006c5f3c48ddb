package io.webrtcgateway.call;

/**
 * When one call's setup steps happened ({@link System#nanoTime()}), each phase reported to {@link CallMetrics}
 * as it completes, at most once: outgoing request -> INVITE -> 200 -> media up; incoming INVITE -> offer to
 * the browser, INVITE -> 200 -> media up. Confined to the call's executor.
 */
final class SetupClock {
    private final CallMetrics metrics;
    private final Call.Direction direction;
    /** The browser's call request (outgoing) or SIP Server's INVITE (incoming): when the call was made. */
    private final long created;
    private boolean inviteSent;
    private long inviteAt;
    private boolean answered;
    private long answeredAt;
    private boolean mediaUp;

    SetupClock(CallMetrics metrics, Call.Direction direction, long created) {
        this.metrics = metrics;
        this.direction = direction;
        this.created = created;
    }

    /** Outgoing: the INVITE went out. */
    void inviteSent(long now) {
        if (inviteSent) {
            return;
        }
        inviteSent = true;
        inviteAt = now;
        metrics.setup(direction, CallMetrics.SetupPhase.REQUEST_TO_INVITE, now - created);
    }

    /** Incoming: the browser was offered the call. */
    void browserOffered(long now) {
        metrics.setup(direction, CallMetrics.SetupPhase.INVITE_TO_BROWSER_OFFER, now - created);
    }

    /** The 200 OK to the INVITE: received (outgoing) or sent (incoming). */
    void answered(long now) {
        if (answered) {
            return;
        }
        answered = true;
        answeredAt = now;
        long invite = direction == Call.Direction.OUTGOING ? inviteAt : created;
        metrics.setup(direction, CallMetrics.SetupPhase.INVITE_TO_ANSWER, now - invite);
        if (mediaUp) {
            // Early media had ICE and DTLS up before the answer: nothing left to wait for.
            metrics.setup(direction, CallMetrics.SetupPhase.ANSWER_TO_MEDIA, 0);
        }
    }

    /** ICE and DTLS came up (the first time; after an ICE restart is not setup). */
    void mediaUp(long now) {
        if (mediaUp) {
            return;
        }
        mediaUp = true;
        if (answered) {
            metrics.setup(direction, CallMetrics.SetupPhase.ANSWER_TO_MEDIA, now - answeredAt);
        }
    }
}
