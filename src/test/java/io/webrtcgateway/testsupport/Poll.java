package io.webrtcgateway.testsupport;

import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import java.util.function.Predicate;
import java.util.function.Supplier;

/**
 * Waits for a condition by checking it until a deadline, never by sleeping a guessed time.
 *
 * <p>Between checks it parks briefly (10 ms growing to 100 ms). A check that throws counts as "not yet";
 * if the deadline passes, the last such exception is the cause of the {@link AssertionError}, whose
 * message names what was awaited and, for the value variants, the last value seen.
 */
public final class Poll {

    private static final long FIRST_PAUSE_NANOS = TimeUnit.MILLISECONDS.toNanos(10);
    private static final long MAX_PAUSE_NANOS = TimeUnit.MILLISECONDS.toNanos(100);

    private Poll() {}

    /** Returns once {@code condition} is true; fails at the deadline with "timed out after ... waiting for what". */
    public static void until(Duration timeout, String what, BooleanSupplier condition) {
        await(timeout, what, condition::getAsBoolean, Boolean.TRUE::equals, false);
    }

    /**
     * Returns the first value of {@code probe} that {@code done} accepts; fails at the deadline with
     * the last value in the message (e.g. "waiting for 3 REGISTERs; last value: 2").
     */
    public static <T> T until(Duration timeout, String what, Supplier<T> probe, Predicate<? super T> done) {
        return await(timeout, what, probe, done, true);
    }

    /** Returns the content of the first non-empty Optional {@code probe} yields. */
    public static <T> T untilPresent(Duration timeout, String what, Supplier<Optional<T>> probe) {
        return await(timeout, what, probe, Optional::isPresent, false).orElseThrow();
    }

    private static <T> T await(Duration timeout, String what, Supplier<T> probe, Predicate<? super T> done,
            boolean reportLast) {
        long deadline = System.nanoTime() + timeout.toNanos();
        long pause = FIRST_PAUSE_NANOS;
        T last = null;
        boolean probed = false;
        RuntimeException lastFailure = null;
        while (true) {
            try {
                last = probe.get();
                probed = true;
                lastFailure = null;
                if (done.test(last)) {
                    return last;
                }
            } catch (RuntimeException e) {
                lastFailure = e;
            }
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                throw timedOut(timeout, what, reportLast && probed ? String.valueOf(last) : null, lastFailure);
            }
            LockSupport.parkNanos(Math.min(pause, left));
            if (Thread.interrupted()) {
                Thread.currentThread().interrupt();
                throw new AssertionError("interrupted while waiting for " + what);
            }
            pause = Math.min(pause * 2, MAX_PAUSE_NANOS);
        }
    }

    private static AssertionError timedOut(Duration timeout, String what, String lastValue, RuntimeException failure) {
        StringBuilder message = new StringBuilder("timed out after ").append(format(timeout))
                .append(" waiting for ").append(what);
        if (failure != null) {
            message.append("; last check failed: ").append(failure);
        } else if (lastValue != null) {
            message.append("; last value: ").append(lastValue);
        }
        AssertionError error = new AssertionError(message.toString());
        if (failure != null) {
            error.initCause(failure);
        }
        return error;
    }

    private static String format(Duration d) {
        return d.toMillis() % 1000 == 0 ? d.toSeconds() + " s" : d.toMillis() + " ms";
    }
}
