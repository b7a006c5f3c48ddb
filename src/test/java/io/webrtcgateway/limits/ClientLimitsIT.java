package io.webrtcgateway.limits;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.webrtcgateway.testsupport.ChromiumPeer;
import io.webrtcgateway.testsupport.Closing;
import io.webrtcgateway.testsupport.FreePorts;
import io.webrtcgateway.testsupport.GatewayProcess;
import io.webrtcgateway.testsupport.HttpFrom;
import io.webrtcgateway.testsupport.Poll;
import io.webrtcgateway.testsupport.ProcessResources;
import io.webrtcgateway.testsupport.RawSipCaller;
import io.webrtcgateway.testsupport.SipMessage;
import io.webrtcgateway.testsupport.Sipp;
import io.webrtcgateway.testsupport.WsTestClient;
import java.net.InetAddress;
import java.net.http.HttpClient;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Issue 13, "per-client limits": one session placing 20 calls at once, one session sending requests as fast as
 * it can, one DN registered again and again, and one client address signing in 300 times in a burst over all
 * three edges. Each is refused past its limit with RATE_LIMITED (429 with Retry-After on HTTP, an error with
 * retryAfter on the WebSocket) and counted in gateway_limits_refusals_total, while bystanders keep working: a
 * Chromium call with audio from the same address, and a client from 127.0.0.2 that signs in and registers during
 * the burst. /health/ready answers 200 throughout; afterwards sessions, calls, UDP ports and threads are back.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ClientLimitsIT {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration T = Duration.ofSeconds(15);
    /** Below the default (200) so that even a slow machine, which sends the burst slowly, sees it run out. */
    private static final int SIGN_IN_BURST = 100;
    /** Reached within the test: the burst's sessions and some more. */
    private static final int SESSIONS_PER_ADDRESS = 150;
    private static final String OFFER = GatewayProbes.offerWithAudioSections(1,
            List.of("1 1 udp 2122260223 127.0.0.1 40000 typ host"));

    private static Sipp sipServer;
    private static GatewayProcess gw;
    private static ChromiumPeer browser;
    private static WsTestClient bystander;
    private static ReadyThroughout ready;
    private static int baselineUdpSockets;
    private static java.util.Map<String, Integer> baselineThreadNames;
    private static int baselineSessions;

    @BeforeAll
    static void start() {
        // The bystander's Chromium starts (start() returns at once) while the gateway does.
        browser = ChromiumPeer.builder().name("browser").audioCodecs("PCMU", "telephone-event").start();
        int mediaPort = FreePorts.sippMedia();
        sipServer = Sipp.scenario("registrar-uas-echo.xml")
                .args("-mp", String.valueOf(mediaPort), "-mi", "127.0.0.1", "-rtp_echo").start();
        gw = GatewayProcess.builder().sipServers(sipServer.serverEntry())
                .set("gateway.media.ice-addresses", List.of("127.0.0.1"))
                .set("gateway.limits.sign-in-burst-per-address", String.valueOf(SIGN_IN_BURST))
                .set("gateway.limits.max-sessions-per-address", String.valueOf(SESSIONS_PER_ADDRESS))
                // The calls placed with a synthetic offer never get ICE; they must outlive the test that holds them.
                .set("gateway.calls.media-setup-timeout", "2 m")
                .start();
        gw.awaitHttpStatus("/health/ready", 200, T);
        baselineUdpSockets = ProcessResources.udpSocketCount(gw.pid());
        baselineSessions = instance().path("sessions").asInt();

        // The bystander: a browser on the same address as every attack below, its call echoed by SIPp.
        bystander = WsTestClient.connect(gw.wsUrl());
        bystander.ok("hello");
        bystander.startKeepalive(Duration.ofSeconds(5));
        bystander.ok("register", "dn", "3000");
        bystander.ok("call", "to", "5000", "sdp", browser.createOffer());
        browser.setAnswer(bystander.awaitEvent("connected", T).path("sdp").asText());
        browser.awaitIceState("connected", T);
        Poll.until(T, "echoed audio in the browser", browser::stats, s -> s.packetsReceived() > 50 && s.totalAudioEnergy() > 0);
        baselineThreadNames = ProcessResources.threadNames(gw.pid());
        ready = new ReadyThroughout(gw);
    }

    @AfterAll
    static void stop() {
        Closing.all(ready, bystander, browser, gw, sipServer);
    }

    @Test
    @Order(1)
    void twentyCallsOfOneSessionAreRefusedPastMaxCallsPerSession() {
        int udpSockets = ProcessResources.udpSocketCount(gw.pid());
        try (WsTestClient ws = WsTestClient.connect(gw.wsUrl())) {
            ws.ok("hello");
            ws.ok("register", "dn", "3001");
            List<String> calls = new ArrayList<>();
            List<JsonNode> refused = new ArrayList<>();
            for (int i = 0; i < 20; i++) {
                JsonNode answer = ws.request("call", "to", "5000", "sdp", OFFER);
                if ("result".equals(answer.path("type").asText())) {
                    calls.add(answer.path("call").asText());
                } else {
                    refused.add(answer);
                }
            }
            assertEquals(4, calls.size(), "gateway.limits.max-calls-per-session (4) calls: " + refused);
            assertEquals(16, refused.size());
            refused.forEach(r -> assertRateLimited(r, "gateway.limits.max-calls-per-session"));

            // An incoming call for the session's DN is the same session's call: 486 Busy Here, no incoming event.
            try (RawSipCaller caller = RawSipCaller.toward("127.0.0.1:" + gw.sipPort(), "5000")) {
                SipMessage busy = caller.invite("3001", RawSipCaller.audioSdp(4000, 1, "sendrecv"), T);
                assertEquals(486, busy.status(), busy.toString());
            }
            assertFalse(ws.seen().stream().anyMatch(n -> "incoming".equals(n.path("name").asText())));

            // A call ended frees its place.
            ws.ok("hangup", "call", calls.remove(0));
            calls.add(ws.ok("call", "to", "5000", "sdp", OFFER).path("call").asText());
            assertEquals(5, instance().path("calls").asInt(), "the bystander's call and this session's 4");
            for (String call : calls) {
                ws.ok("hangup", "call", call);
            }
            ws.ok("bye");
        }
        Poll.until(T, "only the bystander's call left", () -> instance().path("calls").asInt(), n -> n == 1);
        Poll.until(T, "UDP sockets back to " + udpSockets, () -> ProcessResources.udpSocketCount(gw.pid()),
                n -> n <= udpSockets);
        assertTrue(metric("gateway_limits_refusals_total", "limit", "calls-per-session") >= 17);
        assertBystanderWorks();
    }

    @Test
    @Order(2)
    void requestsOfOneSessionPastItsRateAreRefusedAndItsSessionGoesOn() {
        try (WsTestClient ws = WsTestClient.connect(gw.wsUrl())) {
            ws.ok("hello");
            for (int i = 0; i < 300; i++) {
                ws.sendRaw("{\"type\":\"ping\",\"id\":\"flood-" + i + "\"}");
            }
            int answered = 0;
            List<JsonNode> refused = new ArrayList<>();
            for (int i = 0; i < 300; i++) {
                String id = "flood-" + i;
                JsonNode answer = ws.await(T, "answer to " + id, n -> id.equals(n.path("id").asText()));
                if ("error".equals(answer.path("type").asText())) {
                    refused.add(answer);
                } else {
                    answered++;
                }
            }
            assertTrue(answered >= 100, "the burst of gateway.limits.request-burst-per-session (100): " + answered);
            assertFalse(refused.isEmpty(), "300 requests at once are more than 100 and 20 a second");
            refused.forEach(r -> assertRateLimited(r, "gateway.limits.request-burst-per-session"));
            // Nothing else changed: the session answers again once its allowance refilled.
            Poll.until(T, "a ping answered again", () -> ws.request("ping"), n -> "result".equals(n.path("type").asText()));
            ws.ok("bye");
        }
        assertTrue(metric("gateway_limits_refusals_total", "limit", "request-rate") >= 1);
        assertBystanderWorks();
    }

    @Test
    @Order(3)
    void registrationAttemptsForOneDnPastTheirMinuteAreRefusedBeforeSipServerSeesThem() {
        try (WsTestClient ws = WsTestClient.connect(gw.wsUrl()); WsTestClient other = WsTestClient.connect(gw.wsUrl())) {
            ws.ok("hello");
            for (int i = 0; i < 30; i++) {
                ws.ok("register", "dn", "3100");
                ws.ok("unregister");
            }
            int registers = sipServer.receivedRequests("REGISTER").size();
            assertRateLimited(ws.request("register", "dn", "3100"), "gateway.limits.registrations-per-dn-per-minute");
            other.ok("hello");
            other.ok("register", "dn", "3101"); // another DN has its own attempts
            sipServer.awaitRequests("REGISTER", registers + 1, T);
            assertEquals(registers + 1, sipServer.receivedRequests("REGISTER").size(), "the refused one never left");
            ws.ok("bye");
            other.ok("bye");
        }
        assertTrue(metric("gateway_limits_refusals_total", "limit", "registration-rate") >= 1);
        assertBystanderWorks();
    }

    @Test
    @Order(4)
    void aBurstOf300SignInsFromOneAddressIsRefusedPastItsAllowanceWhileAnotherAddressSignsInAndRegisters()
            throws Exception {
        InetAddress attacker = InetAddress.getByName("127.0.0.1");
        List<String> restSessions = Collections.synchronizedList(new ArrayList<>());
        List<String> legacySessions = Collections.synchronizedList(new ArrayList<>());
        List<WsTestClient> sockets = Collections.synchronizedList(new ArrayList<>());
        List<String> problems = Collections.synchronizedList(new ArrayList<>());
        AtomicInteger[] refusedBy = {new AtomicInteger(), new AtomicInteger(), new AtomicInteger()};
        AtomicInteger sent = new AtomicInteger();
        HttpClient wsClients = HttpClient.newHttpClient();
        ExecutorService pool = Executors.newFixedThreadPool(6);
        double rateRefusalsBefore = metric("gateway_limits_refusals_total", "limit", "sign-in-rate");
        double capRefusalsBefore = metric("gateway_limits_refusals_total", "limit", "sessions-per-address");
        long start = System.nanoTime();
        try {
            List<Future<?>> threads = new ArrayList<>();
            for (int t = 0; t < 6; t++) {
                int edge = t % 3; // 0 REST, 1 legacy, 2 WebSocket: two threads each
                threads.add(pool.submit(() -> {
                    try (HttpFrom http = new HttpFrom(attacker, gw.httpUrl())) {
                        while (sent.incrementAndGet() <= 300) {
                            String problem = switch (edge) {
                                case 0 -> restSignIn(http, restSessions);
                                case 1 -> legacySignIn(http, legacySessions);
                                default -> webSocketSignIn(wsClients, sockets);
                            };
                            if (problem == null) {
                                continue;
                            }
                            if (!problem.isEmpty()) {
                                problems.add(problem);
                            }
                            refusedBy[edge].incrementAndGet();
                        }
                    }
                    return null;
                }));
            }
            // The bystander, from another address, during the burst.
            try (HttpFrom other = new HttpFrom(InetAddress.getByName("127.0.0.2"), gw.httpUrl())) {
                HttpFrom.Response created = other.send("POST", "/api/v1/sessions", null);
                assertEquals(201, created.status(), "127.0.0.2 signs in: " + created);
                String session = JSON.readTree(created.body()).path("session").asText();
                HttpFrom.Response registered = other.send("PUT", "/api/v1/sessions/" + session + "/registration",
                        "{\"dn\": \"3200\"}");
                assertEquals(200, registered.status(), registered.toString());
                assertEquals("registered", JSON.readTree(registered.body()).path("state").asText());
                assertEquals(200, other.send("DELETE", "/api/v1/sessions/" + session, null).status());
            }
            for (Future<?> f : threads) {
                f.get();
            }
        } finally {
            pool.shutdownNow();
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        int accepted = restSessions.size() + legacySessions.size() + sockets.size();
        System.out.printf("ClientLimitsIT: 300 sign-ins from one address in %.2f s: %d accepted, refused REST %d,"
                + " legacy %d, WebSocket %d%n", seconds, accepted, refusedBy[0].get(), refusedBy[1].get(), refusedBy[2].get());
        assertTrue(problems.isEmpty(), "every refusal is RATE_LIMITED as documented: " + problems);
        assertEquals(300, accepted + refusedBy[0].get() + refusedBy[1].get() + refusedBy[2].get());
        // Another 10 a second refill during the burst (a few earlier tests' sign-ins used some of the allowance).
        double allowance = SIGN_IN_BURST + 10 * seconds + 1;
        assertTrue(accepted <= allowance, accepted + " accepted in " + seconds + " s");
        for (int edge = 0; edge < 3; edge++) {
            assertTrue(refusedBy[edge].get() > 0, "edge " + edge + " refused some: " + refusedBy[edge]);
        }
        // The rate is checked first: what it allowed beyond max-sessions-per-address (a burst that took longer than
        // (150 - 100) / 10 = 5 s on a busy machine) is refused for that instead, and counted under that limit.
        double rateRefusals = metric("gateway_limits_refusals_total", "limit", "sign-in-rate") - rateRefusalsBefore;
        double capRefusals = metric("gateway_limits_refusals_total", "limit", "sessions-per-address") - capRefusalsBefore;
        assertTrue(rateRefusals >= 300 - allowance, rateRefusals + " refused for the rate, " + accepted + " accepted");
        assertEquals(300 - accepted, rateRefusals + capRefusals, 0.0, "every refusal counted under its limit");

        // Past max-sessions-per-address the next sign-in is refused for that, whatever its rate allows.
        HttpFrom.Response full = Poll.until(Duration.ofSeconds(60), "a sign-in refused for sessions-per-address",
                () -> {
                    try (HttpFrom http = new HttpFrom(attacker, gw.httpUrl())) {
                        HttpFrom.Response r = http.send("POST", "/api/v1/sessions", null);
                        if (r.status() == 201) {
                            restSessions.add(JSON.readTree(r.body()).path("session").asText());
                        }
                        return r;
                    } catch (Exception e) {
                        throw new AssertionError(e);
                    }
                }, r -> r.status() == 429 && r.body().contains("max-sessions-per-address"));
        assertNotNull(full.header("retry-after"), full.toString());
        assertTrue(metric("gateway_limits_refusals_total", "limit", "sessions-per-address") >= 1);

        // Signing out frees the address's places.
        try (HttpFrom http = new HttpFrom(attacker, gw.httpUrl())) {
            for (String s : restSessions) {
                assertEquals(200, http.send("DELETE", "/api/v1/sessions/" + s, null).status());
            }
            for (String s : legacySessions) {
                assertEquals(200, http.send("GET", "/sign_out?id=" + s, null).status());
            }
        }
        for (WsTestClient ws : sockets) {
            ws.ok("bye");
            ws.close();
        }
        Poll.until(T, "the sessions back to the " + (baselineSessions + 1) + " before (and the bystander's)",
                () -> instance().path("sessions").asInt(), n -> n == baselineSessions + 1);
        HttpFrom.Response again = Poll.until(T, "127.0.0.1 signs in again", () -> {
            try (HttpFrom http = new HttpFrom(attacker, gw.httpUrl())) {
                return http.send("POST", "/api/v1/sessions", null);
            } catch (Exception e) {
                throw new AssertionError(e);
            }
        }, r -> r.status() == 201);
        try (HttpFrom http = new HttpFrom(attacker, gw.httpUrl())) {
            http.send("DELETE", "/api/v1/sessions/" + JSON.readTree(again.body()).path("session").asText(), null);
        }
        assertBystanderWorks();
    }

    @Test
    @Order(5)
    void nothingIsLeftAndTheInstanceWasReadyThroughout() {
        assertBystanderWorks();
        String call = bystander.seen().stream().filter(n -> "connected".equals(n.path("name").asText()))
                .findFirst().orElseThrow().path("call").asText();
        bystander.ok("hangup", "call", call);
        bystander.awaitEvent("ended", T);
        browser.hangUp();
        bystander.ok("bye");
        Poll.until(T, "no calls left", () -> instance().path("calls").asInt(-1), n -> n == 0);
        Poll.until(T, "sessions back to " + baselineSessions, () -> instance().path("sessions").asInt(),
                n -> n == baselineSessions);
        Poll.until(T, "UDP sockets back to " + baselineUdpSockets, () -> ProcessResources.udpSocketCount(gw.pid()),
                n -> n <= baselineUdpSockets);
        // Per name: no thread started for a client is left (the pools that shrink only after a minute idle aside).
        Poll.until(Duration.ofSeconds(20), "no thread left beyond the baseline " + baselineThreadNames,
                () -> ProcessResources.threadsGrown(baselineThreadNames, ProcessResources.threadNames(gw.pid())),
                java.util.Map::isEmpty);
        ready.assertAlwaysReady();
        assertEquals(1, metric("gateway_ready"), "one client's limits never change readiness");
    }

    // ---- helpers ------------------------------------------------------------------------------------

    /** POST /api/v1/sessions: null when created, "" when refused as documented, else what was wrong. */
    private static String restSignIn(HttpFrom http, List<String> created) {
        HttpFrom.Response r = http.send("POST", "/api/v1/sessions", null);
        try {
            JsonNode body = JSON.readTree(r.body());
            if (r.status() == 201) {
                created.add(body.path("session").asText());
                return null;
            }
            boolean documented = r.status() == 429 && "RATE_LIMITED".equals(body.path("code").asText())
                    && body.path("retryAfter").asInt() >= 1 && retryAfter(r) >= 1;
            return documented ? "" : "REST " + r;
        } catch (Exception e) {
            return "REST " + r + ": " + e;
        }
    }

    /** GET /sign_in?anon...: null when signed in, "" when refused as documented (429, Retry-After), else why not. */
    private static String legacySignIn(HttpFrom http, List<String> created) {
        String anon = "anon" + UUID.randomUUID().toString().replace("-", "");
        HttpFrom.Response r = http.send("GET", "/sign_in?" + anon, null);
        if (r.status() == 200) {
            created.add(r.body().trim().substring(anon.length() + 1));
            return null;
        }
        boolean documented = r.status() == 429 && retryAfter(r) >= 1 && r.body().indexOf("RATE_LIMITED") > 0
                && r.body().contains("\"retryAfter\"");
        return documented ? "" : "legacy " + r;
    }

    /** A hello on a new WebSocket: null when signed in (the socket is kept), "" when refused as documented. */
    private static String webSocketSignIn(HttpClient client, List<WsTestClient> sockets) {
        WsTestClient ws = WsTestClient.connect(gw.wsUrl(), client);
        JsonNode answer = ws.request("hello");
        if ("result".equals(answer.path("type").asText())) {
            sockets.add(ws);
            return null;
        }
        ws.close();
        boolean documented = "RATE_LIMITED".equals(answer.path("code").asText()) && answer.path("retryAfter").asInt() >= 1;
        return documented ? "" : "WebSocket " + answer;
    }

    private static int retryAfter(HttpFrom.Response r) {
        String h = r.header("retry-after");
        return h == null || !h.matches("[0-9]+") ? -1 : Integer.parseInt(h);
    }

    private static void assertRateLimited(JsonNode answer, String mentions) {
        assertEquals("error", answer.path("type").asText(), answer.toString());
        assertEquals("RATE_LIMITED", answer.path("code").asText(), answer.toString());
        assertTrue(answer.path("retryAfter").asInt() >= 1, "retryAfter: " + answer);
        assertTrue(answer.path("message").asText().contains(mentions), answer.toString());
    }

    /** The bystander's session answers, and its call's echo keeps coming. */
    private static void assertBystanderWorks() {
        assertEquals("result", bystander.request("ping").path("type").asText());
        long before = browser.stats().packetsReceived();
        Poll.until(T, "audio still reaching the bystander's browser", browser::stats, s -> s.packetsReceived() > before + 25);
    }

    private static JsonNode instance() {
        return GatewayProbes.instance(gw);
    }

    private static double metric(String name, String... labels) {
        return GatewayProbes.metric(gw, name, labels);
    }
}
