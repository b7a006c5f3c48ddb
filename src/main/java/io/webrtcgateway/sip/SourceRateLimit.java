package io.webrtcgateway.sip;

import io.github.bucket4j.Bucket;
import io.github.bucket4j.ConsumptionProbe;
import io.github.bucket4j.TimeMeter;
import java.net.InetAddress;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * gateway.sip.max-requests-per-second: a token bucket per source address (Bucket4j), holding one second's
 * worth and refilled continuously, so a source may burst that many requests and keep up that rate. No source
 * is exempt, SIP Servers included: one host must not be able to keep the SIP stack's threads busy.
 *
 * <p>Memory is bounded: at most {@code maxTracked} sources are remembered, the least recently seen dropped
 * first. A dropped source comes back with a full bucket, so rotating through more addresses than that buys
 * a sender nothing it could not get from that many fresh addresses anyway. O(1) per request under this
 * object's lock; the bucket itself is lock-free.
 */
final class SourceRateLimit {
    static final int MAX_TRACKED = 10_000;

    private final long perSecond;
    private final TimeMeter clock;
    /** Source -> its bucket, least recently used first. Guarded by this. */
    private final Map<InetAddress, Bucket> buckets;

    /** {@code perSecond} 0: no limit. */
    SourceRateLimit(int perSecond) {
        this(perSecond, MAX_TRACKED, TimeMeter.SYSTEM_NANOTIME);
    }

    SourceRateLimit(int perSecond, int maxTracked, TimeMeter clock) {
        this.perSecond = perSecond;
        this.clock = clock;
        this.buckets = new LinkedHashMap<>(16, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<InetAddress, Bucket> eldest) {
                return size() > maxTracked;
            }
        };
    }

    /**
     * Takes a token for one request from {@code source}: 0 if it may go on, else the nanoseconds until the
     * source has a token again (for Retry-After).
     */
    long tryAcquire(InetAddress source) {
        if (perSecond == 0 || source == null) {
            return 0;
        }
        Bucket bucket;
        synchronized (this) {
            bucket = buckets.computeIfAbsent(source, s -> Bucket.builder()
                    .addLimit(limit -> limit.capacity(perSecond).refillGreedy(perSecond, Duration.ofSeconds(1)))
                    .withCustomTimePrecision(clock)
                    .build());
        }
        ConsumptionProbe probe = bucket.tryConsumeAndReturnRemaining(1);
        return probe.isConsumed() ? 0 : Math.max(1, probe.getNanosToWaitForRefill());
    }

    /** Sources remembered now. */
    synchronized int tracked() {
        return buckets.size();
    }
}
