package io.webrtcgateway.edge.legacy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.webrtcgateway.testsupport.GatewayProcess;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The legacy grtc.js protocol driven by a plain HTTP client exactly as SPEC §4 describes it, against the
 * real standalone gateway and its sandbox SIP server, including cross-origin requests with credentials.
 */
class LegacyProtocolIT {
    private static final String APP_ORIGIN = "http://agent-app.example.test:8080";
    private static GatewayProcess gw;
    private static String base;
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    @BeforeAll
    static void start() throws Exception {
        gw = GatewayProcess.builder()
                .instanceId("legacyit")
                .set("gateway.legacy.poll-timeout", "1 s")
                .set("gateway.session.idle-timeout", "30 s")
                .set("gateway.limits.max-message-bytes", "2048")
                .set("gateway.cors.allowed-origins", java.util.List.of(APP_ORIGIN))
                .start();
        base = gw.httpUrl().replaceAll("/$", "");
    }

    @AfterAll
    static void stop() throws Exception {
        if (gw != null) {
            gw.close();
        }
    }

    private static HttpResponse<String> get(String path, String... headers) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(20));
        for (int i = 0; i < headers.length; i += 2) {
            b.header(headers[i], headers[i + 1]);
        }
        return HTTP.send(b.GET().build(), HttpResponse.BodyHandlers.ofString());
    }

    private static HttpResponse<String> post(String path, String body, String... headers) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(20))
                .header("Content-Type", "text/plain;charset=UTF-8");
        for (int i = 0; i < headers.length; i += 2) {
            b.header(headers[i], headers[i + 1]);
        }
        return HTTP.send(b.POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
    }

    /** What grtc.js does with the sign-in answer: the first line, what follows '='. */
    private static String sessionId(HttpResponse<String> signIn) {
        String first = signIn.body().split("\n", 2)[0];
        return first.substring(first.indexOf('=') + 1);
    }

    @Test
    void anonymousSignInLongPollAndSignOut() throws Exception {
        String anon = "anon" + "0123456789abcdef0123456789ABCDEF";
        HttpResponse<String> in = get("/sign_in?" + anon);
        assertEquals(200, in.statusCode(), in.body());
        assertTrue(in.body().startsWith(anon + "="), in.body());
        String ssid = sessionId(in);
        assertTrue(ssid.endsWith(".legacyit"), ssid);
        assertTrue(in.headers().allValues("Set-Cookie").stream().anyMatch(c -> c.startsWith("GWINSTANCE=legacyit")));

        long t0 = System.nanoTime();
        HttpResponse<String> poll = get("/wait?id=" + ssid);
        long ms = (System.nanoTime() - t0) / 1_000_000;
        assertEquals(200, poll.statusCode(), "an empty poll is 200, never 204");
        assertEquals("", poll.body());
        assertTrue(poll.headers().firstValue("Content-Type").orElse("").startsWith("text/plain"));
        assertTrue(ms >= 800, "the poll was held until the poll timeout (" + ms + " ms)");

        assertEquals(200, get("/sign_out?id=" + ssid).statusCode());
        HttpResponse<String> after = get("/wait?id=" + ssid);
        assertNotEquals(200, after.statusCode());
        assertTrue(after.body().indexOf("ERROR") > 0, after.body());
    }

    @Test
    void signInWithDnAndWithPasswordRegisters() throws Exception {
        HttpResponse<String> byGet = get("/sign_in?4001");
        assertEquals(200, byGet.statusCode(), byGet.body());
        assertTrue(byGet.body().startsWith("4001="));
        HttpResponse<String> byPost = post("/sign_in", "4002:secret");
        assertEquals(200, byPost.statusCode(), byPost.body());
        assertTrue(byPost.body().startsWith("4002="));
        // grtc.js without a configured password posts "<dn>:undefined"
        HttpResponse<String> undefinedPw = post("/sign_in", "4003:undefined");
        assertEquals(200, undefinedPw.statusCode(), undefinedPw.body());
        for (HttpResponse<String> r : java.util.List.of(byGet, byPost, undefinedPw)) {
            assertEquals(200, get("/sign_out?id=" + sessionId(r)).statusCode());
        }
    }

    @Test
    void aBadCallMessageIsAnsweredThroughThePollWithTheDocumentedError() throws Exception {
        String ssid = sessionId(get("/sign_in?4010"));
        HttpResponse<String> sent = post("/message?from=" + ssid + "&to=5000",
                "RSMP {\"messageType\":\"OFFER\",\"sdp\":\"v=0\\r\\n\",\"seq\":1,\"tiebreaker\":42,\"Candidates\":[]}");
        assertEquals(200, sent.statusCode(), sent.body());
        HttpResponse<String> poll = get("/wait?id=" + ssid);
        assertEquals(200, poll.statusCode());
        assertEquals(Optional.of("5000"), poll.headers().firstValue("Pragma"));
        assertTrue(poll.body().indexOf("ERROR") > 0, "ERROR present but not at position 0: " + poll.body());
        assertTrue(poll.body().contains("BAD_SDP"), "the unusable offer is refused with its code: " + poll.body());

        HttpResponse<String> malformed = post("/message?from=" + ssid + "&to=5000", "RSMP {not json");
        assertEquals(400, malformed.statusCode());
        assertTrue(malformed.body().indexOf("ERROR") > 0, malformed.body());
        assertEquals(400, post("/message?from=" + ssid, "BYE").statusCode(), "missing 'to'");
        assertEquals(413, post("/message?from=" + ssid + "&to=5000", "INFO-PEER " + "x".repeat(3000)).statusCode());
        // The session is unaffected by the bad messages.
        HttpResponse<String> stillThere = get("/wait?id=" + ssid);
        assertEquals(200, stillThere.statusCode());
        assertEquals(200, get("/sign_out?id=" + ssid).statusCode());
    }

    @Test
    void aPendingPollEndsWithNon200WhenTheSessionSignsOut() throws Exception {
        String ssid = sessionId(get("/sign_in?anon" + "f".repeat(32)));
        // Hold a poll open (the gateway answers empty after 1 s), sign out meanwhile.
        CompletableFuture<HttpResponse<String>> pending = HTTP.sendAsync(
                HttpRequest.newBuilder(URI.create(base + "/wait?id=" + ssid)).build(), HttpResponse.BodyHandlers.ofString());
        get("/sign_out?id=" + ssid);
        HttpResponse<String> r = pending.get(10, TimeUnit.SECONDS);
        // Either the poll was answered 404 when the session ended, or it started after and got 404 at once;
        // a racing empty 200 is also legal only if the next poll is non-200.
        if (r.statusCode() == 200) {
            assertNotEquals(200, get("/wait?id=" + ssid).statusCode());
        } else {
            assertEquals(404, r.statusCode());
        }
    }

    @Test
    void badSignInsAndUnknownSessions() throws Exception {
        assertEquals(400, get("/sign_in").statusCode());
        assertEquals(400, get("/sign_in?bad%20dn").statusCode());
        assertEquals(400, get("/sign_in?anon%21%21").statusCode(), "neither anon+32 hex nor a valid DN");
        assertEquals(400, get("/sign_in?1001%0d%0aVia:x").statusCode(), "header injection attempt");
    }

    @Test
    void unknownSessionsGetNon200() throws Exception {
        assertEquals(404, get("/wait?id=nosuch.legacyit").statusCode());
        assertEquals(404, get("/wait?id=nosuch.other").statusCode());
        assertEquals(404, get("/wait").statusCode());
        assertEquals(404, post("/message?from=nosuch&to=5000", "BYE").statusCode());
        assertEquals(404, get("/sign_out?id=nosuch").statusCode());
        HttpResponse<String> tooBig = post("/sign_in", "4020:" + "p".repeat(3000));
        assertEquals(413, tooBig.statusCode());
        assertEquals(400, post("/sign_in", "bad dn:pw").statusCode());
    }

    @Test
    void crossOriginWithCredentials() throws Exception {
        HttpResponse<String> in = get("/sign_in?anon" + "a".repeat(32), "Origin", APP_ORIGIN);
        assertEquals(200, in.statusCode());
        assertEquals(Optional.of(APP_ORIGIN), in.headers().firstValue("Access-Control-Allow-Origin"));
        assertEquals(Optional.of("true"), in.headers().firstValue("Access-Control-Allow-Credentials"));
        assertTrue(in.headers().firstValue("Access-Control-Expose-Headers").orElse("").contains("Pragma"));
        String ssid = sessionId(in);

        HttpResponse<String> preflight = HTTP.send(HttpRequest.newBuilder(URI.create(base + "/message?from=" + ssid + "&to=1"))
                .method("OPTIONS", HttpRequest.BodyPublishers.noBody())
                .header("Origin", APP_ORIGIN).header("Access-Control-Request-Method", "POST")
                .header("Access-Control-Request-Headers", "content-type").build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(204, preflight.statusCode());
        assertEquals(Optional.of(APP_ORIGIN), preflight.headers().firstValue("Access-Control-Allow-Origin"));
        assertTrue(preflight.headers().firstValue("Access-Control-Allow-Methods").orElse("").contains("POST"));

        HttpResponse<String> foreign = get("/wait?id=" + ssid, "Origin", "http://evil.example.test");
        assertFalse(foreign.headers().firstValue("Access-Control-Allow-Origin").isPresent(),
                "a foreign origin gets no CORS grant (the browser then hides the answer)");
        HttpResponse<String> foreignPreflight = HTTP.send(HttpRequest.newBuilder(URI.create(base + "/sign_in"))
                .method("OPTIONS", HttpRequest.BodyPublishers.noBody())
                .header("Origin", "http://evil.example.test").header("Access-Control-Request-Method", "POST").build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(403, foreignPreflight.statusCode());
        assertEquals(200, get("/sign_out?id=" + ssid, "Origin", APP_ORIGIN).statusCode());
    }
}
