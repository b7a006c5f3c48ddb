package io.webrtcgateway.admin;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.webrtcgateway.GatewayApplication;
import io.webrtcgateway.edge.http.OriginFilter;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The admin API under {@code /admin/api/} (docs/admin.md); for now the drain switch (SPEC §7).
 *
 * <p>Checks, in order: the API is configured (else 404, as if it did not exist); HTTP Basic credentials
 * (else 401 with a challenge); for requests that change something, a CSRF defence (else 403): the
 * custom header {@code X-Requested-With} must be present — a cross-site form or image cannot send one,
 * and a cross-site script could only after a CORS preflight, which {@link OriginFilter} never grants on
 * admin paths — and an {@code Origin}, if sent, must be this gateway's own. Basic credentials are
 * replayed by browsers automatically, which is exactly why the second check is needed.
 */
public final class AdminApiServlet extends HttpServlet {
    private static final Logger LOG = LoggerFactory.getLogger(AdminApiServlet.class);
    public static final String CSRF_HEADER = "X-Requested-With";
    private static final Set<String> SAFE_METHODS = Set.of("GET", "HEAD", "OPTIONS");

    private final transient GatewayApplication app;
    private final transient ObjectMapper json;
    private final transient AdminAuthenticator auth;

    public AdminApiServlet(GatewayApplication app, ObjectMapper json) {
        this.app = app;
        this.json = json;
        this.auth = new AdminAuthenticator(app.config().admin());
    }

    @Override
    protected void service(HttpServletRequest req, HttpServletResponse resp) throws IOException {
        resp.setHeader("Cache-Control", "no-store");
        if (!auth.enabled()) {
            resp.sendError(404);
            return;
        }
        if (!auth.authenticates(req.getHeader("Authorization"))) {
            resp.setHeader("WWW-Authenticate", "Basic realm=\"webrtc-gateway admin\", charset=\"UTF-8\"");
            error(resp, 401, "UNAUTHORIZED", "admin credentials required (HTTP Basic)");
            return;
        }
        if (!SAFE_METHODS.contains(req.getMethod())) {
            String csrf = req.getHeader(CSRF_HEADER);
            if (csrf == null || csrf.isBlank()) {
                error(resp, 403, "CSRF_HEADER_MISSING", "state-changing admin requests need the header "
                        + CSRF_HEADER + " (any value), e.g. curl -H '" + CSRF_HEADER + ": curl'");
                return;
            }
            String origin = req.getHeader("Origin");
            if (origin != null && !OriginFilter.isSameOrigin(origin, req)) {
                error(resp, 403, "FORBIDDEN_ORIGIN", "admin requests from another origin are refused: " + origin);
                return;
            }
        }
        String path = req.getPathInfo() == null ? "" : req.getPathInfo();
        if (path.equals("/drain")) {
            drain(req, resp);
        } else {
            error(resp, 404, "NOT_FOUND", "no admin resource " + path);
        }
    }

    private void drain(HttpServletRequest req, HttpServletResponse resp) throws IOException {
        switch (req.getMethod()) {
            case "GET" -> { }
            case "POST" -> {
                if (!app.admission().isDraining()) {
                    LOG.warn("instance {} draining: no new sessions (admin request from {})",
                            app.config().instanceId(), req.getRemoteAddr());
                }
                app.admission().drain(true);
            }
            case "DELETE" -> {
                if (app.admission().isDraining()) {
                    LOG.warn("instance {} no longer draining: taking new sessions again (admin request from {})",
                            app.config().instanceId(), req.getRemoteAddr());
                }
                app.admission().drain(false);
            }
            default -> {
                resp.setHeader("Allow", "GET, POST, DELETE");
                error(resp, 405, "METHOD_NOT_ALLOWED", "use GET, POST (drain) or DELETE (undrain)");
                return;
            }
        }
        ObjectNode body = json.createObjectNode();
        body.put("instance", app.config().instanceId());
        body.put("draining", app.admission().isDraining());
        body.put("state", app.admission().stateName());
        body.put("sessions", app.sessions().count());
        body.put("registrations", app.registrations().count());
        write(resp, 200, body);
    }

    private void error(HttpServletResponse resp, int status, String code, String message) throws IOException {
        ObjectNode body = json.createObjectNode();
        body.put("code", code);
        body.put("message", message);
        write(resp, status, body);
    }

    private void write(HttpServletResponse resp, int status, ObjectNode body) throws IOException {
        resp.setStatus(status);
        resp.setContentType("application/json");
        json.writeValue(resp.getOutputStream(), body);
    }
}
