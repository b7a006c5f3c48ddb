package io.webrtcgateway.edge.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.webrtcgateway.testsupport.GatewayProcess;
import io.webrtcgateway.testsupport.PrometheusText;
import io.webrtcgateway.testsupport.WsTestClient;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * The attack itself, with a real browser: a page of another site (served from 127.0.0.2; the gateway is on
 * 127.0.0.1, and the site of an IP address is the address) embeds {@code <img src="http://127.0.0.1:<gw>/sign_in?1001">}
 * and posts a hidden form to {@code /sign_in}. Headless Chromium sends them with the visitor's cookies and
 * its own Sec-Fetch-Site; the gateway must create no session and send no REGISTER, and the agent signed in
 * as 1001 keeps the DN. The same image from a page of the gateway's own site does sign in (an anonymous id,
 * so nobody is disturbed): the page, the browser and the gateway are wired so that the attack would work.
 */
class CrossSiteBrowserIT {
    private static final String ANONYMOUS = "anon" + "5".repeat(32);
    private final HttpClient http = HttpClient.newHttpClient();

    @Test
    void aPageOfAnotherSiteCannotSignTheBrowserIn() throws Exception {
        try (GatewayProcess gw = GatewayProcess.builder().instanceId("xsite-gw").start();
             WsTestClient agent = WsTestClient.connect(gw.wsUrl())) {
            agent.ok("hello");
            agent.ok("register", "dn", "1001");
            PrometheusText before = metrics(gw);
            assertEquals(1.0, attempts(before));

            try (CrossSitePage evil = CrossSitePage.open("127.0.0.2")) {
                assertTrue(evil.origin().startsWith("http://127.0.0.2:"), evil.origin());
                assertEquals("error", evil.img(gw.httpUrl() + "/sign_in?1001"), "no image, whatever the answer");
                PrometheusText afterImg = metrics(gw);
                // The image carries no Origin: only Chromium's "Sec-Fetch-Site: cross-site" can have refused it.
                assertEquals(1.0, refusals(afterImg) - refusals(before), "Chromium sent Sec-Fetch-Site: cross-site");

                // text/plain form encoding sends "<name>=<value>": "1001:x=" signs in 1001 with password "x=".
                evil.postForm(gw.httpUrl() + "/sign_in", "1001:x", "");
                assertEquals(2.0, refusals(metrics(gw)) - refusals(before));
            }

            PrometheusText after = metrics(gw);
            assertEquals(0.0, after.value("gateway_sessions", "kind", "legacy"), "no session was created");
            assertEquals(1.0, attempts(after), "no REGISTER besides the agent's");
            agent.ok("ping");
            assertTrue(agent.seen().stream().noneMatch(m -> "event".equals(m.path("type").asText(null))
                    && "unregistered".equals(m.path("name").asText(null))), "the agent keeps 1001: " + agent.seen());

            // Control: the same image from a page of the gateway's site (127.0.0.1) is a same-site request.
            try (CrossSitePage sameSite = CrossSitePage.open("127.0.0.1")) {
                sameSite.img(gw.httpUrl() + "/sign_in?" + ANONYMOUS);
            }
            PrometheusText control = metrics(gw);
            assertEquals(1.0, control.value("gateway_sessions", "kind", "legacy"), "the same-site image signed in");
            assertEquals(refusals(after), refusals(control));
        }
    }

    private PrometheusText metrics(GatewayProcess gw) throws Exception {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(gw.httpUrl() + "/metrics")).build(),
                HttpResponse.BodyHandlers.ofString());
        return PrometheusText.parse(r.body());
    }

    private static double refusals(PrometheusText metrics) {
        return metrics.valueOrZero("gateway_http_refusals_total", "reason", "cross-site");
    }

    private static double attempts(PrometheusText metrics) {
        return metrics.valueOrZero("gateway_registration_attempts_total", "purpose", "initial");
    }
}
