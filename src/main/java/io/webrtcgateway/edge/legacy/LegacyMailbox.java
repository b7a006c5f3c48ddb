package io.webrtcgateway.edge.legacy;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.webrtcgateway.session.SessionEvent;
import io.webrtcgateway.session.SessionEventSink;
import jakarta.servlet.AsyncContext;
import java.util.ArrayDeque;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The messages waiting for a legacy session's next {@code GET /wait}, and the poll waiting for a message.
 * A poll is answered with the oldest message (status 200, {@code Pragma: <peer>}), or with an empty 200
 * when the poll timeout passes — never 204, which grtc.js takes as a sign-out (SPEC §4).
 */
final class LegacyMailbox implements SessionEventSink {
    /** The token of the session's last /t/ request, to renew the session's token only when it changes. */
    private volatile String lastToken;

    private static final Logger LOG = LoggerFactory.getLogger(LegacyMailbox.class);

    record Message(String peer, String body) {}

    /**
     * {@code gateway_legacy_polls_total{outcome}}: how long polls ended; {@code gateway_legacy_answers_unwritten_total}:
     * answers the client never took (docs/metrics.md).
     */
    record PollMeters(Counter message, Counter empty, Counter closed, AtomicInteger open, Counter unwritten) {
        static PollMeters register(MeterRegistry registry) {
            AtomicInteger open = new AtomicInteger();
            Gauge.builder("gateway.legacy.polls.open", open, AtomicInteger::get)
                    .description("legacy GET /wait long polls being held").register(registry);
            Counter unwritten = Counter.builder("gateway.legacy.answers.unwritten")
                    .description("legacy long-poll and sign-in answers the client never took: the write failed, "
                            + "usually when the HTTP server's idle timeout closed a connection that did not read")
                    .register(registry);
            return new PollMeters(counter(registry, "message"), counter(registry, "empty"), counter(registry, "closed"),
                    open, unwritten);
        }

        private static Counter counter(MeterRegistry registry, String outcome) {
            return Counter.builder("gateway.legacy.polls")
                    .description("legacy GET /wait long polls answered: with a message, empty (poll timeout or "
                            + "a newer poll), or closed (session ended, instance stopping)")
                    .tag("outcome", outcome).register(registry);
        }
    }

    private final int maxQueued;
    private final ScheduledExecutorService timers;
    private final PollMeters meters;
    /** Guarded by this. */
    private final ArrayDeque<Message> queue = new ArrayDeque<>();
    /** Guarded by this. */
    private AsyncContext waiting;
    /** Guarded by this. */
    private ScheduledFuture<?> waitTimeout;
    /** Guarded by this: once set, every poll is answered with it (session gone). */
    private int closedStatus;

    /** Set once at sign-in when calls are served; then only read. */
    private volatile LegacyCallBridge calls;

    LegacyMailbox(int maxQueued, ScheduledExecutorService timers, PollMeters meters) {
        this.maxQueued = maxQueued;
        this.timers = timers;
        this.meters = meters;
    }

    /** Whether a message waits for the next poll. */
    synchronized boolean hasQueued() {
        return !queue.isEmpty();
    }

    void tokenSeen(String token) {
        if (token != null) {
            lastToken = token;
        }
    }

    boolean tokenChanged(String token) {
        return !token.equals(lastToken);
    }

    void serveCalls(LegacyCallBridge bridge) {
        this.calls = bridge;
    }

    LegacyCallBridge calls() {
        return calls;
    }

    void post(String peer, String body) {
        AsyncContext poll;
        synchronized (this) {
            if (closedStatus != 0) {
                return;
            }
            poll = takeWaiting();
            if (poll == null) {
                if (queue.size() >= maxQueued) {
                    Message dropped = queue.poll();
                    LOG.warn("legacy mailbox full: dropped a message for peer {}", dropped.peer());
                }
                queue.add(new Message(peer, body));
                return;
            }
        }
        answer(poll, 200, peer, body);
    }

    /** A new long poll: answered now if a message waits, else held up to {@code timeoutMs}. */
    void poll(AsyncContext ctx, long timeoutMs) {
        meters.open().incrementAndGet(); // every poll ends in answer() or abandon()
        AsyncContext replaced;
        Message ready;
        int closed;
        synchronized (this) {
            replaced = takeWaiting();
            closed = closedStatus;
            ready = closed == 0 ? queue.poll() : null;
            if (closed == 0 && ready == null) {
                waiting = ctx;
                waitTimeout = timers.schedule(() -> timeout(ctx), timeoutMs, TimeUnit.MILLISECONDS);
            }
        }
        if (replaced != null) {
            answer(replaced, 200, null, ""); // a newer poll took over; the old one ends empty
        }
        if (closed != 0) {
            answer(ctx, closed, null, LegacyServlet.errorBody("SESSION_UNKNOWN", "session ended"));
        } else if (ready != null) {
            answer(ctx, 200, ready.peer(), ready.body());
        }
    }

    /** The client went away mid-poll: forget it. */
    void abandon(AsyncContext ctx) {
        boolean wasWaiting;
        synchronized (this) {
            wasWaiting = waiting == ctx;
            if (wasWaiting) {
                takeWaiting();
            }
        }
        if (wasWaiting) {
            meters.open().decrementAndGet();
        }
    }

    private void timeout(AsyncContext ctx) {
        synchronized (this) {
            if (waiting != ctx) {
                return;
            }
            waiting = null;
            waitTimeout = null;
        }
        answer(ctx, 200, null, "");
    }

    /** Guarded by this. */
    private AsyncContext takeWaiting() {
        AsyncContext w = waiting;
        waiting = null;
        if (waitTimeout != null) {
            waitTimeout.cancel(false);
            waitTimeout = null;
        }
        return w;
    }

    @Override
    public void deliver(SessionEvent event) {
        if (event instanceof SessionEvent.CallEvent ce) {
            LegacyCallBridge bridge = calls;
            if (bridge != null) {
                bridge.onEvent(ce);
            }
            return;
        }
        int status;
        if (event instanceof SessionEvent.Ended) {
            status = 404;
        } else if (event instanceof SessionEvent.Shutdown) {
            // 5xx: grtc.js retries after ~3 s, by then through the load balancer to a live instance.
            status = 503;
        } else {
            return; // registration events have no legacy message
        }
        AsyncContext poll;
        synchronized (this) {
            if (status == 404) {
                closedStatus = 404;
                queue.clear();
            }
            poll = takeWaiting();
        }
        if (poll != null) {
            answer(poll, status, null, LegacyServlet.errorBody(status == 404 ? "SESSION_UNKNOWN" : "NOT_READY",
                    status == 404 ? "session ended" : "instance stopping; retry"));
        }
    }

    /** Never waits for the client: the container writes the answer (a client that does not read loses it). */
    private void answer(AsyncContext ctx, int status, String peer, String body) {
        (status != 200 ? meters.closed() : body.isEmpty() ? meters.empty() : meters.message()).increment();
        meters.open().decrementAndGet();
        AsyncAnswer.send(ctx, status, peer, body, meters.unwritten()::increment);
    }
}
