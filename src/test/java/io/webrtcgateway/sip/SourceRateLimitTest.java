package io.webrtcgateway.sip;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.bucket4j.TimeMeter;
import java.net.InetAddress;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class SourceRateLimitTest {
    /** A clock the test moves. */
    private static final class Clock implements TimeMeter {
        long nanos = TimeUnit.SECONDS.toNanos(1000);

        @Override
        public long currentTimeNanos() {
            return nanos;
        }

        @Override
        public boolean isWallClockBased() {
            return false;
        }
    }

    private static InetAddress ip(String a) throws Exception {
        return InetAddress.getByName(a);
    }

    @Test
    void aSourceMayBurstOneSecondsWorthThenKeepsTheRate() throws Exception {
        Clock clock = new Clock();
        SourceRateLimit limit = new SourceRateLimit(100, 1000, clock);
        for (int i = 0; i < 100; i++) {
            assertEquals(0, limit.tryAcquire(ip("10.0.0.1")), "request " + i + " of the burst");
        }
        long wait = limit.tryAcquire(ip("10.0.0.1"));
        assertTrue(wait > 0 && wait <= TimeUnit.MILLISECONDS.toNanos(10), "one token comes back in 10 ms: " + wait);
        assertEquals(0, limit.tryAcquire(ip("10.0.0.2")), "another source has its own bucket");

        clock.nanos += TimeUnit.MILLISECONDS.toNanos(100);
        int passed = 0;
        for (int i = 0; i < 50; i++) {
            if (limit.tryAcquire(ip("10.0.0.1")) == 0) {
                passed++;
            }
        }
        assertEquals(10, passed, "100 ms at 100/s: 10 more");
        assertEquals(1, SipSourceFilter.retryAfterSeconds(wait), "Retry-After is whole seconds, at least 1");
        assertEquals(3, SipSourceFilter.retryAfterSeconds(TimeUnit.MILLISECONDS.toNanos(2001)));
    }

    @Test
    void zeroIsNoLimitAndTheTableIsBounded() throws Exception {
        SourceRateLimit off = new SourceRateLimit(0, 10, new Clock());
        for (int i = 0; i < 10_000; i++) {
            assertEquals(0, off.tryAcquire(ip("10.0.0.1")));
        }
        SourceRateLimit limit = new SourceRateLimit(5, 10, new Clock());
        for (int i = 0; i < 300; i++) {
            limit.tryAcquire(ip("10.0.1." + i % 256));
        }
        assertEquals(10, limit.tracked(), "the least recently seen sources are forgotten");
    }
}
