package io.webrtcgateway.media.ice;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Runs a transport's events (state changes, trickled candidates) in the order they were posted, one at a
 * time, outside any lock: on the given executor, or else on the posting thread. A listener that posts again
 * (say, closes the transport from a state listener) has its event queued behind the current one, not run
 * inside it.
 */
final class OrderedEvents {

    private static final Logger LOG = LoggerFactory.getLogger(OrderedEvents.class);

    private final String owner;
    private final Executor executor;
    private final ConcurrentLinkedQueue<Runnable> pending = new ConcurrentLinkedQueue<>();
    private final AtomicBoolean draining = new AtomicBoolean();

    OrderedEvents(String owner, Executor executor) {
        this.owner = owner;
        this.executor = executor;
    }

    void post(List<Runnable> events) {
        if (events.isEmpty()) {
            return;
        }
        pending.addAll(events);
        if (executor == null) {
            drain();
            return;
        }
        try {
            executor.execute(this::drain);
        } catch (RejectedExecutionException e) {
            LOG.debug("{}: event executor refused events (shut down?)", owner);
        }
    }

    private void drain() {
        while (draining.compareAndSet(false, true)) {
            try {
                Runnable event;
                while ((event = pending.poll()) != null) {
                    try {
                        event.run();
                    } catch (RuntimeException e) {
                        LOG.warn("{}: event listener failed", owner, e);
                    }
                }
            } finally {
                draining.set(false);
            }
            // An event posted between the last poll and the release of the flag found us still draining.
            if (pending.isEmpty()) {
                return;
            }
        }
    }
}
