package io.webrtcgateway.media.rtp;

import java.util.concurrent.atomic.AtomicLongArray;

/**
 * When the relay forwarded the last few SRs of one direction, keyed by their NTP middle 32 bits. A receiver
 * echoes that value as LSR and adds how long it held it (DLSR, RFC 3550 §6.4.1), so
 * {@code arrival - forwarded - DLSR} is the round trip of the leg between the relay and that receiver —
 * measured on the relay's clock alone, whatever the two ends' clocks say.
 *
 * <p>Written by the thread forwarding the SRs, read by the thread receiving the reports: each entry is one
 * long (LSR in the high half, forwarding time in NTP short format in the low half), so a reader never
 * sees half an entry.
 */
final class ForwardedSenderReports {

    private static final int SLOTS = 8;

    private final AtomicLongArray entries = new AtomicLongArray(SLOTS);
    /** Writer thread only. */
    private int next;

    void forwarded(long lsr, long nowShort) {
        entries.set(next, (lsr << 32) | (nowShort & 0xffffffffL));
        next = (next + 1) % SLOTS;
    }

    /**
     * The round trip in NTP short units (1/65536 s) for a report block's LSR/DLSR received at
     * {@code nowShort}, or -1 when the SR is not one of ours or the result makes no sense.
     */
    long roundTrip(long lsr, long dlsr, long nowShort) {
        if (lsr == 0) {
            return -1; // no SR received yet (§6.4.1)
        }
        for (int i = 0; i < SLOTS; i++) {
            long entry = entries.get(i);
            if (entry != 0 && (entry >>> 32) == lsr) {
                long rtt = (nowShort - (entry & 0xffffffffL) - dlsr) & 0xffffffffL;
                return rtt < 0x80000000L ? rtt : -1;
            }
        }
        return -1;
    }

    /** A monotonic clock in NTP short format (16.16 seconds), relative to {@code epochNanos}. */
    static long ntpShort(long nowNanos, long epochNanos) {
        long micros = (nowNanos - epochNanos) / 1000;
        return (micros * 65536 / 1_000_000) & 0xffffffffL;
    }

    static long shortToMicros(long units) {
        return units * 1_000_000 / 65536;
    }
}
