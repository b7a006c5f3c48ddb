package io.webrtcgateway.edge.rest;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.webrtcgateway.error.ErrorCode;
import io.webrtcgateway.error.GatewayException;
import jakarta.ws.rs.WebApplicationException;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.ext.ExceptionMapper;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Renders every failure of the REST edge as {@code {"code", "message", "sipStatus"?, "sipReason"?}}. */
public final class RestErrors implements ExceptionMapper<Throwable> {
    private static final Logger LOG = LoggerFactory.getLogger(RestErrors.class);

    @Override
    public Response toResponse(Throwable t) {
        if (t instanceof GatewayException g) {
            return toResponse(g);
        }
        for (Throwable c = t; c != null; c = c.getCause() == c ? null : c.getCause()) {
            if (c instanceof BodyLimitFilter.TooBig tooBig) {
                // However Jersey wrapped the failed read of the entity: the body passed gateway.limits.max-message-bytes.
                return toResponse(tooBig.error());
            }
        }
        if (t instanceof JsonProcessingException j) {
            return toResponse(new GatewayException(ErrorCode.BAD_JSON, "not JSON: " + j.getOriginalMessage()));
        }
        if (t instanceof WebApplicationException w) {
            int status = w.getResponse().getStatus();
            ErrorCode code = status == 404 ? ErrorCode.UNKNOWN_TYPE
                    : status == 413 ? ErrorCode.MESSAGE_TOO_BIG
                    : status >= 500 ? ErrorCode.INTERNAL : ErrorCode.BAD_REQUEST;
            return build(status, code.name(), describe(w, status), null, null);
        }
        LOG.error("REST request failed", t);
        return toResponse(GatewayException.from(t));
    }

    private static String describe(WebApplicationException w, int status) {
        return switch (status) {
            case 404 -> "no such resource";
            case 405 -> "method not allowed on this resource";
            case 415 -> "unsupported content type (use application/json)";
            default -> w.getMessage();
        };
    }

    static Response toResponse(GatewayException e) {
        Response.ResponseBuilder r = builder(e.code().httpStatus, body(e));
        if (e.retryAfter() != null) {
            r.header("Retry-After", e.retryAfter()); // RFC 6585 §4, RFC 9110 §10.2.3: seconds
        }
        return r.build();
    }

    /** {@code {"code", "message", "sipStatus"?, "sipReason"?, "retryAfter"?}}; also the body filter's 413. */
    public static ObjectNode body(GatewayException e) {
        ObjectNode body = body(e.code().name(), e.getMessage(), e.sipStatus(), e.sipReason());
        if (e.retryAfter() != null) {
            body.put("retryAfter", e.retryAfter());
        }
        return body;
    }

    private static Response build(int status, String code, String message, Integer sipStatus, String sipReason) {
        return builder(status, body(code, message, sipStatus, sipReason)).build();
    }

    private static ObjectNode body(String code, String message, Integer sipStatus, String sipReason) {
        ObjectNode body = JsonNodeFactory.instance.objectNode();
        body.put("code", code);
        body.put("message", message);
        if (sipStatus != null) {
            body.put("sipStatus", sipStatus);
            body.put("sipReason", sipReason);
        }
        return body;
    }

    private static Response.ResponseBuilder builder(int status, ObjectNode body) {
        return Response.status(status).type(MediaType.APPLICATION_JSON_TYPE).entity(body);
    }
}
