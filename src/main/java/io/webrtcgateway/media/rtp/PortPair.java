package io.webrtcgateway.media.rtp;

import java.io.IOException;
import java.nio.channels.DatagramChannel;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A bound RTP (even) / RTCP (odd) channel pair from {@link RtpPortAllocator}. {@link #close()} closes both
 * channels and gives the ports back, once, whoever calls it.
 *
 * <p>A channel registered with a selector is only really closed when the selector drops its key, so
 * close the pair after deregistering (as {@link PlainRtpEndpoint} does); otherwise the allocator may meet
 * the port still bound and skip it for a while.
 */
public final class PortPair implements AutoCloseable {

    private final RtpPortAllocator owner;
    private final DatagramChannel rtp;
    private final DatagramChannel rtcp;
    private final int rtpPort;
    private final AtomicBoolean closed = new AtomicBoolean();

    PortPair(RtpPortAllocator owner, DatagramChannel rtp, DatagramChannel rtcp, int rtpPort) {
        this.owner = owner;
        this.rtp = rtp;
        this.rtcp = rtcp;
        this.rtpPort = rtpPort;
    }

    public DatagramChannel rtp() {
        return rtp;
    }

    public DatagramChannel rtcp() {
        return rtcp;
    }

    public int rtpPort() {
        return rtpPort;
    }

    public int rtcpPort() {
        return rtpPort + 1;
    }

    public boolean isClosed() {
        return closed.get();
    }

    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        try {
            closeQuietly(rtp);
            closeQuietly(rtcp);
        } finally {
            owner.release(rtpPort);
        }
    }

    private static void closeQuietly(DatagramChannel channel) {
        try {
            channel.close();
        } catch (IOException ignored) {
            // nothing to recover: the descriptor is gone either way
        }
    }

    @Override
    public String toString() {
        return "ports " + rtpPort + "/" + (rtpPort + 1);
    }
}
