package io.webrtcgateway.admin;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.webrtcgateway.GatewayApplication;
import io.webrtcgateway.call.Call;
import io.webrtcgateway.session.Session;
import io.webrtcgateway.session.SessionService;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What the admin API's resources do, once {@link AdminApiServlet} has authenticated the request: read
 * this instance's state, ask the peers for theirs, and act here or on the instance that owns a call or
 * session (the instance id at the end of its id, after the last '.').
 */
final class AdminResources {
    private static final Logger LOG = LoggerFactory.getLogger(AdminResources.class);
    static final String PEER_UNREACHABLE = "PEER_UNREACHABLE";

    /** An answer to write: a JSON body, or a peer's answer passed on as it came. */
    record Answer(int status, JsonNode json, byte[] raw) {
        static Answer ok(JsonNode body) {
            return new Answer(200, body, null);
        }
    }

    /** The lists of the API: how to read them here and in which order they merge across the cluster. */
    enum ListKind {
        SESSIONS("sessions"), REGISTRATIONS("registrations"), CALLS("calls"), FAILURES("failures"),
        CALL_RECORDS("call-records");

        final String path;

        ListKind(String path) {
            this.path = path;
        }

        /** The list at {@code /admin/api/<path>}. */
        static ListKind of(String path) {
            for (ListKind k : values()) {
                if (k.path.equals(path)) {
                    return k;
                }
            }
            throw new IllegalArgumentException("no list " + path);
        }

        Comparator<JsonNode> order() {
            return switch (this) {
                case SESSIONS -> Comparator.comparing((JsonNode n) -> instant(n, "since"))
                        .thenComparing(n -> n.path("id").asText());
                case REGISTRATIONS -> Comparator.comparing((JsonNode n) -> n.path("dn").asText())
                        .thenComparing(n -> n.path("instance").asText());
                case CALLS -> Comparator.comparing((JsonNode n) -> instant(n, "createdAt"))
                        .thenComparing(n -> n.path("id").asText());
                case FAILURES -> Comparator.comparing((JsonNode n) -> instant(n, "at")).reversed()
                        .thenComparing(n -> n.path("instance").asText());
                case CALL_RECORDS -> Comparator.comparing((JsonNode n) -> instant(n, "endedAt")).reversed()
                        .thenComparing(n -> n.path("id").asText());
            };
        }

        private static Instant instant(JsonNode n, String field) {
            try {
                return Instant.parse(n.path(field).asText());
            } catch (RuntimeException e) {
                return Instant.EPOCH;
            }
        }
    }

    private final GatewayApplication app;
    private final ObjectMapper json;
    private final AdminViews views;
    private final ActivityHistory history;
    private final PeerClient peers;
    private final AdminAudit audit;

    AdminResources(GatewayApplication app, ObjectMapper json, ActivityHistory history, PeerClient peers,
                   AdminAudit audit) {
        this.app = app;
        this.json = json;
        this.history = history;
        this.peers = peers;
        this.audit = audit;
        this.views = new AdminViews(app, json, history);
    }

    private String self() {
        return app.config().instanceId();
    }

    private static boolean fromPeer(AdminAudit.Actor who) {
        return who.via().startsWith("peer:");
    }

    // ---- instance and cluster -----------------------------------------------------------------------

    ObjectNode instance() {
        return views.instance();
    }

    ObjectNode cluster(AdminAudit.Actor who) {
        ObjectNode out = json.createObjectNode();
        ArrayNode instances = out.putArray("instances");
        instances.add(views.instance());
        if (peers == null || fromPeer(who)) {
            return out;
        }
        for (PeerClient.Reply r : peers.sendToAll("GET", "/admin/api/instance", who.user())) {
            JsonNode body = r.ok() ? peers.body(r) : null;
            if (body != null && body.hasNonNull("instance")) {
                peers.learn(body.path("instance").asText(), r.url());
                ObjectNode instance = ((ObjectNode) body).put("url", r.url());
                instances.add(instance);
            } else {
                instances.add(unreachable(r));
            }
        }
        return out;
    }

    private ObjectNode unreachable(PeerClient.Reply r) {
        ObjectNode n = json.createObjectNode();
        n.putNull("instance");
        n.put("url", r.url());
        n.put("error", PEER_UNREACHABLE);
        n.put("message", r.error() != null ? r.error() : "answered " + r.status());
        return n;
    }

    // ---- lists --------------------------------------------------------------------------------------

    ObjectNode list(ListKind kind, ListQuery q, AdminAudit.Actor who) {
        List<JsonNode> all = new ArrayList<>(local(kind, q));
        long total = all.size();
        ArrayNode errors = null;
        if (q.cluster() && peers != null && !fromPeer(who)) {
            errors = json.createArrayNode();
            String path = "/admin/api/" + kind.path + "?"
                    + q.peerQueryString(s -> URLEncoder.encode(s, StandardCharsets.UTF_8));
            for (PeerClient.Reply r : peers.sendToAll("GET", path, who.user())) {
                JsonNode body = r.ok() ? peers.body(r) : null;
                if (body == null || !body.path("items").isArray()) {
                    errors.add(unreachable(r));
                    continue;
                }
                body.path("items").forEach(all::add);
                total += body.path("total").asLong();
            }
        }
        all.sort(kind.order());
        ObjectNode out = json.createObjectNode();
        ArrayNode items = out.putArray("items");
        q.page(all).forEach(items::add);
        out.put("total", total);
        out.put("offset", q.offset());
        out.put("limit", q.limit());
        if (errors != null) {
            out.set("errors", errors);
        }
        return out;
    }

    private List<JsonNode> local(ListKind kind, ListQuery q) {
        Instant now = Instant.now();
        List<JsonNode> out = new ArrayList<>();
        switch (kind) {
            case SESSIONS -> app.sessions().all().stream().filter(s -> !s.isEnded())
                    .filter(s -> q.matches(AdminViews.dnOf(s))).forEach(s -> out.add(views.session(s)));
            case REGISTRATIONS -> app.registrations().all().stream().filter(r -> q.matches(r.dn()))
                    .forEach(r -> out.add(views.registration(r)));
            case CALLS -> {
                if (app.calls() != null) {
                    app.calls().all().stream().filter(c -> q.matches(AdminViews.dnOf(c.session()), c.remote()))
                            .forEach(c -> out.add(views.call(c, now)));
                }
            }
            case FAILURES -> history.failures().stream().filter(f -> q.matches(f.dn(), f.remote()))
                    .forEach(f -> out.add(views.failure(f)));
            case CALL_RECORDS -> history.records().stream().filter(r -> q.matches(r.dn(), r.remote()))
                    .forEach(r -> out.add(views.record(r)));
        }
        out.sort(kind.order());
        return out;
    }

    // ---- one call -----------------------------------------------------------------------------------

    Answer callDetail(String id, AdminAudit.Actor who) {
        Answer remote = forwardIfForeign(id, "GET", "/admin/api/calls/" + id, who, "call");
        if (remote != null) {
            return remote;
        }
        Call call = localCall(id);
        Map<String, Object> detail = await(app.calls().adminDetail(call), "the call's statistics");
        return Answer.ok(views.callDetail(call, detail, Instant.now()));
    }

    Answer hangup(String id, AdminAudit.Actor who) {
        Answer remote = forwardIfForeign(id, "POST", "/admin/api/calls/" + id + "/hangup", who, "call");
        if (remote != null) {
            audit.log(who, "hangup", id, "forwarded to " + SessionService.ownerInstance(id) + ": " + remote.status());
            return remote;
        }
        Call call;
        try {
            call = localCall(id);
        } catch (AdminException e) {
            audit.log(who, "hangup", id, "not-found");
            throw e;
        }
        await(app.calls().hangupByAdmin(call), "the hang-up");
        audit.log(who, "hangup", id, "ok");
        ObjectNode out = json.createObjectNode();
        out.put("call", id);
        out.put("instance", self());
        out.put("result", "hung-up");
        return Answer.ok(out);
    }

    private Call localCall(String id) {
        Call call = app.calls() == null ? null : app.calls().lookup(id);
        if (call == null) {
            throw AdminException.notFound("no call " + id + " on instance " + self() + " (it may have ended)");
        }
        return call;
    }

    // ---- one session --------------------------------------------------------------------------------

    Answer signOut(String id, AdminAudit.Actor who) {
        Answer remote = forwardIfForeign(id, "POST", "/admin/api/sessions/" + id + "/sign-out", who, "session");
        if (remote != null) {
            audit.log(who, "sign-out", SessionService.logId(id), "forwarded to " + SessionService.ownerInstance(id) + ": "
                    + remote.status());
            return remote;
        }
        Session s = app.sessions().lookup(id).filter(x -> !x.isEnded()).orElse(null);
        if (s == null) {
            audit.log(who, "sign-out", SessionService.logId(id), "not-found");
            throw AdminException.notFound("no session " + id + " on instance " + self() + " (it may have ended)");
        }
        String dn = AdminViews.dnOf(s); // before end() forgets the registration
        app.sessions().end(s, "admin");
        audit.log(who, "sign-out", s.logId() + (dn == null ? "" : " dn " + dn), "ok");
        ObjectNode out = json.createObjectNode();
        out.put("session", id);
        out.put("instance", self());
        out.put("result", "signed-out");
        return Answer.ok(out);
    }

    // ---- drain --------------------------------------------------------------------------------------

    /** {@code GET} (state), {@code POST} (drain) or {@code DELETE} (undrain) on this instance. */
    ObjectNode drain(String method, AdminAudit.Actor who) {
        switch (method) {
            case "POST" -> {
                if (!app.admission().isDraining()) {
                    LOG.warn("instance {} draining: no new sessions (admin {} from {})", self(), who.user(), who.address());
                }
                app.admission().drain(true);
                audit.log(who, "drain", self(), "ok");
            }
            case "DELETE" -> {
                if (app.admission().isDraining()) {
                    LOG.warn("instance {} no longer draining: taking new sessions again (admin {} from {})", self(),
                            who.user(), who.address());
                }
                app.admission().drain(false);
                audit.log(who, "undrain", self(), "ok");
            }
            default -> { }
        }
        ObjectNode body = json.createObjectNode();
        body.put("instance", self());
        body.put("draining", app.admission().isDraining());
        body.put("state", app.admission().stateName());
        body.put("sessions", app.sessions().count());
        body.put("registrations", app.registrations().count());
        return body;
    }

    /** The same on instance {@code id}, here or forwarded. */
    Answer drain(String id, String method, AdminAudit.Actor who) {
        if (id.equals(self())) {
            return Answer.ok(drain(method, who));
        }
        Answer remote = forward(id, method, "/admin/api/drain", who);
        if (!method.equals("GET")) {
            audit.log(who, method.equals("POST") ? "drain" : "undrain", id, "forwarded: " + remote.status());
        }
        return remote;
    }

    // ---- forwarding ---------------------------------------------------------------------------------

    /** Null when {@code id} (a call or session id) belongs here, else the owner's answer. */
    private Answer forwardIfForeign(String id, String method, String path, AdminAudit.Actor who, String what) {
        String owner = SessionService.ownerInstance(id);
        if (owner == null || owner.equals(self())) {
            return null;
        }
        if (fromPeer(who)) {
            // A peer forwards only to the owner; asking on would loop.
            throw AdminException.notFound("no " + what + " " + id + " on instance " + self());
        }
        return forward(owner, method, path, who);
    }

    private Answer forward(String instance, String method, String path, AdminAudit.Actor who) {
        if (fromPeer(who)) {
            throw AdminException.notFound("instance " + self() + " does not forward requests of its peers");
        }
        String url = peers == null ? null : peers.urlOf(instance, who.user());
        if (url == null) {
            throw AdminException.notFound("no instance " + instance + " among this instance's peers"
                    + " (gateway.admin.peers), or it does not answer");
        }
        PeerClient.Reply r = peers.send(url, method, path, who.user()).join();
        if (r.error() != null) {
            throw new AdminException(502, PEER_UNREACHABLE, "instance " + instance + " at " + url + ": " + r.error());
        }
        return new Answer(r.status(), null, r.body());
    }

    private static <T> T await(java.util.concurrent.CompletableFuture<T> f, String what) {
        try {
            return f.get(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AdminException(503, "INTERNAL", "interrupted waiting for " + what);
        } catch (TimeoutException e) {
            throw new AdminException(504, "TIMEOUT", what + " took longer than 5 s");
        } catch (ExecutionException e) {
            if (e.getCause() instanceof io.webrtcgateway.error.GatewayException g) {
                throw new AdminException(g.code().httpStatus, g.code().name(), g.getMessage());
            }
            throw new AdminException(500, "INTERNAL", what + " failed: " + e.getCause());
        }
    }
}
