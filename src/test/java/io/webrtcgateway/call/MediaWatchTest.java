package io.webrtcgateway.call;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.webrtcgateway.call.CallMedia.Activity;
import io.webrtcgateway.call.CallMedia.State;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** The media deadlines of a call, on a clock the test moves (nanoseconds). */
class MediaWatchTest {

    private static final long S = 1_000_000_000L;
    private final MediaWatch watch = new MediaWatch(Duration.ofSeconds(20), Duration.ofSeconds(60));

    private static Activity flowing(long n) {
        return new Activity(n, n, false);
    }

    @Test
    void nothingIsWatchedBeforeBothSdpsAreApplied() {
        assertFalse(watch.armed());
        assertNull(watch.check(1000 * S, flowing(0), false));
        assertNull(watch.onMediaState(State.NEW, 0));
        assertFalse(watch.armed());
    }

    @Test
    void iceThatNeverConnectsEndsTheCallAtTheSetupDeadline() {
        long t0 = 5 * S; // arbitrary origin: nanoTime can be anything, even negative
        assertNull(watch.onMediaState(State.CONNECTING, t0));
        assertTrue(watch.armed());
        assertNull(watch.check(t0 + 19 * S, flowing(0), true));
        assertEquals("media-timeout", watch.check(t0 + 20 * S, flowing(0), true));
        assertEquals(MediaWatch.Cause.SETUP_TIMEOUT, watch.cause());
    }

    @Test
    void mediaUpInTimeDisarmsTheSetupDeadline() {
        watch.onMediaState(State.CONNECTING, 0);
        watch.onMediaState(State.CONNECTED, 19 * S);
        for (long t = 19; t < 200; t++) {
            assertNull(watch.check(t * S, flowing(t), true), "at " + t + " s");
        }
    }

    @Test
    void iceFailingBeforeMediaWasEverUpEndsTheCallAtOnce() {
        watch.onMediaState(State.CONNECTING, 0);
        assertEquals("ice-failed", watch.onMediaState(State.INTERRUPTED, S));
        assertEquals(MediaWatch.Cause.ICE_CHECKS_FAILED, watch.cause());
    }

    @Test
    void dtlsFailureEndsTheCallAtOnce() {
        watch.onMediaState(State.CONNECTING, 0);
        assertEquals("ice-failed", watch.onMediaState(State.FAILED, S));
        assertEquals(MediaWatch.Cause.DTLS_FAILED, watch.cause());
    }

    @Test
    void iceLostAfterMediaGivesTheBrowserTheSetupTimeToRestart() {
        watch.onMediaState(State.CONNECTING, 0);
        watch.onMediaState(State.CONNECTED, S);
        assertNull(watch.onMediaState(State.INTERRUPTED, 100 * S));
        assertNull(watch.check(110 * S, flowing(5), true));
        watch.onIceRestart(115 * S); // the JS library restarts ICE: the new generation gets 20 s from here
        assertNull(watch.check(130 * S, flowing(5), true));
        assertEquals("ice-failed", watch.check(135 * S, flowing(5), true));
        assertEquals(MediaWatch.Cause.ICE_NOT_RESTORED, watch.cause());
    }

    @Test
    void aRestartThatConnectsKeepsTheCall() {
        watch.onMediaState(State.CONNECTING, 0);
        watch.onMediaState(State.CONNECTED, S);
        watch.onMediaState(State.INTERRUPTED, 100 * S);
        watch.onIceRestart(101 * S);
        watch.onMediaState(State.CONNECTED, 102 * S);
        assertNull(watch.check(200 * S, flowing(200), true));
    }

    @Test
    void iceFailureWhileARestartIsPendingDuringSetupWaitsForTheRestart() {
        watch.onMediaState(State.CONNECTING, 0);
        watch.onIceRestart(2 * S);
        assertNull(watch.onMediaState(State.INTERRUPTED, 3 * S));
        assertEquals("ice-failed", watch.check(23 * S, flowing(0), false));
    }

    @Test
    void silenceFromEitherSideEndsAConnectedCall() {
        watch.onMediaState(State.CONNECTING, 0);
        watch.onMediaState(State.CONNECTED, 0);
        assertNull(watch.check(S, new Activity(10, 10, false), true)); // baseline
        assertNull(watch.check(30 * S, new Activity(500, 10, false), true));
        assertNull(watch.check(60 * S, new Activity(900, 10, false), true));
        assertEquals("media-timeout", watch.check(61 * S, new Activity(950, 10, false), true));
        assertEquals("sip", watch.silentSide());
        assertEquals(MediaWatch.Cause.NO_MEDIA_FROM_SIP, watch.cause());

        MediaWatch other = new MediaWatch(Duration.ofSeconds(20), Duration.ofSeconds(60));
        other.onMediaState(State.CONNECTING, 0);
        other.onMediaState(State.CONNECTED, 0);
        other.check(0, new Activity(7, 0, false), true);
        for (long t = 1; t < 60; t++) {
            assertNull(other.check(t * S, new Activity(7, t, false), true));
        }
        assertEquals("media-timeout", other.check(60 * S, new Activity(7, 60, false), true));
        assertEquals("browser", other.silentSide());
        assertEquals(MediaWatch.Cause.NO_MEDIA_FROM_BROWSER, other.cause());
    }

    @Test
    void heldOrEarlyCallsAreNeverReapedAndTheCountRestartsAfterwards() {
        watch.onMediaState(State.CONNECTING, 0);
        watch.onMediaState(State.CONNECTED, 0);
        watch.check(0, flowing(1), true);
        // On hold (one-way SDP) for ten minutes with no packet at all.
        for (long t = 10; t <= 600; t += 10) {
            assertNull(watch.check(t * S, new Activity(1, 1, true), true));
        }
        // Resumed: 60 s of silence counted from the last check on hold, not from before the hold.
        assertNull(watch.check(601 * S, flowing(1), true));
        assertNull(watch.check(659 * S, flowing(1), true));
        assertEquals("media-timeout", watch.check(660 * S, flowing(1), true));

        MediaWatch early = new MediaWatch(Duration.ofSeconds(20), Duration.ofSeconds(60));
        early.onMediaState(State.CONNECTING, 0);
        early.onMediaState(State.CONNECTED, 0);
        for (long t = 0; t <= 600; t += 10) {
            assertNull(early.check(t * S, flowing(0), false), "early media or held call state: never reaped");
        }
    }

    @Test
    void zeroTurnsTheSilenceCheckOff() {
        MediaWatch off = new MediaWatch(Duration.ofSeconds(20), Duration.ZERO);
        off.onMediaState(State.CONNECTING, 0);
        off.onMediaState(State.CONNECTED, 0);
        for (long t = 0; t <= 3600; t += 60) {
            assertNull(off.check(t * S, flowing(0), true));
        }
    }
}
