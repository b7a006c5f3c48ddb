package io.webrtcgateway.edge.http;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.webrtcgateway.config.GatewayConfig;
import io.webrtcgateway.edge.legacy.LegacyServlet;
import io.webrtcgateway.error.ErrorCode;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpFilter;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The first gate of every HTTP request and WebSocket upgrade, in this order:
 * <ol>
 *   <li>the {@code Host} must be one the gateway serves ({@link AllowedHosts}: DNS rebinding), else 421
 *       {@code FORBIDDEN_HOST}, on every path;</li>
 *   <li>a sign-in or legacy request that changes something must not come from a page of another site
 *       ({@link CrossSiteRequests}), else 403 {@code FORBIDDEN_ORIGIN};</li>
 *   <li>CORS with credentials for the browser-facing edges (SPEC §4): a request from an origin listed in
 *       {@code gateway.cors.allowed-origins} is answered with that origin and
 *       {@code Access-Control-Allow-Credentials: true}; preflights are answered here. Same-origin requests
 *       and non-browser clients (no Origin) pass untouched.</li>
 * </ol>
 * Refusals are counted in {@code gateway.http.refusals} ({@code reason} = {@code host}, {@code cross-site})
 * and written in the edge's error body: the legacy one on legacy paths, {@code {"code", "message"}} elsewhere.
 *
 * <p>The admin paths ({@code /admin/...}) never get a CORS grant, whatever the config says: a page of an
 * allowed app origin must not be able to drive the admin API with the operator's credentials.
 */
public final class OriginFilter extends HttpFilter {
    private static final Logger LOG = LoggerFactory.getLogger(OriginFilter.class);
    /** How many distinct refused hosts/origins are logged at WARN (a misconfiguration shows; a scan does not flood). */
    private static final int LOGGED_MAX = 32;

    private final transient GatewayConfig.Cors cors;
    private final transient AllowedHosts hosts;
    private final transient ClientAddress clientAddress;
    private final transient Counter hostRefusals;
    private final transient Counter crossSiteRefusals;
    /** Thread-safe: the hosts and origins already logged at WARN. */
    private final transient Set<String> logged = ConcurrentHashMap.newKeySet();

    public OriginFilter(GatewayConfig.Cors cors, AllowedHosts hosts, ClientAddress clientAddress,
                        MeterRegistry registry) {
        this.cors = cors;
        this.hosts = hosts;
        this.clientAddress = clientAddress;
        this.hostRefusals = refusals(registry, "host");
        this.crossSiteRefusals = refusals(registry, "cross-site");
    }

    private static Counter refusals(MeterRegistry registry, String reason) {
        return Counter.builder("gateway.http.refusals").tag("reason", reason)
                .description("HTTP requests and WebSocket upgrades refused: host = Host not served (DNS rebinding),"
                        + " cross-site = a sign-in or legacy change from a page of another site")
                .register(registry);
    }

    @Override
    protected void doFilter(HttpServletRequest req, HttpServletResponse resp, FilterChain chain)
            throws IOException, ServletException {
        // Decoded, as the container maps it: "/%61dmin/..." and "/%73ign_in" must not slip past.
        String path = req.getServletPath() + (req.getPathInfo() == null ? "" : req.getPathInfo());
        String host = req.getHeader("Host");
        if (!hosts.allows(host)) {
            hostRefusals.increment();
            log("host", host == null ? "no Host header" : host, req);
            refuse(resp, path, ErrorCode.FORBIDDEN_HOST, host == null
                    ? "a request without a Host header is not served"
                    : "this gateway does not serve the host " + quoted(host)
                    + " (a name browsers use to reach it must be in gateway.http.allowed-hosts)");
            return;
        }
        String origin = req.getHeader("Origin");
        boolean sameOrigin = origin != null && isSameOrigin(origin, req);
        boolean upgrade = "websocket".equalsIgnoreCase(req.getHeader("Upgrade"));
        if (CrossSiteRequests.refuses(CrossSiteRequests.kind(path, upgrade), req.getHeader("Sec-Fetch-Site"), origin,
                sameOrigin, cors)) {
            crossSiteRefusals.increment();
            log("cross-site", origin == null ? "no Origin, Sec-Fetch-Site: cross-site" : origin, req);
            refuse(resp, path, ErrorCode.FORBIDDEN_ORIGIN, origin == null
                    ? "refused from a page of another site (Sec-Fetch-Site: cross-site): an app must call from an"
                    + " origin in gateway.cors.allowed-origins"
                    : "origin " + quoted(origin) + " is not allowed (gateway.cors.allowed-origins)");
            return;
        }
        if (origin == null || sameOrigin) {
            chain.doFilter(req, resp);
            return;
        }
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
        if (!allowed && upgrade) {
            resp.sendError(403, "origin not allowed: " + origin);
            return;
        }
        chain.doFilter(req, resp);
    }

    private void log(String reason, String what, HttpServletRequest req) {
        String client = clientAddress.of(req);
        if (logged.size() < LOGGED_MAX && logged.add(reason + " " + what)) {
            LOG.warn("refused ({}) {} {} from {}: {} (further refusals of it are logged at DEBUG)", reason,
                    req.getMethod(), quoted(req.getRequestURI()), client, quoted(what));
        } else {
            LOG.debug("refused ({}) {} {} from {}: {}", reason, req.getMethod(), quoted(req.getRequestURI()), client,
                    quoted(what));
        }
    }

    /** Quoted, at most 100 characters, control characters replaced: header values are the client's text. */
    private static String quoted(String text) {
        String t = text.length() > 100 ? text.substring(0, 100) + "..." : text;
        return "'" + t.replaceAll("\\p{Cntrl}", "?") + "'";
    }

    private static void refuse(HttpServletResponse resp, String path, ErrorCode code, String message)
            throws IOException {
        String body;
        if (CrossSiteRequests.isLegacyPath(path)) {
            resp.setContentType("text/plain;charset=utf-8");
            body = LegacyServlet.errorBody(code.name(), message);
        } else {
            ObjectNode json = JsonNodeFactory.instance.objectNode();
            json.put("code", code.name());
            json.put("message", message);
            resp.setContentType("application/json");
            body = json.toString();
        }
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        resp.setStatus(code.httpStatus);
        resp.setHeader("Cache-Control", "no-store");
        resp.setContentLength(bytes.length);
        resp.getOutputStream().write(bytes);
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
