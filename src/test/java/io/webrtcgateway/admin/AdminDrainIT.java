package io.webrtcgateway.admin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.webrtcgateway.testsupport.GatewayProcess;
import io.webrtcgateway.testsupport.WsTestClient;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The admin API's drain switch (docs/admin.md) and its defences: HTTP Basic against a PBKDF2 hash from the
 * config, the CSRF header on state-changing requests, no CORS grant on admin paths even for an allowed app
 * origin. Draining: existing sessions keep working (even resumed on a new socket), new ones get NOT_READY
 * on every edge, /health/ready is 503 "draining" and /health/lb 404; undrain restores all.
 */
class AdminDrainIT {
    private static final String APP_ORIGIN = "http://app.example.test";
    private final HttpClient http = HttpClient.newHttpClient();

    @Test
    void drainIsAuthenticatedAndKeepsExistingSessions() throws Exception {
        String hash = PasswordHash.create("op-secret".toCharArray(), 20_000).toString();
        try (GatewayProcess gw = GatewayProcess.builder().instanceId("drain-gw")
                .set("gateway.admin.username", "ops").set("gateway.admin.password-hash", hash)
                .set("gateway.cors.allowed-origins", List.of(APP_ORIGIN))
                .startTimeout(Duration.ofSeconds(90)).start()) {
            gw.awaitHttpStatus("/health/ready", 200, Duration.ofSeconds(30));
            String drain = gw.httpUrl() + "/admin/api/drain";

            assertEquals(401, send(post(drain).header("X-Requested-With", "t")).statusCode());
            HttpResponse<String> wrong = send(post(drain).header("Authorization", basic("ops:nope"))
                    .header("X-Requested-With", "t"));
            assertEquals(401, wrong.statusCode());
            assertTrue(wrong.headers().firstValue("WWW-Authenticate").orElse("").startsWith("Basic realm="));
            HttpResponse<String> noCsrf = send(post(drain).header("Authorization", basic("ops:op-secret")));
            assertEquals(403, noCsrf.statusCode());
            assertTrue(noCsrf.body().contains("CSRF_HEADER_MISSING"), noCsrf.body());
            HttpResponse<String> foreign = send(post(drain).header("Authorization", basic("ops:op-secret"))
                    .header("X-Requested-With", "t").header("Origin", APP_ORIGIN));
            assertEquals(403, foreign.statusCode());
            assertTrue(foreign.body().contains("FORBIDDEN_ORIGIN"), foreign.body());
            // An allowed app origin gets CORS on the browser edges but never on the admin API.
            HttpResponse<String> preflight = send(HttpRequest.newBuilder(URI.create(drain))
                    .method("OPTIONS", HttpRequest.BodyPublishers.noBody()).header("Origin", APP_ORIGIN)
                    .header("Access-Control-Request-Method", "POST")
                    .header("Access-Control-Request-Headers", "authorization, x-requested-with"));
            assertEquals(403, preflight.statusCode());
            assertFalse(preflight.headers().firstValue("Access-Control-Allow-Origin").isPresent());
            HttpResponse<String> appPreflight = send(HttpRequest.newBuilder(URI.create(gw.httpUrl() + "/sign_in"))
                    .method("OPTIONS", HttpRequest.BodyPublishers.noBody()).header("Origin", APP_ORIGIN)
                    .header("Access-Control-Request-Method", "POST"));
            assertEquals(204, appPreflight.statusCode());
            assertTrue(send(HttpRequest.newBuilder(URI.create(drain)).header("Authorization", basic("ops:op-secret")))
                    .body().contains("\"draining\":false"));

            try (WsTestClient existing = WsTestClient.connect(gw.wsUrl())) {
                String session = existing.ok("hello").path("session").asText();
                HttpResponse<String> drained = send(post(drain).header("Authorization", basic("ops:op-secret"))
                        .header("X-Requested-With", "t"));
                assertEquals(200, drained.statusCode(), drained.body());
                assertTrue(drained.body().contains("\"draining\":true"), drained.body());

                HttpResponse<String> ready = send(HttpRequest.newBuilder(URI.create(gw.httpUrl() + "/health/ready")));
                assertEquals(503, ready.statusCode());
                assertTrue(ready.body().contains("\"draining\""), ready.body());
                assertEquals(404, gw.httpStatus("/health/lb"));

                // The existing session keeps working, also after moving to a new socket.
                existing.ok("register", "dn", "5101");
                existing.abort();
                try (WsTestClient resumed = WsTestClient.connect(gw.wsUrl())) {
                    assertTrue(resumed.ok("hello", "session", session).path("resumed").asBoolean());
                    resumed.ok("ping");
                    // New sessions are refused on every edge.
                    try (WsTestClient fresh = WsTestClient.connect(gw.wsUrl())) {
                        assertEquals("NOT_READY", fresh.request("hello").path("code").asText());
                    }
                    assertEquals(503, send(post(gw.httpUrl() + "/api/v1/sessions")).statusCode());
                    HttpResponse<String> legacy = send(HttpRequest.newBuilder(
                            URI.create(gw.httpUrl() + "/sign_in?anon" + "d".repeat(32))));
                    assertEquals(503, legacy.statusCode());
                    assertTrue(legacy.body().indexOf("NOT_READY") > 0, legacy.body());

                    HttpResponse<String> undrained = send(HttpRequest.newBuilder(URI.create(drain))
                            .DELETE().header("Authorization", basic("ops:op-secret")).header("X-Requested-With", "t"));
                    assertEquals(200, undrained.statusCode());
                    gw.awaitHttpStatus("/health/ready", 200, Duration.ofSeconds(5));
                    assertEquals(200, gw.httpStatus("/health/lb"));
                    try (WsTestClient fresh = WsTestClient.connect(gw.wsUrl())) {
                        fresh.ok("hello");
                        fresh.ok("bye");
                    }
                    resumed.ok("bye");
                }
            }
        }
    }

    private static HttpRequest.Builder post(String url) {
        return HttpRequest.newBuilder(URI.create(url)).POST(HttpRequest.BodyPublishers.noBody());
    }

    private HttpResponse<String> send(HttpRequest.Builder request) throws Exception {
        return http.send(request.timeout(Duration.ofSeconds(20)).build(), HttpResponse.BodyHandlers.ofString());
    }

    private static String basic(String userColonPassword) {
        return "Basic " + Base64.getEncoder().encodeToString(userColonPassword.getBytes(StandardCharsets.UTF_8));
    }
}
