package io.webrtcgateway.concurrent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.micrometer.core.instrument.Clock;
import io.micrometer.core.instrument.MockClock;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.webrtcgateway.testsupport.Poll;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The watchdog over a pool that runs nothing until the test lets it, on a clock the test moves. */
class ExecutorWatchdogTest {
    private final MockClock clock = new MockClock();
    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    /** The "pool": tasks wait here until {@link #runPool()}. */
    private final List<Runnable> held = new ArrayList<>();

    private void runPool() {
        List<Runnable> now = new ArrayList<>(held);
        held.clear();
        now.forEach(Runnable::run);
    }

    private double gauge(String name, String pool) {
        return registry.get(name).tag("pool", pool).gauge().value();
    }

    @Test
    void aPoolThatRunsNothingIsStuckOnceItsProbeWaitedStuckAfterAndRecovers() {
        ExecutorWatchdog watchdog = new ExecutorWatchdog(Duration.ofSeconds(2), clock);
        watchdog.watchPool("gw-worker", held::add, held::size);
        watchdog.bindTo(registry);
        assertEquals(Duration.ofMillis(500), watchdog.period(), "a quarter of stuck-after");

        watchdog.tick();
        assertEquals(1, held.size(), "a probe went in");
        runPool();
        assertEquals(List.of(), watchdog.stuck());
        assertEquals(0, gauge("gateway.executor.delay", "gw-worker"));

        watchdog.tick(); // the next probe never runs: every thread of the pool is blocked
        clock.add(Duration.ofMillis(1500));
        watchdog.tick();
        assertEquals(1, held.size(), "one probe at a time");
        assertEquals(List.of(), watchdog.stuck());
        assertEquals(1.5, gauge("gateway.executor.delay", "gw-worker"), 1e-9);
        clock.add(Duration.ofMillis(500));
        assertEquals(List.of("gw-worker"), watchdog.stuck());
        assertEquals(1, gauge("gateway.executor.stuck", "gw-worker"));
        watchdog.tick();
        assertEquals(1, registry.get("gateway.executor.stalls").tag("pool", "gw-worker").counter().count());
        clock.add(Duration.ofSeconds(3));
        watchdog.tick();
        assertEquals(1, registry.get("gateway.executor.stalls").tag("pool", "gw-worker").counter().count(),
                "one stall, however long");
        assertEquals(5, gauge("gateway.executor.delay.max", "gw-worker"), 1e-9);

        runPool(); // unblocked: the probe ran 5 s late; that is its last delay until the next probe ran
        assertEquals(List.of("gw-worker"), watchdog.stuck());
        watchdog.tick();
        runPool();
        assertEquals(List.of(), watchdog.stuck());
        assertEquals(0, gauge("gateway.executor.stuck", "gw-worker"));
        assertEquals(0, gauge("gateway.executor.queued.tasks", "gw-worker"));
        watchdog.tick();
        assertEquals(1, registry.get("gateway.executor.stalls").tag("pool", "gw-worker").counter().count());
    }

    @Test
    void aStallThatEndedBetweenTwoTicksIsStillCounted() {
        ExecutorWatchdog watchdog = new ExecutorWatchdog(Duration.ofSeconds(2), clock);
        watchdog.watchPool("gw-timer", held::add, null);
        watchdog.bindTo(registry);
        watchdog.tick();
        clock.add(Duration.ofSeconds(3));
        runPool(); // the probe ran 3 s late, and the pool is fine again before the watchdog looks
        watchdog.tick();
        assertEquals(1, registry.get("gateway.executor.stalls").tag("pool", "gw-timer").counter().count());
        runPool();
        watchdog.tick();
        assertEquals(List.of(), watchdog.stuck());
    }

    @Test
    void aPoolThatRefusesTasksIsNotStuck() {
        ExecutorWatchdog watchdog = new ExecutorWatchdog(Duration.ofSeconds(1), clock);
        watchdog.watchPool("gw-timer", task -> {
            throw new java.util.concurrent.RejectedExecutionException("shut down");
        }, null);
        watchdog.bindTo(registry);
        watchdog.tick();
        clock.add(Duration.ofSeconds(5));
        watchdog.tick();
        assertEquals(List.of(), watchdog.stuck(), "a pool shut down (instance stopping) has nothing waiting");
        assertTrue(registry.find("gateway.executor.queued.tasks").tag("pool", "gw-timer").gauge() == null,
                "no queue size given: none exported");
    }

    /** Actors, on the real clock: a blocked task makes its group stuck, releasing it clears it. */
    @Test
    void aBlockedActorMakesItsGroupStuck() throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(2);
        ExecutorWatchdog watchdog = new ExecutorWatchdog(Duration.ofMillis(500), Clock.SYSTEM);
        try {
            SerialExecutor.Group calls = new SerialExecutor.Group("call");
            watchdog.watchActors(calls, "pool-");
            watchdog.bindTo(registry);
            watchdog.start(r -> {
                Thread t = new Thread(r, "test-watchdog");
                t.setDaemon(true);
                return t;
            });
            SerialExecutor actor = new SerialExecutor(pool, calls);
            CountDownLatch release = new CountDownLatch(1);
            actor.execute(() -> {
                try {
                    release.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            actor.execute(() -> { });
            Poll.until(Duration.ofSeconds(10), "the call actors stuck", () -> watchdog.stuck().equals(List.of("call")));
            assertEquals(1, gauge("gateway.executor.queued.tasks", "call"));
            Poll.until(Duration.ofSeconds(10), "the stall counted by the watchdog's thread",
                    () -> registry.get("gateway.executor.stalls").tag("pool", "call").counter().count() == 1);
            release.countDown();
            Poll.until(Duration.ofSeconds(10), "the call actors moving again", () -> watchdog.stuck().isEmpty());
            assertEquals(0, gauge("gateway.executor.queued.tasks", "call"));
            assertTrue(gauge("gateway.executor.delay.max", "call") >= 0.5);
        } finally {
            watchdog.close();
            pool.shutdownNow();
            pool.awaitTermination(5, TimeUnit.SECONDS);
        }
    }
}
