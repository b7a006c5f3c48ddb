package io.webrtcgateway.media.rtp;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.ArrayDeque;
import java.util.List;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * DTMF the gateway generates toward the SIP side (the browser's {@code dtmf} request): RFC 4733
 * telephone-events in the same RTP stream as the audio relayed from the browser, under its SSRC and in its
 * sequence and timestamp space, so the SIP side sees one stream whose numbers keep going up.
 *
 * <p>Why the audio stops meanwhile: while the gateway sends events it owns the stream's numbering; the
 * browser's audio packets of that time are dropped (an event stands in for the audio of its duration,
 * as a gateway that detects DTMF sends events instead of audio, RFC 4733 §3.1), and the first audio
 * packet after the events continues right after them ({@link StreamRewriter#continueFrom}).
 *
 * <p>Handing the stream over without a lock on the packet path: the browser -> SIP thread marks each RTP
 * packet with {@link #enter()}/{@link #exit()} (one volatile store and one release store) and reads
 * {@link #mode}. The sending thread sets {@code ACTIVE}, then waits until no packet is in {@code enter..exit}:
 * with volatile (sequentially consistent) accesses on both sides, either that packet saw {@code ACTIVE}
 * and was dropped, or the sender waits for it (Dekker's pattern), so no sequence number is used twice and
 * the rewriter's state is read after its last write. When the events are done, {@code RESUMING} tells the
 * browser thread to continue the numbering from the last event packet, which it does on its next packet.
 *
 * <p>Threads: {@link #send} on the call's executor; the plan runs on the media timer (one packet per
 * task); the packet-path methods on the browser -> SIP thread. Job state is guarded by {@code this}.
 */
public final class TelephoneEventInjector {
    private static final Logger LOG = LoggerFactory.getLogger(TelephoneEventInjector.class);

    private static final VarHandle BUSY;

    static {
        try {
            BUSY = MethodHandles.lookup().findVarHandle(TelephoneEventInjector.class, "busy", boolean.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    static final int IDLE = 0;
    static final int ACTIVE = 1;
    static final int RESUMING = 2;
    /** Digits that may wait behind the one being sent (the WS request allows 32 per request). */
    private static final int MAX_QUEUED_DIGITS = 128;

    private final PlainRtpEndpoint sip;
    private final StreamRewriter rewriter;
    private final AtomicInteger mode = new AtomicInteger(IDLE);
    /** A browser -> SIP packet is between enter and exit. */
    private volatile boolean busy;

    // Written by the sending thread before mode becomes RESUMING; read by the browser thread after.
    private int resumeSeq;
    private long resumeTs;
    private long resumeNanos;

    // Guarded by this.
    private final ArrayDeque<Job> queue = new ArrayDeque<>();
    private int queuedDigits;
    private Job running;
    private boolean closed;
    private final byte[] packet = new byte[TelephoneEventPacket.LENGTH];

    private record Job(String digits, int durationMs, int payloadType, int clockRate, ScheduledExecutorService timer) {}

    TelephoneEventInjector(PlainRtpEndpoint sip, StreamRewriter rewriter) {
        this.sip = sip;
        this.rewriter = rewriter;
    }

    // ---- packet path (browser -> SIP thread) -----------------------------------------------------------

    void enter() {
        busy = true;
    }

    void exit() {
        BUSY.setRelease(this, false);
    }

    /** Whether the packet path must ask {@link #admit}; a plain volatile read. */
    boolean engaged() {
        return mode.get() != IDLE;
    }

    /** Between enter and exit: false when the packet must be dropped (the events own the stream). */
    boolean admit() {
        int m = mode.get();
        if (m == RESUMING && mode.compareAndSet(RESUMING, IDLE)) {
            rewriter.continueFrom(resumeSeq, resumeTs, resumeNanos);
            return true;
        }
        return m == IDLE;
    }

    // ---- control (call executor) ----------------------------------------------------------------------

    /**
     * Queues {@code digits} to be sent as events of {@code payloadType} at {@code clockRate}; returns false
     * when too many digits are waiting already or the relay is closed.
     */
    public synchronized boolean send(String digits, int durationMs, int payloadType, int clockRate,
                                     ScheduledExecutorService timer) {
        if (closed || queuedDigits + digits.length() > MAX_QUEUED_DIGITS) {
            return false;
        }
        TelephoneEventPacket.plan(digits, durationMs, clockRate); // validates before anything is queued
        queue.add(new Job(digits, durationMs, payloadType, clockRate, timer));
        queuedDigits += digits.length();
        if (running == null) {
            startNext();
        }
        return true;
    }

    void close() {
        synchronized (this) {
            closed = true;
            queue.clear();
        }
    }

    // ---- sending (media timer) ------------------------------------------------------------------------

    private void startNext() {
        Job job = queue.poll();
        running = job;
        if (job == null) {
            return;
        }
        queuedDigits -= job.digits.length();
        try {
            job.timer.execute(() -> run(job));
        } catch (RejectedExecutionException e) {
            running = null; // the instance is stopping
            queue.clear();
        }
    }

    private void run(Job job) {
        int seq;
        long baseTs;
        long startNanos = System.nanoTime();
        synchronized (this) {
            if (closed) {
                return;
            }
            boolean fromRewriter = takeOver();
            if (fromRewriter) {
                StreamRewriter.Anchor a = rewriter.anchor();
                if (a.known()) {
                    seq = a.seq() + 1;
                    baseTs = a.ts() + Math.max(1, elapsedUnits(a.atNanos(), startNanos, job.clockRate));
                } else {
                    // Nothing sent yet in this direction: a random start, as RFC 3550 §5.1 asks.
                    seq = ThreadLocalRandom.current().nextInt(1 << 16);
                    baseTs = ThreadLocalRandom.current().nextLong(1L << 32);
                }
            } else {
                // The browser sent nothing since the previous events: continue after those.
                seq = resumeSeq + 1;
                baseTs = resumeTs + Math.max(1, elapsedUnits(resumeNanos, startNanos, job.clockRate));
            }
        }
        List<TelephoneEventPacket.Step> steps = TelephoneEventPacket.plan(job.digits, job.durationMs, job.clockRate);
        sendStep(job, steps, 0, seq, baseTs, startNanos);
    }

    /** The stream is ours once no browser packet is in flight; true when the numbering comes from the rewriter. */
    private boolean takeOver() {
        boolean fromRewriter;
        while (true) {
            if (mode.compareAndSet(IDLE, ACTIVE)) {
                fromRewriter = true;
                break;
            }
            if (mode.compareAndSet(RESUMING, ACTIVE)) {
                fromRewriter = false;
                break;
            }
            if (mode.get() == ACTIVE) {
                fromRewriter = true; // cannot happen (one job at a time); never spin for ever on the timer thread
                break;
            }
        }
        int spins = 0;
        while (busy) {
            if (++spins < 100) {
                Thread.onSpinWait();
            } else {
                Thread.yield(); // the browser thread was descheduled inside one packet
            }
        }
        return fromRewriter;
    }

    private void sendStep(Job job, List<TelephoneEventPacket.Step> steps, int index, int seq, long baseTs,
                          long startNanos) {
        synchronized (this) {
            if (closed) {
                mode.set(IDLE);
                return;
            }
            TelephoneEventPacket.Step step = steps.get(index);
            int s = (seq + index) & 0xffff;
            long ts = (baseTs + step.timestampOffset()) & 0xffffffffL;
            int n = TelephoneEventPacket.write(packet, 0, job.payloadType, step.marker(), s, ts, rewriter.outSsrc(),
                    step.event(), step.end(), TelephoneEventPacket.VOLUME, step.duration());
            if (!sip.sendRtp(packet, 0, n)) {
                LOG.debug("telephone-event {} not sent (no SIP-side destination yet?)", s);
            }
            if (index + 1 < steps.size()) {
                long due = startNanos + TimeUnit.MILLISECONDS.toNanos(steps.get(index + 1).atMillis());
                try {
                    job.timer.schedule(() -> sendStep(job, steps, index + 1, seq, baseTs, startNanos),
                            Math.max(0, due - System.nanoTime()), TimeUnit.NANOSECONDS);
                    return;
                } catch (RejectedExecutionException e) {
                    queue.clear(); // the instance is stopping: hand the stream back now
                }
            }
            // Done: the audio resumes at RTP time "now", right after the last event packet.
            long nowNanos = System.nanoTime();
            resumeSeq = s;
            resumeTs = (baseTs + TimeUnit.NANOSECONDS.toMillis(nowNanos - startNanos) * job.clockRate / 1000) & 0xffffffffL;
            resumeNanos = nowNanos;
            mode.set(RESUMING);
            startNext();
        }
    }

    private static long elapsedUnits(long fromNanos, long toNanos, int clockRate) {
        return (toNanos - fromNanos) / 1000 * clockRate / 1_000_000;
    }
}
