package io.webrtcgateway.concurrent;

import java.util.ArrayDeque;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs tasks one at a time, in submission order, on a shared pool: an actor's mailbox. Logic that runs
 * only on one SerialExecutor needs no locks. A task that throws is logged and does not stop the queue.
 *
 * <p>An actor takes turns on the pool's threads: {@value #TURN} tasks at most, then it queues itself behind the
 * pool's other work, so that no actor keeps a shared thread to itself while its queue stays full.
 *
 * <p>An executor created with a {@link Group} (every call, every registration) is watched: the group
 * knows which of its actors have work, how long the most behind one has gone without finishing a task,
 * how many tasks wait, and the longest any task waited to start ({@link ExecutorWatchdog}). That costs
 * three {@link System#nanoTime()} calls per task.
 *
 * <p>The queue is bounded where a bound is safe. {@link #tryExecute} refuses a task once a given number wait:
 * for requests from outside (a browser's), which the caller can answer with an error the client understands
 * and retry. {@link #execute} always queues: for the actor's own events (SIP messages, timers, media state),
 * which must never be lost — a dropped BYE or timer would leave a call half-ended, holding its ports — and
 * whose number is bounded where they come from (SIP rate limits, a few timers per call).
 */
public final class SerialExecutor implements Executor {
    private static final Logger LOG = LoggerFactory.getLogger(SerialExecutor.class);

    /** Tasks an actor runs before it lets the pool's other work have the thread (see {@link #drain}). */
    static final int TURN = 32;

    private record Queued(Runnable task, long submittedNanos) {}

    private final Executor pool;
    /** Null: not watched. */
    private final Group group;
    /** Guarded by itself. */
    private final ArrayDeque<Queued> queue = new ArrayDeque<>();
    /** Guarded by {@link #queue}. */
    private boolean running;
    /**
     * While {@link #running}: when this actor last moved (it became busy, or finished a task). Written under
     * {@link #queue} or by the one draining thread; read by the watchdog.
     */
    private volatile long progressNanos;

    public SerialExecutor(Executor pool) {
        this(pool, null);
    }

    /** An actor of {@code group}, watched with its other actors. */
    public SerialExecutor(Executor pool, Group group) {
        this.pool = pool;
        this.group = group;
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
        long now = System.nanoTime();
        synchronized (queue) {
            if (queue.size() >= maxWaiting) {
                return false;
            }
            queue.add(new Queued(task, now));
            if (group != null) {
                group.queued.increment();
            }
            if (running) {
                return true;
            }
            running = true;
            progressNanos = now;
            if (group != null) {
                group.busy.add(this);
            }
        }
        schedule();
        return true;
    }

    /** Puts {@link #drain} in the pool; while it is there or running, {@link #running} is true. */
    private void schedule() {
        try {
            pool.execute(this::drain);
        } catch (RejectedExecutionException e) {
            // The pool is shut down (instance stopping): the tasks will never run; don't leave a busy actor behind.
            synchronized (queue) {
                if (group != null) {
                    group.queued.add(-queue.size());
                    group.busy.remove(this);
                }
                queue.clear();
                running = false;
            }
            throw e;
        }
    }

    /**
     * Runs queued tasks on a pool thread. After {@link #TURN} tasks with more waiting it hands the thread back
     * and queues itself again behind what else waits in the pool: an actor flooded with work (a client sending
     * requests as fast as it can) shares the pool's threads instead of keeping one for as long as the flood lasts.
     */
    private void drain() {
        for (int ran = 0; ran < TURN; ran++) {
            Queued next;
            synchronized (queue) {
                next = queue.poll();
                if (next == null) {
                    running = false;
                    if (group != null) {
                        group.busy.remove(this);
                    }
                    return;
                }
            }
            if (group != null) {
                group.queued.decrement();
                group.started(System.nanoTime() - next.submittedNanos());
            }
            try {
                next.task().run();
            } catch (Throwable t) {
                LOG.error("task failed", t);
            }
            progressNanos = System.nanoTime();
        }
        synchronized (queue) {
            if (queue.isEmpty()) {
                running = false;
                if (group != null) {
                    group.busy.remove(this);
                }
                return;
            }
        }
        try {
            schedule();
        } catch (RejectedExecutionException e) {
            LOG.debug("actor not resumed: the pool is shut down");
        }
    }

    /**
     * The actors of one kind ("call", "registration"), watched together by {@link ExecutorWatchdog}. Only
     * actors with work are tracked, so reading it costs nothing when the instance is idle.
     */
    public static final class Group {
        private final String name;
        /** Actors with queued or running tasks; an executor adds and removes itself under its queue lock. */
        private final Set<SerialExecutor> busy = ConcurrentHashMap.newKeySet();
        private final LongAdder queued = new LongAdder();
        /** The longest a task waited to start since the last {@link #takeLongestWaitNanos()}. */
        private final AtomicLong longestWait = new AtomicLong();

        public Group(String name) {
            this.name = name;
        }

        public String name() {
            return name;
        }

        /** Tasks submitted to the group's actors and not started yet. */
        public long queuedTasks() {
            return Math.max(0, queued.sum());
        }

        /**
         * How long the most behind actor with work has gone without finishing a task (its running task
         * included), in ns; 0 when no actor has work. An actor that keeps finishing tasks is busy, not
         * stuck, however long its queue.
         */
        public long stalledNanos(long nowNanos) {
            long worst = 0;
            for (SerialExecutor e : busy) {
                worst = Math.max(worst, nowNanos - e.progressNanos);
            }
            return worst;
        }

        /** The longest a task of this group waited to start since the previous call, in ns. */
        public long takeLongestWaitNanos() {
            return longestWait.getAndSet(0);
        }

        private void started(long waitedNanos) {
            if (waitedNanos > longestWait.get()) {
                longestWait.accumulateAndGet(waitedNanos, Math::max);
            }
        }
    }
}
