package io.webrtcgateway.media;

/**
 * Sends one datagram through the transport below (for the browser leg: the ICE-selected pair). Must not
 * keep {@code buf} after returning. A send that cannot happen (not connected yet, socket closed) is dropped
 * and counted by the implementation, never thrown at the packet path.
 */
@FunctionalInterface
public interface PacketSender {
    void send(byte[] buf, int off, int len);
}
