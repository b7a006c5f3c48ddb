package io.webrtcgateway.media.rtp;

import java.util.Arrays;

/**
 * One direction's payload types: which incoming PT becomes which outgoing PT, and its clock rate. The two
 * legs negotiate their own numbers (Chrome offers telephone-event/8000 as 126, a SIP media server often
 * uses 101; dynamic codec PTs differ too), so the relay renumbers each packet. A PT missing from the map
 * was not negotiated: such packets are dropped and counted.
 *
 * <p>Immutable; the relay swaps a whole map after a re-negotiation. Codecs are the same on both legs
 * (no transcoding), so a telephone-event's clock rate is that of the audio codec it goes with.
 */
public final class PayloadTypeMap {

    private final byte[] out;
    private final int[] clockRate;
    private final boolean[] event;

    private PayloadTypeMap(byte[] out, int[] clockRate, boolean[] event) {
        this.out = out;
        this.clockRate = clockRate;
        this.event = event;
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Every PT but 64..95 passes under its own number, at one clock rate: for tests and trivial legs. */
    public static PayloadTypeMap identity(int clockRate) {
        Builder b = builder();
        for (int pt = 0; pt < 128; pt++) {
            if (pt < 64 || pt > 95) {
                b.map(pt, pt, clockRate);
            }
        }
        return b.build();
    }

    /** The outgoing PT for {@code inPt}, or -1 when it was not negotiated. */
    public int map(int inPt) {
        return out[inPt];
    }

    /** Clock rate of {@code inPt} in Hz, 0 when unknown (then no jitter is computed for it). */
    public int clockRate(int inPt) {
        return clockRate[inPt];
    }

    /** RFC 4733 events repeat one timestamp for a whole event: they are left out of the jitter estimate. */
    public boolean isTelephoneEvent(int inPt) {
        return event[inPt];
    }

    /**
     * The outgoing telephone-event PT to generate DTMF with, -1 when none was negotiated. With several
     * (telephone-event/8000 and /48000 beside Opus), the 8 kHz one: what SIP media servers use with G.711/G.722.
     */
    public int telephoneEventOut() {
        int in = telephoneEventIn();
        return in < 0 ? -1 : out[in];
    }

    /** Clock rate of {@link #telephoneEventOut()}'s events, 0 when there is none. */
    public int telephoneEventClockRate() {
        int in = telephoneEventIn();
        return in < 0 ? 0 : clockRate[in];
    }

    private int telephoneEventIn() {
        int found = -1;
        for (int pt = 0; pt < 128; pt++) {
            if (event[pt] && out[pt] >= 0 && clockRate[pt] > 0) {
                if (clockRate[pt] == 8000) {
                    return pt;
                }
                if (found < 0) {
                    found = pt;
                }
            }
        }
        return found;
    }

    /** The map of the opposite direction (outgoing PTs become incoming ones). */
    public PayloadTypeMap reversed() {
        Builder b = builder();
        for (int pt = 0; pt < 128; pt++) {
            if (out[pt] >= 0) {
                if (event[pt]) {
                    b.telephoneEvent(out[pt], pt, clockRate[pt]);
                } else {
                    b.map(out[pt], pt, clockRate[pt]);
                }
            }
        }
        return b.build();
    }

    @Override
    public String toString() {
        StringBuilder s = new StringBuilder("PayloadTypeMap{");
        for (int pt = 0; pt < 128; pt++) {
            if (out[pt] >= 0) {
                s.append(pt).append("->").append(out[pt]).append(event[pt] ? "(event)" : "").append('/')
                        .append(clockRate[pt]).append(' ');
            }
        }
        return s.append('}').toString();
    }

    public static final class Builder {
        private final byte[] out = new byte[128];
        private final int[] clockRate = new int[128];
        private final boolean[] event = new boolean[128];

        private Builder() {
            Arrays.fill(out, (byte) -1);
        }

        public Builder map(int inPt, int outPt, int clockRateHz) {
            return put(inPt, outPt, clockRateHz, false);
        }

        /** An RFC 4733 telephone-event PT ({@code telephone-event/<clockRateHz>}). */
        public Builder telephoneEvent(int inPt, int outPt, int clockRateHz) {
            return put(inPt, outPt, clockRateHz, true);
        }

        private Builder put(int inPt, int outPt, int clockRateHz, boolean isEvent) {
            if (inPt < 0 || inPt > 127 || outPt < 0 || outPt > 127) {
                throw new IllegalArgumentException("payload types are 0..127: " + inPt + " -> " + outPt);
            }
            if ((inPt >= 64 && inPt <= 95) || (outPt >= 64 && outPt <= 95)) {
                // RFC 5761 §4: these collide with RTCP packet types on a multiplexed port
                throw new IllegalArgumentException("payload types 64..95 cannot be used with rtcp-mux: "
                        + inPt + " -> " + outPt);
            }
            if (clockRateHz < 0) {
                throw new IllegalArgumentException("clock rate must be >= 0: " + clockRateHz);
            }
            out[inPt] = (byte) outPt;
            clockRate[inPt] = clockRateHz;
            event[inPt] = isEvent;
            return this;
        }

        public PayloadTypeMap build() {
            return new PayloadTypeMap(out.clone(), clockRate.clone(), event.clone());
        }
    }
}
