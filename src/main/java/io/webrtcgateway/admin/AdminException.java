package io.webrtcgateway.admin;

/**
 * An admin request refused with an HTTP status and one of the admin API's error codes (docs/admin.md):
 * thrown anywhere below {@link AdminApiServlet}, which writes it as {@code {"code", "message"}}.
 */
public final class AdminException extends RuntimeException {
    private final int status;
    private final String code;

    public AdminException(int status, String code, String message) {
        super(message, null, false, false);
        this.status = status;
        this.code = code;
    }

    public static AdminException badRequest(String message) {
        return new AdminException(400, "BAD_REQUEST", message);
    }

    public static AdminException notFound(String message) {
        return new AdminException(404, "NOT_FOUND", message);
    }

    public int status() {
        return status;
    }

    public String code() {
        return code;
    }
}
