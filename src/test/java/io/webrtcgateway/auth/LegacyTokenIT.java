package io.webrtcgateway.auth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.webrtcgateway.testsupport.Closing;
import io.webrtcgateway.testsupport.FreePorts;
import io.webrtcgateway.testsupport.GatewayProcess;
import io.webrtcgateway.testsupport.LegacyPhone;
import io.webrtcgateway.testsupport.Poll;
import io.webrtcgateway.testsupport.Sipp;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Issue 12, legacy edge in token mode: a grtc.js-style page (headless Chromium, cross-origin, as grtc.js apps
 * are) signs in through its one URL with a {@code /t/<token>} path, or posts {@code dn:token}; it registers,
 * calls with audio and is called from SIP; a sign-in without a token is refused. SIPp is registrar and echo.
 */
class LegacyTokenIT {
    private static final String SECRET = "legacy-token-it-secret-0123456789abcdef";
    private static final Duration STEP = Duration.ofSeconds(15);
    private static final HttpClient HTTP = HttpClient.newHttpClient();

    private static Sipp sipServer;
    private static GatewayProcess gw;
    private static int pagePortA;
    private static int pagePortB;

    @BeforeAll
    static void start() {
        pagePortA = FreePorts.tcp();
        pagePortB = FreePorts.tcp();
        sipServer = Sipp.scenario("registrar-uas-echo.xml")
                .args("-mp", String.valueOf(FreePorts.sippMedia()), "-mi", "127.0.0.1", "-rtp_echo").start();
        gw = GatewayProcess.builder().sipServers(sipServer.serverEntry())
                .set("gateway.media.ice-addresses", List.of("127.0.0.1"))
                .set("gateway.cors.allowed-origins", List.of("http://127.0.0.1:" + pagePortA, "http://127.0.0.1:" + pagePortB))
                .set("gateway.auth.mode", "token")
                .set("gateway.auth.token.hmac-secrets", List.of(SECRET))
                .start();
    }

    @AfterAll
    static void stop() {
        Closing.all(gw, sipServer);
    }

    private static String token(String dn) {
        return TestTokens.hs256(SECRET, dn, Instant.now().plusSeconds(3600), b -> {});
    }

    @Test
    void aPageWhoseUrlCarriesTheTokenSignsInCallsAndIsCalled() {
        String url = gw.httpUrl() + "/t/" + token("2001");
        try (LegacyPhone phone = LegacyPhone.builder().name("legacy-t").gateway(url).pagePort(pagePortA).start()) {
            // grtc.js's register() without a password: GET /t/<token>/sign_in?2001
            JsonNode signedIn = phone.signIn("2001", null);
            assertEquals(200, signedIn.path("status").asInt(), signedIn.toString());
            sipServer.awaitReceived(m -> m.isRequest() && m.method().equals("REGISTER")
                    && m.header("To").orElse("").contains("2001"), 1, STEP, "REGISTER of 2001");

            phone.call("5000");
            phone.awaitIceState("connected", STEP);
            Poll.until(Duration.ofSeconds(20), "echoed audio decoded by the page", phone::stats,
                    s -> s.packetsReceived() > 50 && s.totalAudioEnergy() > 0);
            phone.hangUp();

            phone.discardEvents();
            try (Sipp caller = Sipp.scenario("uac-echo.xml").name("sipp-uac-legacy-token")
                    .remote("127.0.0.1:" + gw.sipPort()).maxCalls(1)
                    .args("-s", "2001", "-mp", String.valueOf(FreePorts.sippMedia()), "-mi", "127.0.0.1", "-rtp_echo")
                    .start()) {
                phone.awaitEvent("incoming", STEP);
                phone.answer();
                phone.awaitIceState("connected", STEP);
                Poll.until(Duration.ofSeconds(20), "the caller's echoed audio", phone::stats,
                        s -> s.packetsReceived() > 50 && s.totalAudioEnergy() > 0);
                phone.infoMap(Map.of("reason", "done"));
                phone.awaitEvent("bye", STEP);
                assertEquals(0, caller.waitForExit(STEP), "SIPp's call succeeded: " + caller.errors());
            }
            phone.signOut();
        }
    }

    @Test
    void thePasswordHalfOfAPostedSignInCarriesTheToken() {
        try (LegacyPhone phone = LegacyPhone.builder().name("legacy-post").gateway(gw.httpUrl()).pagePort(pagePortB).start()) {
            JsonNode signedIn = phone.signIn("2002", token("2002"));
            assertEquals(200, signedIn.path("status").asInt(), signedIn.toString());
            sipServer.awaitReceived(m -> m.isRequest() && m.method().equals("REGISTER")
                    && m.header("To").orElse("").contains("2002"), 1, STEP, "REGISTER of 2002");
            phone.signOut();
        }
    }

    @Test
    void signInsWithoutATokenOrForAnotherDnAreRefused() throws Exception {
        int registers = sipServer.receivedRequests("REGISTER").size();
        HttpResponse<String> get = send(HttpRequest.newBuilder(URI.create(gw.httpUrl() + "/sign_in?2003")).GET());
        assertEquals(401, get.statusCode(), get.body());
        assertTrue(get.body().contains("AUTH_REQUIRED") && get.body().indexOf("ERROR") > 0, get.body());
        HttpResponse<String> post = send(HttpRequest.newBuilder(URI.create(gw.httpUrl() + "/sign_in"))
                .POST(HttpRequest.BodyPublishers.ofString("2003:undefined")));
        assertEquals(401, post.statusCode(), post.body());
        HttpResponse<String> forged = send(HttpRequest.newBuilder(URI.create(gw.httpUrl() + "/t/"
                + TestTokens.hs256("another-secret-0123456789abcdef-another", "2003", Instant.now().plusSeconds(60), b -> {})
                + "/sign_in?2003")).GET());
        assertEquals(401, forged.statusCode(), forged.body());
        assertTrue(forged.body().contains("AUTH_INVALID") && forged.body().contains("signature"), forged.body());
        HttpResponse<String> otherDn = send(HttpRequest.newBuilder(URI.create(gw.httpUrl() + "/t/" + token("2001")
                + "/sign_in?2004")).GET());
        assertEquals(403, otherDn.statusCode(), otherDn.body());
        assertTrue(otherDn.body().contains("FORBIDDEN_DN"), otherDn.body());
        HttpResponse<String> garbage = send(HttpRequest.newBuilder(URI.create(gw.httpUrl() + "/t/%3Cscript%3E/sign_in?2004")).GET());
        assertEquals(401, garbage.statusCode(), garbage.body());
        assertFalse(gw.logTail(400).contains(token("2001").substring(0, 40)), "tokens never reach the log");
        assertEquals(registers, sipServer.receivedRequests("REGISTER").size(), "no REGISTER for a refused sign-in");
    }

    private static HttpResponse<String> send(HttpRequest.Builder b) throws Exception {
        return HTTP.send(b.timeout(STEP).build(), HttpResponse.BodyHandlers.ofString());
    }
}
