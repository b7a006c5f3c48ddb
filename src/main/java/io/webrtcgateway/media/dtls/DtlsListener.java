package io.webrtcgateway.media.dtls;

/**
 * Outcome of one {@link DtlsTransport}. Called on a DTLS pool thread (or its timer thread): post to the
 * call's executor and return, never block. Exactly one of the first two is called, once, unless
 * {@link DtlsTransport#close()} came first (then neither is).
 */
public interface DtlsListener {
    void onHandshakeComplete(DtlsSrtpKeys keys);

    void onHandshakeFailed(DtlsFailure failure);

    /** After completion, the peer ended the association (close_notify or a fatal alert). */
    default void onPeerClosed() {
    }
}
