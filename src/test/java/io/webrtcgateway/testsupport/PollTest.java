package io.webrtcgateway.testsupport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class PollTest {

    @Test
    void returnsAsSoonAsTheConditionHolds() {
        AtomicInteger checks = new AtomicInteger();

        Poll.until(Duration.ofSeconds(5), "third check", () -> checks.incrementAndGet() == 3);

        assertEquals(3, checks.get());
    }

    @Test
    void failsAtTheDeadlineNamingWhatItWaitedFor() {
        long start = System.nanoTime();

        AssertionError e = assertThrows(AssertionError.class,
                () -> Poll.until(Duration.ofMillis(200), "the moon", () -> false));

        assertEquals("timed out after 200 ms waiting for the moon", e.getMessage());
        assertTrue(System.nanoTime() - start >= Duration.ofMillis(200).toNanos());
    }

    @Test
    void valueVariantReportsTheLastValue() {
        AtomicInteger n = new AtomicInteger();

        assertEquals(4, Poll.until(Duration.ofSeconds(5), "4", n::incrementAndGet, v -> v == 4));
        AssertionError e = assertThrows(AssertionError.class,
                () -> Poll.until(Duration.ofMillis(100), "3 REGISTERs", () -> 2, v -> v >= 3));
        assertEquals("timed out after 100 ms waiting for 3 REGISTERs; last value: 2", e.getMessage());
    }

    @Test
    void exceptionsMeanNotYetAndBecomeTheCause() {
        IllegalStateException refused = new IllegalStateException("connection refused");

        AssertionError e = assertThrows(AssertionError.class, () -> Poll.until(Duration.ofMillis(100), "health",
                () -> {
                    throw refused;
                }));

        assertSame(refused, e.getCause());
        assertTrue(e.getMessage().contains("connection refused"), e.getMessage());
    }

    @Test
    void assertionErrorsInTheCheckStopTheWaitAtOnce() {
        long start = System.nanoTime();

        assertThrows(AssertionError.class, () -> Poll.until(Duration.ofSeconds(30), "never", () -> {
            throw new AssertionError("peer died");
        }));

        assertTrue(System.nanoTime() - start < Duration.ofSeconds(5).toNanos());
    }

    @Test
    void untilPresentUnwraps() {
        AtomicInteger n = new AtomicInteger();

        String value = Poll.untilPresent(Duration.ofSeconds(5), "value",
                () -> n.incrementAndGet() < 2 ? Optional.empty() : Optional.of("x"));

        assertEquals("x", value);
    }
}
