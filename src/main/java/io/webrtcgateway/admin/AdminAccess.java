package io.webrtcgateway.admin;

import io.webrtcgateway.edge.http.ClientAddress;
import io.webrtcgateway.edge.http.OriginFilter;
import jakarta.servlet.http.Cookie;
import jakarta.servlet.http.HttpServletRequest;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.concurrent.CompletableFuture;

/**
 * Who may do what on the admin API: authenticates a request by one of a peer's signature, the console's
 * login cookie or HTTP Basic, then applies the CSRF rule that goes with it and the Origin rule
 * (docs/admin.md, "Authentication"). Refuses with {@link AdminException} 401 or 403 (429 or 503 from
 * the password throttle).
 */
final class AdminAccess {
    private final AdminAuthenticator auth;
    private final ConsoleLogins logins;
    /** Null when no cluster secret is configured: peer requests are then refused. */
    private final ClusterSignature signature;
    /** Whom the password throttle counts a request against. */
    private final ClientAddress clients;

    AdminAccess(AdminAuthenticator auth, ConsoleLogins logins, ClusterSignature signature, ClientAddress clients) {
        this.auth = auth;
        this.logins = logins;
        this.signature = signature;
        this.clients = clients;
    }

    /**
     * Who makes this request, after the CSRF and Origin checks; fails with {@link AdminException} 401/403,
     * or 429/503 from the password check. A signed peer request needs neither check: no browser can sign
     * one. Completed at once unless a Basic password has to be hashed (then on the hashing thread).
     */
    CompletableFuture<AdminAudit.Actor> authorize(HttpServletRequest req) {
        String address = clients.of(req);
        if (req.getHeader(ClusterSignature.PEER_HEADER) != null) {
            return CompletableFuture.completedFuture(peer(req, address));
        }
        boolean unsafe = !AdminApiServlet.SAFE_METHODS.contains(req.getMethod());
        ConsoleLogins.Login login = logins.find(cookie(req), System.nanoTime());
        if (login != null) {
            if (unsafe && !ConsoleLogins.csrfMatches(login, req.getHeader(AdminApiServlet.CSRF_TOKEN_HEADER))) {
                throw new AdminException(403, "CSRF_TOKEN_INVALID", "requests that change something need the header "
                        + AdminApiServlet.CSRF_TOKEN_HEADER + " with the csrfToken of the login (POST /admin/api/login, GET /admin/api/me)");
            }
            checkOrigin(req);
            return CompletableFuture.completedFuture(new AdminAudit.Actor(login.username(), "cookie", address));
        }
        // Read now: the check may end on another thread.
        String csrf = req.getHeader(AdminApiServlet.CSRF_HEADER);
        String origin = req.getHeader("Origin");
        boolean sameOrigin = origin == null || OriginFilter.isSameOrigin(origin, req);
        return auth.basic(req.getHeader("Authorization"), clients.of(req)).thenApply(ok -> {
            if (!ok) {
                throw new AdminException(401, "UNAUTHORIZED",
                        "admin credentials required: log in (POST /admin/api/login) or use HTTP Basic");
            }
            if (unsafe && (csrf == null || csrf.isBlank())) {
                throw new AdminException(403, "CSRF_HEADER_MISSING", "state-changing admin requests need the header "
                        + AdminApiServlet.CSRF_HEADER + " (any value), e.g. curl -H '" + AdminApiServlet.CSRF_HEADER + ": curl'");
            }
            if (!sameOrigin) {
                throw forbiddenOrigin(origin);
            }
            return new AdminAudit.Actor(auth.username(), "basic", address);
        });
    }

    private AdminAudit.Actor peer(HttpServletRequest req, String address) {
        String target = req.getRequestURI() + (req.getQueryString() == null ? "" : "?" + req.getQueryString());
        String peer = req.getHeader(ClusterSignature.PEER_HEADER);
        String user = req.getHeader(ClusterSignature.USER_HEADER);
        boolean valid = signature != null && signature.verify(req.getMethod(), target, peer, user,
                req.getHeader(ClusterSignature.TIME_HEADER), req.getHeader(ClusterSignature.NONCE_HEADER),
                req.getHeader(ClusterSignature.SIGNATURE_HEADER), System.currentTimeMillis() / 1000);
        if (!valid) {
            throw new AdminException(401, "UNAUTHORIZED", "the peer request's signature is missing, wrong, stale or"
                    + " replayed (gateway.admin.cluster-secret must be the same on every instance, clocks in sync)");
        }
        String operator;
        try {
            operator = URLDecoder.decode(user, StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            operator = user;
        }
        return new AdminAudit.Actor(operator, "peer:" + peer, address);
    }

    static void checkOrigin(HttpServletRequest req) {
        String origin = req.getHeader("Origin");
        if (origin != null && !OriginFilter.isSameOrigin(origin, req)) {
            throw forbiddenOrigin(origin);
        }
    }

    private static AdminException forbiddenOrigin(String origin) {
        return new AdminException(403, "FORBIDDEN_ORIGIN", "admin requests from another origin are refused: " + origin);
    }

    /**
     * A Basic challenge makes a browser pop up its own password dialog, which the console must not get:
     * none on the console's own endpoints and none for a request that carries the console's cookie.
     */
    static boolean wantsBasicChallenge(HttpServletRequest req, String path) {
        return !path.equals("/me") && !path.equals("/login") && !path.equals("/logout")
                && cookie(req) == null && req.getHeader(AdminApiServlet.CSRF_TOKEN_HEADER) == null
                && req.getHeader(ClusterSignature.PEER_HEADER) == null;
    }

    static String cookie(HttpServletRequest req) {
        Cookie[] cookies = req.getCookies();
        if (cookies == null) {
            return null;
        }
        return Arrays.stream(cookies).filter(c -> ConsoleLogins.COOKIE.equals(c.getName())).map(Cookie::getValue)
                .findFirst().orElse(null);
    }
}
