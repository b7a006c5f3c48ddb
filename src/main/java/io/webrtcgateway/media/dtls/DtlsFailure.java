package io.webrtcgateway.media.dtls;

/** Why a DTLS handshake ended without keys, with a human-readable detail for logs. */
public record DtlsFailure(Reason reason, String message) {
    public enum Reason {
        /** The peer's certificate does not match any {@code a=fingerprint} from its SDP (RFC 8122 §5). */
        FINGERPRINT_MISMATCH,
        /** The peer sent no certificate (DTLS-SRTP needs one both ways, RFC 5763 §5). */
        NO_PEER_CERTIFICATE,
        /** No use_srtp extension, or no profile both sides support (RFC 5764 §4.1.3). */
        NO_SRTP_PROFILE,
        /** The peer sent a fatal alert. */
        ALERT_RECEIVED,
        /** No completed handshake within the configured time. */
        TIMEOUT,
        /** The handshake pool's queue was full. */
        OVERLOADED,
        /** Anything else the TLS stack refused (malformed message, unsupported parameters). */
        PROTOCOL_ERROR
    }

    @Override
    public String toString() {
        return reason + ": " + message;
    }
}
