package io.webrtcgateway.bench.soak;

import java.util.List;

/**
 * Whether a figure sampled once a minute stayed flat: the least-squares line through the last three quarters of
 * the samples (the first quarter is warm-up: the JIT, pools growing to their working size, the heap settling; and
 * never the first minute, right after the ramp, when there are three or more),
 * and how much it rises across them, against a tolerance of {@code absolute} or {@code relative} of the mean,
 * whichever is larger. Falling is flat: only growth is a leak.
 *
 * @param firstMinute the first minute judged (minutes count from 1)
 * @param rise the fitted line's value at the last minute judged minus its value at the first
 */
record SoakTrend(String name, int firstMinute, int lastMinute, double slopePerMinute, double rise, double tolerance) {

    boolean flat() {
        return rise <= tolerance;
    }

    /** {@code perMinute.get(i)} is minute i + 1's sample. */
    static SoakTrend of(String name, List<Double> perMinute, double absolute, double relative) {
        int n = perMinute.size();
        // At least the first minute, right after the ramp when every call is new, once there are three to judge.
        int from = Math.max(n / 4, Math.min(1, n - 2));
        List<Double> judged = perMinute.subList(from, n);
        int m = judged.size();
        double mean = judged.stream().mapToDouble(Double::doubleValue).average().orElse(0);
        double tolerance = Math.max(absolute, relative * Math.abs(mean));
        if (m < 2) {
            return new SoakTrend(name, from + 1, n, 0, 0, tolerance);
        }
        double meanX = (m - 1) / 2.0;
        double sxy = 0;
        double sxx = 0;
        for (int i = 0; i < m; i++) {
            sxy += (i - meanX) * (judged.get(i) - mean);
            sxx += (i - meanX) * (i - meanX);
        }
        double slope = sxy / sxx;
        return new SoakTrend(name, from + 1, n, slope, slope * (m - 1), tolerance);
    }

    @Override
    public String toString() {
        return String.format("%s %s: %+.1f over minutes %d-%d (%+.2f per minute; tolerance %.1f)", name,
                flat() ? "flat" : "GROWS", rise, firstMinute, lastMinute, slopePerMinute, tolerance);
    }
}
