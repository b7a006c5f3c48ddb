package io.webrtcgateway.bench;

import io.webrtcgateway.media.rtp.DatagramReceiver;
import java.net.InetSocketAddress;
import java.util.concurrent.atomic.LongAdder;

/**
 * The receiving peers of RtpRelayBench and IceEchoBench: count the measured phase's packets and record the
 * time since each was sent (1 µs buckets). Their generators write the phase at byte 17 (2 = measured) and
 * {@code System.nanoTime()} at bytes 20-27, in this JVM: one clock.
 */
class TimestampSink implements DatagramReceiver {
    /** 0 before, 1 warm-up, 2 measured: set by the driver, compared with what the packet carries. */
    volatile int phase;
    private final int packetLength;
    private final MicrosHistogram histogram = new MicrosHistogram();
    private final LongAdder received = new LongAdder();
    private long lastSeen = -1;

    TimestampSink(int packetLength) {
        this.packetLength = packetLength;
    }

    @Override
    public void onDatagram(byte[] buf, int off, int len, InetSocketAddress source) {
        len = unwrap(buf, off, len);
        if (len != packetLength || buf[off + 17] != 2 || phase != 2) {
            return;
        }
        long sentAt = 0;
        for (int i = 0; i < 8; i++) {
            sentAt = (sentAt << 8) | (buf[off + 20 + i] & 0xff);
        }
        histogram.record((System.nanoTime() - sentAt) / 1000);
        received.increment();
    }

    /** The packet as its generator wrote it, restored in place; returns its length (another: not counted). */
    int unwrap(byte[] buf, int off, int len) {
        return len;
    }

    long received() {
        return received.sum();
    }

    /** True once two checks in a row saw the same count: nothing is in flight any more. */
    boolean settled() {
        long now = received.sum();
        boolean same = now == lastSeen;
        lastSeen = now;
        return same;
    }

    double[] percentiles(double... qs) {
        return histogram.percentiles(qs);
    }
}
