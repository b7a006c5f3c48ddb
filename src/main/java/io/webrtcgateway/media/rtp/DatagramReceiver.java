package io.webrtcgateway.media.rtp;

import java.net.InetSocketAddress;

/**
 * Gets each datagram a {@link UdpReceiveLoops} thread reads. Runs on that thread: must not block; may
 * modify {@code buf} in place but must not keep it (the loop reuses it for the next datagram).
 * {@code source} may be the same instance from one call to the next: compare with equals.
 */
@FunctionalInterface
public interface DatagramReceiver {
    void onDatagram(byte[] buf, int off, int len, InetSocketAddress source);
}
