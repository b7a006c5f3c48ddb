package io.webrtcgateway.admin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.webrtcgateway.config.GatewayConfig;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** The admin login throttle's rules (docs/admin.md, "Login throttling"), on a clock the test moves. */
class LoginThrottleTest {
    private static final long SECOND = 1_000_000_000L;
    /** 3 free, then 1, 2, 4, 8, 8 s...; the 8th failure locks out for 15 min; per user 10 free. */
    private static final GatewayConfig.LoginThrottle SETTINGS = new GatewayConfig.LoginThrottle(3,
            Duration.ofSeconds(1), Duration.ofSeconds(8), 8, Duration.ofMinutes(15), Duration.ofHours(1), 10, 100, 1, 8);
    private static final String ATTACKER = "198.51.100.7";
    private static final String OPERATOR = "203.0.113.9";

    /** Negative on purpose: System.nanoTime() may be. */
    private final AtomicLong now = new AtomicLong(-123 * SECOND);
    private final LoginThrottle throttle = new LoginThrottle(SETTINGS, now::get);

    /** A checked wrong password: the throttle must have let it through. */
    private LoginThrottle.Penalty fail(String address, String user) {
        assertEquals(0, throttle.acquire(address, user), "a check from " + address + " is allowed now");
        return throttle.failed(address, user);
    }

    private void advance(long nanos) {
        now.addAndGet(nanos);
    }

    @Test
    void freeAttemptsThenDelaysThatDoubleUpToTheMaximum() {
        List<Long> waits = new ArrayList<>();
        for (int i = 1; i <= 7; i++) {
            LoginThrottle.Penalty p = fail(ATTACKER, "ops");
            assertEquals(i, p.failures());
            waits.add(p.waitNanos() / SECOND);
            assertEquals(p.waitNanos(), throttle.waitNanos(ATTACKER, "ops"), "refused for exactly the wait");
            if (p.waitNanos() > 0) {
                assertEquals(p.waitNanos(), throttle.acquire(ATTACKER, "ops"));
            }
            advance(p.waitNanos());
        }
        assertEquals(List.of(0L, 0L, 0L, 1L, 2L, 4L, 8L), waits);
    }

    @Test
    void theLockOutHoldsForItsWholeWindowAndComesBackAfterOneMoreFailure() {
        for (int i = 1; i <= 7; i++) {
            advance(fail(ATTACKER, "ops").waitNanos());
        }
        LoginThrottle.Penalty p = fail(ATTACKER, "ops");
        assertTrue(p.lockedOut());
        assertEquals(8, p.failures());
        assertEquals(15 * 60 * SECOND, p.waitNanos());
        advance(14 * 60 * SECOND);
        assertEquals(60 * SECOND, throttle.waitNanos(ATTACKER, "ops"), "even a remembered right password waits");
        assertEquals(60 * SECOND, throttle.acquire(ATTACKER, "ops"));
        assertEquals(60, LoginThrottle.seconds(throttle.acquire(ATTACKER, "ops")), "Retry-After");
        advance(60 * SECOND);
        LoginThrottle.Penalty again = fail(ATTACKER, "ops");
        assertTrue(again.lockedOut(), "one guess per lock-out window from now on");
        assertEquals(9, again.failures());
    }

    @Test
    void retryAfterIsWholeSecondsRoundedUp() {
        assertEquals(1, LoginThrottle.seconds(1));
        assertEquals(1, LoginThrottle.seconds(SECOND));
        assertEquals(2, LoginThrottle.seconds(SECOND + 1));
        assertEquals(900, LoginThrottle.seconds(900 * SECOND));
    }

    @Test
    void aSuccessForgetsTheAddressesFailures() {
        for (int i = 0; i < 4; i++) {
            advance(fail(OPERATOR, "ops").waitNanos());
        }
        assertEquals(0, throttle.acquire(OPERATOR, "ops"));
        throttle.succeeded(OPERATOR);
        assertEquals(1, fail(OPERATOR, "ops").failures(), "counting starts over");
        assertEquals(0, throttle.acquire(OPERATOR, "ops"), "free again");
        throttle.released(OPERATOR);
    }

    @Test
    void theUserNameRuleSparesAddressesWithoutFailures() {
        // Eleven addresses fail once each for "ops": the user name is over its 10 free failures.
        for (int i = 1; i <= 11; i++) {
            fail("192.0.2." + i, "ops");
        }
        assertEquals(1 * SECOND, throttle.waitNanos("192.0.2.1", "ops"), "an address with a failure waits");
        assertEquals(0, throttle.waitNanos("192.0.2.1", "someone-else"), "only for that user name");
        assertEquals(0, throttle.acquire(OPERATOR, "ops"), "a clean address is let through at once");
        throttle.succeeded(OPERATOR);
        assertEquals(0, throttle.acquire(OPERATOR, "ops"), "also after its success");
        LoginThrottle.Penalty typo = throttle.failed(OPERATOR, "ops");
        assertEquals(0, typo.waitNanos(), "its own free attempts are untouched");
        assertTrue(throttle.waitNanos(OPERATOR, "ops") > 0, "but once it failed, the user name's wait applies");
    }

    @Test
    void failuresAreForgottenAfterAQuietHour() {
        for (int i = 0; i < 5; i++) {
            advance(fail(ATTACKER, "ops").waitNanos());
        }
        advance(Duration.ofHours(1).toNanos());
        assertEquals(1, fail(ATTACKER, "ops").failures());
        assertEquals(1, throttle.trackedAddresses());
    }

    @Test
    void onceTheFreeAttemptsAreUsedOnlyOneCheckRunsAtATime() {
        // Free attempts may run in parallel, up to the number left...
        assertEquals(0, throttle.acquire(ATTACKER, "ops"));
        assertEquals(0, throttle.acquire(ATTACKER, "ops"));
        assertEquals(0, throttle.acquire(ATTACKER, "ops"));
        assertEquals(SECOND, throttle.acquire(ATTACKER, "ops"), "a fourth while three are checked");
        throttle.failed(ATTACKER, "ops");
        throttle.failed(ATTACKER, "ops");
        throttle.failed(ATTACKER, "ops");
        // ...then one at a time, so a parallel burst cannot overshoot the count before the lock-out.
        assertEquals(0, throttle.acquire(ATTACKER, "ops"));
        assertEquals(SECOND, throttle.acquire(ATTACKER, "ops"));
        throttle.released(ATTACKER);
        assertEquals(0, throttle.acquire(ATTACKER, "ops"), "a check that did not happen costs nothing");
    }

    @Test
    void rotatingAddressesOrUserNamesCannotGrowTheTables() {
        for (int i = 0; i < 10_000; i++) {
            String address = "10." + (i >> 16) + "." + ((i >> 8) & 255) + "." + (i & 255);
            fail(address, "user" + i);
            assertEquals(0, throttle.acquire(address, "user" + i));
            throttle.released(address);
        }
        assertEquals(100, throttle.trackedAddresses());
        assertEquals(100, throttle.trackedUsers());
    }

    @Test
    void theLeastRecentlySeenAddressIsDroppedFirst() {
        for (int i = 0; i < 4; i++) {
            advance(fail(ATTACKER, "ops").waitNanos());
        }
        for (int i = 0; i < 150; i++) {
            fail("10.0.0." + i, "x");
            throttle.waitNanos(ATTACKER, "ops"); // the attacker keeps trying: it stays in the table
        }
        assertEquals(100, throttle.trackedAddresses());
        assertEquals(5, throttle.failed(ATTACKER, "ops").failures(), "its count survived");
        assertEquals(1, throttle.failed("10.0.0.0", "y").failures(), "the first of the others was dropped");
    }

    @Test
    void ipv6AddressesCountByTheirSlash64() {
        assertEquals("2001:db8:0:1::/64", LoginThrottle.addressKey("2001:db8:0:1::7"));
        assertEquals("2001:db8:0:1::/64", LoginThrottle.addressKey("2001:0db8:0000:0001:ffff:1:2:3"));
        assertEquals("192.0.2.1", LoginThrottle.addressKey("192.0.2.1"));
        assertEquals("192.0.2.1", LoginThrottle.addressKey("::ffff:192.0.2.1"));
        for (int i = 1; i <= 4; i++) {
            fail("2001:db8:0:1::" + i, "ops");
        }
        assertEquals(SECOND, throttle.acquire("2001:db8:0:1::abcd", "ops"), "another address of the same /64");
        assertEquals(0, throttle.acquire("2001:db8:0:2::1", "ops"), "the next /64 is someone else");
    }
}
