package io.webrtcgateway.bench;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/** Percentiles of the benches' small sample lists (per call, per round), by nearest rank. */
final class NearestRank {
    private NearestRank() {}

    /** The sample at rank ceil(p / 100 * n) of the sorted values (so p99 of 50 samples is the largest); NaN if none. */
    static double percentile(List<Double> values, double p) {
        if (values.isEmpty()) {
            return Double.NaN;
        }
        List<Double> sorted = new ArrayList<>(values);
        Collections.sort(sorted);
        int rank = (int) Math.ceil(p / 100.0 * sorted.size());
        return sorted.get(Math.max(0, rank - 1));
    }
}
