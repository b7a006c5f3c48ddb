package io.webrtcgateway.media.rtp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class StreamStatsTest {

    private static final long MS = TimeUnit.MILLISECONDS.toNanos(1);
    private static final long T0 = 5_000_000_000L;

    @Test
    void lossCountsSequenceGaps() {
        StreamStats stats = new StreamStats();
        Set<Integer> missing = Set.of(3, 4, 50, 98);
        for (int i = 0; i < 100; i++) {
            if (!missing.contains(i)) {
                stats.rtpForwarded(1000 + i, 160L * i, 172, 8000, false, T0 + 20 * MS * i);
            }
        }
        StreamStats.Snapshot s = stats.snapshot();
        assertEquals(96, s.packets());
        assertEquals(96 * 172, s.bytes());
        assertEquals(4, s.lost());
    }

    @Test
    void lossAcrossSequenceWrapReorderingAndDuplicates() {
        StreamStats stats = new StreamStats();
        int[] order = {65530, 65531, 65533, 65532, 65534, 65535, 0, 0, 2, 3, 5, 6};
        long t = T0;
        for (int seq : order) {
            stats.rtpForwarded(seq, 0, 100, 8000, false, t += 20 * MS);
        }
        // expected 65530..6 = 13 packets; received 12 of which one duplicate; missing 1 and 4 -> 2 lost - 1 dup
        assertEquals(1, stats.snapshot().lost());
    }

    @Test
    void lossIsKeptAcrossSourcesAndRestarts() {
        StreamStats stats = new StreamStats();
        for (int seq : new int[] {10, 11, 13, 14}) {
            stats.rtpForwarded(seq, 0, 100, 8000, false, T0);
        }
        stats.sourceChanged();
        for (int seq : new int[] {500, 502, 503}) {
            stats.rtpForwarded(seq, 0, 100, 8000, false, T0);
        }
        // a restart of the sequence (jump > MAX_DROPOUT, confirmed by the next packet) is no loss
        stats.rtpForwarded(40000, 0, 100, 8000, false, T0);
        stats.rtpForwarded(40001, 0, 100, 8000, false, T0);
        stats.rtpForwarded(40003, 0, 100, 8000, false, T0);
        StreamStats.Snapshot s = stats.snapshot();
        assertEquals(3, s.lost());
        assertEquals(1, s.sourceChanges());
    }

    @Test
    void jitterIsZeroForPerfectPacing() {
        StreamStats stats = new StreamStats();
        for (int i = 0; i < 200; i++) {
            stats.rtpForwarded(i, 1234 + 160L * i, 172, 8000, false, T0 + 20 * MS * i);
        }
        assertEquals(0.0, stats.snapshot().jitterMs(), 0.01);
    }

    @Test
    void jitterFollowsRfc3550A8() {
        StreamStats stats = new StreamStats();
        double reference = 0; // J += (|D| - J) / 16, in timestamp units
        long lastTransitUnits = 0;
        for (int i = 0; i < 400; i++) {
            long delayMs = (i % 2 == 1) ? 5 : 0;
            if (i % 7 == 0) {
                delayMs = 12;
            }
            long arrivalNanos = T0 + 20 * MS * i + delayMs * MS;
            long ts = 160L * i;
            stats.rtpForwarded(i, ts, 172, 8000, false, arrivalNanos);
            long transit = (arrivalNanos - T0) / 1000 * 8000 / 1_000_000 - ts;
            if (i > 0) {
                reference += (Math.abs(transit - lastTransitUnits) - reference) / 16;
            }
            lastTransitUnits = transit;
        }
        double referenceMs = reference / 8.0;
        double measured = stats.snapshot().jitterMs();
        assertTrue(referenceMs > 3, "the synthetic stream has jitter: " + referenceMs);
        assertEquals(referenceMs, measured, 0.2);
    }

    @Test
    void telephoneEventsStayOutOfTheJitterEstimate() {
        StreamStats stats = new StreamStats();
        for (int i = 0; i < 100; i++) {
            // an event repeats its start timestamp for 100 packets: as audio it would look like huge jitter
            stats.rtpForwarded(i, 8000, 16, 8000, true, T0 + 50 * MS * i);
        }
        assertEquals(0.0, stats.snapshot().jitterMs(), 0.001);
        assertEquals(100, stats.snapshot().packets());
    }

    @Test
    void jitterAt48kHzHasTheSameMeaningInMilliseconds() {
        StreamStats stats = new StreamStats();
        for (int i = 0; i < 2000; i++) {
            long delayMs = (i % 2 == 1) ? 4 : 0;
            stats.rtpForwarded(i, 960L * i, 100, 48000, false, T0 + 20 * MS * i + delayMs * MS);
        }
        assertEquals(4.0, stats.snapshot().jitterMs(), 0.1);
    }

    @Test
    void dropsAndHooksAreCountedByCause() {
        StreamStats stats = new StreamStats();
        stats.malformed();
        stats.malformed();
        stats.unknownSsrc();
        stats.unknownPayloadType();
        stats.gated();
        stats.sendFailed();
        stats.srtpAuthFailure();
        stats.srtpReplay();
        StreamStats.Snapshot s = stats.snapshot(7, 0x9abcdef0, null);
        assertEquals(0x9abcdef0L, s.ssrc(), "unsigned");
        assertEquals(null, s.sourceSsrc());
        assertEquals(0x12345678L, stats.snapshot(0, 1, 0x12345678).sourceSsrc());
        StreamStats.Drops d = s.drops();
        assertEquals(new StreamStats.Drops(2, 1, 1, 7, 1, 1, 1, 1), d);
        assertEquals(15, d.total());
        assertTrue(Double.isNaN(stats.snapshot().rttMs()));
        stats.rtt(40_000);
        assertEquals(40.0, stats.snapshot().rttMs(), 1e-9);
    }
}
