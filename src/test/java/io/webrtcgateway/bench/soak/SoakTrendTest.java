package io.webrtcgateway.bench.soak;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class SoakTrendTest {

    @Test
    void aFigureThatWandersAroundItsLevelIsFlat() {
        List<Double> threads = new ArrayList<>();
        for (int i = 0; i < 60; i++) {
            threads.add(80.0 + (i % 3) - 1);
        }
        SoakTrend t = SoakTrend.of("threads", threads, 5, 0.05);
        assertTrue(t.flat(), t.toString());
        assertEquals(16, t.firstMinute(), "the first quarter is warm-up");
        assertEquals(60, t.lastMinute());
    }

    @Test
    void steadyGrowthBeyondTheToleranceIsNot() {
        List<Double> heap = new ArrayList<>();
        for (int i = 0; i < 60; i++) {
            heap.add(120.0 + 0.5 * i); // half a MB a minute: 22 MB over the judged 45 minutes
        }
        SoakTrend t = SoakTrend.of("heap", heap, 8, 0.05);
        assertFalse(t.flat(), t.toString());
        assertEquals(0.5, t.slopePerMinute(), 1e-9);
        assertEquals(22.0, t.rise(), 1e-9);
    }

    @Test
    void growthDuringTheWarmUpQuarterIsNotJudged() {
        List<Double> files = new ArrayList<>(List.of(100.0, 300.0, 500.0, 700.0));
        for (int i = 0; i < 12; i++) {
            files.add(900.0);
        }
        assertTrue(SoakTrend.of("files", files, 16, 0.05).flat());
    }

    @Test
    void aShortRunIsJudgedWithoutItsFirstMinute() {
        SoakTrend t = SoakTrend.of("heap", List.of(30.0, 34.0, 35.0), 8, 0.05);
        assertEquals(2, t.firstMinute());
        assertEquals(1.0, t.rise(), 1e-9);
        assertEquals(2, SoakTrend.of("heap", List.of(30.0, 34.0), 8, 0.05).lastMinute());
        assertEquals(1, SoakTrend.of("heap", List.of(30.0, 34.0), 8, 0.05).firstMinute(), "two minutes: both");
    }

    @Test
    void fallingIsFlatAndOneSampleIsNothingToJudge() {
        assertTrue(SoakTrend.of("udp", List.of(1000.0, 900.0, 800.0, 700.0), 16, 0.05).flat());
        SoakTrend one = SoakTrend.of("udp", List.of(1000.0), 16, 0.05);
        assertTrue(one.flat());
        assertEquals(0, one.rise());
    }
}
