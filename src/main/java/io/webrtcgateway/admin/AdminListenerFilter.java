package io.webrtcgateway.admin;

import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpFilter;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;

/**
 * The console and API must never be framed by another page (clickjacking: a foreign page overlaying the
 * console's Hang up or Drain button), so every {@code /admin/**} answer forbids framing and MIME sniffing.
 *
 * <p>With {@code gateway.admin.port} set, the console and API ({@code /admin/**}) answer only on that port,
 * and that port serves nothing else: 404 otherwise, as if the path did not exist. Decided by the local
 * port the request came in on, so it holds for the standalone launcher's second connector and for a
 * connector added to a standalone Jetty alike (deploy/jetty/README.md).
 */
public final class AdminListenerFilter extends HttpFilter {
    /** 0: the admin paths answer on every port. */
    private final int adminPort;

    public AdminListenerFilter(int adminPort) {
        this.adminPort = adminPort;
    }

    @Override
    protected void doFilter(HttpServletRequest req, HttpServletResponse resp, FilterChain chain)
            throws IOException, ServletException {
        // Decoded, as the container maps it: "/%61dmin/..." is an admin path too.
        String path = req.getServletPath() + (req.getPathInfo() == null ? "" : req.getPathInfo());
        boolean adminPath = path.equals("/admin") || path.startsWith("/admin/");
        if (adminPort != 0 && adminPath != (req.getLocalPort() == adminPort)) {
            resp.sendError(404);
            return;
        }
        if (adminPath) {
            resp.setHeader("X-Frame-Options", "DENY");
            resp.setHeader("Content-Security-Policy", "frame-ancestors 'none'");
            resp.setHeader("X-Content-Type-Options", "nosniff");
        }
        chain.doFilter(req, resp);
    }
}
