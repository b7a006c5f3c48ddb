package io.webrtcgateway.error;

/**
 * A request the gateway refuses, with a stable {@link ErrorCode}, a human message and, when SIP Server
 * answered, its status and reason. Thrown to (or completed exceptionally toward) the edges, which render
 * it in their wire format. Carries no stack trace: it is an answer, not a bug.
 */
public final class GatewayException extends RuntimeException {
    private final ErrorCode code;
    private final Integer sipStatus;
    private final String sipReason;
    /** Seconds after which the same request may succeed (RATE_LIMITED), or null. */
    private final Long retryAfter;

    public GatewayException(ErrorCode code, String message) {
        this(code, message, null, null);
    }

    public GatewayException(ErrorCode code, String message, Integer sipStatus, String sipReason) {
        this(code, message, sipStatus, sipReason, null);
    }

    private GatewayException(ErrorCode code, String message, Integer sipStatus, String sipReason, Long retryAfter) {
        super(message, null, false, false);
        this.code = code;
        this.sipStatus = sipStatus;
        this.sipReason = sipReason;
        this.retryAfter = retryAfter;
    }

    /**
     * RATE_LIMITED: the client went over one of its limits; {@code retryAfterSeconds} (at least 1) goes out as
     * HTTP's Retry-After (RFC 9110 §10.2.3, RFC 6585 §4) and the WebSocket error's {@code retryAfter}.
     */
    public static GatewayException rateLimited(String message, long retryAfterSeconds) {
        return new GatewayException(ErrorCode.RATE_LIMITED, message, null, null, Math.max(1, retryAfterSeconds));
    }

    public ErrorCode code() {
        return code;
    }

    /** SIP status code when SIP Server answered, else null. */
    public Integer sipStatus() {
        return sipStatus;
    }

    public String sipReason() {
        return sipReason;
    }

    /** Seconds to wait before trying again (RATE_LIMITED), else null. */
    public Long retryAfter() {
        return retryAfter;
    }

    /** Unwraps CompletionException layers; anything unexpected becomes INTERNAL. */
    public static GatewayException from(Throwable t) {
        Throwable cause = t;
        while ((cause instanceof java.util.concurrent.CompletionException
                || cause instanceof java.util.concurrent.ExecutionException) && cause.getCause() != null) {
            cause = cause.getCause();
        }
        if (cause instanceof GatewayException g) {
            return g;
        }
        return new GatewayException(ErrorCode.INTERNAL, "internal error: " + cause);
    }
}
