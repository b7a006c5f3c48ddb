package io.webrtcgateway.sip;

import static org.junit.jupiter.api.Assertions.assertEquals;

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
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/**
 * A DN moves from instance A to instance B while A is still alive (docs/sip.md, hand-over): the browser's
 * socket to A broke, it signed in again through B. Kamailio (a registrar matching bindings by
 * +sip.instance) must then list only B's contact at once, and A must never take the binding back: its
 * refresh waits while the browser is away, and its un-REGISTER when the session expires names only A's
 * own contact.
 */
class RegistrationHandoverIT {
    private static final String DN = "4242";

    @Test
    void lateRefreshAndUnregisterFromTheOldInstanceLeaveTheNewBinding() throws Exception {
        try (Kamailio kamailio = Kamailio.builder().start()) {
            CompletableFuture<GatewayProcess> startA = CompletableFuture.supplyAsync(() -> gateway("hoA", kamailio));
            CompletableFuture<GatewayProcess> startB = CompletableFuture.supplyAsync(() -> gateway("hoB", kamailio));
            try (GatewayProcess a = startA.join(); GatewayProcess b = startB.join()) {
                String contactA = "sip:" + DN + "@127.0.0.1:" + a.sipPort();
                String contactB = "sip:" + DN + "@127.0.0.1:" + b.sipPort();

                WsTestClient onA = WsTestClient.connect(a.wsUrl());
                onA.ok("hello");
                onA.ok("register", "dn", DN);
                Poll.until(Duration.ofSeconds(10), "Kamailio binds " + DN + " to A",
                        () -> List.of(contactA).equals(kamailio.contacts(DN)));

                // The browser loses its socket to A and signs in through B: B's REGISTER replaces A's binding.
                onA.abort();
                long movedAt = System.nanoTime();
                try (WsTestClient onB = WsTestClient.connect(b.wsUrl())) {
                    onB.startKeepalive(Duration.ofSeconds(1));
                    onB.ok("hello");
                    onB.ok("register", "dn", DN);
                    Poll.until(Duration.ofSeconds(5), "Kamailio binds " + DN + " to B only",
                            () -> List.of(contactB).equals(kamailio.contacts(DN)));
                    System.out.printf("hand-over: only B's contact bound %d ms after B's REGISTER started%n",
                            (System.nanoTime() - movedAt) / 1_000_000);

                    // A's registration (granted 10 s) is due for refresh after 5-6 s; A's session expires after
                    // 12 s of silence and un-REGISTERs. Through all of it Kamailio must list only B's contact.
                    PrometheusText metricsA = Poll.until(Duration.ofSeconds(30),
                            "A's session expired and its un-REGISTER was answered, B's binding intact", () -> {
                                assertEquals(List.of(contactB), kamailio.contacts(DN), "binding of " + DN);
                                return PrometheusText.parse(get(a.httpUrl() + "/metrics"));
                            }, m -> m.value("gateway_sessions", "kind", "websocket") == 0
                                    && m.valueOrZero("gateway_sip_transactions_total", "method", "REGISTER",
                                            "direction", "out") >= 2
                                    // and what is asserted below, the un-REGISTER itself: a fresh-clone run under
                                    // load (load average 18-119) met the two conditions above without it
                                    && m.valueOrZero("gateway_registration_attempts_total", "purpose",
                                            "unregister") >= 1);
                    assertEquals(0.0, metricsA.valueOrZero("gateway_registration_attempts_total", "purpose", "refresh"),
                            "A must not refresh a DN whose browser left");
                    assertEquals(1.0, metricsA.valueOrZero("gateway_registration_attempts_total", "purpose", "unregister"),
                            "A un-registers its own contact when the session expires");
                    System.out.printf("hand-over: A's session expired %d ms after the move; only B's contact bound%n",
                            (System.nanoTime() - movedAt) / 1_000_000);
                    PrometheusText metricsB = PrometheusText.parse(get(b.httpUrl() + "/metrics"));
                    assertEquals(List.of(contactB), kamailio.contacts(DN));
                    // B, whose browser is present, keeps refreshing.
                    org.junit.jupiter.api.Assertions.assertTrue(metricsB.valueOrZero("gateway_registration_attempts_total", "purpose", "refresh") >= 1,
                            "B refreshes");
                    onB.ok("bye");
                }
                Poll.until(Duration.ofSeconds(10), "no binding left after B's sign-out",
                        () -> kamailio.contacts(DN).isEmpty());
            }
        }
    }

    private static GatewayProcess gateway(String id, Kamailio kamailio) {
        return GatewayProcess.builder().instanceId(id).sipServers(kamailio.serverEntry())
                .set("gateway.sip.register-expires", "10 s")
                .set("gateway.session.idle-timeout", "12 s")
                .set("gateway.session.keepalive-interval", "2 s")
                .set("gateway.legacy.poll-timeout", "5 s")
                .startTimeout(Duration.ofSeconds(90))
                .start();
    }

    private static String get(String url) {
        try {
            HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(url)).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(200, r.statusCode(), url);
            return r.body();
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
