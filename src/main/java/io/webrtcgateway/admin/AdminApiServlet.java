package io.webrtcgateway.admin;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.webrtcgateway.GatewayApplication;
import io.webrtcgateway.cluster.AffinityCookie;
import io.webrtcgateway.config.GatewayConfig;
import io.webrtcgateway.edge.http.ClientAddress;
import io.webrtcgateway.edge.http.OriginFilter;
import jakarta.servlet.AsyncContext;
import jakarta.servlet.AsyncEvent;
import jakarta.servlet.AsyncListener;
import jakarta.servlet.http.Cookie;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.io.InputStream;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The admin API under {@code /admin/api/} (docs/admin.md, OpenAPI in /api/openapi.yaml).
 *
 * <p>Every request goes through, in order: the API is configured (else 404, as if it did not exist);
 * authentication, by one of: a request signed by a peer instance ({@link ClusterSignature}), the console's
 * login cookie ({@link ConsoleLogins}) or HTTP Basic (scripts) — else 401; CSRF defence for requests that
 * change something: with the cookie the login's CSRF token in {@code X-CSRF-Token}, with Basic the header
 * {@code X-Requested-With} (browsers replay Basic credentials and cookies on their own; a foreign page can
 * send neither header without a CORS preflight, which {@link OriginFilter} never grants on admin paths);
 * an {@code Origin}, if sent, must be this gateway's own. Then {@link AdminResources} does the work.
 *
 * <p>Password checks ({@link AdminAuthenticator}, throttled by {@link LoginThrottle}) run on the
 * application's hashing pool; meanwhile the request is in async mode and holds no listener thread, so a
 * flood of guesses cannot starve {@code /health} or the browsers of HTTP threads.
 */
public final class AdminApiServlet extends HttpServlet {
    public static final String CSRF_HEADER = "X-Requested-With";
    public static final String CSRF_TOKEN_HEADER = "X-CSRF-Token";
    static final Set<String> SAFE_METHODS = Set.of("GET", "HEAD", "OPTIONS");
    private static final int MAX_LOGIN_BODY = 4096;
    /** Longer than any wait for a hashing thread (hash-queue checks of a few hundred ms each). */
    private static final long ASYNC_TIMEOUT_MILLIS = 60_000;
    private static final Logger LOG = LoggerFactory.getLogger(AdminApiServlet.class);

    private final transient GatewayApplication app;
    private final transient ObjectMapper json;
    private final transient AdminAuthenticator auth;
    private final transient ConsoleLogins logins;
    private final transient ClusterSignature signature;
    private final transient PeerClient peers;
    private final transient AdminAudit audit = new AdminAudit();
    private final transient AdminResources resources;
    private final transient AdminAccess access;
    private final transient ClientAddress clients;

    public AdminApiServlet(GatewayApplication app, ObjectMapper json) {
        this.app = app;
        this.json = json;
        GatewayConfig.Admin config = app.config().admin();
        this.auth = new AdminAuthenticator(config, app.adminHashing(),
                new LoginThrottle(config.loginThrottle(), System::nanoTime), app.metrics().registry());
        this.logins = new ConsoleLogins(config.sessionTimeout());
        this.signature = config.clusterSecret().isEmpty() ? null : new ClusterSignature(config.clusterSecret());
        this.peers = signature == null || config.peers().isEmpty() ? null
                : new PeerClient(config.peers(), signature, app.config().instanceId(), config.peerTimeout(), json);
        ActivityHistory history = new ActivityHistory();
        if (app.calls() != null) {
            app.calls().onStarted(c -> history.callStarted(Instant.now()));
            app.calls().onEnded(c -> history.callEnded(c, Instant.now()));
            app.calls().onRefused(r -> history.inviteRefused(r.dn(), r.remote(), r.sipStatus(), r.cause(),
                    Instant.now()));
            app.calls().onRefusedCall(r -> history.callRefused(r.session().registration() == null ? null
                    : r.session().registration().dn(), r.to(), r.code(), Instant.now()));
        }
        app.registrations().onFailure((dn, purpose, error) -> history.registrationFailed(dn, error.sipStatus(),
                error.sipReason(), purpose + ": " + error.code().name(), Instant.now()));
        this.resources = new AdminResources(app, json, history, peers, audit);
        this.clients = app.clientAddress();
        this.access = new AdminAccess(auth, logins, signature, clients);
    }

    @Override
    public void destroy() {
        if (peers != null) {
            peers.close();
        }
    }

    @Override
    protected void service(HttpServletRequest req, HttpServletResponse resp) throws IOException {
        resp.setHeader("Cache-Control", "no-store");
        if (!auth.enabled()) {
            resp.sendError(404);
            return;
        }
        String path = req.getPathInfo() == null ? "" : req.getPathInfo();
        try {
            switch (path) {
                case "/login" -> login(req, resp, path);
                case "/logout" -> logout(req, resp);
                case "/me" -> me(req, resp);
                default -> afterCheck(req, resp, path, access.authorize(req), who -> route(req, resp, path, who));
            }
        } catch (AdminException e) {
            refuse(req, resp, path, e);
        }
    }

    private void refuse(HttpServletRequest req, HttpServletResponse resp, String path, AdminException e)
            throws IOException {
        if (e.status() == 401 && AdminAccess.wantsBasicChallenge(req, path)) {
            resp.setHeader("WWW-Authenticate", "Basic realm=\"webrtc-gateway admin\", charset=\"UTF-8\"");
        }
        if (e.retryAfterSeconds() > 0) {
            resp.setHeader("Retry-After", String.valueOf(e.retryAfterSeconds()));
        }
        error(resp, e.status(), e.code(), e.getMessage());
    }

    /** The rest of a request, once its password check is done. */
    private interface Step<T> {
        void run(T value) throws IOException;
    }

    /**
     * Runs {@code step} with the check's result: at once when it is already known (no password to hash:
     * a cookie, a remembered Basic header, a throttled or malformed attempt), else in async mode (Servlet
     * 6.0 §2.3.3.3) so the listener thread is free while PBKDF2 runs, and then on a container thread
     * ({@link AsyncContext#start}), never on the hashing thread.
     */
    private <T> void afterCheck(HttpServletRequest req, HttpServletResponse resp, String path,
            CompletableFuture<T> check, Step<T> step) throws IOException {
        if (check.isDone()) {
            step.run(resultOf(check));
            return;
        }
        AsyncContext async = req.startAsync();
        async.setTimeout(ASYNC_TIMEOUT_MILLIS);
        AtomicBoolean answered = new AtomicBoolean();
        async.addListener(new AsyncListener() {
            @Override
            public void onTimeout(AsyncEvent event) throws IOException {
                // Only if the hashing pool was shut down under a queued check (the gateway is stopping).
                if (answered.compareAndSet(false, true)) {
                    refuse(req, resp, path, AdminException.busy());
                    async.complete();
                }
            }

            @Override
            public void onComplete(AsyncEvent event) {}

            @Override
            public void onError(AsyncEvent event) {}

            @Override
            public void onStartAsync(AsyncEvent event) {}
        });
        check.whenComplete((value, failure) -> {
            if (answered.compareAndSet(false, true)) {
                async.start(() -> {
                    try {
                        try {
                            step.run(resultOf(check));
                        } catch (AdminException e) {
                            refuse(req, resp, path, e);
                        }
                    } catch (IOException | RuntimeException e) {
                        // The route only: a path can hold a session id, a bearer secret.
                        LOG.warn("admin request {} /{}/... failed: {}", req.getMethod(),
                                path.replaceFirst("^/([^/]*).*$", "$1"), e.toString());
                        if (!resp.isCommitted()) {
                            resp.setStatus(500);
                        }
                    } finally {
                        async.complete();
                    }
                });
            }
        });
    }

    /** The check's value, or the AdminException it failed with. */
    private static <T> T resultOf(CompletableFuture<T> check) {
        try {
            return check.join();
        } catch (CompletionException e) {
            if (e.getCause() instanceof AdminException a) {
                throw a;
            }
            throw e;
        }
    }

    // ---- console login ------------------------------------------------------------------------------

    private void login(HttpServletRequest req, HttpServletResponse resp, String path) throws IOException {
        requireMethod(req, resp, "POST");
        String contentType = req.getContentType();
        // A cross-site HTML form can only send form or text types; JSON needs a preflight, never granted.
        if (contentType == null || !contentType.toLowerCase(java.util.Locale.ROOT).startsWith("application/json")) {
            throw AdminException.badRequest("log in with Content-Type: application/json");
        }
        AdminAccess.checkOrigin(req);
        JsonNode body;
        try (InputStream in = req.getInputStream()) {
            byte[] bytes = in.readNBytes(MAX_LOGIN_BODY + 1);
            if (bytes.length > MAX_LOGIN_BODY) {
                throw AdminException.badRequest("the login body is larger than " + MAX_LOGIN_BODY + " bytes");
            }
            body = json.readTree(bytes);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw AdminException.badRequest("the login body is not JSON: {\"username\": ..., \"password\": ...}");
        }
        if (body == null || !body.path("username").isTextual() || !body.path("password").isTextual()) {
            throw AdminException.badRequest("the login body must be {\"username\": \"...\", \"password\": \"...\"}");
        }
        String user = body.path("username").asText();
        AdminAudit.Actor who = new AdminAudit.Actor(user, "login", clients.of(req));
        boolean secure = secure(req);
        CompletableFuture<Boolean> check = auth.login(user, body.path("password").asText().toCharArray(),
                clients.of(req));
        afterCheck(req, resp, path, check, ok -> loggedIn(resp, who, ok, secure));
    }

    private void loggedIn(HttpServletResponse resp, AdminAudit.Actor who, boolean ok, boolean secure)
            throws IOException {
        String user = who.user();
        if (!ok) {
            audit.log(who, "login", "-", "refused");
            throw new AdminException(401, "UNAUTHORIZED", "wrong user name or password");
        }
        ConsoleLogins.Created created = logins.create(user, System.nanoTime());
        audit.log(who, "login", "-", "ok");
        resp.addHeader("Set-Cookie", ConsoleLogins.COOKIE + "=" + created.cookie() + "; Path=/admin; HttpOnly; SameSite=Strict"
                + (secure ? "; Secure" : ""));
        ObjectNode out = json.createObjectNode();
        out.put("username", user);
        out.put("csrfToken", created.login().csrfToken());
        out.put("expiresInSeconds", logins.timeout().toSeconds());
        write(resp, 200, out);
    }

    private void logout(HttpServletRequest req, HttpServletResponse resp) throws IOException {
        requireMethod(req, resp, "POST");
        String cookie = AdminAccess.cookie(req);
        ConsoleLogins.Login login = logins.find(cookie, System.nanoTime());
        if (login != null) {
            if (!ConsoleLogins.csrfMatches(login, req.getHeader(CSRF_TOKEN_HEADER))) {
                throw new AdminException(403, "CSRF_TOKEN_INVALID", "log out with the header " + CSRF_TOKEN_HEADER);
            }
            logins.remove(cookie);
            audit.log(new AdminAudit.Actor(login.username(), "cookie", clients.of(req)), "logout", "-", "ok");
        }
        resp.addHeader("Set-Cookie", ConsoleLogins.COOKIE + "=; Path=/admin; Max-Age=0; HttpOnly; SameSite=Strict"
                + (secure(req) ? "; Secure" : ""));
        resp.setStatus(204);
    }

    private void me(HttpServletRequest req, HttpServletResponse resp) throws IOException {
        requireMethod(req, resp, "GET");
        long now = System.nanoTime();
        ConsoleLogins.Login login = logins.find(AdminAccess.cookie(req), now);
        if (login == null) {
            throw new AdminException(401, "UNAUTHORIZED", "not logged in");
        }
        AdminAccess.checkOrigin(req);
        ObjectNode out = json.createObjectNode();
        out.put("username", login.username());
        out.put("csrfToken", login.csrfToken());
        out.put("expiresInSeconds", Math.max(0, (login.expiresAtNanos() - now) / 1_000_000_000L));
        write(resp, 200, out);
    }

    private static boolean secure(HttpServletRequest req) {
        return AffinityCookie.isSecure(req.isSecure(), req.getHeader("X-Forwarded-Proto"));
    }

    // ---- routing ------------------------------------------------------------------------------------

    private void route(HttpServletRequest req, HttpServletResponse resp, String path, AdminAudit.Actor who)
            throws IOException {
        List<String> p = Arrays.stream(path.split("/")).filter(s -> !s.isEmpty()).toList();
        String method = req.getMethod();
        boolean peerRequest = who.via().startsWith("peer:");
        if (p.size() == 1) {
            switch (p.get(0)) {
                case "instance" -> {
                    requireMethod(req, resp, "GET");
                    write(resp, 200, resources.instance());
                }
                case "cluster" -> {
                    requireMethod(req, resp, "GET");
                    write(resp, 200, resources.cluster(who));
                }
                case "drain" -> {
                    requireMethod(req, resp, "GET", "POST", "DELETE");
                    write(resp, 200, resources.drain(method, who));
                }
                case "sessions", "registrations", "calls", "failures", "call-records" -> {
                    requireMethod(req, resp, "GET");
                    AdminResources.ListKind kind = AdminResources.ListKind.of(p.get(0));
                    write(resp, 200, resources.list(kind, ListQuery.parse(req.getParameterMap(), peerRequest), who));
                }
                default -> throw notFound(path);
            }
            return;
        }
        if (p.size() < 2 || !p.get(1).matches("[A-Za-z0-9_.\\-]{1,160}")) {
            throw notFound(path);
        }
        String id = p.get(1);
        String route = p.get(0) + (p.size() == 3 ? "/{id}/" + p.get(2) : p.size() == 2 ? "/{id}" : "/?");
        switch (route) {
            case "calls/{id}" -> {
                requireMethod(req, resp, "GET");
                answer(resp, resources.callDetail(id, who));
            }
            case "calls/{id}/hangup" -> {
                requireMethod(req, resp, "POST");
                answer(resp, resources.hangup(id, who));
            }
            case "sessions/{id}/sign-out" -> {
                requireMethod(req, resp, "POST");
                answer(resp, resources.signOut(id, who));
            }
            case "instances/{id}/drain" -> {
                requireMethod(req, resp, "GET", "POST", "DELETE");
                answer(resp, resources.drain(id, method, who));
            }
            default -> throw notFound(path);
        }
    }

    private static AdminException notFound(String path) {
        return AdminException.notFound("no admin resource " + path);
    }

    private static void requireMethod(HttpServletRequest req, HttpServletResponse resp, String... allowed) {
        for (String m : allowed) {
            if (m.equals(req.getMethod())) {
                return;
            }
        }
        resp.setHeader("Allow", String.join(", ", allowed));
        throw new AdminException(405, "METHOD_NOT_ALLOWED", "use " + String.join(" or ", allowed));
    }

    // ---- writing ------------------------------------------------------------------------------------

    private void answer(HttpServletResponse resp, AdminResources.Answer a) throws IOException {
        if (a.raw() != null) {
            resp.setStatus(a.status());
            resp.setContentType("application/json");
            resp.getOutputStream().write(a.raw());
        } else {
            write(resp, a.status(), a.json());
        }
    }

    private void error(HttpServletResponse resp, int status, String code, String message) throws IOException {
        ObjectNode body = json.createObjectNode();
        body.put("code", code);
        body.put("message", message);
        write(resp, status, body);
    }

    private void write(HttpServletResponse resp, int status, JsonNode body) throws IOException {
        resp.setStatus(status);
        resp.setContentType("application/json");
        json.writeValue(resp.getOutputStream(), body);
    }
}
