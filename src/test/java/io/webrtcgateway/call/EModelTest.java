package io.webrtcgateway.call;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The simplified E-model against values published with its parts (ITU-T G.107, G.109, G.113; Cole &amp; Rosenbluth). */
class EModelTest {

    @Test
    void theDefaultRatingIsG107sAndGivesMos441() {
        // G.107 §7: R = 93.2 with every parameter at its default; G.107 Annex B maps it to MOS 4.41.
        assertEquals(93.2, EModel.rating(EModel.codec("PCMU"), 0, 0), 1e-9);
        assertEquals(4.41, EModel.mos(93.2), 0.005);
    }

    @Test
    void mosFromRMatchesTheG109Categories() {
        // ITU-T G.109 Table 1: the lower limit of each user-satisfaction category, in R and in MOS. The table gives
        // Annex B's MOS rounded up to two decimals (R 80 -> 4.024 -> 4.03, R 50 -> 2.575 -> 2.58): lower limits.
        assertEquals(4.34, roundedUp(EModel.mos(90)));
        assertEquals(4.03, roundedUp(EModel.mos(80)));
        assertEquals(3.60, roundedUp(EModel.mos(70)));
        assertEquals(3.10, roundedUp(EModel.mos(60)));
        assertEquals(2.58, roundedUp(EModel.mos(50)));
        assertEquals(4.024, EModel.mos(80), 1e-9);
    }

    private static double roundedUp(double mos) {
        return Math.ceil(mos * 100 - 1e-9) / 100;
    }

    @Test
    void mosStaysWithinOneAndFourAndAHalf() {
        assertEquals(1.0, EModel.mos(-20));
        assertEquals(1.0, EModel.mos(0));
        assertEquals(1.0, EModel.mos(3), "the Annex B polynomial dips under 1 just above R = 0");
        assertEquals(4.5, EModel.mos(100));
        assertEquals(4.5, EModel.mos(120));
    }

    @Test
    void delayImpairmentIsColeAndRosenbluthsFit() {
        // Id = 0.024 d + 0.11 (d - 177.3) H(d - 177.3): linear up to 177.3 ms, steeper after.
        assertEquals(0.0, EModel.delayImpairment(0), 1e-9);
        assertEquals(3.6, EModel.delayImpairment(150), 1e-9);
        assertEquals(4.2552, EModel.delayImpairment(177.3), 1e-9);
        assertEquals(0.024 * 300 + 0.11 * (300 - 177.3), EModel.delayImpairment(300), 1e-9);
        assertEquals(20.697, EModel.delayImpairment(300), 1e-9);
    }

    @Test
    void lossImpairmentUsesG113sValuesForG711WithPlc() {
        EModel.Codec g711 = EModel.codec("PCMA");
        // G.113 Appendix I, Table I.3: G.711 with PLC, random loss: Ie 0, Bpl 25.1.
        assertEquals(0.0, g711.ie());
        assertEquals(25.1, g711.bpl());
        // G.107 (7-29) with BurstR = 1: Ie,eff = 95 Ppl / (Ppl + 25.1).
        assertEquals(0.0, EModel.effectiveEquipmentImpairment(g711, 0), 1e-9);
        assertEquals(95.0 / 26.1, EModel.effectiveEquipmentImpairment(g711, 1), 1e-9);
        assertEquals(3.64, EModel.effectiveEquipmentImpairment(g711, 1), 0.005);
        assertEquals(15.78, EModel.effectiveEquipmentImpairment(g711, 5), 0.005);
        assertEquals(27.07, EModel.effectiveEquipmentImpairment(g711, 10), 0.005);
        // Loss is a percentage: anything outside 0-100 is clamped, never a negative impairment.
        assertEquals(0.0, EModel.effectiveEquipmentImpairment(g711, -3), 1e-9);
        assertEquals(95.0 * 100 / 125.1, EModel.effectiveEquipmentImpairment(g711, 250), 1e-9);
    }

    @Test
    void oneWayDelayIsHalfTheRttsPlusJitterBufferAndOnePacket() {
        assertEquals(20.0, EModel.oneWayDelayMs(Double.NaN, Double.NaN, 0), 1e-9, "unknown RTTs count 0");
        assertEquals(30 / 2.0 + 50 / 2.0 + 2 * 4 + 20, EModel.oneWayDelayMs(30, 50, 4), 1e-9);
        assertEquals(5 + 20, EModel.oneWayDelayMs(10, Double.NaN, -1), 1e-9, "no negative jitter");
    }

    @Test
    void aCleanCallScoresAbout44AndLossLowersIt() {
        // No loss, 10 ms RTT on each leg, 1 ms jitter: d = 10 + 2 + 20 = 32 ms, R = 93.2 - 0.768 = 92.43.
        double clean = EModel.estimate("PCMU", 0, 1, 10, 10);
        assertEquals(EModel.mos(93.2 - 0.024 * 32), clean, 1e-9);
        assertEquals(4.40, clean, 0.01);
        // 10 % loss (one packet in ten): R = 92.43 - 27.07 = 65.37, MOS 3.37.
        double lossy = EModel.estimate("PCMU", 10, 1, 10, 10);
        assertEquals(3.37, lossy, 0.01);
        assertTrue(EModel.estimate("opus", 2, 1, 10, 10) < clean);
        assertTrue(EModel.estimate("PCMU", 0, 1, 400, 400) < clean, "delay lowers it too");
    }
}
