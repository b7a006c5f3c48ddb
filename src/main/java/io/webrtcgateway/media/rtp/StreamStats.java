package io.webrtcgateway.media.rtp;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.atomic.LongAdder;

/**
 * Counters of one relay direction (browser -> SIP or SIP -> browser), as received from that direction's
 * sender: packets and bytes forwarded, loss from sequence gaps (RFC 3550 A.1, A.3), interarrival jitter
 * (A.8), the RTT of the leg this direction sends to (from RTCP LSR/DLSR, §6.4.1), and drops by cause.
 *
 * <p>Why not LongAdder/AtomicLong for everything: each direction's packets are handled by one thread at a
 * time (the SIP socket's loop thread, or the browser transport's thread), so the per-packet counters are
 * plain fields of that writer; a release store of {@link #published} after each packet and an acquire
 * load before reading make a snapshot see complete values (JLS 17.4.5 happens-before through the
 * VarHandle pair). That costs a plain store on x86 instead of a locked instruction per counter. The few
 * counters another thread bumps (SRTP auth/replay failures from the SRTP layer) are LongAdders.
 */
public final class StreamStats {

    private static final VarHandle PUBLISHED;

    static {
        try {
            PUBLISHED = MethodHandles.lookup().findVarHandle(StreamStats.class, "published", long.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /** RFC 3550 A.1: beyond this jump forward, a sequence number starts a new run (after two in a row). */
    private static final int MAX_DROPOUT = 3000;
    private static final int MAX_MISORDER = 100;
    private static final int SEQ_MOD = 1 << 16;

    @SuppressWarnings("unused") // written through PUBLISHED
    private long published;

    // Writer thread only (see class comment); read by snapshot() after the acquire of `published`.
    private long packets;
    private long bytes;
    private long rtcpPackets;
    private long rtcpBytes;
    private long rtcpFiltered;
    private long malformed;
    private long unknownSsrc;
    private long unknownPayloadType;
    private long gated;
    private long sendFailures;
    private long sourceChanges;

    // RFC 3550 A.1 state of the current source.
    private boolean haveSequence;
    private int maxSeq;
    private int baseSeq;
    private long cycles;
    private int badSeq;
    private long received;
    /** Loss of previous sources, kept when a new source starts. */
    private long lostBefore;

    // RFC 3550 A.8 state.
    private boolean haveTransit;
    private int lastTransit;
    /** Jitter in timestamp units, times 16 (the A.8 integer form). */
    private long jitter16;
    private int jitterClockRate;
    private boolean haveEpoch;
    private long epochNanos;

    /** RTT of the leg this direction sends to, microseconds; -1 unknown. One writer (see RtcpTranslator). */
    private volatile long rttMicros = -1;

    private final LongAdder srtpAuthFailures = new LongAdder();
    private final LongAdder srtpReplays = new LongAdder();

    /**
     * One RTP packet forwarded: {@code seq}/{@code ts} as received (before rewriting), {@code clockRate} of
     * its PT (0: unknown, no jitter), {@code event}: RFC 4733 packets don't enter the jitter estimate.
     */
    void rtpForwarded(int seq, long ts, int len, int clockRate, boolean event, long nowNanos) {
        packets++;
        bytes += len;
        updateSequence(seq);
        if (!event && clockRate > 0) {
            updateJitter(ts, clockRate, nowNanos);
        }
        publish();
    }

    void rtcpForwarded(int len) {
        rtcpPackets++;
        rtcpBytes += len;
        publish();
    }

    /** RTCP sub-packets left out by the translator (feedback the other side can't use, unknown SSRCs). */
    void rtcpFiltered(int count) {
        rtcpFiltered += count;
        publish();
    }

    /** A new SSRC took over: sequence and jitter tracking restart, the loss so far is kept. */
    void sourceChanged() {
        if (haveSequence) {
            lostBefore += lostOfCurrentSource();
            sourceChanges++;
        }
        haveSequence = false;
        haveTransit = false;
        publish();
    }

    void malformed() {
        malformed++;
        publish();
    }

    void unknownSsrc() {
        unknownSsrc++;
        publish();
    }

    void unknownPayloadType() {
        unknownPayloadType++;
        publish();
    }

    void gated() {
        gated++;
        publish();
    }

    void sendFailed() {
        sendFailures++;
        publish();
    }

    /** Hook for the SRTP layer (any thread): a packet failed authentication (RFC 3711 §3.3 step 5). */
    public void srtpAuthFailure() {
        srtpAuthFailures.increment();
    }

    /** Hook for the SRTP layer (any thread): a replayed packet (RFC 3711 §3.3.2). */
    public void srtpReplay() {
        srtpReplays.increment();
    }

    void rtt(long micros) {
        rttMicros = micros;
    }

    private void publish() {
        PUBLISHED.setRelease(this, packets);
    }

    private void updateSequence(int seq) {
        if (!haveSequence) {
            initSequence(seq);
            haveSequence = true;
            received = 1;
            return;
        }
        int delta = (seq - maxSeq) & 0xffff;
        if (delta < MAX_DROPOUT) {
            if (seq < maxSeq) {
                cycles += SEQ_MOD;
            }
            maxSeq = seq;
        } else if (delta <= SEQ_MOD - MAX_MISORDER) {
            // a big jump: two packets in a row confirm a restarted sender (A.1)
            if (seq == badSeq) {
                lostBefore += lostOfCurrentSource();
                initSequence(seq);
            } else {
                badSeq = (seq + 1) & 0xffff;
                return;
            }
        }
        // else: duplicate or late packet, counted as received (A.3 lets cumulative loss go negative)
        received++;
    }

    private void initSequence(int seq) {
        baseSeq = seq;
        maxSeq = seq;
        badSeq = SEQ_MOD + 1;
        cycles = 0;
        received = 0;
    }

    private long lostOfCurrentSource() {
        long expected = cycles + maxSeq - baseSeq + 1;
        return expected - received;
    }

    private void updateJitter(long ts, int clockRate, long nowNanos) {
        if (!haveEpoch) {
            epochNanos = nowNanos;
            haveEpoch = true;
        }
        int transit = transit(ts, clockRate, nowNanos);
        if (clockRate != jitterClockRate) {
            jitter16 = 0;
            jitterClockRate = clockRate;
        } else if (haveTransit) {
            int d = transit - lastTransit;
            if (d < 0) {
                d = -d;
            }
            jitter16 += d - ((jitter16 + 8) >> 4);
        }
        lastTransit = transit;
        haveTransit = true;
    }

    /** Arrival time in timestamp units minus the timestamp, modulo 2^32 (A.8); microsecond arrival resolution. */
    private int transit(long ts, int clockRate, long nowNanos) {
        long micros = (nowNanos - epochNanos) / 1000;
        long arrival = micros * clockRate / 1_000_000;
        return (int) (arrival - ts);
    }

    /**
     * @param foreignSource  the endpoint's count of packets refused by its source policy (0: none kept here)
     * @param ssrc           the SSRC this direction sends with
     * @param sourceSsrc     the SSRC it forwards now, null before the first packet
     */
    public Snapshot snapshot(long foreignSource, int ssrc, Integer sourceSsrc) {
        long ignored = (long) PUBLISHED.getAcquire(this);
        long lost = lostBefore + (haveSequence ? lostOfCurrentSource() : 0);
        double jitterMs = jitterClockRate > 0 ? (jitter16 / 16.0) * 1000.0 / jitterClockRate : 0;
        long rtt = rttMicros;
        return new Snapshot(Integer.toUnsignedLong(ssrc), sourceSsrc == null ? null : Integer.toUnsignedLong(sourceSsrc),
                packets, bytes, rtcpPackets, rtcpBytes, Math.max(0, lost), jitterMs,
                rtt < 0 ? Double.NaN : rtt / 1000.0, sourceChanges, rtcpFiltered,
                new Drops(malformed, unknownSsrc, unknownPayloadType, foreignSource, gated,
                        srtpAuthFailures.sum(), srtpReplays.sum(), sendFailures));
    }

    public Snapshot snapshot() {
        return snapshot(0, 0, null);
    }

    /**
     * What admin and metrics read. {@code ssrc} is what the direction sends with (unsigned), {@code sourceSsrc}
     * what it forwards now (the sender's SSRC as received; null before the first packet): what finds the stream
     * in a packet capture of either leg. {@code lost} is cumulative over the call (all sources), never negative;
     * {@code rttMs} is NaN until an RTCP report has made it known.
     */
    public record Snapshot(long ssrc, Long sourceSsrc, long packets, long bytes, long rtcpPackets, long rtcpBytes, long lost, double jitterMs,
                           double rttMs, long sourceChanges, long rtcpFiltered, Drops drops) {}

    /** Packets not forwarded, by cause. */
    public record Drops(long malformed, long unknownSsrc, long unknownPayloadType, long foreignSource, long gated,
                        long srtpAuth, long srtpReplay, long sendFailed) {
        public long total() {
            return malformed + unknownSsrc + unknownPayloadType + foreignSource + gated + srtpAuth + srtpReplay
                    + sendFailed;
        }
    }
}
