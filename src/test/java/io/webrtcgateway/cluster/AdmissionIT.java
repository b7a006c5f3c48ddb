package io.webrtcgateway.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.webrtcgateway.testsupport.GatewayProcess;
import io.webrtcgateway.testsupport.WsTestClient;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * Admission control (gateway.limits.max-sessions): over the limit every edge answers with a clear error,
 * readiness turns 503 with the reason, existing sessions are untouched, and a freed slot is usable again.
 */
class AdmissionIT {

    @Test
    void sessionLimitOnEveryEdge() throws Exception {
        HttpClient http = HttpClient.newHttpClient();
        try (GatewayProcess gw = GatewayProcess.builder().instanceId("admit").set("gateway.limits.max-sessions", "2").start()) {
            String base = gw.httpUrl().replaceAll("/$", "");
            String ws = base.replaceFirst("^http", "ws") + "/ws";
            gw.awaitHttpStatus("/health/ready", 200, Duration.ofSeconds(10));
            try (WsTestClient a = WsTestClient.connect(ws); WsTestClient b = WsTestClient.connect(ws);
                 WsTestClient c = WsTestClient.connect(ws)) {
                a.ok("hello");
                a.ok("register", "dn", "9001");
                b.ok("hello");
                assertEquals("TOO_MANY_SESSIONS", c.request("hello").path("code").asText());

                HttpResponse<String> rest = http.send(HttpRequest.newBuilder(URI.create(base + "/api/v1/sessions"))
                        .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
                assertEquals(503, rest.statusCode());
                assertTrue(rest.body().contains("TOO_MANY_SESSIONS"), rest.body());
                HttpResponse<String> legacy = http.send(HttpRequest.newBuilder(URI.create(base + "/sign_in?anon" + "b".repeat(32)))
                        .build(), HttpResponse.BodyHandlers.ofString());
                assertEquals(503, legacy.statusCode());
                assertTrue(legacy.body().indexOf("ERROR") > 0, legacy.body());

                HttpResponse<String> ready = http.send(HttpRequest.newBuilder(URI.create(base + "/health/ready")).build(),
                        HttpResponse.BodyHandlers.ofString());
                assertEquals(503, ready.statusCode());
                assertTrue(ready.body().contains("session-limit"), ready.body());

                // existing sessions keep working; a freed slot is usable again
                assertTrue(a.ok("ping").path("time").asLong() > 0);
                b.ok("bye");
                gw.awaitHttpStatus("/health/ready", 200, Duration.ofSeconds(5));
                c.ok("hello");
                a.ok("bye");
                c.ok("bye");
            }
        }
    }
}
