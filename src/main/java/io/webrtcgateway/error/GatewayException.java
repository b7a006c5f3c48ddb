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

    public GatewayException(ErrorCode code, String message) {
        this(code, message, null, null);
    }

    public GatewayException(ErrorCode code, String message, Integer sipStatus, String sipReason) {
        super(message, null, false, false);
        this.code = code;
        this.sipStatus = sipStatus;
        this.sipReason = sipReason;
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
