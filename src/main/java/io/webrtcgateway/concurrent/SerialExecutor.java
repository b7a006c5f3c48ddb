package io.webrtcgateway.concurrent;

import java.util.ArrayDeque;
import java.util.concurrent.Executor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs tasks one at a time, in submission order, on a shared pool: an actor's mailbox. Logic that runs
 * only on one SerialExecutor needs no locks. A task that throws is logged and does not stop the queue.
 *
 * <p>The queue is bounded where a bound is safe. {@link #tryExecute} refuses a task once a given number wait:
 * for requests from outside (a browser's), which the caller can answer with an error the client understands
 * and retry. {@link #execute} always queues: for the actor's own events (SIP messages, timers, media state),
 * which must never be lost — a dropped BYE or timer would leave a call half-ended, holding its ports — and
 * whose number is bounded where they come from (SIP rate limits, a few timers per call).
 */
public final class SerialExecutor implements Executor {
    private static final Logger LOG = LoggerFactory.getLogger(SerialExecutor.class);

    private final Executor pool;
    /** Guarded by itself. */
    private final ArrayDeque<Runnable> queue = new ArrayDeque<>();
    /** Guarded by {@link #queue}. */
    private boolean running;

    public SerialExecutor(Executor pool) {
        this.pool = pool;
    }

    @Override
    public void execute(Runnable task) {
        enqueue(task, Integer.MAX_VALUE);
    }

    /**
     * Queues {@code task} unless {@code maxWaiting} tasks already wait to run (the running one not counted);
     * returns whether it was taken. Checked and queued under one lock: the bound is exact.
     */
    public boolean tryExecute(Runnable task, int maxWaiting) {
        return enqueue(task, maxWaiting);
    }

    private boolean enqueue(Runnable task, int maxWaiting) {
        synchronized (queue) {
            if (queue.size() >= maxWaiting) {
                return false;
            }
            queue.add(task);
            if (running) {
                return true;
            }
            running = true;
        }
        pool.execute(this::drain);
        return true;
    }

    private void drain() {
        while (true) {
            Runnable next;
            synchronized (queue) {
                next = queue.poll();
                if (next == null) {
                    running = false;
                    return;
                }
            }
            try {
                next.run();
            } catch (Throwable t) {
                LOG.error("task failed", t);
            }
        }
    }
}
