package io.webrtcgateway.concurrent;

import io.micrometer.core.instrument.Clock;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.distribution.TimeWindowMax;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.function.IntSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * How late work runs on the instance's shared executors, so that a stuck instance says so instead of
 * answering READY while nothing moves (docs/deployment.md, docs/metrics.md).
 *
 * <ul>
 *   <li>Pools (gw-worker, gw-timer): every {@link #period()} a probe task is submitted; its delay is how long
 *       it waited to start, and while it has not started, how long it has been waiting so far — a pool whose
 *       every thread is blocked shows a delay growing with the clock.</li>
 *   <li>Actor groups (every call, every registration: {@link SerialExecutor.Group}): how long the most behind
 *       actor with work has gone without finishing a task.</li>
 * </ul>
 *
 * A delay of {@code gateway.health.stuck-after} or more is "stuck": {@link #stuck()} names it (readiness
 * then reports {@code executor-stuck:<pool>}) and the threads' stacks are logged once. The watchdog runs on
 * a thread of its own, so it sees a stuck gw-timer too.
 */
public final class ExecutorWatchdog implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ExecutorWatchdog.class);
    /** Stack frames logged per thread when an executor is found stuck. */
    private static final int LOGGED_FRAMES = 12;

    private final long stuckAfterNanos;
    private final Clock clock;
    private final List<Watched> watched = new CopyOnWriteArrayList<>();
    /** Null until {@link #start}. */
    private volatile ScheduledThreadPoolExecutor thread;

    public ExecutorWatchdog(Duration stuckAfter, Clock clock) {
        this.stuckAfterNanos = stuckAfter.toNanos();
        this.clock = clock;
    }

    /** How often probes go out: a quarter of stuck-after, between 100 ms and 1 s. */
    public Duration period() {
        long quarter = stuckAfterNanos / 4;
        return Duration.ofNanos(Math.max(TimeUnit.MILLISECONDS.toNanos(100), Math.min(TimeUnit.SECONDS.toNanos(1), quarter)));
    }

    /**
     * Watches a shared pool by probing it; {@code queued} (may be null) tells how many tasks wait in it.
     * Its threads are those whose name starts with {@code name}.
     */
    public void watchPool(String name, Executor pool, IntSupplier queued) {
        watched.add(new PoolProbe(name, pool, queued));
    }

    /** Watches the actors of {@code group}, which run on the threads whose name starts with {@code threadPrefix}. */
    public void watchActors(SerialExecutor.Group group, String threadPrefix) {
        watched.add(new ActorWatch(group, threadPrefix));
    }

    /**
     * Exports, per watched executor ({@code pool} label): {@code gateway_executor_delay_seconds},
     * {@code gateway_executor_delay_max_seconds}, {@code gateway_executor_queued_tasks} (where known),
     * {@code gateway_executor_stuck} and {@code gateway_executor_stalls_total}.
     */
    public void bindTo(MeterRegistry registry) {
        for (Watched w : watched) {
            Gauge.builder("gateway.executor.delay", w, x -> x.delayNanos(clock.monotonicTime()) / 1e9)
                    .description("how late work on this executor is now: a pool's probe task waiting or its last "
                            + "wait; for call/registration actors, the longest an actor with work has gone "
                            + "without finishing a task")
                    .baseUnit("seconds").tag("pool", w.name()).register(registry);
            Gauge.builder("gateway.executor.delay.max", w.max, m -> m.poll(TimeUnit.SECONDS))
                    .description("the largest delay seen in about the last minute")
                    .baseUnit("seconds").tag("pool", w.name()).register(registry);
            Gauge.builder("gateway.executor.stuck", w, x -> x.delayNanos(clock.monotonicTime()) >= stuckAfterNanos ? 1 : 0)
                    .description("1 while the delay is at least gateway.health.stuck-after (/health/ready then "
                            + "answers 503 executor-stuck:<pool>), else 0")
                    .tag("pool", w.name()).register(registry);
            w.stalls = Counter.builder("gateway.executor.stalls")
                    .description("times this executor was found stuck (delay reached gateway.health.stuck-after)")
                    .tag("pool", w.name()).register(registry);
            if (w.queued() != null) {
                Gauge.builder("gateway.executor.queued.tasks", w.queued(), IntSupplier::getAsInt)
                        .description("tasks waiting to start on this executor")
                        .tag("pool", w.name()).register(registry);
            }
        }
    }

    /** Starts probing on a thread of its own (made by {@code threads}); {@link #close()} stops it. */
    public void start(ThreadFactory threads) {
        ScheduledThreadPoolExecutor t = new ScheduledThreadPoolExecutor(1, threads);
        long periodNanos = period().toNanos();
        t.scheduleAtFixedRate(this::tick, periodNanos, periodNanos, TimeUnit.NANOSECONDS);
        thread = t;
    }

    /** The executors stuck right now (delay at least stuck-after), by name; empty when all is well. */
    public List<String> stuck() {
        long now = clock.monotonicTime();
        List<String> names = new ArrayList<>();
        for (Watched w : watched) {
            if (w.delayNanos(now) >= stuckAfterNanos) {
                names.add(w.name());
            }
        }
        return names;
    }

    /** One round: probes out, maxima recorded, stuck/recovered transitions logged. On the watchdog's thread. */
    void tick() {
        long now = clock.monotonicTime();
        for (Watched w : watched) {
            try {
                // Before sampling: a probe that ran late since the last tick is seen here once, even if the
                // pool moved again at once (sampling sends the next probe).
                long delay = w.delayNanos(now);
                w.sample(now);
                boolean stuck = delay >= stuckAfterNanos;
                if (stuck && !w.wasStuck) {
                    w.stuckSince = now - delay;
                    if (w.stalls != null) {
                        w.stalls.increment();
                    }
                    LOG.warn("executor {} is stuck: no progress for {} ms (gateway.health.stuck-after {} ms); "
                                    + "/health/ready answers 503 executor-stuck:{} until it moves again. Its threads:{}",
                            w.name(), delay / 1_000_000, stuckAfterNanos / 1_000_000, w.name(), stacks(w.threadPrefix()));
                } else if (!stuck && w.wasStuck) {
                    LOG.info("executor {} moves again after {} ms", w.name(), (now - w.stuckSince) / 1_000_000);
                }
                w.wasStuck = stuck;
            } catch (RuntimeException e) {
                LOG.error("watchdog: checking {} failed", w.name(), e);
            }
        }
    }

    private static String stacks(String threadPrefix) {
        StringBuilder out = new StringBuilder();
        for (Map.Entry<Thread, StackTraceElement[]> e : Thread.getAllStackTraces().entrySet()) {
            if (!e.getKey().getName().startsWith(threadPrefix)) {
                continue;
            }
            out.append("\n  ").append(e.getKey().getName()).append(' ').append(e.getKey().getState());
            StackTraceElement[] frames = e.getValue();
            for (int i = 0; i < Math.min(LOGGED_FRAMES, frames.length); i++) {
                out.append("\n    at ").append(frames[i]);
            }
        }
        return out.length() == 0 ? " none named " + threadPrefix + "*" : out.toString();
    }

    @Override
    public void close() {
        ScheduledThreadPoolExecutor t = thread;
        if (t != null) {
            t.shutdownNow();
        }
    }

    /** One watched executor. The fields without a lock are touched only by the watchdog's thread (tick). */
    private abstract class Watched {
        /** Largest delays of the last minute (three 20 s buckets). */
        final TimeWindowMax max = new TimeWindowMax(clock, 20_000, 3);
        boolean wasStuck;
        long stuckSince;
        /** Set once by bindTo, before start. */
        Counter stalls;

        abstract String name();

        abstract String threadPrefix();

        abstract IntSupplier queued();

        /** How late this executor is at {@code now}, in ns. Any thread. */
        abstract long delayNanos(long now);

        /** The watchdog's periodic look. */
        abstract void sample(long now);
    }

    /** A pool probed with a task; {@link #run()} is the probe. */
    private final class PoolProbe extends Watched implements Runnable {
        private final String name;
        private final Executor pool;
        private final IntSupplier queued;
        /** When the probe in the pool was submitted; meaningful while {@link #pending}. */
        private volatile long submittedAt;
        /** A probe is in the pool and has not started yet. */
        private volatile boolean pending;
        /** How long the last probe waited to start. */
        private volatile long lastDelay;

        PoolProbe(String name, Executor pool, IntSupplier queued) {
            this.name = name;
            this.pool = pool;
            this.queued = queued;
        }

        @Override
        String name() {
            return name;
        }

        @Override
        String threadPrefix() {
            return name;
        }

        @Override
        IntSupplier queued() {
            return queued;
        }

        @Override
        long delayNanos(long now) {
            long last = lastDelay;
            return pending ? Math.max(last, now - submittedAt) : last;
        }

        @Override
        void sample(long now) {
            if (pending) {
                max.record(now - submittedAt, TimeUnit.NANOSECONDS);
                return; // one probe at a time: the waiting one measures the delay
            }
            submittedAt = now;
            pending = true;
            try {
                pool.execute(this);
            } catch (RejectedExecutionException e) {
                pending = false; // shut down: the instance is stopping
            }
        }

        @Override
        public void run() {
            long delay = clock.monotonicTime() - submittedAt;
            lastDelay = delay;
            max.record(delay, TimeUnit.NANOSECONDS);
            pending = false;
        }
    }

    private final class ActorWatch extends Watched {
        private final SerialExecutor.Group group;
        private final String threadPrefix;
        private final IntSupplier queued;

        ActorWatch(SerialExecutor.Group group, String threadPrefix) {
            this.group = group;
            this.threadPrefix = threadPrefix;
            this.queued = () -> (int) Math.min(Integer.MAX_VALUE, group.queuedTasks());
        }

        @Override
        String name() {
            return group.name();
        }

        @Override
        String threadPrefix() {
            return threadPrefix;
        }

        @Override
        IntSupplier queued() {
            return queued;
        }

        @Override
        long delayNanos(long now) {
            return group.stalledNanos(now);
        }

        @Override
        void sample(long now) {
            max.record(Math.max(group.takeLongestWaitNanos(), group.stalledNanos(now)), TimeUnit.NANOSECONDS);
        }
    }
}
