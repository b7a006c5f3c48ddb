package io.webrtcgateway.edge.ws;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.webrtcgateway.GatewayApplication;
import io.webrtcgateway.call.CallService;
import io.webrtcgateway.auth.Grant;
import io.webrtcgateway.error.ErrorCode;
import io.webrtcgateway.error.GatewayException;
import io.webrtcgateway.session.Session;
import io.webrtcgateway.session.SessionEvent;
import io.webrtcgateway.session.SessionEventSink;
import io.webrtcgateway.session.SessionService;
import io.webrtcgateway.sip.Registration;
import jakarta.websocket.CloseReason;
import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One WebSocket: parses requests (docs/protocol.md), turns them into session commands, renders results,
 * errors and session events. Holds no session logic of its own. What it sends goes through an
 * {@link OutboundQueue}: whichever thread has a reply or an event only queues it.
 */
final class WsConnection implements SessionEventSink {
    private static final Logger LOG = LoggerFactory.getLogger(WsConnection.class);
    /** The session was resumed on another socket (docs/protocol.md). */
    static final CloseReason.CloseCode RESUMED_ELSEWHERE = CloseReason.CloseCodes.getCloseCode(4000);
    /** The client does not read what it is sent (docs/protocol.md, "Slow clients"); it may resume. */
    static final CloseReason.CloseCode TOO_SLOW = CloseReason.CloseCodes.getCloseCode(4008);
    /** Requests of the call part of the protocol, served by a later version. */
    private static final Set<String> CALL_REQUESTS = Set.of("call", "answer", "reject", "hangup", "hold", "resume",
            "dtmf", "info", "candidate", "ice-restart", "stats");
    /** Requests that only end things: they count as a sign of life, never against the session's request rate. */
    private static final Set<String> ENDING_REQUESTS = Set.of("bye", "hangup", "reject");

    private final GatewayApplication app;
    private final ObjectMapper json;
    private final jakarta.websocket.Session ws;
    /** The client's address for the per-client limits (trusted-proxy aware). */
    private final String client;
    private final String remoteAddress;
    private final String userAgent;
    private final OutboundQueue outbound;
    /** Told each time a client is cut off as too slow. */
    private final java.util.function.Consumer<OutboundQueue.TooSlow> tooSlowCounter;
    /** Set by hello; then only read. Guarded by this. */
    private Session session;
    /** Found too slow: requests still arriving are ignored while the socket closes. */
    private volatile boolean cutOff;
    /** The container reported the socket closed. */
    private volatile boolean closed;

    WsConnection(GatewayApplication app, ObjectMapper json, jakarta.websocket.Session ws, String client,
                 String remoteAddress, String userAgent,
                 java.util.function.Consumer<OutboundQueue.TooSlow> tooSlowCounter) {
        this.app = app;
        this.json = json;
        this.ws = ws;
        this.client = client;
        this.remoteAddress = remoteAddress;
        this.userAgent = userAgent;
        this.tooSlowCounter = tooSlowCounter;
        var limits = app.config().limits();
        // The container enforces the same timeout on the write itself and aborts the connection when it passes:
        // a close frame could not get past the unwritten message anyway.
        ws.getAsyncRemote().setSendTimeout(limits.writeTimeout().toMillis());
        this.outbound = new OutboundQueue(this::sendAsync, limits.wsSendQueueMessages(), limits.wsSendQueueBytes(),
                limits.writeTimeout(), OutboundQueue.Timer.on(app.timers()), System::nanoTime, this::tooSlow);
    }

    void onText(String text) {
        if (cutOff) {
            return; // the socket is closing; its session waits to be resumed
        }
        JsonNode id = null;
        try {
            JsonNode msg;
            try {
                msg = json.readTree(text);
            } catch (JsonProcessingException e) {
                throw new GatewayException(ErrorCode.BAD_JSON, "not JSON: " + e.getOriginalMessage());
            }
            if (msg == null || !msg.isObject()) {
                throw new GatewayException(ErrorCode.BAD_JSON, "a message must be a JSON object");
            }
            id = msg.get("id");
            if (id != null && !id.isTextual() && !id.isIntegralNumber()) {
                id = null;
                throw new GatewayException(ErrorCode.BAD_REQUEST, "'id' must be a number or a string");
            }
            JsonNode typeNode = msg.get("type");
            if (typeNode == null || !typeNode.isTextual()) {
                throw new GatewayException(ErrorCode.BAD_REQUEST, "'type' (string) is required");
            }
            if (id == null) {
                throw new GatewayException(ErrorCode.BAD_REQUEST, "'id' (number or string) is required");
            }
            handle(typeNode.asText(), id, (ObjectNode) msg);
        } catch (GatewayException e) {
            sendError(id, e);
        } catch (RuntimeException e) {
            LOG.error("request failed", e);
            sendError(id, GatewayException.from(e));
        }
    }

    private void handle(String type, JsonNode id, ObjectNode msg) {
        Session s = currentSession();
        if (s != null) {
            if (ENDING_REQUESTS.contains(type)) {
                s.touch(); // never refused: ending things is what a client over its limits should do
            } else {
                s.request(); // RATE_LIMITED past gateway.limits.requests-per-session-per-second
            }
        }
        if (type.equals("hello")) {
            hello(id, msg);
            return;
        }
        if (s == null) {
            if (type.equals("register") || type.equals("unregister") || type.equals("ping") || type.equals("bye")
                    || type.equals("auth") || CALL_REQUESTS.contains(type)) {
                throw new GatewayException(ErrorCode.NOT_SIGNED_IN, "send 'hello' first");
            }
            throw new GatewayException(ErrorCode.UNKNOWN_TYPE, "unknown request type '" + abbreviate(type) + "'");
        }
        switch (type) {
            case "register" -> {
                String dn = requiredText(msg, "dn");
                String password = optionalText(msg, "password");
                CompletableFuture<Registration> f = app.sessions().register(s, dn, password);
                f.whenComplete((r, err) -> {
                    if (err != null) {
                        sendError(id, GatewayException.from(err));
                    } else {
                        ObjectNode out = result(id);
                        out.put("dn", r.dn());
                        out.put("expires", r.expires());
                        send(out);
                    }
                });
            }
            case "unregister" -> app.sessions().unregister(s).whenComplete((dn, err) -> {
                if (err != null) {
                    sendError(id, GatewayException.from(err));
                } else {
                    send(result(id).put("dn", dn));
                }
            });
            case "ping" -> send(result(id).put("time", System.currentTimeMillis()));
            case "auth" -> {
                Grant fresh = app.sessions().refreshToken(s, requiredText(msg, "token"));
                ObjectNode out = result(id);
                putTokenExpires(out, fresh);
                send(out);
            }
            case "bye" -> {
                s.detach(this);
                app.sessions().end(s, "signed-out");
                send(result(id));
                closeAfterQueued(CloseReason.CloseCodes.NORMAL_CLOSURE, "signed out");
            }
            default -> {
                if (CALL_REQUESTS.contains(type)) {
                    if (app.calls() == null) {
                        throw new GatewayException(ErrorCode.NOT_IMPLEMENTED,
                                "'" + type + "' (calls) is not served by this gateway version yet");
                    }
                    callRequest(type, id, msg, s);
                    return;
                }
                throw new GatewayException(ErrorCode.UNKNOWN_TYPE, "unknown request type '" + abbreviate(type) + "'");
            }
        }
    }

    /** The call part of the protocol (docs/protocol.md, "Calls"). */
    private void callRequest(String type, JsonNode id, ObjectNode msg, Session s) {
        CallService calls = app.calls();
        if (type.equals("call")) {
            String to = requiredText(msg, "to");
            String sdp = requiredText(msg, "sdp");
            Map<String, String> data = new LinkedHashMap<>();
            JsonNode d = msg.get("data");
            if (d != null && !d.isNull()) {
                if (!d.isObject()) {
                    throw new GatewayException(ErrorCode.BAD_REQUEST, "'data' must be an object of strings");
                }
                d.fields().forEachRemaining(e -> data.put(e.getKey(), e.getValue().isTextual()
                        ? e.getValue().asText() : e.getValue().toString()));
            }
            reply(id, calls.place(s, to, sdp, data), call -> result(id).put("call", call.id()));
            return;
        }
        String callId = requiredText(msg, "call");
        switch (type) {
            case "answer" -> reply(id, calls.answer(s, callId, requiredText(msg, "sdp")), v -> result(id));
            case "reject" -> reply(id, calls.reject(s, callId, optionalInt(msg, "status", 486)), v -> result(id));
            case "hangup" -> reply(id, calls.hangup(s, callId), v -> result(id));
            case "hold" -> reply(id, calls.hold(s, callId, true), v -> result(id));
            case "resume" -> reply(id, calls.hold(s, callId, false), v -> result(id));
            case "dtmf" -> reply(id, calls.dtmf(s, callId, requiredText(msg, "digits"), optionalInt(msg, "duration", 100)),
                    v -> result(id));
            case "info" -> reply(id, calls.info(s, callId, requiredText(msg, "contentType"), requiredText(msg, "body")),
                    v -> result(id));
            case "candidate" -> {
                JsonNode c = msg.get("candidate");
                String line = null;
                int index = 0;
                if (c != null && !c.isNull()) {
                    if (!c.isObject() || !c.path("candidate").isTextual()) {
                        throw new GatewayException(ErrorCode.BAD_REQUEST,
                                "'candidate' must be {candidate, sdpMid, sdpMLineIndex} or null");
                    }
                    line = c.get("candidate").asText();
                    JsonNode mline = c.get("sdpMLineIndex");
                    if (mline != null && !mline.isNull()) {
                        // The call checks it against its offer's m-lines; here only that it is one.
                        if (!mline.isIntegralNumber() || !mline.canConvertToInt() || mline.asInt() < 0) {
                            throw new GatewayException(ErrorCode.BAD_REQUEST,
                                    "'sdpMLineIndex' must be the index of an m-line (0, 1, ...)");
                        }
                        index = mline.asInt();
                    }
                    if (line.isEmpty()) {
                        line = null; // an empty candidate string is the browser's end-of-candidates
                    }
                }
                reply(id, calls.candidate(s, callId, line, index), v -> result(id));
            }
            case "ice-restart" -> reply(id, calls.iceRestart(s, callId, requiredText(msg, "sdp")),
                    sdp -> result(id).put("sdp", sdp));
            case "stats" -> reply(id, calls.stats(s, callId), st -> {
                ObjectNode out = result(id);
                out.set("stats", json.valueToTree(st));
                return out;
            });
            default -> throw new GatewayException(ErrorCode.UNKNOWN_TYPE, "unknown request type '" + type + "'");
        }
    }

    private <T> void reply(JsonNode id, CompletableFuture<T> future, java.util.function.Function<T, ObjectNode> render) {
        future.whenComplete((value, err) -> {
            if (err != null) {
                sendError(id, GatewayException.from(err));
            } else {
                send(render.apply(value));
            }
        });
    }

    private static int optionalInt(ObjectNode msg, String field, int dflt) {
        JsonNode n = msg.get(field);
        if (n == null || n.isNull()) {
            return dflt;
        }
        if (!n.isIntegralNumber()) {
            throw new GatewayException(ErrorCode.BAD_REQUEST, "'" + field + "' must be an integer");
        }
        return n.asInt();
    }

    private void hello(JsonNode id, ObjectNode msg) {
        synchronized (this) {
            if (session != null) {
                throw new GatewayException(ErrorCode.ALREADY_SIGNED_IN, "this socket already carries session "
                        + session.id());
            }
        }
        JsonNode v = msg.get("version");
        if (v != null && (!v.isIntegralNumber() || v.asInt() != 1)) {
            throw new GatewayException(ErrorCode.UNSUPPORTED_VERSION, "protocol version " + v + " is not supported; use 1");
        }
        String resume = optionalText(msg, "session");
        String token = optionalText(msg, "token");
        Session s;
        boolean resumed;
        if (resume != null && app.admission().isStopping()) {
            // This instance has un-registered its DNs and is going away: resuming here would only delay the
            // browser's move to a live instance (docs/protocol.md).
            throw new GatewayException(ErrorCode.NOT_READY,
                    "instance " + app.config().instanceId() + " is stopping; connect again");
        }
        if (resume != null) {
            try {
                s = app.sessions().find(resume);
            } catch (GatewayException e) {
                ObjectNode err = errorMessage(id, e);
                // Name the owning instance: the client then knows its instance is gone or moved.
                String owner = SessionService.ownerInstance(resume);
                if (owner != null) {
                    err.put("instance", owner);
                }
                send(err);
                return;
            }
            if (token != null) {
                // The session id proves the resume; a token that comes with it is the browser's newest one.
                app.sessions().refreshToken(s, token);
            }
            resumed = true;
        } else {
            s = app.sessions().create(Session.Kind.WEBSOCKET, client, remoteAddress, userAgent, token);
            resumed = false;
        }
        synchronized (this) {
            session = s;
        }
        s.touch();
        SessionEventSink previous = s.attach(this);
        if (previous instanceof WsConnection other && other != this) {
            // At once: what still waits there is for a session that has moved to this socket.
            other.closeNow(RESUMED_ELSEWHERE, "session resumed elsewhere");
        }
        ObjectNode out = result(id);
        out.put("session", s.id());
        out.put("instance", app.config().instanceId());
        out.put("resumed", resumed);
        out.put("keepaliveInterval", app.config().session().keepaliveInterval().toSeconds());
        out.put("idleTimeout", app.config().session().idleTimeout().toSeconds());
        putTokenExpires(out, s.grant());
        Registration r = s.registration();
        if (r == null) {
            out.putNull("registration");
        } else {
            ObjectNode reg = out.putObject("registration");
            reg.put("dn", r.dn());
            reg.put("state", r.state() == Registration.State.REGISTERED ? "registered" : "registering");
        }
        send(out);
    }

    /** {@code tokenExpires}: when the session's token runs out (seconds since the epoch), null without one. */
    private static void putTokenExpires(ObjectNode out, Grant grant) {
        if (grant.expiresAt() == null) {
            out.putNull("tokenExpires");
        } else {
            out.put("tokenExpires", grant.expiresAt().getEpochSecond());
        }
    }

    @Override
    public void deliver(SessionEvent event) {
        ObjectNode out = json.createObjectNode();
        out.put("type", "event");
        if (event instanceof SessionEvent.Registered r) {
            out.put("name", "registered");
            out.put("dn", r.dn());
            out.put("expires", r.expires());
        } else if (event instanceof SessionEvent.Unregistered u) {
            out.put("name", "unregistered");
            out.put("dn", u.dn());
            out.put("reason", u.reason());
            if (u.sipStatus() != null) {
                out.put("sipStatus", u.sipStatus());
                out.put("sipReason", u.sipReason());
            }
        } else if (event instanceof SessionEvent.Shutdown sd) {
            out.put("name", "shutdown");
            out.put("reason", sd.reason());
        } else if (event instanceof SessionEvent.CallEvent ce) {
            out.put("name", ce.name());
            out.put("call", ce.call());
            ce.fields().forEach((k, v) -> out.set(k, json.valueToTree(v)));
        } else if (event instanceof SessionEvent.Ended e) {
            out.put("name", "session-ended");
            out.put("reason", e.reason());
            send(out);
            closeAfterQueued(CloseReason.CloseCodes.NORMAL_CLOSURE, "session ended: " + e.reason());
            return;
        }
        send(out);
    }

    void onClosed(CloseReason reason) {
        closed = true;
        outbound.shutdown();
        Session s = currentSession();
        if (s != null) {
            // The session lives on for gateway.session.idle-timeout so the browser can resume it.
            s.detach(this);
        }
    }

    /** Closes the socket once what was sent before has been handed to it (the close frame goes after it). */
    void closeAfterQueued(CloseReason.CloseCode code, String reason) {
        outbound.closeAfterQueued(() -> close(code, reason));
    }

    /** Drops what waits to be sent and closes. */
    void closeNow(CloseReason.CloseCode code, String reason) {
        outbound.shutdown();
        close(code, reason);
    }

    /** Never waits for the network: the container sends the close frame asynchronously. */
    private void close(CloseReason.CloseCode code, String reason) {
        try {
            if (ws.isOpen()) {
                ws.close(new CloseReason(code, reason));
            }
        } catch (IOException | IllegalStateException e) {
            LOG.debug("close: {}", e.toString());
        }
    }

    /**
     * The client does not read what it is sent: close with 4008 and go on as if its connection had dropped.
     * The session is detached now (its events are no longer queued for this socket) and waits to be resumed.
     * The close frame goes out if the client still reads anything; if the connection is still there a write
     * timeout later (the client reads nothing, so the close frame is stuck behind what it did not read), it is
     * dropped. Runs on whichever thread found it too slow; takes no lock and never waits.
     */
    private void tooSlow(OutboundQueue.TooSlow why) {
        cutOff = true;
        tooSlowCounter.accept(why);
        Session s = currentSession();
        if (s != null) {
            s.detach(this);
        }
        LOG.info("WebSocket of session {} from {} cut off with close code {} ({}): the client does not read what it "
                        + "is sent; the session waits to be resumed", s == null ? "-" : s.logId(), remoteAddress,
                TOO_SLOW.getCode(), why.label());
        if (why == OutboundQueue.TooSlow.WRITE_TIMEOUT) {
            abortConnection(); // a close frame would wait behind the message the client has not taken
            return;
        }
        close(TOO_SLOW, "too slow: " + why.label());
        app.timers().schedule(() -> {
            if (!closed) {
                abortConnection();
            }
        }, app.config().limits().writeTimeout().toMillis(), TimeUnit.MILLISECONDS);
    }

    /**
     * Drops the connection without a close handshake. The Jakarta WebSocket API has no such call, and a close
     * frame cannot get past data the client does not read; Jetty's session has a public {@code abort()}, found by
     * name so that the WAR needs no Jetty class. Elsewhere the connection ends at the container's idle timeout,
     * set here to the write timeout, once the client stops sending too.
     */
    private void abortConnection() {
        try {
            ws.setMaxIdleTimeout(app.config().limits().writeTimeout().toMillis());
            ws.getClass().getMethod("abort").invoke(ws);
        } catch (ReflectiveOperationException | RuntimeException e) {
            LOG.debug("abort: {}", e.toString());
        }
    }

    private synchronized Session currentSession() {
        return session;
    }

    private ObjectNode result(JsonNode id) {
        ObjectNode out = json.createObjectNode();
        out.put("type", "result");
        out.set("id", id);
        return out;
    }

    private void sendError(JsonNode id, GatewayException e) {
        send(errorMessage(id, e));
    }

    private ObjectNode errorMessage(JsonNode id, GatewayException e) {
        ObjectNode out = json.createObjectNode();
        out.put("type", "error");
        if (id == null) {
            out.putNull("id");
        } else {
            out.set("id", id);
        }
        out.put("code", e.code().name());
        out.put("message", e.getMessage());
        if (e.sipStatus() != null) {
            out.put("sipStatus", e.sipStatus());
            out.put("sipReason", e.sipReason());
        }
        if (e.retryAfter() != null) {
            out.put("retryAfter", e.retryAfter());
        }
        return out;
    }

    /** Queues the message (never waits for the network); dropped once the socket is closing or too slow. */
    private void send(ObjectNode message) {
        outbound.offer(message.toString());
    }

    /** The queue's transport: one asynchronous write; {@code done} gets null or why it failed. */
    private void sendAsync(String text, java.util.function.Consumer<Throwable> done) {
        if (!ws.isOpen()) {
            done.accept(new IOException("socket closed"));
            return;
        }
        ws.getAsyncRemote().sendText(text, result -> done.accept(result.isOK() ? null : result.getException()));
    }

    private static String requiredText(ObjectNode msg, String field) {
        JsonNode n = msg.get(field);
        if (n == null || n.isNull()) {
            throw new GatewayException(ErrorCode.BAD_REQUEST, "'" + field + "' is required");
        }
        if (!n.isTextual()) {
            throw new GatewayException(ErrorCode.BAD_REQUEST, "'" + field + "' must be a string");
        }
        return n.asText();
    }

    private static String optionalText(ObjectNode msg, String field) {
        JsonNode n = msg.get(field);
        if (n == null || n.isNull()) {
            return null;
        }
        if (!n.isTextual()) {
            throw new GatewayException(ErrorCode.BAD_REQUEST, "'" + field + "' must be a string");
        }
        return n.asText();
    }

    private static String abbreviate(String s) {
        return s.length() > 40 ? s.substring(0, 40) + "..." : s;
    }
}
