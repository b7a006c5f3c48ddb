package io.webrtcgateway.media.dtls;

import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.atomic.LongAdder;

/** Instance-wide DTLS figures for metrics, shared by every transport of a {@link DtlsService}. */
public final class DtlsCounters {
    final LongAdder started = new LongAdder();
    final LongAdder completed = new LongAdder();
    final LongAdder datagramsDropped = new LongAdder();
    private final Map<DtlsFailure.Reason, LongAdder> failed = new EnumMap<>(DtlsFailure.Reason.class);

    DtlsCounters() {
        for (DtlsFailure.Reason r : DtlsFailure.Reason.values()) {
            failed.put(r, new LongAdder());
        }
    }

    void failed(DtlsFailure.Reason reason) {
        failed.get(reason).increment();
    }

    public long handshakesStarted() {
        return started.sum();
    }

    public long handshakesCompleted() {
        return completed.sum();
    }

    public long handshakesFailed() {
        return failed.values().stream().mapToLong(LongAdder::sum).sum();
    }

    public long failures(DtlsFailure.Reason reason) {
        return failed.get(reason).sum();
    }

    public long fingerprintMismatches() {
        return failures(DtlsFailure.Reason.FINGERPRINT_MISMATCH);
    }

    /** DTLS datagrams not handed to the handshake: queue full, oversize, or the transport already ended. */
    public long datagramsDropped() {
        return datagramsDropped.sum();
    }

    @Override
    public String toString() {
        return "DtlsCounters[started=" + handshakesStarted() + ", completed=" + handshakesCompleted() + ", failed="
                + failed + ", dropped=" + datagramsDropped() + "]";
    }
}
