package io.webrtcgateway.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.webrtcgateway.testsupport.GatewayProcess;
import io.webrtcgateway.testsupport.Kamailio;
import io.webrtcgateway.testsupport.Poll;
import io.webrtcgateway.testsupport.PrometheusText;
import io.webrtcgateway.testsupport.WsTestClient;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * {@code GET /metrics} scraped and parsed with a strict Prometheus text-format parser while sessions sign in
 * and register with Kamailio (digest authentication, so 401s happen): the documented names and labels
 * appear (docs/metrics.md) and their values follow what the sessions do. Also: the admin API is off (404)
 * when no credentials are configured.
 */
class MetricsIT {
    private static final String PASSWORD = "pw-metrics";
    private final HttpClient http = HttpClient.newHttpClient();

    @Test
    void metricsFollowSessionsRegistrationsAndSipTraffic() throws Exception {
        try (Kamailio kamailio = Kamailio.builder().password(PASSWORD).start();
             GatewayProcess gw = GatewayProcess.builder().instanceId("metrics-gw").sipServers(kamailio.serverEntry())
                     .set("gateway.legacy.poll-timeout", "1 s").set("gateway.limits.max-sessions", "3")
                     .startTimeout(Duration.ofSeconds(90)).start()) {
            gw.awaitHttpStatus("/health/ready", 200, Duration.ofSeconds(30));
            HttpResponse<String> first = get(gw.httpUrl() + "/metrics");
            assertEquals(200, first.statusCode());
            assertTrue(first.headers().firstValue("Content-Type").orElse("").startsWith("text/plain; version=0.0.4"),
                    first.headers().toString());
            PrometheusText before = PrometheusText.parse(first.body());
            for (PrometheusText.Sample s : before.samples()) {
                assertEquals("metrics-gw", s.label("instance"), "every sample carries instance: " + s);
            }
            assertEquals(0.0, before.value("gateway_sessions", "kind", "websocket"));
            assertEquals(0.0, before.value("gateway_registrations", "state", "registered"));
            assertEquals(1.0, before.value("gateway_sip_server_reachable", "server", kamailio.address() + ";transport=udp"));
            assertEquals(1.0, before.value("gateway_sip_server_active", "server", kamailio.address() + ";transport=udp"));
            assertEquals(1.0, before.value("gateway_ready"));
            assertEquals(0.0, before.value("gateway_draining"));
            assertTrue(before.value("gateway_sip_transactions_total", "direction", "out", "method", "OPTIONS",
                    "status", "200") >= 1, "OPTIONS keepalive counted");
            for (String jvm : List.of("jvm_memory_used_bytes", "jvm_gc_pause_seconds_count", "jvm_threads_live_threads",
                    "process_cpu_usage", "process_uptime_seconds", "jvm_classes_loaded_classes")) {
                assertTrue(!before.find(jvm, Map.of()).isEmpty() || before.types().containsKey(jvm),
                        jvm + " exported; families: " + before.types().keySet());
            }
            // Call, media and capacity families (docs/metrics.md) are there before any call, at 0.
            assertEquals(0.0, before.value("gateway_calls", "direction", "outgoing", "state", "connected"));
            assertEquals(0.0, before.value("gateway_calls_started_total", "direction", "incoming"));
            assertEquals(0.0, before.value("gateway_call_setup_seconds_count", "direction", "outgoing", "phase",
                    "invite-to-answer"));
            assertEquals(0.0, before.value("gateway_media_packets_total", "kind", "audio", "direction", "sip-to-browser"));
            assertEquals(0.0, before.value("gateway_call_mos_count", "codec", "opus"));
            assertEquals(0.0, before.value("gateway_call_media_failures_total", "cause", "ice-checks-failed"));
            assertEquals(0.0, before.value("gateway_dtls_handshake_failures_total", "reason", "fingerprint-mismatch"));
            assertEquals(0.0, before.value("gateway_rtp_port_pairs_used"));
            assertTrue(before.value("gateway_rtp_port_pairs_limit") > 0);
            for (String limit : List.of("max-sessions", "max-calls", "rtp-ports")) {
                assertEquals(0.0, before.value("gateway_capacity_refusals_total", "limit", limit), limit);
            }
            double register200 = before.valueOrZero("gateway_sip_transactions_total", "method", "REGISTER", "status", "200");

            try (WsTestClient a = WsTestClient.connect(gw.wsUrl()); WsTestClient b = WsTestClient.connect(gw.wsUrl())) {
                a.ok("hello");
                b.ok("hello");
                a.ok("register", "dn", "3001", "password", PASSWORD);
                assertEquals("SIP_REJECTED", b.request("register", "dn", "3002", "password", "wrong").path("code").asText());
                // A legacy session whose long poll ends empty after gateway.legacy.poll-timeout (1 s).
                String signIn = get(gw.httpUrl() + "/sign_in?anon" + "c".repeat(32)).body();
                String ssid = signIn.substring(signIn.indexOf('=') + 1).strip();
                assertEquals(200, get(gw.httpUrl() + "/wait?id=" + ssid).statusCode());

                PrometheusText after = PrometheusText.parse(get(gw.httpUrl() + "/metrics").body());
                assertEquals(2.0, after.value("gateway_sessions", "kind", "websocket"));
                assertEquals(1.0, after.value("gateway_sessions", "kind", "legacy"));
                assertEquals(0.0, after.value("gateway_sessions", "kind", "rest"));
                assertEquals(1.0, after.value("gateway_registrations", "state", "registered"));
                assertEquals(2.0, after.value("gateway_websocket_connections"));
                assertTrue(after.value("gateway_websocket_connections_opened_total") >= 2);
                assertEquals(2.0, after.value("gateway_registration_attempts_total", "purpose", "initial"));
                assertEquals(1.0, after.value("gateway_registration_failures_total", "purpose", "initial",
                        "cause", "SIP_REJECTED", "sip_status", "401"));
                assertTrue(after.value("gateway_sip_transactions_total", "direction", "out", "method", "REGISTER",
                        "status", "401") >= 2, "each registration was challenged once");
                assertEquals(register200 + 1, after.value("gateway_sip_transactions_total", "direction", "out",
                        "method", "REGISTER", "status", "200"));
                assertEquals(1.0, after.value("gateway_legacy_polls_total", "outcome", "empty"));
                // A fourth session is one over gateway.limits.max-sessions.
                try (WsTestClient c = WsTestClient.connect(gw.wsUrl())) {
                    assertEquals("TOO_MANY_SESSIONS", c.request("hello").path("code").asText());
                }
                assertEquals(1.0, PrometheusText.parse(get(gw.httpUrl() + "/metrics").body())
                        .value("gateway_capacity_refusals_total", "limit", "max-sessions"));
                assertEquals(3.0, after.value("gateway_sessions_started_total", "kind", "websocket")
                        + after.value("gateway_sessions_started_total", "kind", "legacy"));

                a.ok("bye");
                b.ok("bye");
                get(gw.httpUrl() + "/sign_out?id=" + ssid);
            }
            PrometheusText end = Poll.until(Duration.ofSeconds(10), "sessions and registrations back to 0",
                    () -> PrometheusText.parse(get(gw.httpUrl() + "/metrics").body()),
                    m -> m.value("gateway_sessions", "kind", "websocket") == 0
                            && m.value("gateway_registrations", "state", "registered") == 0
                            && m.value("gateway_websocket_connections") == 0);
            assertEquals(3.0, end.value("gateway_sessions_ended_total", "reason", "signed-out"));
            assertEquals(1.0, end.value("gateway_registration_attempts_total", "purpose", "unregister"));

            // No admin credentials configured: the admin API does not exist.
            assertEquals(404, http.send(HttpRequest.newBuilder(URI.create(gw.httpUrl() + "/admin/api/drain"))
                    .POST(HttpRequest.BodyPublishers.noBody()).header("X-Requested-With", "test").build(),
                    HttpResponse.BodyHandlers.ofString()).statusCode());
        }
    }

    private HttpResponse<String> get(String url) {
        try {
            return http.send(HttpRequest.newBuilder(URI.create(url)).build(), HttpResponse.BodyHandlers.ofString());
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
