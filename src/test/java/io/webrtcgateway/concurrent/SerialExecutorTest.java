package io.webrtcgateway.concurrent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.webrtcgateway.testsupport.Poll;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class SerialExecutorTest {
    @Test
    void runsInOrderOneAtATimeAndSurvivesFailures() throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            SerialExecutor serial = new SerialExecutor(pool);
            List<Integer> seen = new ArrayList<>(); // confined to the serial executor
            AtomicInteger concurrent = new AtomicInteger();
            AtomicInteger maxConcurrent = new AtomicInteger();
            CountDownLatch done = new CountDownLatch(1);
            for (int i = 0; i < 10_000; i++) {
                int n = i;
                serial.execute(() -> {
                    maxConcurrent.accumulateAndGet(concurrent.incrementAndGet(), Math::max);
                    seen.add(n);
                    concurrent.decrementAndGet();
                    if (n % 1000 == 0) {
                        throw new IllegalStateException("task " + n + " fails on purpose");
                    }
                });
            }
            serial.execute(done::countDown);
            assertTrue(done.await(10, TimeUnit.SECONDS));
            assertEquals(1, maxConcurrent.get());
            assertEquals(10_000, seen.size());
            for (int i = 0; i < seen.size(); i++) {
                assertEquals(i, seen.get(i));
            }
        } finally {
            pool.shutdownNow();
        }
    }

    /** The group's view: queued tasks, busy actors' time without progress, longest wait; nothing once idle. */
    @Test
    void aGroupSeesQueuedTasksStallsAndWaits() {
        List<Runnable> pool = new ArrayList<>(); // runs nothing until the test says so
        SerialExecutor.Group group = new SerialExecutor.Group("call");
        SerialExecutor a = new SerialExecutor(pool::add, group);
        SerialExecutor b = new SerialExecutor(pool::add, group);
        long before = System.nanoTime();
        assertEquals(0, group.stalledNanos(before), "idle");
        List<String> ran = new ArrayList<>();
        a.execute(() -> ran.add("a1"));
        a.execute(() -> ran.add("a2"));
        b.execute(() -> ran.add("b1"));
        assertEquals(2, pool.size(), "one drain per busy actor");
        assertEquals(3, group.queuedTasks());
        long later = System.nanoTime() + TimeUnit.SECONDS.toNanos(7);
        assertTrue(group.stalledNanos(later) >= TimeUnit.SECONDS.toNanos(7), "waiting for a pool thread counts");

        pool.remove(0).run(); // a's drain
        assertEquals(List.of("a1", "a2"), ran);
        assertEquals(1, group.queuedTasks());
        assertTrue(group.takeLongestWaitNanos() > 0);
        assertEquals(0, group.takeLongestWaitNanos(), "taken");
        pool.remove(0).run();
        assertEquals(0, group.queuedTasks());
        assertEquals(0, group.stalledNanos(later), "no actor has work");
    }

    /** An actor whose task blocks is stalled; one that keeps finishing tasks is not, however long its queue. */
    @Test
    void aBlockedTaskStallsItsActor() throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            SerialExecutor.Group group = new SerialExecutor.Group("registration");
            SerialExecutor actor = new SerialExecutor(pool, group);
            CountDownLatch started = new CountDownLatch(1);
            CountDownLatch release = new CountDownLatch(1);
            actor.execute(() -> {
                started.countDown();
                try {
                    release.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            actor.execute(() -> { });
            assertTrue(started.await(5, TimeUnit.SECONDS));
            long inAMinute = System.nanoTime() + TimeUnit.MINUTES.toNanos(1);
            assertTrue(group.stalledNanos(inAMinute) >= TimeUnit.MINUTES.toNanos(1));
            assertEquals(1, group.queuedTasks());
            CountDownLatch done = new CountDownLatch(1);
            actor.execute(done::countDown);
            release.countDown();
            assertTrue(done.await(5, TimeUnit.SECONDS));
            // The drain leaves the busy set right after its last task.
            Poll.until(Duration.ofSeconds(5), "the actor idle", () -> group.stalledNanos(inAMinute) == 0);
        } finally {
            pool.shutdownNow();
        }
    }

    /** A flooded actor takes turns: the pool's other work runs after one turn of it, not after the whole flood. */
    @Test
    void aFloodedActorSharesThePoolThread() throws Exception {
        ExecutorService pool = Executors.newSingleThreadExecutor();
        try {
            SerialExecutor actor = new SerialExecutor(pool);
            List<String> ran = java.util.Collections.synchronizedList(new ArrayList<>());
            CountDownLatch go = new CountDownLatch(1);
            CountDownLatch done = new CountDownLatch(1);
            actor.execute(() -> {
                try {
                    go.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                ran.add("actor");
            });
            for (int i = 1; i < 1000; i++) {
                actor.execute(() -> ran.add("actor"));
            }
            actor.execute(done::countDown);
            pool.execute(() -> ran.add("other")); // queued in the pool behind the actor's first turn
            go.countDown();
            assertTrue(done.await(10, TimeUnit.SECONDS));
            assertEquals(SerialExecutor.TURN, ran.indexOf("other"), "one turn of the actor, then the other task");
            assertEquals(1001, ran.size());
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void tryExecuteRefusesOnceTheGivenNumberWaitAndExecuteNever() throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            SerialExecutor serial = new SerialExecutor(pool);
            CountDownLatch running = new CountDownLatch(1);
            CountDownLatch release = new CountDownLatch(1);
            List<Integer> ran = java.util.Collections.synchronizedList(new ArrayList<>());
            assertTrue(serial.tryExecute(() -> {
                running.countDown();
                try {
                    release.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }, 3));
            assertTrue(running.await(5, TimeUnit.SECONDS)); // the running task does not count as waiting
            for (int i = 0; i < 3; i++) {
                int n = i;
                assertTrue(serial.tryExecute(() -> ran.add(n), 3), "task " + i + " fits");
            }
            assertFalse(serial.tryExecute(() -> ran.add(99), 3), "a fourth waiting one is refused");
            assertTrue(serial.tryExecute(() -> ran.add(98), 4), "another caller's bound is its own");
            for (int i = 0; i < 100; i++) {
                int n = 100 + i;
                serial.execute(() -> ran.add(n)); // the actor's own events are never refused
            }
            assertFalse(serial.tryExecute(() -> ran.add(97), 50));
            CountDownLatch done = new CountDownLatch(1);
            serial.execute(done::countDown);
            release.countDown();
            assertTrue(done.await(5, TimeUnit.SECONDS));
            assertEquals(104, ran.size());
            assertFalse(ran.contains(99) || ran.contains(97), "refused tasks never run");
            assertTrue(serial.tryExecute(() -> { }, 1), "an empty queue takes a task again");
        } finally {
            pool.shutdownNow();
        }
    }
}
