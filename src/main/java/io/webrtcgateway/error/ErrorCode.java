package io.webrtcgateway.error;

/**
 * Stable error codes of every browser-facing API (WebSocket, REST, legacy). Programs match on these;
 * they are documented in docs/protocol.md. Kept apart from SIP status codes, which travel alongside.
 */
public enum ErrorCode {
    BAD_JSON(400),
    BAD_REQUEST(400),
    UNKNOWN_TYPE(400),
    UNSUPPORTED_VERSION(400),
    NOT_SIGNED_IN(401),
    AUTH_REQUIRED(401),
    AUTH_INVALID(401),
    FORBIDDEN_DN(403),
    DN_IN_USE(409),
    FORBIDDEN_DESTINATION(403),
    ALREADY_SIGNED_IN(409),
    SESSION_UNKNOWN(404),
    INVALID_DN(400),
    ALREADY_REGISTERED(409),
    REGISTRATION_IN_PROGRESS(409),
    NOT_REGISTERED(409),
    SIP_REJECTED(403),
    SIP_TIMEOUT(504),
    SIP_UNAVAILABLE(503),
    TOO_MANY_SESSIONS(503),
    MESSAGE_TOO_BIG(413),
    FORBIDDEN_ORIGIN(403),
    /** The Host header names no host this gateway serves (DNS rebinding); 421 Misdirected Request, RFC 9110 §15.5.20. */
    FORBIDDEN_HOST(421),
    NOT_READY(503),
    CALL_UNKNOWN(404),
    WRONG_STATE(409),
    BAD_SDP(400),
    NO_COMMON_CODEC(488),
    TOO_MANY_CALLS(503),
    /** One client over one of its limits (gateway.limits.*: per address, session or DN); the others go on. */
    RATE_LIMITED(429),
    NOT_IMPLEMENTED(501),
    INTERNAL(500);

    /** HTTP status used by the REST and legacy edges for this error. */
    public final int httpStatus;

    ErrorCode(int httpStatus) {
        this.httpStatus = httpStatus;
    }
}
