package io.webrtcgateway.edge.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.webrtcgateway.admin.PasswordHash;
import io.webrtcgateway.testsupport.Closing;
import io.webrtcgateway.testsupport.GatewayProcess;
import io.webrtcgateway.testsupport.Haproxy;
import io.webrtcgateway.testsupport.Poll;
import io.webrtcgateway.testsupport.PrometheusText;
import io.webrtcgateway.testsupport.RawHttp;
import io.webrtcgateway.testsupport.WsTestClient;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The HTTP edge's trust rules against the real standalone gateway (sandbox SIP server), with raw HTTP so
 * the test chooses Host, Sec-Fetch-Site, Origin and X-Forwarded-For: a foreign Host is refused on every
 * path (DNS rebinding), a cross-site sign-in without an allowed Origin creates nothing and sends no
 * REGISTER, and X-Forwarded-For is believed only from gateway.http.trusted-proxies, also behind the shipped
 * HAProxy config, also for concurrent WebSocket handshakes. The admin API's session list shows whom each
 * session was attributed to.
 */
class HttpTrustIT {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String ALLOWED_HOST = "gw.example.test";
    private static final String APP = "http://app.example.test";
    private static final String PASSWORD = "op-secret";
    private static final String BASIC = "Basic " + Base64.getEncoder().encodeToString(("ops:" + PASSWORD)
            .getBytes(StandardCharsets.UTF_8));
    private static String hash;
    private static GatewayProcess gw;
    /** Started by the first test that needs it, shared by the tests of a trusted proxy (they look up their own sessions). */
    private static GatewayProcess proxied;
    private final HttpClient http = HttpClient.newHttpClient();

    @BeforeAll
    static void start() {
        hash = PasswordHash.create(PASSWORD.toCharArray(), 20_000).toString();
        gw = instance("trust-gw").start();
    }

    @AfterAll
    static void stop() {
        Closing.all(GatewayProcess.together(proxied, gw));
    }

    /** An instance that trusts 127.0.0.1, where a proxy on this machine (and so the test) connects from. */
    private static synchronized GatewayProcess proxied() {
        if (proxied == null) {
            proxied = instance("trust-proxied").set("gateway.http.trusted-proxies", List.of("127.0.0.1/32")).start();
        }
        return proxied;
    }

    private static GatewayProcess.Builder instance(String id) {
        return GatewayProcess.builder().instanceId(id)
                .set("gateway.http.allowed-hosts", List.of(ALLOWED_HOST, "*.agents.example.test"))
                .set("gateway.cors.allowed-origins", List.of(APP))
                .set("gateway.admin.username", "ops").set("gateway.admin.password-hash", hash);
    }

    // ---- Host (DNS rebinding) -----------------------------------------------------------------------

    @Test
    void aForeignHostIsRefusedOnEveryPathAndCreatesNothing() throws Exception {
        PrometheusText before = metrics(gw);
        String evil = "evil.example:" + gw.httpPort();

        RawHttp.Response ws = get(gw, evil, "/ws", RawHttp.UPGRADE_HEADERS);
        assertEquals(421, ws.status(), ws.head());
        assertEquals("FORBIDDEN_HOST", JSON.readTree(ws.body()).path("code").asText(), ws.body());
        RawHttp.Response legacy = get(gw, evil, "/sign_in?1001", "");
        assertEquals(421, legacy.status(), legacy.head());
        assertTrue(legacy.body().startsWith("RSMP {\"messageType\":\"ERROR\",\"errorType\":\"FORBIDDEN_HOST\""), legacy.body());
        RawHttp.Response rest = post(gw, evil, "/api/v1/sessions", "", "");
        assertEquals(421, rest.status(), rest.head());
        assertEquals("FORBIDDEN_HOST", JSON.readTree(rest.body()).path("code").asText(), rest.body());
        assertEquals(421, get(gw, evil, "/health/ready", "").status());
        assertEquals(421, get(gw, evil, "/metrics", "").status());
        assertEquals(421, get(gw, "gw.example.test.evil.example", "/health/live", "").status());
        assertEquals(421, get(gw, "agents.example.test", "/health/live", "").status(), "*. is for subdomains only");
        // HTTP/1.0 may leave Host out (HTTP/1.1 may not; Jetty answers 400 itself then).
        RawHttp.Response noHost = RawHttp.send(gw.httpUrl(), null, "GET /health/live HTTP/1.0\r\n\r\n");
        assertEquals(421, noHost.status(), noHost.head());

        PrometheusText after = metrics(gw);
        assertEquals(8.0, after.value("gateway_http_refusals_total", "reason", "host")
                - before.value("gateway_http_refusals_total", "reason", "host"));
        assertEquals(before.value("gateway_sessions", "kind", "legacy"), after.value("gateway_sessions", "kind", "legacy"));
        assertEquals(before.value("gateway_sessions", "kind", "rest"), after.value("gateway_sessions", "kind", "rest"));
        assertEquals(before.value("gateway_websocket_connections_opened_total"),
                after.value("gateway_websocket_connections_opened_total"), "no WebSocket was accepted");
        assertEquals(attempts(before), attempts(after), "no REGISTER");
    }

    @Test
    void allowedNamesIpLiteralsAndLocalhostAreServed() throws Exception {
        for (String host : List.of(ALLOWED_HOST + ":" + gw.httpPort(), "GW.EXAMPLE.TEST.", "a.agents.example.test:80",
                "127.0.0.1:" + gw.httpPort(), "localhost:" + gw.httpPort(), "LOCALHOST:80", "[::1]:" + gw.httpPort())) {
            RawHttp.Response r = get(gw, host, "/health/live", "");
            assertEquals(200, r.status(), host + ": " + r.head());
        }
        RawHttp.Response ws = get(gw, ALLOWED_HOST + ":" + gw.httpPort(), "/ws", RawHttp.UPGRADE_HEADERS);
        assertEquals(101, ws.status(), ws.head());
        RawHttp.Response signIn = get(gw, ALLOWED_HOST, "/sign_in?anon" + "a".repeat(32), "");
        assertEquals(200, signIn.status(), signIn.head() + signIn.body());
        assertTrue(signIn.body().startsWith("anon" + "a".repeat(32) + "="), signIn.body());
        signOut(signIn);
    }

    // ---- cross-site sign-in -------------------------------------------------------------------------

    @Test
    void aCrossSiteSignInWithoutAnAllowedOriginIsRefusedAndNoRegisterIsSent() throws Exception {
        PrometheusText before = metrics(gw);
        String host = "127.0.0.1:" + gw.httpPort();

        // What <img src="http://gw/sign_in?1001"> on another site sends.
        RawHttp.Response img = get(gw, host, "/sign_in?1001", "Sec-Fetch-Site: cross-site\r\nSec-Fetch-Dest: image\r\n");
        assertEquals(403, img.status(), img.head());
        assertTrue(img.body().startsWith("RSMP {\"messageType\":\"ERROR\",\"errorType\":\"FORBIDDEN_ORIGIN\""), img.body());
        // The same with the path percent-encoded: the container decodes it to /sign_in, so does the filter.
        assertEquals(403, get(gw, host, "/%73ign_in?1001", "Sec-Fetch-Site: cross-site\r\n").status());
        // The token-carrying form (docs/legacy-protocol.md): refused before the token is looked at.
        RawHttp.Response token = get(gw, host, "/t/a.b.c/sign_in?1001", "Sec-Fetch-Site: cross-site\r\n");
        assertEquals(403, token.status(), token.head());
        assertTrue(token.body().contains("\"errorType\":\"FORBIDDEN_ORIGIN\""), token.body());
        // A form of another site posting, with or without Fetch Metadata.
        assertEquals(403, post(gw, host, "/sign_in", "Sec-Fetch-Site: cross-site\r\nOrigin: http://evil.example\r\n",
                "1001:undefined").status());
        assertEquals(403, post(gw, host, "/sign_in", "Origin: http://evil.example\r\n", "1001:undefined").status());
        RawHttp.Response rest = post(gw, host, "/api/v1/sessions", "Sec-Fetch-Site: cross-site\r\n", "");
        assertEquals(403, rest.status(), rest.head());
        assertEquals("FORBIDDEN_ORIGIN", JSON.readTree(rest.body()).path("code").asText(), rest.body());
        assertEquals(403, get(gw, host, "/sign_out?id=x", "Sec-Fetch-Site: cross-site\r\n").status());
        assertEquals(403, post(gw, host, "/message?from=x&to=y", "Sec-Fetch-Site: cross-site\r\n", "BYE").status());
        RawHttp.Response ws = get(gw, host, "/ws", RawHttp.UPGRADE_HEADERS
                + "Origin: http://evil.example\r\nSec-Fetch-Site: cross-site\r\n");
        assertEquals(403, ws.status(), ws.head());

        PrometheusText after = metrics(gw);
        assertEquals(9.0, after.value("gateway_http_refusals_total", "reason", "cross-site")
                - before.value("gateway_http_refusals_total", "reason", "cross-site"));
        assertEquals(before.value("gateway_sessions", "kind", "legacy"), after.value("gateway_sessions", "kind", "legacy"));
        assertEquals(before.value("gateway_sessions", "kind", "rest"), after.value("gateway_sessions", "kind", "rest"));
        assertEquals(attempts(before), attempts(after), "no REGISTER was sent");
        assertTrue(adminSessions(gw).stream().noneMatch(s -> "1001".equals(s.path("dn").asText(null))),
                "no session for 1001: " + adminSessions(gw));
    }

    @Test
    void aCrossSiteSignInFromAnAllowedOriginWorks() throws Exception {
        PrometheusText before = metrics(gw);
        String host = "127.0.0.1:" + gw.httpPort();
        // grtc.js on the allowed origin: its XHR carries Origin.
        RawHttp.Response signIn = get(gw, host, "/sign_in?1002", "Sec-Fetch-Site: cross-site\r\nOrigin: " + APP + "\r\n");
        assertEquals(200, signIn.status(), signIn.head() + signIn.body());
        assertTrue(signIn.body().startsWith("1002="), signIn.body());
        assertEquals(APP, signIn.header("Access-Control-Allow-Origin"));
        assertEquals(attempts(before) + 1, attempts(metrics(gw)), "one REGISTER");
        assertTrue(adminSessions(gw).stream().anyMatch(s -> "1002".equals(s.path("dn").asText(null))));
        assertEquals(200, get(gw, host, "/sign_out?id=" + session(signIn),
                "Sec-Fetch-Site: cross-site\r\nOrigin: " + APP + "\r\n").status());

        RawHttp.Response rest = post(gw, host, "/api/v1/sessions", "Sec-Fetch-Site: cross-site\r\nOrigin: " + APP + "\r\n", "");
        assertEquals(201, rest.status(), rest.head() + rest.body());
        RawHttp.Response ws = get(gw, host, "/ws", RawHttp.UPGRADE_HEADERS + "Origin: " + APP + "\r\nSec-Fetch-Site: cross-site\r\n");
        assertEquals(101, ws.status(), ws.head());
        assertEquals(before.value("gateway_http_refusals_total", "reason", "cross-site"),
                metrics(gw).value("gateway_http_refusals_total", "reason", "cross-site"));
    }

    // ---- X-Forwarded-For ----------------------------------------------------------------------------

    @Test
    void forwardedForFromAnUntrustedPeerIsIgnored() throws Exception {
        String host = "127.0.0.1:" + gw.httpPort();
        RawHttp.Response legacy = get(gw, host, "/sign_in?anon" + "b".repeat(32), "X-Forwarded-For: 203.0.113.9\r\n");
        RawHttp.Response rest = post(gw, host, "/api/v1/sessions", "X-Forwarded-For: 203.0.113.9\r\n", "");
        String restSession = JSON.readTree(rest.body()).path("session").asText();
        try (WsTestClient ws = WsTestClient.connect(gw.wsUrl(), Map.of("X-Forwarded-For", "203.0.113.9"))) {
            String wsSession = ws.ok("hello").path("session").asText();
            Map<String, String> addresses = remoteAddresses(gw);
            for (String id : List.of(session(legacy), restSession, wsSession)) {
                assertTrue(addresses.get(id).matches("127\\.0\\.0\\.1:[0-9]+"), id + " -> " + addresses.get(id));
            }
        }
        signOut(legacy);
    }

    @Test
    void forwardedForFromATrustedProxyNamesTheClientEvenForConcurrentHandshakes() throws Exception {
        GatewayProcess proxied = proxied();
        String host = "127.0.0.1:" + proxied.httpPort();
        RawHttp.Response legacy = get(proxied, host, "/sign_in?anon" + "c".repeat(32),
                "X-Forwarded-For: 198.51.100.4\r\n");
        RawHttp.Response rest = post(proxied, host, "/api/v1/sessions", "X-Forwarded-For: 192.0.2.44, 127.0.0.1\r\n", "");
        assertEquals("198.51.100.4", remoteAddresses(proxied).get(session(legacy)));
        assertEquals("192.0.2.44", remoteAddresses(proxied).get(JSON.readTree(rest.body()).path("session").asText()));

        // 24 handshakes at once, each from another client: each session keeps its own client's address.
        int n = 24;
        ExecutorService pool = Executors.newFixedThreadPool(n);
        List<WsTestClient> clients = new ArrayList<>();
        try {
            List<Callable<WsTestClient>> connects = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                Map<String, String> xff = Map.of("X-Forwarded-For", client(i));
                connects.add(() -> WsTestClient.connect(proxied.wsUrl(), xff));
            }
            for (Future<WsTestClient> f : pool.invokeAll(connects)) {
                clients.add(f.get());
            }
            List<String> sessions = new ArrayList<>();
            for (WsTestClient c : clients) {
                sessions.add(c.ok("hello").path("session").asText());
            }
            Map<String, String> addresses = remoteAddresses(proxied);
            for (int i = 0; i < n; i++) {
                assertEquals(client(i), addresses.get(sessions.get(i)), "socket " + i + ", session " + sessions.get(i));
            }
        } finally {
            clients.forEach(WsTestClient::close);
            pool.shutdownNow();
        }
    }

    private static String client(int i) {
        return "203.0.113." + (10 + i);
    }

    @Test
    void behindTheShippedHaproxyAForgedForwardedForIsNotBelieved() throws Exception {
        GatewayProcess proxied = proxied();
        try (Haproxy lb = Haproxy.start(List.of(proxied))) {
            // The shipped health check (Host: localhost) passes the Host rule.
            Poll.until(Duration.ofSeconds(15), "HAProxy sees trust-proxied UP", lb::serverStates,
                    s -> "UP".equals(s.get("trust-proxied")));
            // The browser at 127.0.0.5 sends its own X-Forwarded-For; HAProxy (option forwardfor) adds a second
            // line with 127.0.0.5 and connects to the gateway from 127.0.0.1, which the gateway trusts.
            RawHttp.Response signIn = RawHttp.send(lb.httpUrl(), "127.0.0.5", "GET /sign_in?anon" + "d".repeat(32)
                    + " HTTP/1.1\r\nHost: " + ALLOWED_HOST + "\r\nX-Forwarded-For: 6.6.6.6\r\nConnection: close\r\n\r\n");
            assertEquals(200, signIn.status(), signIn.head() + signIn.body());
            assertEquals("127.0.0.5", remoteAddresses(proxied).get(session(signIn)));
        }
    }

    // ---- connections after a refusal ------------------------------------------------------------------

    /**
     * A refusal given before the body is read closes the connection (the server cannot tell where the next
     * request would start) and must say so, or a client's next request on it is lost (seen as "HTTP/1.1 header
     * parser received no bytes" from the JDK's HttpClient). The body is held back here, so the answer is
     * certainly given before it is read; a refusal after the body was read keeps the connection.
     */
    @Test
    void aRefusalBeforeTheBodyIsReadSaysTheConnectionCloses() throws Exception {
        String host = "Host: 127.0.0.1:" + gw.httpPort() + "\r\n";
        Map<String, String> refusals = new LinkedHashMap<>();
        refusals.put("legacy body over the limit (413)", "POST /sign_in HTTP/1.1\r\n" + host
                + "Content-Type: text/plain\r\nContent-Length: 10000000\r\n\r\n");
        refusals.put("foreign Host (421)", "POST /message?from=x&to=1 HTTP/1.1\r\nHost: evil.example\r\n"
                + "Content-Type: text/plain\r\nContent-Length: 20\r\n\r\n");
        refusals.put("foreign Origin on REST (403)", "POST /api/v1/sessions HTTP/1.1\r\n" + host
                + "Origin: http://evil.example\r\nContent-Type: application/json\r\nContent-Length: 20\r\n\r\n");
        refusals.put("admin login as a form (400)", "POST /admin/api/login HTTP/1.1\r\n" + host
                + "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 20\r\n\r\n");
        for (Map.Entry<String, String> r : refusals.entrySet()) {
            try (Socket s = new Socket("127.0.0.1", gw.httpPort())) {
                s.setSoTimeout(10_000);
                RawHttp.Response answer = RawHttp.exchange(s, r.getValue());
                assertTrue(answer.status() >= 400, r.getKey() + ": " + answer.head());
                assertEquals("close", answer.header("Connection"), r.getKey() + ": " + answer.head());
                assertEquals(-1, s.getInputStream().read(), r.getKey() + ": the connection is closed");
            }
        }

        // The bystander: a refusal of a body that was read leaves the connection open for the next request.
        try (Socket s = new Socket("127.0.0.1", gw.httpPort())) {
            s.setSoTimeout(10_000);
            RawHttp.Response bad = RawHttp.exchange(s, "POST /sign_in HTTP/1.1\r\n" + host
                    + "Content-Type: text/plain\r\nContent-Length: 9\r\n\r\nbad dn:pw");
            assertEquals(400, bad.status(), bad.head() + bad.body());
            assertNull(bad.header("Connection"), bad.head());
            RawHttp.Response next = RawHttp.exchange(s, "GET /health/live HTTP/1.1\r\n" + host + "\r\n");
            assertEquals(200, next.status(), next.head());
        }
    }

    // ---- helpers ------------------------------------------------------------------------------------

    private static RawHttp.Response get(GatewayProcess g, String host, String target, String headers) throws Exception {
        return RawHttp.send(g.httpUrl(), null, "GET " + target + " HTTP/1.1\r\nHost: " + host + "\r\n" + headers
                + "Connection: close\r\n\r\n");
    }

    private static RawHttp.Response post(GatewayProcess g, String host, String target, String headers, String body)
            throws Exception {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        return RawHttp.send(g.httpUrl(), null, "POST " + target + " HTTP/1.1\r\nHost: " + host + "\r\n" + headers
                + "Content-Type: text/plain\r\nContent-Length: " + bytes.length + "\r\nConnection: close\r\n\r\n" + body);
    }

    /** The session id of a legacy sign-in answer "id=session\n". */
    private static String session(RawHttp.Response signIn) {
        return signIn.body().substring(signIn.body().indexOf('=') + 1).strip();
    }

    private void signOut(RawHttp.Response signIn) throws Exception {
        get(gw, "127.0.0.1", "/sign_out?id=" + session(signIn), "");
    }

    private PrometheusText metrics(GatewayProcess g) throws Exception {
        return PrometheusText.parse(http.send(HttpRequest.newBuilder(URI.create(g.httpUrl() + "/metrics")).build(),
                HttpResponse.BodyHandlers.ofString()).body());
    }

    private static double attempts(PrometheusText metrics) {
        return metrics.valueOrZero("gateway_registration_attempts_total", "purpose", "initial");
    }

    private List<JsonNode> adminSessions(GatewayProcess g) throws Exception {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(g.httpUrl() + "/admin/api/sessions?limit=200"))
                .header("Authorization", BASIC).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode(), r.body());
        List<JsonNode> out = new ArrayList<>();
        JSON.readTree(r.body()).path("items").forEach(out::add);
        return out;
    }

    /** Session id -> remoteAddress, as the admin API lists them. */
    private Map<String, String> remoteAddresses(GatewayProcess g) throws Exception {
        Map<String, String> out = new HashMap<>();
        for (JsonNode s : adminSessions(g)) {
            out.put(s.path("id").asText(), s.path("remoteAddress").asText(null));
        }
        return out;
    }
}
