package io.webrtcgateway.limits;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.webrtcgateway.config.GatewayConfig;
import io.webrtcgateway.error.ErrorCode;
import io.webrtcgateway.error.GatewayException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/** Every per-client limit and bucket, on a clock the test moves (no waiting). */
class ClientLimitsTest {
    private static final long SECOND = 1_000_000_000L;

    private final AtomicLong now = new AtomicLong(-5 * SECOND); // System.nanoTime() may be negative
    private final SimpleMeterRegistry meters = new SimpleMeterRegistry();

    /** Sessions per address, sign-ins/s, burst, requests/s, burst, calls per session, registrations/min, tracked. */
    private ClientLimits limits(int sessions, int signInsPerSecond, int signInBurst, int requestsPerSecond,
                                int requestBurst, int calls, int registrationsPerMinute, int tracked) {
        return new ClientLimits(new GatewayConfig.Clients(sessions, signInsPerSecond, signInBurst, requestsPerSecond,
                requestBurst, calls, registrationsPerMinute, tracked), now::get, meters);
    }

    private double refusals(String limit) {
        return meters.get("gateway.limits.refusals").tag("limit", limit).counter().count();
    }

    private static GatewayException rateLimited(Executable e) {
        GatewayException g = assertThrows(GatewayException.class, e);
        assertEquals(ErrorCode.RATE_LIMITED, g.code(), g.getMessage());
        assertNotNull(g.retryAfter(), "RATE_LIMITED carries its Retry-After");
        assertTrue(g.retryAfter() >= 1, "at least a second: " + g.retryAfter());
        return g;
    }

    @Test
    void signInsFromOneAddressGetTheBurstThenTheRateAndOtherAddressesTheirOwn() {
        ClientLimits l = limits(0, 2, 5, 0, 1, 0, 0, 100);
        for (int i = 0; i < 5; i++) {
            l.signIn("192.0.2.1");
        }
        GatewayException refused = rateLimited(() -> l.signIn("192.0.2.1"));
        assertEquals(1, refused.retryAfter(), "one sign-in comes back in half a second: Retry-After rounds up to 1");
        assertTrue(refused.getMessage().contains("gateway.limits.sign-in-burst-per-address"), refused.getMessage());
        assertEquals(1, refusals("sign-in-rate"));

        l.signIn("192.0.2.2"); // a bystander behind another address is not affected
        now.addAndGet(SECOND / 2 - 1);
        rateLimited(() -> l.signIn("192.0.2.1"));
        now.addAndGet(1);
        l.signIn("192.0.2.1"); // 2 per second: one more after half a second
        rateLimited(() -> l.signIn("192.0.2.1"));
        now.addAndGet(10 * SECOND);
        for (int i = 0; i < 5; i++) {
            l.signIn("192.0.2.1"); // refilled to the burst, never beyond
        }
        rateLimited(() -> l.signIn("192.0.2.1"));
        assertEquals(4, refusals("sign-in-rate"));
    }

    @Test
    void anIpv6ClientCountsByItsSlash64() {
        ClientLimits l = limits(2, 0, 1, 0, 1, 0, 0, 100);
        l.openSession(l.signIn("2001:db8:0:1::7"));
        l.openSession(l.signIn("2001:db8:0:1:ffff:1:2:3"));
        rateLimited(() -> l.openSession(l.signIn("[2001:db8:0:1::99]")));
        l.openSession(l.signIn("2001:db8:0:2::1")); // the next /64 is someone else
        assertEquals(2, l.sessions("2001:db8:0:1::/64"));
        assertEquals("192.0.2.1", AddressKey.of("::ffff:192.0.2.1"));
        assertEquals("192.0.2.1", AddressKey.of("192.0.2.1"));
        assertEquals("not-an-address", AddressKey.of("not-an-address"));
    }

    @Test
    void sessionsPerAddressAreCountedExactlyAndFreedWhenTheyEnd() {
        ClientLimits l = limits(3, 0, 1, 0, 1, 0, 0, 100);
        String key = l.signIn("198.51.100.7");
        for (int i = 0; i < 3; i++) {
            l.openSession(key);
        }
        GatewayException refused = rateLimited(() -> l.openSession(key));
        assertEquals(ClientLimits.COUNT_RETRY_AFTER_SECONDS, refused.retryAfter());
        assertTrue(refused.getMessage().contains("gateway.limits.max-sessions-per-address"), refused.getMessage());
        assertEquals(1, refusals("sessions-per-address"));
        l.closeSession(key);
        l.openSession(key);
        for (int i = 0; i < 3; i++) {
            l.closeSession(key);
        }
        assertEquals(0, l.sessions(key));
        assertEquals(0, l.tableSizes()[0], "an address without sessions is not kept");
        l.closeSession(key); // more closes than opens change nothing
        assertEquals(0, l.sessions(key));
    }

    @Test
    void concurrentSessionsOfOneAddressNeverPassTheLimit() throws Exception {
        ClientLimits l = limits(50, 0, 1, 0, 1, 0, 0, 100);
        ExecutorService pool = Executors.newFixedThreadPool(8);
        AtomicInteger opened = new AtomicInteger();
        CountDownLatch start = new CountDownLatch(1);
        try {
            for (int i = 0; i < 200; i++) {
                pool.execute(() -> {
                    try {
                        start.await();
                        l.openSession("203.0.113.9");
                        opened.incrementAndGet();
                    } catch (GatewayException | InterruptedException refused) {
                        // over the limit
                    }
                });
            }
            start.countDown();
            pool.shutdown();
            assertTrue(pool.awaitTermination(10, TimeUnit.SECONDS));
        } finally {
            pool.shutdownNow();
        }
        assertEquals(50, opened.get());
        assertEquals(50, l.sessions("203.0.113.9"));
        assertEquals(150, refusals("sessions-per-address"));
    }

    @Test
    void requestsOfOneSessionGetTheBurstThenTheRate() {
        ClientLimits l = limits(0, 0, 1, 10, 20, 0, 0, 100);
        SessionBudget a = l.newSessionBudget();
        SessionBudget b = l.newSessionBudget();
        for (int i = 0; i < 20; i++) {
            a.request();
        }
        GatewayException refused = rateLimited(a::request);
        assertTrue(refused.getMessage().contains("gateway.limits.request-burst-per-session"), refused.getMessage());
        b.request(); // another session of the same client has its own allowance
        now.addAndGet(SECOND / 10);
        a.request(); // 10 per second: one more every 100 ms
        rateLimited(a::request);
        now.addAndGet(SECOND);
        for (int i = 0; i < 10; i++) {
            a.request();
        }
        rateLimited(a::request);
        assertEquals(3, refusals("request-rate"));
    }

    @Test
    void callsPerSessionAreReservedExactlyAndReleased() {
        ClientLimits l = limits(0, 0, 1, 0, 1, 4, 0, 100);
        SessionBudget s = l.newSessionBudget();
        for (int i = 0; i < 4; i++) {
            s.reserveCall();
        }
        assertFalse(s.tryReserveCall());
        GatewayException refused = rateLimited(s::reserveCall);
        assertTrue(refused.getMessage().contains("gateway.limits.max-calls-per-session"), refused.getMessage());
        assertEquals(2, refusals("calls-per-session"));
        s.releaseCall();
        assertTrue(s.tryReserveCall());
        assertEquals(4, s.calls());
        assertTrue(l.newSessionBudget().tryReserveCall(), "each session has its own calls");
    }

    @Test
    void registrationAttemptsPerDnGetTheirMinute() {
        ClientLimits l = limits(0, 0, 1, 0, 1, 0, 6, 100);
        for (int i = 0; i < 6; i++) {
            l.register("1001");
        }
        GatewayException refused = rateLimited(() -> l.register("1001"));
        assertEquals(10, refused.retryAfter(), "6 a minute: the next one in 10 s");
        l.register("1002");
        now.addAndGet(10 * SECOND);
        l.register("1001");
        rateLimited(() -> l.register("1001"));
        assertEquals(2, refusals("registration-rate"));
    }

    @Test
    void zeroTurnsEachLimitOff() {
        ClientLimits l = limits(0, 0, 1, 0, 1, 0, 0, 100);
        SessionBudget s = l.newSessionBudget();
        for (int i = 0; i < 10_000; i++) {
            l.openSession(l.signIn("192.0.2.1"));
            s.request();
            s.reserveCall();
            l.register("1001");
        }
        assertEquals(10_000, l.sessions("192.0.2.1"));
        assertArrayEquals(new int[] {1, 0, 0}, l.tableSizes(), "nothing tracked for limits that are off");
    }

    @Test
    void theRateTablesStayBoundedAndForgetTheLeastRecentlySeen() {
        ClientLimits l = limits(0, 1, 1, 0, 1, 0, 1, 100);
        l.signIn("10.0.0.1");
        rateLimited(() -> l.signIn("10.0.0.1"));
        for (int i = 0; i < 10_000; i++) {
            l.signIn("10.1." + (i / 256) + "." + (i % 256));
            l.register("dn" + i);
        }
        int[] sizes = l.tableSizes();
        assertEquals(100, sizes[1], "sign-in buckets capped at max-tracked-clients");
        assertEquals(100, sizes[2], "registration buckets capped at max-tracked-clients");
        l.signIn("10.0.0.1"); // forgotten: a full allowance again, never less than it had
    }
}
