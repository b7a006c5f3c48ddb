package io.webrtcgateway.media;

/**
 * Receives datagrams from the transport below it (ICE -> demux -> DTLS/SRTP -> relay). Called on the
 * transport's receive thread: it must not block and must not keep {@code buf} after returning (the
 * transport reuses it; copy what must outlive the call).
 */
@FunctionalInterface
public interface PacketHandler {
    void onPacket(byte[] buf, int off, int len);
}
