package io.webrtcgateway.auth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.webrtcgateway.testsupport.BrowserPhone;
import io.webrtcgateway.testsupport.Closing;
import io.webrtcgateway.testsupport.FreePorts;
import io.webrtcgateway.testsupport.GatewayProcess;
import io.webrtcgateway.testsupport.Poll;
import io.webrtcgateway.testsupport.PrometheusText;
import io.webrtcgateway.testsupport.Sipp;
import io.webrtcgateway.testsupport.WsTestClient;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Issue 12 "Show it works", tokens: our JS library in headless Chromium against a gateway in token mode with
 * SIPp ({@code uas-calls.xml}) as registrar and callee. One gateway, one SIPp; Chromium phones as each test
 * needs (a phone makes a new Client, with its own token or getToken, before each connect).
 */
class TokenAuthIT {
    static final String SECRET = "token-auth-it-secret-0123456789abcdef";
    static final String AUDIENCE = "webrtc-gateway";
    private static final Duration STEP = Duration.ofSeconds(15);
    /**
     * A token that runs out during the test, after the session has signed in, registered and placed a call: that
     * takes about 1.5 s from minting on a loaded 2-core machine, so 10 s leaves room; each of the two tests that
     * wait for it to pass waits this long.
     */
    private static final Duration SHORT_TOKEN = Duration.ofSeconds(10);

    private static Sipp sipp;
    private static GatewayProcess gw;
    private static BrowserPhone phone;
    private static final HttpClient HTTP = HttpClient.newHttpClient();

    @BeforeAll
    static void start() {
        sipp = Sipp.scenario("uas-calls.xml")
                .key("peer_rtp_port", String.valueOf(FreePorts.udp())) // its dtmf branch, not used here
                .args("-mi", "127.0.0.1", "-mp", String.valueOf(FreePorts.sippMedia()), "-rtp_echo")
                .start();
        gw = GatewayProcess.builder().sipServers(sipp.serverEntry())
                .set("gateway.media.ice-addresses", List.of("127.0.0.1"))
                .set("gateway.auth.mode", "token")
                .set("gateway.auth.token.hmac-secrets", List.of(SECRET))
                .set("gateway.auth.token.audience", AUDIENCE)
                .set("gateway.auth.token.clock-skew", "0 s")
                .set("gateway.calls.dial-plan.deny", List.of("6*"))
                .set("gateway.calls.anonymous-dial-plan", List.of("5000"))
                .start();
        phone = BrowserPhone.start(gw.httpUrl(), "token-phone");
        // Chromium is up and the page loaded before any test mints a short-lived token.
        phone.awaitReady();
    }

    @AfterAll
    static void stop() {
        Closing.all(phone, gw, sipp);
    }

    static String token(String dn, Duration ttl, List<String> dial) {
        return TestTokens.hs256(SECRET, dn, Instant.now().plus(ttl), b -> {
            b.audience(AUDIENCE);
            if (dial != null) {
                b.claim("dial", dial);
            }
        });
    }

    private static double refusals(String code) throws Exception {
        HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(gw.httpUrl() + "/metrics")).build(),
                HttpResponse.BodyHandlers.ofString());
        return PrometheusText.parse(r.body()).valueOrZero("gateway_auth_refusals_total", "code", code);
    }


    @Test
    void aValidTokenRegistersItsDnAndCallsWithAudioButNotAnotherDn() throws Exception {
        double forbiddenDn = refusals("FORBIDDEN_DN");
        phone.command("token " + token("1001", Duration.ofHours(1), null));
        phone.connect();
        JsonNode refused = phone.commandError("register 1002");
        assertEquals("FORBIDDEN_DN", refused.path("code").asText(), refused.toString());
        assertEquals(forbiddenDn + 1, refusals("FORBIDDEN_DN"));
        assertFalse(sipp.receivedRequests("REGISTER").stream().anyMatch(m -> m.header("To").orElse("").contains("1002")),
                "no REGISTER for a DN the token does not name");
        phone.register("1001");
        BrowserPhone.Placed call = phone.call("5000");
        phone.awaitCallEvent(call.id(), "connected", STEP);
        phone.awaitAudio("audio echoed by SIPp", 50, 0);
        phone.hangup();
        phone.awaitCallEvent(call.id(), "ended", STEP);
        phone.command("disconnect");
    }

    @Test
    void missingForgedExpiredAndWrongAudienceTokensGetTheirCodes() throws Exception {
        double required = refusals("AUTH_REQUIRED");
        double invalid = refusals("AUTH_INVALID");
        phone.command("token");
        assertRefused("AUTH_REQUIRED", "requires a token");
        String forged = TestTokens.hs256("not-the-gateways-secret-0123456789abcdef", "1001",
                Instant.now().plusSeconds(3600), b -> b.audience(AUDIENCE));
        phone.command("token " + forged);
        assertRefused("AUTH_INVALID", "signature");
        phone.command("token " + token("1001", Duration.ofSeconds(-5), null));
        assertRefused("AUTH_INVALID", "expired");
        phone.command("token " + TestTokens.hs256(SECRET, "1001", Instant.now().plusSeconds(3600), b -> b.audience("crm")));
        assertRefused("AUTH_INVALID", "audience");
        assertEquals(required + 1, refusals("AUTH_REQUIRED"));
        assertEquals(invalid + 3, refusals("AUTH_INVALID"));
    }

    @Test
    void aFloodOfForgedAndOversizedTokensChangesNothingForABystander() throws Exception {
        try (WsTestClient bystander = WsTestClient.connect(gw.wsUrl());
             WsTestClient attacker = WsTestClient.connect(gw.wsUrl())) {
            bystander.ok("hello", "token", token("1010", Duration.ofHours(1), null));
            bystander.ok("register", "dn", "1010");
            double invalid = refusals("AUTH_INVALID");
            int sessions = sessions();
            String forgedFor1010 = TestTokens.hs256("not-the-gateways-secret-0123456789abcdef", "1010",
                    Instant.now().plusSeconds(3600), b -> b.audience(AUDIENCE));
            // A failed hello leaves the socket free for the next one: 100 forged tokens for the bystander's DN, then
            // one past the length bound (checked before any parsing).
            for (int i = 0; i < 100; i++) {
                assertEquals("AUTH_INVALID", attacker.request("hello", "token", forgedFor1010).path("code").asText());
            }
            JsonNode oversized = attacker.request("hello", "token", "a".repeat(TokenVerifier.MAX_TOKEN_LENGTH + 1));
            assertEquals("AUTH_INVALID", oversized.path("code").asText(), oversized.toString());
            assertTrue(oversized.path("message").asText().contains("longer than"), oversized.toString());
            assertEquals(invalid + 101, refusals("AUTH_INVALID"));
            assertEquals(sessions, sessions(), "no session was created");
            // The bystander still holds its DN and is served.
            bystander.ok("ping");
            JsonNode resumedView = bystander.request("register", "dn", "1010");
            assertEquals("ALREADY_REGISTERED", resumedView.path("code").asText(), "still registered: " + resumedView);
            assertTrue(bystander.seen().stream().noneMatch(m -> "unregistered".equals(m.path("name").asText())),
                    "the bystander never lost its registration");
            bystander.ok("unregister");
            bystander.ok("bye");
        }
    }

    private static int sessions() throws Exception {
        HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(gw.httpUrl() + "/metrics")).build(),
                HttpResponse.BodyHandlers.ofString());
        return (int) PrometheusText.parse(r.body()).find("gateway_sessions", java.util.Map.of()).stream()
                .mapToDouble(PrometheusText.Sample::value).sum();
    }

    private static void assertRefused(String code, String messagePart) {
        JsonNode e = phone.commandError("connect");
        assertEquals(code, e.path("code").asText(), e.toString());
        assertTrue(e.path("message").asText().contains(messagePart), e.toString());
    }

    @Test
    void getTokenKeepsTheSessionAndItsCallPastTheFirstTokensExpiry() {
        // The first token lives 10 s (room for a loaded machine to sign in and call); with less than 30 s left the
        // library renews it a second after hello, through `auth`.
        Instant firstExpires = Instant.now().plus(SHORT_TOKEN);
        phone.command("tokens " + token("1003", SHORT_TOKEN, null) + " " + token("1003", Duration.ofHours(1), null));
        phone.connect();
        phone.register("1003");
        BrowserPhone.Placed call = phone.call("5000");
        phone.awaitCallEvent(call.id(), "connected", STEP);
        Poll.until(SHORT_TOKEN.plus(STEP), "the first token's expiry to pass", () -> Instant.now().isAfter(firstExpires.plusSeconds(2)));
        JsonNode stats = phone.awaitAudio("audio after the first token expired", 0, 0);
        phone.awaitAudio("audio still flowing", stats.at("/inbound/packets").asLong() + 50, 0);
        JsonNode state = phone.command("state");
        assertEquals("connected", state.path("client").asText(), state.toString());
        assertEquals("1003", state.at("/registration/dn").asText(), state.toString());
        // A new call, after the first token's expiry, is allowed: the session's token is the renewed one.
        phone.hangup();
        phone.awaitCallEvent(call.id(), "ended", STEP);
        BrowserPhone.Placed second = phone.call("5000");
        phone.awaitCallEvent(second.id(), "connected", STEP);
        phone.hangup();
        phone.awaitCallEvent(second.id(), "ended", STEP);
        phone.command("disconnect");
    }

    @Test
    void aSessionWhoseTokenRunsOutEndsAfterItsCallNotDuringIt() {
        Instant expires = Instant.now().plus(SHORT_TOKEN);
        phone.command("token " + token("1004", SHORT_TOKEN, null));
        int from = phone.lineCount();
        phone.connect();
        phone.register("1004");
        BrowserPhone.Placed call = phone.call("5000");
        phone.awaitCallEvent(call.id(), "connected", STEP);
        Poll.until(SHORT_TOKEN.plus(STEP), "the token's expiry to pass", () -> Instant.now().isAfter(expires.plusSeconds(2)));
        JsonNode stats = phone.awaitAudio("audio after the token expired", 0, 0);
        phone.awaitAudio("the call goes on", stats.at("/inbound/packets").asLong() + 50, 0);
        // A new call with the expired token is refused.
        assertEquals("AUTH_INVALID", phone.commandError("call 5000").path("code").asText());
        phone.hangup();
        phone.awaitCallEvent(call.id(), "ended", STEP);
        // Then the session ends with its reason, and the DN is un-registered.
        JsonNode disconnected = phone.awaitEvent("disconnected", from, STEP);
        assertEquals("token-expired", disconnected.at("/detail/reason").asText(), disconnected.toString());
        sipp.awaitUnregister("1004", STEP);
    }

    @Test
    void anonymousTokensCallOnlyWhatBothTheirDialClaimAndTheDialPlanAllow() throws Exception {
        double forbidden = refusals("FORBIDDEN_DESTINATION");
        phone.command("token " + token(null, Duration.ofHours(1), List.of("5000", "busy")));
        phone.connect();
        BrowserPhone.Placed call = phone.call("5000");
        phone.awaitCallEvent(call.id(), "connected", STEP);
        phone.awaitAudio("a click-to-call's audio", 50, 0);
        phone.hangup();
        phone.awaitCallEvent(call.id(), "ended", STEP);
        // In the token's dial claim but not in gateway.calls.anonymous-dial-plan.
        assertEquals("FORBIDDEN_DESTINATION", phone.commandError("call busy").path("code").asText());
        // In the anonymous dial plan but not in the token's claim... (only 5000 is in both)
        phone.command("disconnect");
        phone.command("token " + token(null, Duration.ofHours(1), List.of("early")));
        phone.connect();
        assertEquals("FORBIDDEN_DESTINATION", phone.commandError("call 5000").path("code").asText());
        phone.command("disconnect");
        assertEquals(forbidden + 2, refusals("FORBIDDEN_DESTINATION"));
        assertFalse(sipp.receivedRequests("INVITE").stream().anyMatch(m -> m.requestUri().startsWith("sip:busy@")
                && m.header("From").orElse("").contains("anonymous")), "no INVITE for a refused destination");
    }

    @Test
    void dialPlanDenyAndTheTokensDialClaimNarrowARegisteredDn() throws Exception {
        try (WsTestClient ws = WsTestClient.connect(gw.wsUrl())) {
            ws.ok("hello", "token", token("1005", Duration.ofHours(1), List.of("5xxx", "6000", "early")));
            ws.ok("register", "dn", "1005");
            // Allowed by both: the call goes on to SDP parsing (a placeholder offer: BAD_SDP, not a refusal).
            assertEquals("BAD_SDP", ws.request("call", "to", "5001", "sdp", "v=0").path("code").asText());
            // In the token's claim but denied by gateway.calls.dial-plan.deny = ["6*"]: deny wins.
            JsonNode denied = ws.request("call", "to", "6000", "sdp", "v=0");
            assertEquals("FORBIDDEN_DESTINATION", denied.path("code").asText(), denied.toString());
            // Allowed by the plan, outside the token's claim.
            JsonNode narrowed = ws.request("call", "to", "7000", "sdp", "v=0");
            assertEquals("FORBIDDEN_DESTINATION", narrowed.path("code").asText(), narrowed.toString());
            assertTrue(narrowed.path("message").asText().contains("dial claim"), narrowed.toString());
            // A session that never registered, with a DN token: it must register first.
            try (WsTestClient other = WsTestClient.connect(gw.wsUrl())) {
                other.ok("hello", "token", token("1006", Duration.ofHours(1), null));
                assertEquals("NOT_REGISTERED", other.request("call", "to", "5000", "sdp", "v=0").path("code").asText());
                other.ok("bye");
            }
            // auth with a token for another DN is refused; with a fresh one for the same DN it extends the session.
            assertEquals("FORBIDDEN_DN", ws.request("auth", "token", token("1002", Duration.ofHours(2), null)).path("code").asText());
            JsonNode renewed = ws.ok("auth", "token", token("1005", Duration.ofHours(2), null));
            assertTrue(renewed.path("tokenExpires").asLong() > Instant.now().plusSeconds(7000).getEpochSecond(), renewed.toString());
            ws.ok("unregister");
            ws.ok("bye");
        }
        assertFalse(sipp.receivedRequests("INVITE").stream().anyMatch(m -> m.requestUri().startsWith("sip:6000@")
                || m.requestUri().startsWith("sip:7000@")), "refused destinations never reach SIP");
    }

    @Test
    void restSessionsNeedABearerToken() throws Exception {
        HttpResponse<String> none = HTTP.send(HttpRequest.newBuilder(URI.create(gw.httpUrl() + "/api/v1/sessions"))
                .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(401, none.statusCode(), none.body());
        assertTrue(none.body().contains("AUTH_REQUIRED"), none.body());
        HttpResponse<String> ok = HTTP.send(HttpRequest.newBuilder(URI.create(gw.httpUrl() + "/api/v1/sessions"))
                .header("Authorization", "Bearer " + token("1007", Duration.ofHours(1), null))
                .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(201, ok.statusCode(), ok.body());
        String session = new com.fasterxml.jackson.databind.ObjectMapper().readTree(ok.body()).path("session").asText();
        HttpResponse<String> wrongDn = HTTP.send(HttpRequest.newBuilder(URI.create(gw.httpUrl() + "/api/v1/sessions/"
                        + session + "/registration")).header("Content-Type", "application/json")
                .PUT(HttpRequest.BodyPublishers.ofString("{\"dn\":\"1008\"}")).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(403, wrongDn.statusCode(), wrongDn.body());
        assertTrue(wrongDn.body().contains("FORBIDDEN_DN"), wrongDn.body());
        HTTP.send(HttpRequest.newBuilder(URI.create(gw.httpUrl() + "/api/v1/sessions/" + session)).DELETE().build(),
                HttpResponse.BodyHandlers.ofString());
    }
}
