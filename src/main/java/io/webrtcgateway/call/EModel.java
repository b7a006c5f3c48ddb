package io.webrtcgateway.call;

/**
 * An estimated MOS for one direction of a call's audio: a simplified ITU-T G.107 E-model (narrowband scale,
 * R 0-100), computed once at the end of a call from what the gateway measured. Pure functions.
 *
 * <pre>
 * R      = 93.2 - Id(d) - Ie,eff(codec, Ppl)                      G.107 §7 with every other input at its default
 * Id(d)  = 0.024 d + 0.11 (d - 177.3) H(d - 177.3)                 Cole &amp; Rosenbluth (2001): G.107's delay terms
 *                                                                  fitted for default echo values, d one-way in ms
 * Ie,eff = Ie + (95 - Ie) Ppl / (Ppl + Bpl)                        G.107 (7-29), random loss (BurstR = 1)
 * MOS    = 1 + 0.035 R + R (R - 60) (100 - R) 7e-6                 G.107 Annex B (B-4); 1 below R = 0, 4.5 above 100
 * </pre>
 *
 * What is simplified, and why (docs/metrics.md, "Call quality"):
 * <ul>
 *   <li>93.2 is G.107's R for default values (Ro - Is, Table 3); the advantage factor A is 0.</li>
 *   <li>The one-way delay d is not measured end to end (no party reports mouth-to-ear delay): it is estimated as
 *       half of each leg's RTT (from RTCP, RFC 3550 §6.4.1; an unknown RTT counts 0) plus a jitter buffer of twice
 *       the interarrival jitter plus one 20 ms packet ({@link #oneWayDelayMs}).</li>
 *   <li>Loss is the RFC 3550 cumulative loss the gateway saw on the leg the audio arrived on, taken as random
 *       (BurstR = 1): loss after the gateway and burstiness are not included.</li>
 *   <li>Ie and Bpl come from G.113 Appendix I for G.711 with packet loss concealment (Ie 0, Bpl 25.1). The E-model
 *       has no narrowband values for Opus and G.722 (wideband codecs, G.107.1's scale): they are scored like G.711
 *       with PLC, which underrates them (Opus's FEC, the wider band) but keeps one scale for every call.</li>
 * </ul>
 */
public final class EModel {

    /** G.107's R with every parameter at its default and no delay or equipment impairment. */
    public static final double R_DEFAULT = 93.2;
    /** A 20 ms packet: the packetization delay browsers and phones use by default (a=ptime:20). */
    static final double PACKET_MS = 20;

    /** Equipment impairment Ie and packet-loss robustness Bpl of a codec (G.113 Appendix I). */
    public record Codec(double ie, double bpl) {}

    /** G.711 with packet loss concealment, random loss (G.113 Table I.3). */
    static final Codec G711_PLC = new Codec(0, 25.1);

    private EModel() {}

    /**
     * The values for an encoding name of the SDP ("PCMU", "opus"...). Every audio codec the bridge relays (PCMU,
     * PCMA, G.722, Opus: sdp.BridgedCodecs) gets G.711's with PLC; see the class comment for Opus and G.722. A
     * codec with values of its own in G.113 (G.729: Ie 11, Bpl 19) would get them here once the bridge relays it.
     */
    public static Codec codec(String encodingName) {
        return G711_PLC;
    }

    /** Delay impairment Id for a one-way mouth-to-ear delay of {@code d} ms (Cole &amp; Rosenbluth). */
    public static double delayImpairment(double d) {
        double id = 0.024 * d;
        if (d > 177.3) {
            id += 0.11 * (d - 177.3);
        }
        return id;
    }

    /** Effective equipment impairment Ie,eff for {@code lossPercent} (0-100) random loss, G.107 (7-29). */
    public static double effectiveEquipmentImpairment(Codec codec, double lossPercent) {
        double ppl = Math.max(0, Math.min(100, lossPercent));
        return codec.ie() + (95 - codec.ie()) * ppl / (ppl + codec.bpl());
    }

    /** The transmission rating R. */
    public static double rating(Codec codec, double lossPercent, double oneWayDelayMs) {
        return R_DEFAULT - delayImpairment(Math.max(0, oneWayDelayMs))
                - effectiveEquipmentImpairment(codec, lossPercent);
    }

    /** G.107 Annex B: MOS (conversational quality, estimated) from R, kept within 1-4.5. */
    public static double mos(double r) {
        if (r <= 0) {
            return 1;
        }
        if (r >= 100) {
            return 4.5;
        }
        double mos = 1 + 0.035 * r + r * (r - 60) * (100 - r) * 7e-6;
        // For R below about 6.5 the polynomial dips under 1; MOS has no value under 1.
        return Math.max(1, mos);
    }

    /**
     * The estimated one-way delay: half of each leg's RTT (NaN: unknown, counts 0), a jitter buffer of twice the
     * jitter, one packet.
     */
    public static double oneWayDelayMs(double browserLegRttMs, double sipLegRttMs, double jitterMs) {
        double rtt = (Double.isNaN(browserLegRttMs) ? 0 : browserLegRttMs) + (Double.isNaN(sipLegRttMs) ? 0 : sipLegRttMs);
        return rtt / 2 + 2 * Math.max(0, jitterMs) + PACKET_MS;
    }

    /** The whole estimate for one direction: MOS from codec, loss, jitter and the two legs' RTTs. */
    public static double estimate(String codec, double lossPercent, double jitterMs, double browserLegRttMs,
                                  double sipLegRttMs) {
        return mos(rating(codec(codec), lossPercent, oneWayDelayMs(browserLegRttMs, sipLegRttMs, jitterMs)));
    }
}
