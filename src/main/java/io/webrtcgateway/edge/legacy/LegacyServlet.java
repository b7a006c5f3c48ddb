package io.webrtcgateway.edge.legacy;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.webrtcgateway.GatewayApplication;
import io.webrtcgateway.error.ErrorCode;
import io.webrtcgateway.error.GatewayException;
import io.webrtcgateway.limits.ClientLimits;
import io.webrtcgateway.session.Dn;
import io.webrtcgateway.session.Session;
import jakarta.servlet.AsyncContext;
import jakarta.servlet.AsyncEvent;
import jakarta.servlet.AsyncListener;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.io.InputStream;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The legacy hanging-GET protocol of Genesys grtc.js apps (SPEC §4, docs/legacy-protocol.md), served at
 * the root: {@code /sign_in}, {@code /wait}, {@code /message}, {@code /sign_out}. Every quirk of the
 * deployed library listed in the SPEC is honoured here; the call messages are routed to the call core.
 */
public final class LegacyServlet extends HttpServlet {
    private static final Logger LOG = LoggerFactory.getLogger(LegacyServlet.class);
    private static final Pattern ANONYMOUS = Pattern.compile("anon[0-9a-fA-F]{32}");
    private static final Pattern PEER = Pattern.compile("[\\x21-\\x7e]{1,128}");
    /** Servlet path of the token-carrying form of every legacy path, /t/&lt;token&gt;/sign_in. */
    public static final String TOKEN_PREFIX = "/t";
    private static final Pattern TOKEN = Pattern.compile("[A-Za-z0-9_\\-]+\\.[A-Za-z0-9_\\-]+\\.[A-Za-z0-9_\\-]*");

    private final transient GatewayApplication app;
    private final transient ObjectMapper json;
    private final transient LegacyMailbox.PollMeters pollMeters;

    public LegacyServlet(GatewayApplication app, ObjectMapper json) {
        this.app = app;
        this.json = json;
        this.pollMeters = LegacyMailbox.PollMeters.register(app.metrics().registry());
    }

    /**
     * The legacy path and the token it came with: {@code /sign_in} (token null) or {@code /t/<token>/sign_in}. grtc.js
     * has one URL to configure and never sends a password (docs/legacy-protocol.md, "Tokens"), so the token travels
     * as the first path segment of that URL.
     */
    private record Target(String path, String token) {}

    private static Target target(HttpServletRequest req) {
        if (!TOKEN_PREFIX.equals(req.getServletPath())) {
            return new Target(req.getServletPath(), null);
        }
        String info = req.getPathInfo(); // "/<token>/sign_in"
        int slash = info == null ? -1 : info.indexOf('/', 1);
        if (slash < 0) {
            throw new GatewayException(ErrorCode.BAD_REQUEST, "use " + TOKEN_PREFIX + "/<token>/sign_in (or wait, message, sign_out)");
        }
        String token = info.substring(1, slash);
        if (!TOKEN.matcher(token).matches()) {
            throw new GatewayException(ErrorCode.AUTH_INVALID, "token refused: not a JWT (base64url parts joined by dots)");
        }
        return new Target(info.substring(slash), token);
    }

    @Override
    protected void doGet(HttpServletRequest req, HttpServletResponse resp) throws IOException {
        try {
            Target t = target(req);
            switch (t.path()) {
                case "/sign_in" -> signIn(req, resp, idFromQuery(req.getQueryString()), null, t.token());
                case "/wait" -> waitForMessage(req, resp, t.token());
                case "/sign_out" -> signOut(req, resp);
                default -> fail(resp, new GatewayException(ErrorCode.UNKNOWN_TYPE, "use POST for " + t.path()),
                        t.path().equals("/message") ? 405 : 404);
            }
        } catch (GatewayException e) {
            fail(resp, e, statusFor(e));
        }
    }

    @Override
    protected void doPost(HttpServletRequest req, HttpServletResponse resp) throws IOException {
        try {
            Target t = target(req);
            switch (t.path()) {
                case "/sign_in" -> {
                    String body = readBody(req).strip();
                    int colon = body.indexOf(':');
                    String dn = colon < 0 ? body : body.substring(0, colon);
                    String password = colon < 0 ? null : body.substring(colon + 1);
                    // The deployed grtc.js posts "<dn>:undefined" when the app configured no password.
                    if (password != null && (password.isEmpty() || password.equals("undefined"))) {
                        password = null;
                    }
                    String token = t.token();
                    if (token == null && app.access().tokensRequired()) {
                        // Token mode without a /t/ path: the password half is the token (<dn>:<token>).
                        token = password;
                        password = null;
                    }
                    signIn(req, resp, dn, password, token);
                }
                case "/message" -> message(req, resp, t.token());
                default -> fail(resp, new GatewayException(ErrorCode.UNKNOWN_TYPE, "use GET for " + t.path()),
                        t.path().equals("/wait") || t.path().equals("/sign_out") ? 405 : 404);
            }
        } catch (GatewayException e) {
            fail(resp, e, statusFor(e));
        }
    }

    /** {@code /sign_in?1001} or {@code /sign_in?anon<32 hex>}; tolerate extra "&..." parameters. */
    private static String idFromQuery(String query) {
        if (query == null || query.isEmpty()) {
            throw new GatewayException(ErrorCode.INVALID_DN, "sign_in needs the DN or anonymous id as query: /sign_in?<id>");
        }
        String first = query.split("&", 2)[0];
        try {
            return URLDecoder.decode(first, StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            throw new GatewayException(ErrorCode.INVALID_DN, "sign_in id is not URL-encoded correctly");
        }
    }

    private void signIn(HttpServletRequest req, HttpServletResponse resp, String id, String password, String token) {
        boolean anonymous = ANONYMOUS.matcher(id).matches();
        if (!anonymous) {
            Dn.validate(id);
        }
        Session s = app.sessions().create(Session.Kind.LEGACY, app.clientAddress().of(req), remoteAddress(req),
                req.getHeader("User-Agent"), token);
        LegacyMailbox mailbox = new LegacyMailbox(app.config().legacy().maxQueuedMessages(), app.timers(), pollMeters);
        mailbox.tokenSeen(token);
        if (app.calls() != null) {
            mailbox.serveCalls(new LegacyCallBridge(s, app.calls(), mailbox, json));
        }
        s.attach(mailbox);
        app.affinityCookie().set(req, resp);
        String okBody = id + "=" + s.id() + "\n";
        if (anonymous) {
            write(resp, 200, okBody);
            return;
        }
        AsyncContext ctx = req.startAsync();
        ctx.setTimeout(0); // bounded by gateway.sip.request-timeout inside the registration
        try {
            // Completes on a shared thread (the registration's actor, a timer): the answer must not wait for the client.
            app.sessions().register(s, id, password).whenComplete((r, err) -> {
                if (err == null) {
                    AsyncAnswer.send(ctx, 200, null, okBody, pollMeters.unwritten()::increment);
                } else {
                    GatewayException e = GatewayException.from(err);
                    app.sessions().end(s, "registration-failed");
                    AsyncAnswer.send(ctx, statusFor(e), null, errorBody(e), pollMeters.unwritten()::increment);
                }
            });
        } catch (GatewayException e) {
            app.sessions().end(s, "registration-failed");
            fail(resp, e, statusFor(e));
            ctx.complete();
        }
    }

    private void waitForMessage(HttpServletRequest req, HttpServletResponse resp, String token) {
        Session s = app.sessions().find(req.getParameter("id"));
        s.touch();
        if (!(s.sink() instanceof LegacyMailbox mailbox)) {
            throw new GatewayException(ErrorCode.SESSION_UNKNOWN, "session " + s.id() + " is not a legacy session");
        }
        if (!mailbox.hasQueued()) {
            // A poll that will wait counts against the session's requests; one that fetches a queued message is the
            // gateway's own backlog coming out (grtc.js polls again at once after each message, one per poll).
            s.budget().request();
        }
        refreshToken(s, mailbox, token);
        AsyncContext ctx = req.startAsync();
        ctx.setTimeout(0);
        ctx.addListener(new AsyncListener() {
            @Override
            public void onComplete(AsyncEvent event) {}

            @Override
            public void onTimeout(AsyncEvent event) {}

            @Override
            public void onError(AsyncEvent event) {
                mailbox.abandon(ctx);
            }

            @Override
            public void onStartAsync(AsyncEvent event) {}
        });
        mailbox.poll(ctx, app.config().legacy().pollTimeout().toMillis());
    }

    /**
     * A /t/ path whose token is not the one the session knows (the app reloaded its URL with a fresh token) renews
     * the session's token; the same token again costs nothing.
     */
    private void refreshToken(Session s, LegacyMailbox mailbox, String token) {
        if (token != null && mailbox.tokenChanged(token)) {
            app.sessions().refreshToken(s, token);
            mailbox.tokenSeen(token);
        }
    }

    private void message(HttpServletRequest req, HttpServletResponse resp, String token) throws IOException {
        // Read the body before any getParameter(): grtc.js posts with jQuery's default Content-Type
        // (application/x-www-form-urlencoded), and a parameter lookup would parse the body as a form and
        // leave nothing to read (Servlet 6.0 §3.1.1).
        String body = readBody(req);
        Session s = app.sessions().find(req.getParameter("from"));
        s.touch();
        String peer = req.getParameter("to");
        if (peer == null || peer.isBlank()) {
            throw new GatewayException(ErrorCode.BAD_REQUEST, "/message needs ?from=<session>&to=<peer>");
        }
        if (!PEER.matcher(peer).matches()) {
            // The peer comes back in the Pragma header of every message about the call.
            throw new GatewayException(ErrorCode.BAD_REQUEST, "'to' must be 1-128 printable characters without spaces");
        }
        if (!(s.sink() instanceof LegacyMailbox mailbox)) {
            throw new GatewayException(ErrorCode.SESSION_UNKNOWN, "session " + s.id() + " is not a legacy session");
        }
        refreshToken(s, mailbox, token);
        LegacyMessage msg = LegacyMessage.parse(body, json);
        if (!(msg instanceof LegacyMessage.Bye)) {
            s.budget().request(); // hanging up is never refused
        }
        LOG.debug("legacy message from {} to {}: {}", s.logId(), peer, msg.getClass().getSimpleName());
        if (mailbox.calls() == null) {
            // A build without the call core: the browser hears so through its long poll, as grtc.js
            // expects errors (an ERROR body, Pragma naming the peer).
            mailbox.post(peer, errorBody(ErrorCode.NOT_IMPLEMENTED.name(),
                    "calls are not served by this gateway version yet"));
        } else {
            mailbox.calls().onMessage(peer, msg);
        }
        write(resp, 200, "");
    }

    private void signOut(HttpServletRequest req, HttpServletResponse resp) {
        Session s = app.sessions().find(req.getParameter("id"));
        app.sessions().end(s, "signed-out");
        write(resp, 200, "");
    }

    private String readBody(HttpServletRequest req) throws IOException {
        int max = app.config().limits().maxMessageBytes();
        if (req.getContentLengthLong() > max) {
            throw tooBig(max); // before a byte of it is read
        }
        try (InputStream in = req.getInputStream()) {
            byte[] bytes = in.readNBytes(max + 1); // a chunked body: counted, never more than one byte past the limit
            if (bytes.length > max) {
                throw tooBig(max);
            }
            return new String(bytes, StandardCharsets.UTF_8);
        }
    }

    private GatewayException tooBig(int max) {
        app.sessions().limits().refused(ClientLimits.Limit.MESSAGE_BYTES);
        return new GatewayException(ErrorCode.MESSAGE_TOO_BIG, "body larger than " + max
                + " bytes (gateway.limits.max-message-bytes)");
    }

    /**
     * The error body grtc.js recognises: contains "ERROR" but not at position 0 (SPEC §4).
     */
    public static String errorBody(String code, String message) {
        ObjectNode n = JsonNodeFactory.instance.objectNode();
        n.put("messageType", "ERROR");
        n.put("errorType", code);
        n.put("message", message);
        return "RSMP " + n;
    }

    static String errorBody(GatewayException e) {
        ObjectNode n = JsonNodeFactory.instance.objectNode();
        n.put("messageType", "ERROR");
        n.put("errorType", e.code().name());
        n.put("message", e.getMessage());
        if (e.sipStatus() != null) {
            n.put("sipStatus", e.sipStatus());
            n.put("sipReason", e.sipReason());
        }
        if (e.retryAfter() != null) {
            n.put("retryAfter", e.retryAfter());
        }
        return "RSMP " + n;
    }

    /** SIP refusals keep SIP Server's 4xx (403, 404, 401...) so the app sees the same status. */
    private static int statusFor(GatewayException e) {
        if (e.code() == ErrorCode.SIP_REJECTED && e.sipStatus() != null && e.sipStatus() >= 400 && e.sipStatus() < 500) {
            return e.sipStatus();
        }
        return e.code().httpStatus;
    }

    private static void fail(HttpServletResponse resp, GatewayException e, int status) {
        if (e.retryAfter() != null) {
            resp.setHeader("Retry-After", String.valueOf(e.retryAfter())); // RFC 6585 §4: with RATE_LIMITED's 429
        }
        write(resp, status, errorBody(e));
    }

    private static void write(HttpServletResponse resp, int status, String body) {
        try {
            resp.setStatus(status);
            resp.setContentType("text/plain;charset=utf-8");
            resp.setHeader("Cache-Control", "no-cache, no-store");
            byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
            resp.setContentLength(bytes.length);
            resp.getOutputStream().write(bytes);
        } catch (IOException | IllegalStateException e) {
            LOG.debug("legacy answer failed: {}", e.toString());
        }
    }

    private String remoteAddress(HttpServletRequest req) {
        return app.clientAddress().withPort(req);
    }
}
