package io.webrtcgateway.concurrent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
