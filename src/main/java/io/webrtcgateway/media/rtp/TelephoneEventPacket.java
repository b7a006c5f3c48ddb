package io.webrtcgateway.media.rtp;

import java.util.ArrayList;
import java.util.List;

/**
 * RFC 4733 telephone-event packets for DTMF digits the gateway generates: the packet layout (§2.3) and
 * the plan of which packet goes out when (§2.5.1), kept apart from any clock or socket so both are tested
 * byte for byte.
 *
 * <p>The plan for one digit of D ms, with updates every {@link #UPDATE_INTERVAL_MS}: all its packets carry
 * the timestamp of the digit's onset (§2.5.1.1; the first one has the marker bit, §2.5.1.2); at each
 * interval while the tone lasts an update with the duration so far (§2.5.1.2); when it has lasted D ms the
 * final packet, E bit set and duration D, sent three times at the update interval (§2.5.1.4). The next
 * digit starts {@link #GAP_MS} after the last of those. Every packet has its own sequence number (RFC 3550
 * §5.1), as libwebrtc's RTCDTMFSender sends them too.
 */
public final class TelephoneEventPacket {

    /** RTP header without CSRCs (12) + the event payload (4). */
    public static final int LENGTH = 16;
    /** The RFC's own example pace (§5); 50 ms also keeps the event well inside any jitter buffer. */
    public static final int UPDATE_INTERVAL_MS = 50;
    /** Pause between digits, as RTCDTMFSender's default inter-tone gap (W3C webrtc-pc §7.2). */
    public static final int GAP_MS = 70;
    /** Power level -10 dBm0 (§2.3.4: 0 to -63 dBm0 as 0..63); a typical DTMF level. */
    public static final int VOLUME = 10;
    /** Final packets of an event are sent this many times (§2.5.1.4). */
    public static final int END_REPEATS = 3;

    private TelephoneEventPacket() {}

    /** RFC 4733 §3.2 event code of a DTMF digit: 0-9, * 10, # 11, A-D 12-15; -1 for anything else. */
    public static int eventCode(char digit) {
        if (digit >= '0' && digit <= '9') {
            return digit - '0';
        }
        return switch (Character.toUpperCase(digit)) {
            case '*' -> 10;
            case '#' -> 11;
            case 'A' -> 12;
            case 'B' -> 13;
            case 'C' -> 14;
            case 'D' -> 15;
            default -> -1;
        };
    }

    /**
     * Writes one event packet (RTP header, RFC 3550 §5.1, no CSRC/extension/padding; payload §2.3:
     * event, E, R=0, volume, duration) at {@code off}; returns {@link #LENGTH}.
     */
    public static int write(byte[] b, int off, int payloadType, boolean marker, int seq, long timestamp, int ssrc,
                            int event, boolean end, int volume, int duration) {
        b[off] = (byte) 0x80;
        b[off + 1] = (byte) ((marker ? 0x80 : 0) | (payloadType & 0x7f));
        b[off + 2] = (byte) (seq >>> 8);
        b[off + 3] = (byte) seq;
        b[off + 4] = (byte) (timestamp >>> 24);
        b[off + 5] = (byte) (timestamp >>> 16);
        b[off + 6] = (byte) (timestamp >>> 8);
        b[off + 7] = (byte) timestamp;
        b[off + 8] = (byte) (ssrc >>> 24);
        b[off + 9] = (byte) (ssrc >>> 16);
        b[off + 10] = (byte) (ssrc >>> 8);
        b[off + 11] = (byte) ssrc;
        b[off + 12] = (byte) event;
        b[off + 13] = (byte) ((end ? 0x80 : 0) | (volume & 0x3f));
        b[off + 14] = (byte) (duration >>> 8);
        b[off + 15] = (byte) duration;
        return LENGTH;
    }

    /**
     * One packet of a plan: sent {@code atMillis} after the plan starts; {@code timestampOffset} (clock
     * units) is added to the timestamp of the plan's start; {@code duration} in clock units.
     */
    public record Step(long atMillis, int event, boolean marker, boolean end, long timestampOffset, int duration) {}

    /**
     * The packets for {@code digits} ({@code 0-9*#A-D}), each {@code durationMs} long, at {@code clockRate}
     * Hz. A duration is capped to what the 16-bit duration field holds (8.19 s at 8 kHz, 1.36 s at 48 kHz),
     * so no event needs the segments of §2.5.1.3.
     */
    public static List<Step> plan(String digits, int durationMs, int clockRate) {
        if (clockRate <= 0) {
            throw new IllegalArgumentException("clock rate must be > 0: " + clockRate);
        }
        long maxMs = 0xffffL * 1000 / clockRate;
        long toneMs = Math.max(1, Math.min(durationMs, maxMs));
        int fullDuration = (int) (toneMs * clockRate / 1000);
        List<Step> steps = new ArrayList<>();
        long onset = 0;
        for (int i = 0; i < digits.length(); i++) {
            int event = eventCode(digits.charAt(i));
            if (event < 0) {
                throw new IllegalArgumentException("not a DTMF digit: '" + digits.charAt(i) + "'");
            }
            long tsOffset = onset * clockRate / 1000;
            long at = UPDATE_INTERVAL_MS;
            boolean first = true;
            while (at < toneMs) {
                steps.add(new Step(onset + at, event, first, false, tsOffset, (int) (at * clockRate / 1000)));
                first = false;
                at += UPDATE_INTERVAL_MS;
            }
            for (int r = 0; r < END_REPEATS; r++) {
                steps.add(new Step(onset + at, event, first && r == 0, true, tsOffset, fullDuration));
                at += UPDATE_INTERVAL_MS;
            }
            onset += at - UPDATE_INTERVAL_MS + GAP_MS;
        }
        return steps;
    }
}
