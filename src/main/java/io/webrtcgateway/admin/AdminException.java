package io.webrtcgateway.admin;

/**
 * An admin request refused with an HTTP status and one of the admin API's error codes (docs/admin.md):
 * thrown anywhere below {@link AdminApiServlet}, which writes it as {@code {"code", "message"}}, with a
 * {@code Retry-After} header when {@link #retryAfterSeconds()} is set.
 */
public final class AdminException extends RuntimeException {
    private final int status;
    private final String code;
    private final long retryAfterSeconds;

    public AdminException(int status, String code, String message) {
        this(status, code, message, 0);
    }

    private AdminException(int status, String code, String message, long retryAfterSeconds) {
        super(message, null, false, false);
        this.status = status;
        this.code = code;
        this.retryAfterSeconds = retryAfterSeconds;
    }

    public static AdminException badRequest(String message) {
        return new AdminException(400, "BAD_REQUEST", message);
    }

    public static AdminException notFound(String message) {
        return new AdminException(404, "NOT_FOUND", message);
    }

    /** 429: this client (or this user name) failed too often; its password was not checked. */
    public static AdminException tooManyAttempts(long waitNanos) {
        long seconds = LoginThrottle.seconds(waitNanos);
        return new AdminException(429, "TOO_MANY_ATTEMPTS", "too many wrong passwords: try again in " + seconds
                + " s", seconds);
    }

    /** 503: every password-checking thread is busy and the queue is full; refused at once, not queued. */
    public static AdminException busy() {
        return new AdminException(503, "BUSY", "too many logins are being checked right now; try again shortly", 1);
    }

    public int status() {
        return status;
    }

    public String code() {
        return code;
    }

    /** Seconds for the Retry-After header (RFC 9110 §10.2.3); 0: none. */
    public long retryAfterSeconds() {
        return retryAfterSeconds;
    }
}
