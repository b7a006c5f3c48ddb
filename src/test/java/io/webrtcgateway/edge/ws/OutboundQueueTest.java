package io.webrtcgateway.edge.ws;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

/** The bounded per-WebSocket send queue: order, one write at a time, overflow by count and bytes, write timeout. */
class OutboundQueueTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(10);

    /** A transport that keeps every write pending until the test completes it. */
    private static final class HeldTransport implements OutboundQueue.Transport {
        final List<String> sent = new ArrayList<>();
        final List<Consumer<Throwable>> pending = new ArrayList<>();

        @Override
        public synchronized void send(String text, Consumer<Throwable> done) {
            sent.add(text);
            pending.add(done);
        }

        /** Completes the oldest write still pending. */
        void completeNext(Throwable failure) {
            Consumer<Throwable> done;
            synchronized (this) {
                done = pending.remove(0);
            }
            done.accept(failure);
        }

        synchronized int inFlight() {
            return pending.size();
        }
    }

    /** A clock and a timer the test moves by hand. */
    private static final class ManualTime implements OutboundQueue.Timer {
        private record Task(long due, Runnable run, boolean[] cancelled) {}

        long now = 1_000_000_000L;
        private final List<Task> tasks = new ArrayList<>();

        @Override
        public Runnable schedule(Runnable task, long delayNanos) {
            boolean[] cancelled = {false};
            tasks.add(new Task(now + delayNanos, task, cancelled));
            return () -> cancelled[0] = true;
        }

        void advance(Duration d) {
            now += d.toNanos();
            List<Task> due = new ArrayList<>();
            for (Iterator<Task> it = tasks.iterator(); it.hasNext(); ) {
                Task t = it.next();
                if (t.due() <= now) {
                    it.remove();
                    if (!t.cancelled()[0]) {
                        due.add(t);
                    }
                }
            }
            due.forEach(t -> t.run().run());
        }

        long scheduled() {
            return tasks.stream().filter(t -> !t.cancelled()[0]).count();
        }
    }

    private final ManualTime time = new ManualTime();
    private final List<OutboundQueue.TooSlow> tooSlow = new CopyOnWriteArrayList<>();

    private OutboundQueue queue(OutboundQueue.Transport transport, int maxMessages, int maxBytes) {
        return new OutboundQueue(transport, maxMessages, maxBytes, TIMEOUT, time, () -> time.now, tooSlow::add);
    }

    @Test
    void sendsInOrderOneAtATime() {
        HeldTransport t = new HeldTransport();
        OutboundQueue q = queue(t, 100, 1 << 20);
        for (int i = 0; i < 5; i++) {
            assertTrue(q.offer("m" + i));
        }
        assertEquals(List.of("m0"), t.sent, "the next waits for the first to be written");
        assertEquals(4, q.waitingMessages());
        for (int i = 1; i < 5; i++) {
            t.completeNext(null);
            assertEquals(1, t.inFlight());
            assertEquals("m" + i, t.sent.get(i));
        }
        t.completeNext(null);
        assertEquals(List.of("m0", "m1", "m2", "m3", "m4"), t.sent);
        assertEquals(0, t.inFlight());
        assertTrue(tooSlow.isEmpty());
    }

    @Test
    void aTransportThatCompletesInsideSendDoesNotGrowTheStack() {
        List<String> sent = new ArrayList<>();
        AtomicInteger depth = new AtomicInteger();
        AtomicInteger maxDepth = new AtomicInteger();
        HeldTransport gate = new HeldTransport();
        // The first write is held so that 100,000 messages queue up; then each completes inside send().
        OutboundQueue.Transport t = (text, done) -> {
            if (sent.isEmpty()) {
                sent.add(text);
                gate.send(text, done);
                return;
            }
            maxDepth.accumulateAndGet(depth.incrementAndGet(), Math::max);
            sent.add(text);
            done.accept(null);
            depth.decrementAndGet();
        };
        OutboundQueue q = queue(t, 200_000, Integer.MAX_VALUE);
        for (int i = 0; i < 100_000; i++) {
            assertTrue(q.offer(Integer.toString(i)));
        }
        gate.completeNext(null);
        assertEquals(100_000, sent.size());
        for (int i = 0; i < sent.size(); i++) {
            assertEquals(Integer.toString(i), sent.get(i));
        }
        assertEquals(1, maxDepth.get(), "a loop, not recursion");
    }

    @Test
    void moreWaitingMessagesThanTheLimitCutTheClientOffOnce() {
        HeldTransport t = new HeldTransport();
        OutboundQueue q = queue(t, 3, 1 << 20);
        assertTrue(q.offer("in flight"));
        assertTrue(q.offer("w1"));
        assertTrue(q.offer("w2"));
        assertTrue(q.offer("w3"));
        assertTrue(tooSlow.isEmpty());
        assertFalse(q.offer("w4"), "a fourth waiting message is one too many");
        assertEquals(List.of(OutboundQueue.TooSlow.QUEUE_FULL), tooSlow);
        assertEquals(0, q.waitingMessages(), "what waited is dropped");
        assertFalse(q.offer("later"));
        t.completeNext(null);
        assertEquals(List.of("in flight"), t.sent, "nothing more goes out");
        assertEquals(1, tooSlow.size(), "told once");
    }

    @Test
    void moreWaitingBytesThanTheLimitCutTheClientOff() {
        HeldTransport t = new HeldTransport();
        OutboundQueue q = queue(t, 1000, 100);
        assertTrue(q.offer("x".repeat(500)), "in flight: not counted");
        assertTrue(q.offer("a".repeat(60)));
        assertTrue(q.offer("é".repeat(20)), "40 bytes in UTF-8: 100 in all");
        assertFalse(q.offer("b"));
        assertEquals(List.of(OutboundQueue.TooSlow.QUEUE_FULL), tooSlow);
    }

    @Test
    void aMessageLargerThanTheLimitFitsWhenNothingWaits() {
        HeldTransport t = new HeldTransport();
        OutboundQueue q = queue(t, 1000, 100);
        assertTrue(q.offer("first"));
        assertTrue(q.offer("y".repeat(5000)), "alone in the queue");
        assertFalse(q.offer("z"), "but nothing fits behind it");
        assertEquals(List.of(OutboundQueue.TooSlow.QUEUE_FULL), tooSlow);
    }

    @Test
    void aWriteNotDoneWithinTheTimeoutCutsTheClientOff() {
        HeldTransport t = new HeldTransport();
        OutboundQueue q = queue(t, 100, 1 << 20);
        q.offer("stuck");
        q.offer("behind");
        time.advance(TIMEOUT.minusMillis(1));
        assertTrue(tooSlow.isEmpty());
        time.advance(Duration.ofMillis(1));
        assertEquals(List.of(OutboundQueue.TooSlow.WRITE_TIMEOUT), tooSlow);
        assertFalse(q.offer("more"));
        t.completeNext(new IOException("aborted"));
        assertEquals(1, tooSlow.size(), "the container's own abort afterwards is not reported again");
        assertEquals(List.of("stuck"), t.sent);
    }

    @Test
    void theTimeoutCountsFromWhenEachMessageWasHandedOver() {
        HeldTransport t = new HeldTransport();
        OutboundQueue q = queue(t, 100, 1 << 20);
        q.offer("one");
        q.offer("two");
        time.advance(Duration.ofSeconds(9));
        t.completeNext(null); // "two" handed over at 9 s
        time.advance(Duration.ofSeconds(2)); // 11 s: "one" would be late, "two" is 2 s old
        assertTrue(tooSlow.isEmpty(), "re-armed for the message in flight");
        time.advance(Duration.ofSeconds(8)); // 19 s: "two" is 10 s old
        assertEquals(List.of(OutboundQueue.TooSlow.WRITE_TIMEOUT), tooSlow);
    }

    @Test
    void anIdleQueueKeepsNoTimer() {
        HeldTransport t = new HeldTransport();
        OutboundQueue q = queue(t, 100, 1 << 20);
        for (int i = 0; i < 50; i++) {
            q.offer("m" + i);
            t.completeNext(null);
        }
        assertEquals(1, time.scheduled(), "one check per connection, not one per message");
        time.advance(TIMEOUT);
        assertEquals(0, time.scheduled(), "nothing in flight: not re-armed");
        assertTrue(tooSlow.isEmpty());
    }

    @Test
    void aFailureAfterTheTimeoutIsAWriteTimeoutAnyOtherIsASocketThatClosed() {
        HeldTransport t = new HeldTransport();
        OutboundQueue q = queue(t, 100, 1 << 20);
        q.offer("a");
        q.offer("b");
        t.completeNext(new IOException("connection reset"));
        assertTrue(tooSlow.isEmpty());
        assertFalse(q.offer("c"), "closed");
        assertEquals(List.of("a"), t.sent);

        HeldTransport t2 = new HeldTransport();
        OutboundQueue q2 = queue(t2, 100, 1 << 20);
        q2.offer("a");
        time.now += TIMEOUT.toNanos(); // the container's timer fired before ours
        t2.completeNext(new IOException("write timeout"));
        assertEquals(List.of(OutboundQueue.TooSlow.WRITE_TIMEOUT), tooSlow);
    }

    @Test
    void closeAfterQueuedGoesAfterTheLastMessage() {
        HeldTransport t = new HeldTransport();
        OutboundQueue q = queue(t, 100, 1 << 20);
        List<String> events = new ArrayList<>();
        OutboundQueue.Transport recording = (text, done) -> {
            events.add("send " + text);
            t.send(text, done);
        };
        OutboundQueue rq = queue(recording, 100, 1 << 20);
        rq.offer("result");
        rq.offer("session-ended");
        rq.closeAfterQueued(() -> events.add("close"));
        assertFalse(rq.offer("too late"));
        assertEquals(List.of("send result"), events);
        t.completeNext(null);
        assertEquals(List.of("send result", "send session-ended", "close"), events,
                "the close goes to the socket after the last message, before it is written");
        t.completeNext(null);
        assertEquals(3, events.size());

        List<String> now = new ArrayList<>();
        q.closeAfterQueued(() -> now.add("close"));
        assertEquals(List.of("close"), now, "nothing waits: at once");
    }

    @Test
    void manyThreadsOfferingKeepEachThreadsOrderAndOneWriteAtATime() throws Exception {
        int threads = 4;
        int each = 5_000;
        LinkedBlockingQueue<Consumer<Throwable>> completions = new LinkedBlockingQueue<>();
        AtomicInteger inFlight = new AtomicInteger();
        AtomicInteger maxInFlight = new AtomicInteger();
        List<String> sent = new CopyOnWriteArrayList<>();
        OutboundQueue.Transport t = (text, done) -> {
            maxInFlight.accumulateAndGet(inFlight.incrementAndGet(), Math::max);
            sent.add(text);
            completions.add(failure -> {
                inFlight.decrementAndGet();
                done.accept(failure);
            });
        };
        var timers = Executors.newSingleThreadScheduledExecutor();
        OutboundQueue q = new OutboundQueue(t, threads * each, Integer.MAX_VALUE, TIMEOUT, OutboundQueue.Timer.on(timers),
                System::nanoTime, tooSlow::add);
        ExecutorService pool = Executors.newFixedThreadPool(threads + 1);
        try {
            CountDownLatch start = new CountDownLatch(1);
            for (int n = 0; n < threads; n++) {
                int thread = n;
                pool.execute(() -> {
                    try {
                        start.await();
                    } catch (InterruptedException e) {
                        return;
                    }
                    for (int i = 0; i < each; i++) {
                        q.offer(thread + ":" + i);
                    }
                });
            }
            // The "socket": completes writes on its own thread, as a container does.
            pool.execute(() -> {
                try {
                    for (int i = 0; i < threads * each; i++) {
                        completions.take().accept(null);
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            start.countDown();
            pool.shutdown();
            assertTrue(pool.awaitTermination(30, TimeUnit.SECONDS));
        } finally {
            pool.shutdownNow();
            timers.shutdownNow();
        }
        assertEquals(threads * each, sent.size());
        assertEquals(1, maxInFlight.get());
        int[] next = new int[threads];
        for (String s : sent) {
            int thread = Integer.parseInt(s.substring(0, s.indexOf(':')));
            assertEquals(next[thread]++, Integer.parseInt(s.substring(s.indexOf(':') + 1)), s);
        }
        assertTrue(tooSlow.isEmpty());
    }

    @Test
    void utf8Length() {
        assertEquals(3, OutboundQueue.utf8Length("abc"));
        assertEquals(2, OutboundQueue.utf8Length("é"));
        assertEquals(3, OutboundQueue.utf8Length("€"));
        assertEquals(4, OutboundQueue.utf8Length("😀"));
    }
}
