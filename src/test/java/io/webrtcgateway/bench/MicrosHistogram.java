package io.webrtcgateway.bench;

import java.util.concurrent.atomic.AtomicLongArray;

/**
 * Latencies in whole microseconds, one bucket each up to 1 s (longer ones count as 1 s), lock-free: the
 * benches' receiver threads record into it while the driver reads percentiles.
 */
final class MicrosHistogram {
    private static final int BUCKETS = 1_000_000;

    private final AtomicLongArray counts = new AtomicLongArray(BUCKETS + 1);

    void record(long micros) {
        counts.incrementAndGet((int) Math.min(BUCKETS, Math.max(0, micros)));
    }

    /** The smallest latency (µs) at or below which a fraction q of the samples lie, for each q; 0 when empty. */
    double[] percentiles(double... qs) {
        long total = 0;
        for (int i = 0; i <= BUCKETS; i++) {
            total += counts.get(i);
        }
        double[] out = new double[qs.length];
        for (int q = 0; q < qs.length; q++) {
            long target = (long) Math.ceil(qs[q] * total);
            long seen = 0;
            for (int i = 0; i <= BUCKETS; i++) {
                seen += counts.get(i);
                if (seen >= target && target > 0) {
                    out[q] = i;
                    break;
                }
            }
        }
        return out;
    }
}
