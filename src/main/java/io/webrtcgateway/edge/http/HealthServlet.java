package io.webrtcgateway.edge.http;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.webrtcgateway.GatewayApplication;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.util.List;

/**
 * {@code GET /health/live}: the process serves HTTP. {@code GET /health/ready}: 200 only when this instance
 * can take new sessions (SIP Server reachable, not draining or stopping, under limits, no executor stuck),
 * else 503 with the reasons (SPEC §7).
 *
 * <p>{@code GET /health/lb} is the same check for load balancers, with one more answer: 404 when the only
 * reasons are draining and/or the session limit — "send me no new sessions, but keep routing my existing
 * ones to me". HAProxy's {@code http-check disable-on-404} does exactly that (deploy/haproxy): with 503
 * it would mark the instance down and send the drained sessions' next requests (legacy polls, REST,
 * WebSocket reconnects) elsewhere.
 */
public final class HealthServlet extends HttpServlet {
    /** Not-ready reasons under which existing sessions carry on (drain, capacity). */
    private static final java.util.Set<String> KEEP_EXISTING = java.util.Set.of("draining", "session-limit");

    private final transient GatewayApplication app;
    private final transient ObjectMapper json;

    public HealthServlet(GatewayApplication app, ObjectMapper json) {
        this.app = app;
        this.json = json;
    }

    @Override
    protected void doGet(HttpServletRequest req, HttpServletResponse resp) throws IOException {
        String path = req.getServletPath() + (req.getPathInfo() == null ? "" : req.getPathInfo());
        ObjectNode body = json.createObjectNode();
        body.put("instance", app.config().instanceId());
        int status;
        if (path.endsWith("/live")) {
            body.put("status", "UP");
            status = 200;
        } else if (path.endsWith("/ready") || path.endsWith("/lb")) {
            List<String> reasons = app.readiness().notReadyReasons();
            body.put("status", reasons.isEmpty() ? "READY" : "NOT_READY");
            body.putPOJO("reasons", reasons);
            body.put("sessions", app.sessions().count());
            body.put("registrations", app.registrations().count());
            body.putPOJO("sipServers", app.servers().states());
            status = reasons.isEmpty() ? 200 : 503;
            if (path.endsWith("/lb") && !reasons.isEmpty() && KEEP_EXISTING.containsAll(reasons)) {
                status = 404;
            }
        } else {
            resp.sendError(404);
            return;
        }
        resp.setStatus(status);
        resp.setContentType("application/json");
        resp.setHeader("Cache-Control", "no-store");
        json.writeValue(resp.getOutputStream(), body);
    }
}
