package io.webrtcgateway.sip;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.webrtcgateway.testsupport.Closing;
import io.webrtcgateway.testsupport.GatewayProcess;
import io.webrtcgateway.testsupport.PrometheusText;
import io.webrtcgateway.testsupport.SipMessage;
import io.webrtcgateway.testsupport.Sipp;
import io.webrtcgateway.testsupport.WsTestClient;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Whom the SIP listener accepts (docs/sip.md): SIPp on 127.0.0.1 is SIP Server (registrar, and the caller of a
 * real call); SIPp bound to 127.0.0.2, which the gateway does not know, is a stranger sending what would ring an
 * agent with a forged caller and attached data, make the app answer by itself (NOTIFY Event: talk), push an
 * INFO into it, or probe which DNs are signed in. Each gets 403 (or nothing, in drop mode), the same whether
 * the DN is signed in or not; the browser hears nothing; SIP Server's own call still gets through during the
 * attack; gateway.sip.trusted-sources lets the same stranger in; /metrics counts the refusals.
 */
class SipTrustedSourcesIT {
    private static final String DN = "7801";
    private static final String UNKNOWN_DN = "7899";
    private static final String STRANGER = "127.0.0.2";
    private static final Duration T = Duration.ofSeconds(15);
    /** After the stranger's last request was answered (or dropped), how long the browser must stay silent. */
    private static final Duration QUIET = Duration.ofSeconds(2);
    /** Forged INVITEs in the flood that runs while SIP Server calls the DN: 20/s for 3 s. */
    private static final int FLOOD = 60;
    private static final HttpClient HTTP = HttpClient.newHttpClient();

    /** Each test's own SIP Server and gateway (its metrics are the test's alone), all started side by side. */
    private static Sipp rejectServer;
    private static Sipp dropServer;
    private static Sipp trustServer;
    private static GatewayProcess rejectGw;
    private static GatewayProcess dropGw;
    private static GatewayProcess trustGw;

    @BeforeAll
    static void start() {
        rejectServer = Sipp.scenario("registrar-ok.xml").name("sip-server-reject").start();
        dropServer = Sipp.scenario("registrar-ok.xml").name("sip-server-drop").start();
        trustServer = Sipp.scenario("registrar-ok.xml").name("sip-server-trust").start();
        List<GatewayProcess> gateways = GatewayProcess.startAll(gateway(rejectServer).name("gw-reject"),
                gateway(dropServer).set("gateway.sip.untrusted", "drop").name("gw-drop"),
                gateway(trustServer).set("gateway.sip.trusted-sources", List.of(STRANGER)).name("gw-trust"));
        rejectGw = gateways.get(0);
        dropGw = gateways.get(1);
        trustGw = gateways.get(2);
    }

    @AfterAll
    static void stop() {
        Closing.all(GatewayProcess.together(rejectGw, dropGw, trustGw), rejectServer, dropServer, trustServer);
    }

    private static GatewayProcess.Builder gateway(Sipp sipServer) {
        return GatewayProcess.builder().sipServers(sipServer.serverEntry())
                .set("gateway.sip.keepalive-interval", "1 s");
    }

    /** A signed-in WebSocket client with {@link #DN} registered at SIP Server. */
    private static WsTestClient agent(GatewayProcess gw, Sipp sipServer) {
        WsTestClient ws = WsTestClient.connect(gw.wsUrl());
        ws.ok("hello");
        ws.startKeepalive(Duration.ofSeconds(5));
        ws.ok("register", "dn", DN);
        sipServer.awaitReceived(m -> "REGISTER".equals(m.method()) && DN.equals(m.toUser()), 1, T, "REGISTER of " + DN);
        return ws;
    }

    /**
     * The stranger: SIPp from 127.0.0.2 toward the gateway, each request sent once ({@code -nr}: no UDP
     * retransmissions, so the counts below are exact). Started by the test method, so its logs carry its name.
     */
    private static Sipp.Builder stranger(GatewayProcess gw, String scenario, String dn, String name) {
        return Sipp.scenario(scenario).name(name).localAddress(STRANGER).remote("127.0.0.1:" + gw.sipPort())
                .args("-s", dn, "-nr").maxCalls(1);
    }

    @Test
    void strangersGetForbiddenTheBrowserHearsNothingAndSipServerStillGetsThrough() throws Exception {
        GatewayProcess gw = rejectGw;
        try (WsTestClient ws = agent(gw, rejectServer)) {
            int quietFrom = ws.seen().size();
            String realCallId;

            // A flood of forged INVITEs for the signed-in DN; meanwhile SIP Server calls it for real.
            try (Sipp flood = stranger(gw, "uac-forged-invite.xml", DN, "stranger-invites")
                         .args("-r", "20").maxCalls(FLOOD).start();
                 Sipp realCall = Sipp.scenario("uac-rejected.xml").name("sip-server-call")
                         .remote("127.0.0.1:" + gw.sipPort()).args("-s", DN).maxCalls(1).start()) {
                JsonNode incoming = ws.awaitEvent("incoming", T);
                assertTrue(flood.isAlive(), "the real call came during the flood");
                assertEquals("Customer", incoming.path("fromName").asText(), "SIP Server's call, not a forged one: "
                        + incoming);
                realCallId = incoming.path("call").asText();
                ws.ok("reject", "call", realCallId, "status", 486);
                assertEquals(0, realCall.waitForExit(T), "SIP Server's caller got the browser's 486");
                assertEquals(0, flood.waitForExit(T), "every forged INVITE got a final answer: " + flood.errors());
                assertOnly403s(flood, "INVITE", FLOOD);
            }

            try (Sipp requests = stranger(gw, "uac-forged-requests.xml", DN, "stranger-requests").start()) {
                assertEquals(0, requests.waitForExit(T), "NOTIFY, INFO and OPTIONS answered: " + requests.errors());
                assertEquals(List.of("NOTIFY", "INFO", "OPTIONS"),
                        requests.received().stream().map(SipMessage::method).toList());
                assertOnly403s(requests, null, 3);
            }

            // No oracle: a DN nobody signed in gets exactly what a signed-in one got.
            try (Sipp known = stranger(gw, "uac-forged-invite.xml", DN, "stranger-known-dn").start();
                 Sipp unknown = stranger(gw, "uac-forged-invite.xml", UNKNOWN_DN, "stranger-unknown-dn").start()) {
                assertEquals(0, known.waitForExit(T));
                assertEquals(0, unknown.waitForExit(T));
                SipMessage forKnown = only(known.received());
                SipMessage forUnknown = only(unknown.received());
                assertEquals("SIP/2.0 403 Forbidden", forKnown.firstLine());
                assertEquals(forKnown.firstLine(), forUnknown.firstLine());
                assertEquals(comparable(forKnown, DN), comparable(forUnknown, UNKNOWN_DN),
                        "the same answer:\n" + forKnown.text() + "\n---\n" + forUnknown.text());
            }

            assertQuiet(ws, quietFrom, realCallId);

            PrometheusText metrics = metrics(gw);
            String name = "gateway_sip_untrusted_requests_total";
            assertEquals(FLOOD + 2, metrics.value(name, "method", "INVITE", "action", "reject"));
            assertEquals(FLOOD + 2, metrics.value(name, "method", "ACK", "action", "drop"), "ACKs are never answered");
            for (String method : List.of("NOTIFY", "INFO", "OPTIONS")) {
                assertEquals(1, metrics.value(name, "method", method, "action", "reject"), method);
            }
            assertEquals(1, metrics.valueOrZero("gateway_sip_server_reachable"), "SIP Server's keepalive still answered");
        }
    }

    @Test
    void dropModeAnswersStrangersNothing() throws Exception {
        GatewayProcess gw = dropGw;
        try (WsTestClient ws = agent(gw, dropServer)) {
            int quietFrom = ws.seen().size();
            try (Sipp invite = stranger(gw, "uac-forged-invite.xml", DN, "stranger-invite").start();
                 Sipp unknown = stranger(gw, "uac-forged-invite.xml", UNKNOWN_DN, "stranger-unknown-dn").start();
                 Sipp requests = stranger(gw, "uac-forged-requests.xml", DN, "stranger-requests").start()) {
                for (Sipp s : List.of(invite, unknown, requests)) {
                    s.waitForExit(T); // 1: its requests timed out, as they should
                    assertTrue(s.received().isEmpty(), s.name() + " got answers: " + s.received());
                }
                assertEquals(List.of("INVITE"), invite.sent().stream().map(SipMessage::method).toList());
                assertEquals(List.of("NOTIFY", "INFO", "OPTIONS"),
                        requests.sent().stream().map(SipMessage::method).toList());
            }
            assertQuiet(ws, quietFrom, null);

            PrometheusText metrics = metrics(gw);
            String name = "gateway_sip_untrusted_requests_total";
            assertEquals(2, metrics.value(name, "method", "INVITE", "action", "drop"), "both INVITEs");
            for (String method : List.of("NOTIFY", "INFO", "OPTIONS")) {
                assertEquals(1, metrics.value(name, "method", method, "action", "drop"), method);
            }
            assertEquals(0, metrics.valueOrZero(name, "action", "reject"));
            // SIP Server's side is untouched: the session and its registration live, the keepalive answered.
            assertTrue(ws.ok("ping").path("time").asLong() > 0);
            assertEquals(1, metrics.valueOrZero("gateway_sip_server_reachable"));
        }
    }

    @Test
    void aTrustedSourceIsLetIn() throws Exception {
        GatewayProcess gw = trustGw;
        try (WsTestClient ws = agent(gw, trustServer);
             Sipp invite = stranger(gw, "uac-forged-invite.xml", DN, "trusted-invite").start()) {
            JsonNode incoming = ws.awaitEvent("incoming", T);
            assertEquals("Bank Security", incoming.path("fromName").asText(), incoming.toString());
            assertEquals("666", incoming.path("data").path("case").asText(), incoming.toString());
            ws.ok("reject", "call", incoming.path("call").asText(), "status", 486);
            assertEquals(0, invite.waitForExit(T));
            List<Integer> statuses = invite.received().stream().map(SipMessage::status).toList();
            assertTrue(statuses.contains(486) && !statuses.contains(403), "let through: " + statuses);
            assertEquals(0, metrics(gw).valueOrZero("gateway_sip_untrusted_requests_total"));
        }
    }

    private static void assertOnly403s(Sipp sipp, String method, int count) {
        List<SipMessage> received = sipp.received();
        assertEquals(count, received.size(), sipp.name() + " received " + received.stream().map(SipMessage::firstLine).toList());
        for (SipMessage m : received) {
            assertEquals(403, m.status(), m.text());
            if (method != null) {
                assertEquals(method, m.method(), m.text());
            }
        }
    }

    private static SipMessage only(List<SipMessage> messages) {
        assertEquals(1, messages.size(), String.valueOf(messages));
        return messages.get(0);
    }

    /**
     * A response's headers by lower-case name, without what echoes the request: Via, From, Call-ID and CSeq
     * are left out; To keeps its URI with the DN replaced, without its tag (a fresh one per answer).
     */
    private static Map<String, List<String>> comparable(SipMessage m, String dn) {
        Map<String, List<String>> out = new TreeMap<>();
        for (String line : m.text().split("\r?\n")) {
            int colon = line.indexOf(':');
            if (line.startsWith("SIP/2.0") || colon <= 0) {
                continue;
            }
            String header = line.substring(0, colon).trim().toLowerCase(Locale.ROOT);
            String value = line.substring(colon + 1).trim();
            switch (header) {
                case "via", "from", "call-id", "cseq" -> value = "(echo)";
                case "to" -> value = value.replace(dn, "<dn>").replaceAll(";tag=[^;>\\s]+", ";tag=(fresh)");
                default -> { }
            }
            out.computeIfAbsent(header, k -> new ArrayList<>()).add(value);
        }
        return out;
    }

    /**
     * Watches the browser's socket for {@link #QUIET}: nothing may arrive but what belongs to SIP Server's real
     * call {@code allowedCall} (its incoming and its end). An absence has no event to wait for.
     */
    private static void assertQuiet(WsTestClient ws, int from, String allowedCall) {
        long deadline = System.nanoTime() + QUIET.toNanos();
        while (true) {
            List<JsonNode> seen = ws.seen();
            for (JsonNode n : seen.subList(from, seen.size())) {
                boolean ownResult = n.path("type").asText().equals("result");
                boolean realCall = allowedCall != null && allowedCall.equals(n.path("call").asText());
                assertTrue(ownResult || realCall, "the browser heard of a stranger's request: " + n);
            }
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                return;
            }
            LockSupport.parkNanos(Math.min(left, TimeUnit.MILLISECONDS.toNanos(50)));
        }
    }

    private static PrometheusText metrics(GatewayProcess gw) throws Exception {
        HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(gw.httpUrl() + "/metrics")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode());
        return PrometheusText.parse(r.body());
    }
}
