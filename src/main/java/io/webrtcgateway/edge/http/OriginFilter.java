package io.webrtcgateway.edge.http;

import io.webrtcgateway.config.GatewayConfig;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpFilter;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.net.URI;

/**
 * CORS with credentials for the browser-facing edges (SPEC §4): a request from an origin listed in
 * {@code gateway.cors.allowed-origins} is answered with that origin and
 * {@code Access-Control-Allow-Credentials: true}; preflights are answered here. A WebSocket upgrade from a
 * foreign origin that is not allowed is refused with 403 (browsers don't apply CORS to WebSockets, so the
 * server must). Same-origin requests and non-browser clients (no Origin) pass untouched.
 *
 * <p>The admin paths ({@code /admin/...}) never get a CORS grant, whatever the config says: a page of an
 * allowed app origin must not be able to drive the admin API with the operator's credentials.
 */
public final class OriginFilter extends HttpFilter {
    private final transient GatewayConfig.Cors cors;

    public OriginFilter(GatewayConfig.Cors cors) {
        this.cors = cors;
    }

    @Override
    protected void doFilter(HttpServletRequest req, HttpServletResponse resp, FilterChain chain)
            throws IOException, ServletException {
        String origin = req.getHeader("Origin");
        if (origin == null || isSameOrigin(origin, req)) {
            chain.doFilter(req, resp);
            return;
        }
        // Decoded, as the container maps it: "/%61dmin/..." must not slip past.
        String path = req.getServletPath() + (req.getPathInfo() == null ? "" : req.getPathInfo());
        boolean allowed = cors.allows(origin) && !isAdminPath(path);
        if (allowed) {
            resp.setHeader("Access-Control-Allow-Origin", origin);
            resp.setHeader("Access-Control-Allow-Credentials", "true");
            resp.setHeader("Access-Control-Expose-Headers", "Pragma, Content-Type");
        }
        resp.addHeader("Vary", "Origin");
        if ("OPTIONS".equals(req.getMethod()) && req.getHeader("Access-Control-Request-Method") != null) {
            if (!allowed) {
                resp.sendError(403, "origin not allowed: " + origin);
                return;
            }
            resp.setHeader("Access-Control-Allow-Methods", "GET, POST, PUT, DELETE, OPTIONS");
            String headers = req.getHeader("Access-Control-Request-Headers");
            if (headers != null && headers.matches("[A-Za-z0-9\\-, ]{0,512}")) {
                resp.setHeader("Access-Control-Allow-Headers", headers);
            }
            resp.setHeader("Access-Control-Max-Age", "600");
            resp.setStatus(204);
            return;
        }
        if (!allowed && "websocket".equalsIgnoreCase(req.getHeader("Upgrade"))) {
            resp.sendError(403, "origin not allowed: " + origin);
            return;
        }
        chain.doFilter(req, resp);
    }

    static boolean isAdminPath(String path) {
        return path.equals("/admin") || path.startsWith("/admin/");
    }

    public static boolean isSameOrigin(String origin, HttpServletRequest req) {
        try {
            URI o = URI.create(origin);
            String host = req.getHeader("Host");
            if (o.getHost() == null || host == null) {
                return false;
            }
            String originHostPort = o.getPort() < 0 ? o.getHost() : o.getHost() + ":" + o.getPort();
            String defaultPort = "https".equals(o.getScheme()) ? ":443" : ":80";
            return host.equalsIgnoreCase(originHostPort) || host.equalsIgnoreCase(originHostPort + defaultPort)
                    || (host + defaultPort).equalsIgnoreCase(originHostPort);
        } catch (IllegalArgumentException e) {
            return false;
        }
    }
}
