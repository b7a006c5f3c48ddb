package io.webrtcgateway.edge.ws;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.LongSupplier;

/**
 * What the gateway sends on one WebSocket: messages go out in the order offered, one at a time, each
 * handed to the socket when the previous one was written. {@link #offer} only queues and returns, so a
 * thread with a reply to give (a shared gw-worker or gw-timer thread, a call's actor) never waits for the
 * network, and no lock is held while the socket is written.
 *
 * <p>The queue is bounded: more than {@code maxMessages} messages or {@code maxBytes} bytes waiting behind
 * the one being written, or that one not written within {@code writeTimeout}, and the client is too slow:
 * {@code onTooSlow} is told once, and the queue takes nothing more (docs/protocol.md, "Slow clients").
 */
final class OutboundQueue {
    /** Why a client was found too slow; the words of the metric label and the close reason. */
    enum TooSlow {
        QUEUE_FULL("queue-full"), WRITE_TIMEOUT("write-timeout");

        private final String label;

        TooSlow(String label) {
            this.label = label;
        }

        String label() {
            return label;
        }
    }

    /** Writes one message asynchronously and calls {@code done} once: with null, or with why it failed. */
    interface Transport {
        void send(String text, Consumer<Throwable> done);
    }

    /** Runs {@code task} after {@code delayNanos}; returns what cancels it. */
    interface Timer {
        Runnable schedule(Runnable task, long delayNanos);

        static Timer on(ScheduledExecutorService timers) {
            return (task, delayNanos) -> {
                ScheduledFuture<?> f = timers.schedule(task, delayNanos, TimeUnit.NANOSECONDS);
                return () -> f.cancel(false);
            };
        }
    }

    private record Message(String text, int bytes) {}

    private final Transport transport;
    private final int maxMessages;
    private final long maxBytes;
    private final long writeTimeoutNanos;
    private final Timer timer;
    private final LongSupplier nanoClock;
    private final Consumer<TooSlow> onTooSlow;

    /** Guarded by this. */
    private final ArrayDeque<Message> waiting = new ArrayDeque<>();
    /** Guarded by this: the bytes of {@link #waiting}. */
    private long waitingBytes;
    /** Guarded by this: a message is with the transport and not written yet. */
    private boolean inFlight;
    /** Guarded by this: when the message in flight was handed over. */
    private long inFlightSince;
    /** Guarded by this: a thread is in {@link #pump()}'s loop (the next message goes out from there). */
    private boolean pumping;
    /** Guarded by this: nothing more is sent (too slow, closing, or the socket closed). */
    private boolean closed;
    /** Guarded by this: run once the last waiting message is handed over (a close after the final messages). */
    private Runnable afterLast;
    /** Guarded by this: cancels the write-timeout check; null while none is scheduled. */
    private Runnable timeoutCheck;

    OutboundQueue(Transport transport, int maxMessages, int maxBytes, Duration writeTimeout, Timer timer,
                  LongSupplier nanoClock, Consumer<TooSlow> onTooSlow) {
        this.transport = transport;
        this.maxMessages = maxMessages;
        this.maxBytes = maxBytes;
        this.writeTimeoutNanos = writeTimeout.toNanos();
        this.timer = timer;
        this.nanoClock = nanoClock;
        this.onTooSlow = onTooSlow;
    }

    /**
     * Queues {@code text} to go out after everything offered before. False when it was not taken: the queue
     * is closed or closing, or this message made it overflow (then the client is too slow).
     */
    boolean offer(String text) {
        Message m = new Message(text, utf8Length(text));
        boolean full;
        synchronized (this) {
            if (closed || afterLast != null) {
                return false;
            }
            // A message always fits when none waits: one large message cannot wedge the queue.
            full = !waiting.isEmpty() && (waiting.size() >= maxMessages || waitingBytes + m.bytes() > maxBytes);
            if (!full) {
                waiting.add(m);
                waitingBytes += m.bytes();
                if (inFlight || pumping) {
                    return true; // goes out when the message before it is written
                }
                pumping = true;
            } else {
                closeLocked();
            }
        }
        if (full) {
            onTooSlow.accept(TooSlow.QUEUE_FULL);
            return false;
        }
        pump();
        return true;
    }

    /**
     * Runs {@code close} once every message offered so far has been handed to the socket (so that what it
     * sends goes out after them); nothing more is taken from now on. At once when nothing waits.
     */
    void closeAfterQueued(Runnable close) {
        synchronized (this) {
            if (closed || afterLast != null) {
                return;
            }
            if (!waiting.isEmpty() || pumping) {
                afterLast = close; // pump() runs it when it hands over the last one
                return;
            }
            closed = true;
        }
        close.run();
    }

    /** The socket is gone: drop what waits. */
    void shutdown() {
        synchronized (this) {
            closeLocked();
        }
    }

    /** Messages waiting behind the one being written. */
    synchronized int waitingMessages() {
        return waiting.size();
    }

    /** Guarded by this. */
    private void closeLocked() {
        closed = true;
        afterLast = null;
        waiting.clear();
        waitingBytes = 0;
        if (timeoutCheck != null) {
            timeoutCheck.run();
            timeoutCheck = null;
        }
    }

    /**
     * Hands messages to the transport while the previous one was written at once (a transport may complete
     * inside {@code send}); returns when one is in flight or nothing waits, after running the close that
     * waited for the last message. A loop, not recursion: thousands of messages written at once do not grow
     * the stack.
     */
    private void pump() {
        while (true) {
            Message next = null;
            Runnable last = null;
            synchronized (this) {
                if (!closed && !inFlight && !waiting.isEmpty()) {
                    next = waiting.poll();
                    waitingBytes -= next.bytes();
                    inFlight = true;
                    inFlightSince = nanoClock.getAsLong();
                    if (timeoutCheck == null) {
                        timeoutCheck = timer.schedule(this::checkWriteTimeout, writeTimeoutNanos);
                    }
                } else {
                    pumping = false;
                    if (!closed && waiting.isEmpty() && afterLast != null) {
                        last = afterLast;
                        afterLast = null;
                        closed = true;
                    }
                }
            }
            if (next == null) {
                if (last != null) {
                    last.run();
                }
                return;
            }
            try {
                transport.send(next.text(), this::written);
            } catch (RuntimeException e) {
                written(e);
            }
        }
    }

    /** The transport's completion of the message in flight. */
    private void written(Throwable failure) {
        boolean timedOut = false;
        synchronized (this) {
            if (!inFlight) {
                return;
            }
            inFlight = false;
            if (failure != null) {
                if (closed) {
                    return;
                }
                // A write that failed after the timeout is the container enforcing it (the socket is aborted);
                // any other failure is a socket that closed under us.
                timedOut = nanoClock.getAsLong() - inFlightSince >= writeTimeoutNanos;
                closeLocked();
            } else {
                if (closed || pumping) {
                    return; // the loop in pump() sends the next one
                }
                pumping = true;
            }
        }
        if (failure == null) {
            pump();
        } else if (timedOut) {
            onTooSlow.accept(TooSlow.WRITE_TIMEOUT);
        }
    }

    /** Timer: is the message in flight older than the write timeout? Re-arms for the next one otherwise. */
    private void checkWriteTimeout() {
        synchronized (this) {
            timeoutCheck = null;
            if (closed || !inFlight) {
                return; // armed again by the next send
            }
            long age = nanoClock.getAsLong() - inFlightSince;
            if (age < writeTimeoutNanos) {
                timeoutCheck = timer.schedule(this::checkWriteTimeout, writeTimeoutNanos - age);
                return;
            }
            closeLocked();
        }
        onTooSlow.accept(TooSlow.WRITE_TIMEOUT);
    }

    static int utf8Length(String s) {
        int n = 0;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c < 0x80) {
                n++;
            } else if (c < 0x800) {
                n += 2;
            } else if (Character.isHighSurrogate(c)) {
                n += 4;
                i++;
            } else {
                n += 3;
            }
        }
        return n;
    }
}
