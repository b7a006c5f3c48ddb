package io.webrtcgateway.edge.rest;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.webrtcgateway.GatewayApplication;
import io.webrtcgateway.error.ErrorCode;
import io.webrtcgateway.error.GatewayException;
import io.webrtcgateway.session.Session;
import io.webrtcgateway.sip.Registration;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.DELETE;
import jakarta.inject.Inject;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.PUT;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.container.AsyncResponse;
import jakarta.ws.rs.container.Suspended;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;

/**
 * REST edge for session lifecycle and status (docs/openapi.yaml, served at /api/openapi.yaml). For clients
 * that cannot keep a WebSocket; they poll status and send keepalives instead of receiving events.
 */
@Path("/sessions")
@Produces(MediaType.APPLICATION_JSON)
public final class SessionResource {
    private final GatewayApplication app;
    private final ObjectMapper json;

    @Inject
    public SessionResource(GatewayApplication app, ObjectMapper json) {
        this.app = app;
        this.json = json;
    }

    @POST
    public Response create(@Context HttpServletRequest request, @Context HttpServletResponse response) {
        Session s = app.sessions().create(Session.Kind.REST, app.clientAddress().of(request),
                app.clientAddress().withPort(request), request.getHeader("User-Agent"), bearer(request));
        app.affinityCookie().set(request, response);
        ObjectNode out = describe(s);
        out.put("keepaliveInterval", app.config().session().keepaliveInterval().toSeconds());
        out.put("idleTimeout", app.config().session().idleTimeout().toSeconds());
        return Response.status(201).entity(out).build();
    }

    @GET
    @Path("/{id}")
    public ObjectNode get(@PathParam("id") String id, @Context HttpServletRequest request) {
        Session s = app.sessions().find(id);
        s.request();
        refreshFromBearer(request, s);
        return describe(s);
    }

    @DELETE
    @Path("/{id}")
    public ObjectNode delete(@PathParam("id") String id) {
        Session s = app.sessions().find(id);
        app.sessions().end(s, "signed-out");
        ObjectNode out = json.createObjectNode();
        out.put("session", s.id());
        out.put("ended", true);
        return out;
    }

    @POST
    @Path("/{id}/keepalive")
    public ObjectNode keepalive(@PathParam("id") String id, @Context HttpServletRequest request) {
        Session s = app.sessions().find(id);
        s.request();
        refreshFromBearer(request, s);
        ObjectNode out = json.createObjectNode();
        out.put("session", s.id());
        out.put("time", System.currentTimeMillis());
        return out;
    }

    @PUT
    @Path("/{id}/registration")
    @Consumes(MediaType.APPLICATION_JSON)
    public void register(@PathParam("id") String id, JsonNode body, @Context HttpServletRequest request,
                         @Suspended AsyncResponse async) {
        Session s = app.sessions().find(id);
        s.request();
        refreshFromBearer(request, s);
        if (body == null || !body.isObject()) {
            throw new GatewayException(ErrorCode.BAD_REQUEST, "body must be a JSON object {\"dn\": ..., \"password\": ...}");
        }
        JsonNode dn = body.get("dn");
        JsonNode password = body.get("password");
        if (dn == null || !dn.isTextual()) {
            throw new GatewayException(ErrorCode.BAD_REQUEST, "'dn' (string) is required");
        }
        if (password != null && !password.isNull() && !password.isTextual()) {
            throw new GatewayException(ErrorCode.BAD_REQUEST, "'password' must be a string");
        }
        app.sessions().register(s, dn.asText(), password == null || password.isNull() ? null : password.asText())
                .whenComplete((r, err) -> {
                    if (err != null) {
                        async.resume(RestErrors.toResponse(GatewayException.from(err)));
                    } else {
                        async.resume(describeRegistration(r));
                    }
                });
    }

    @DELETE
    @Path("/{id}/registration")
    public void unregister(@PathParam("id") String id, @Suspended AsyncResponse async) {
        Session s = app.sessions().find(id);
        s.touch(); // un-registering is never refused (gateway.limits.requests-per-session-per-second)
        app.sessions().unregister(s).whenComplete((dn, err) -> {
            if (err != null) {
                async.resume(RestErrors.toResponse(GatewayException.from(err)));
            } else {
                async.resume(json.createObjectNode().put("dn", dn).put("state", "unregistered"));
            }
        });
    }

    /**
     * The token of {@code Authorization: Bearer} (RFC 6750 §2.1), or null without one. A malformed header is an
     * error rather than no token, so a client learns why its token is not seen.
     */
    static String bearer(HttpServletRequest request) {
        String h = request.getHeader("Authorization");
        if (h == null || h.isBlank()) {
            return null;
        }
        if (!h.regionMatches(true, 0, "Bearer ", 0, 7) || h.substring(7).isBlank()) {
            throw new GatewayException(ErrorCode.AUTH_INVALID, "Authorization must be 'Bearer <token>'");
        }
        return h.substring(7).trim();
    }

    /** A Bearer on a later request is the client's newest token: it replaces the session's (long shifts). */
    private void refreshFromBearer(HttpServletRequest request, Session s) {
        String token = bearer(request);
        if (token != null) {
            app.sessions().refreshToken(s, token);
        }
    }

    private ObjectNode describe(Session s) {
        ObjectNode out = json.createObjectNode();
        out.put("session", s.id());
        out.put("instance", app.config().instanceId());
        out.put("createdAt", s.createdAt().toString());
        if (s.grant().expiresAt() != null) {
            out.put("tokenExpires", s.grant().expiresAt().getEpochSecond());
        }
        Registration r = s.registration();
        if (r == null) {
            out.putNull("registration");
        } else {
            out.set("registration", describeRegistration(r));
        }
        return out;
    }

    private ObjectNode describeRegistration(Registration r) {
        ObjectNode reg = json.createObjectNode();
        reg.put("dn", r.dn());
        reg.put("state", r.state().name().toLowerCase());
        reg.put("expires", r.expires());
        reg.put("server", r.server());
        return reg;
    }
}
