package io.webrtcgateway.media.srtp;

import java.util.concurrent.atomic.AtomicLong;

/**
 * Packets an {@link SrtpSession} dropped, by cause. Only the drop paths touch these (never the per-packet
 * success path), so atomics cost nothing that matters; any thread may read them.
 */
public final class SrtpCounters {
    final AtomicLong authFailures = new AtomicLong();
    final AtomicLong replayDropped = new AtomicLong();
    final AtomicLong malformedDropped = new AtomicLong();
    final AtomicLong protectFailures = new AtomicLong();

    /** Received packets whose authentication tag did not verify (RFC 3711 §3.3 step 5). */
    public long authFailures() {
        return authFailures.get();
    }

    /** Received packets already seen or older than the replay window (RFC 3711 §3.3.2). */
    public long replayDropped() {
        return replayDropped.get();
    }

    /** Received datagrams too short, not version 2, with a broken header, or carrying an unknown MKI. */
    public long malformedDropped() {
        return malformedDropped.get();
    }

    /** Outgoing packets that could not be protected (not RTP/RTCP, no room for the tag, index out of range). */
    public long protectFailures() {
        return protectFailures.get();
    }

    @Override
    public String toString() {
        return "SrtpCounters[auth=" + authFailures() + ", replay=" + replayDropped() + ", malformed="
                + malformedDropped() + ", protect=" + protectFailures() + "]";
    }
}
