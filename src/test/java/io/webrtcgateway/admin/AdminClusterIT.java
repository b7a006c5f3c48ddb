package io.webrtcgateway.admin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.webrtcgateway.session.SessionService;
import io.webrtcgateway.testsupport.Closing;
import io.webrtcgateway.testsupport.ChromiumPeer;
import io.webrtcgateway.testsupport.FreePorts;
import io.webrtcgateway.testsupport.GatewayProcess;
import io.webrtcgateway.testsupport.Poll;
import io.webrtcgateway.testsupport.RawSipClient;
import io.webrtcgateway.testsupport.SipMessage;
import io.webrtcgateway.testsupport.Sipp;
import io.webrtcgateway.testsupport.WsTestClient;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * The admin API across a cluster of two real gateway instances, peers of each other (gateway.admin.peers,
 * HMAC with gateway.admin.cluster-secret), SIPp as SIP Server (registrar + UAS with RTP echo) and a headless
 * Chromium for the media of one call. gw2 has its admin API on a separate port (gateway.admin.port).
 *
 * <p>Asserted: every endpoint refuses unauthenticated, wrong-password and forged-peer requests (401); bad
 * paging is a 400; the cluster view through either instance lists both; scope=cluster lists the sessions
 * and registrations of both; the call's detail, asked through the instance that does not own it, shows
 * live media counters; a cookie POST without the CSRF token or with a foreign Origin is refused (403);
 * hang-up through the other instance makes SIPp get a BYE and the browser an "ended" with reason admin;
 * sign-out of a session on the other instance ends it (un-REGISTER); drain of the peer through
 * /admin/api/instances/{id}/drain makes its /health/ready 503; every action left an audit line.
 *
 * <p>The methods run in order and share the instances, sessions and the call.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class AdminClusterIT {
    /**
     * This test sends wrong passwords to every endpoint on purpose, from the same address as the right ones;
     * the login throttle (AdminLoginThrottleIT's subject) would answer most of them 429 instead of 401.
     */
    private static final String NO_THROTTLE = "{free-attempts = 1000, lockout-after = 100000, user-free-attempts = 1000000}";
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration T = Duration.ofSeconds(20);
    private static final String SECRET = "it-cluster-secret-0123456789";
    private static final String PASSWORD = "op-secret";
    private static final String GOOD = basic("ops:" + PASSWORD);
    private static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    private static Sipp sipServer;
    private static GatewayProcess gw1;
    private static GatewayProcess gw2;
    /** gw1's admin base URL (its main listener) and gw2's (its separate admin port). */
    private static String admin1;
    private static String admin2;
    private static ChromiumPeer browser;
    private static WsTestClient phone1;
    private static WsTestClient phone2;
    private static String session1;
    private static String session2;
    private static String call;

    @BeforeAll
    static void start() {
        String hash = PasswordHash.create(PASSWORD.toCharArray(), 20_000).toString();
        int http1 = FreePorts.tcp();
        int http2 = FreePorts.tcp();
        int adminPort2 = FreePorts.tcp();
        admin1 = "http://127.0.0.1:" + http1;
        admin2 = "http://127.0.0.1:" + adminPort2;
        sipServer = Sipp.scenario("registrar-uas-echo.xml")
                .args("-mp", String.valueOf(FreePorts.sippMedia()), "-mi", "127.0.0.1", "-rtp_echo").start();
        // Chromium (start() returns at once) and both gateways start side by side.
        browser = ChromiumPeer.builder().name("browser").audioCodecs("PCMU", "telephone-event").start();
        List<GatewayProcess> both = GatewayProcess.startAll(GatewayProcess.builder().instanceId("adm-gw1").httpPort(http1).sipServers(sipServer.serverEntry())
                .set("gateway.media.ice-addresses", List.of("127.0.0.1"))
                .set("gateway.admin.username", "ops").set("gateway.admin.password-hash", hash)
                .set("gateway.admin.cluster-secret", SECRET).set("gateway.admin.peers", List.of(admin2))
                .setHocon("gateway.admin.login-throttle", NO_THROTTLE)
                .startTimeout(Duration.ofSeconds(90)),
                GatewayProcess.builder().instanceId("adm-gw2").httpPort(http2).sipServers(sipServer.serverEntry())
                .set("gateway.media.ice-addresses", List.of("127.0.0.1"))
                .set("gateway.admin.username", "ops").set("gateway.admin.password-hash", hash)
                .set("gateway.admin.cluster-secret", SECRET).set("gateway.admin.peers", List.of(admin1))
                .setHocon("gateway.admin.login-throttle", NO_THROTTLE)
                .setHocon("gateway.admin.port", String.valueOf(adminPort2))
                .startTimeout(Duration.ofSeconds(90)));
        gw1 = both.get(0);
        gw2 = both.get(1);
        gw1.awaitHttpStatus("/health/ready", 200, T);
        gw2.awaitHttpStatus("/health/ready", 200, T);

        phone1 = WsTestClient.connect(gw1.wsUrl());
        session1 = phone1.ok("hello").path("session").asText();
        phone1.startKeepalive(Duration.ofSeconds(5));
        phone1.ok("register", "dn", "7001");
        phone2 = WsTestClient.connect(gw2.wsUrl());
        session2 = phone2.ok("hello").path("session").asText();
        phone2.startKeepalive(Duration.ofSeconds(5));
        phone2.ok("register", "dn", "7002");
    }

    @AfterAll
    static void stop() {
        Closing.all(phone1, phone2, browser, GatewayProcess.together(gw1, gw2), sipServer);
    }

    // ---- security -----------------------------------------------------------------------------------

    /** Every endpoint but login/logout, with a method it accepts. */
    private static List<String[]> endpoints() {
        String foreignCall = "nocall.adm-gw2";
        return List.of(new String[] {"GET", "/admin/api/instance"}, new String[] {"GET", "/admin/api/cluster"},
                new String[] {"GET", "/admin/api/me"},
                new String[] {"GET", "/admin/api/drain"}, new String[] {"POST", "/admin/api/drain"},
                new String[] {"DELETE", "/admin/api/drain"},
                new String[] {"GET", "/admin/api/sessions"}, new String[] {"GET", "/admin/api/registrations"},
                new String[] {"GET", "/admin/api/calls"}, new String[] {"GET", "/admin/api/failures"},
                new String[] {"GET", "/admin/api/calls/" + foreignCall},
                new String[] {"POST", "/admin/api/calls/" + foreignCall + "/hangup"},
                new String[] {"POST", "/admin/api/sessions/nosession.adm-gw1/sign-out"},
                new String[] {"POST", "/admin/api/instances/adm-gw2/drain"},
                new String[] {"DELETE", "/admin/api/instances/adm-gw2/drain"},
                new String[] {"GET", "/admin/api/no-such-thing"});
    }

    @Test
    @Order(1)
    void everyEndpointRefusesRequestsWithoutTheRightCredentials() throws Exception {
        for (String base : List.of(admin1, admin2)) {
            for (String[] e : endpoints()) {
                String what = e[0] + " " + base + e[1];
                HttpResponse<String> none = send(request(e[0], base + e[1]).header("X-Requested-With", "t"));
                assertEquals(401, none.statusCode(), what + ": " + none.body());
                assertTrue(none.body().contains("UNAUTHORIZED"), what + ": " + none.body());
                HttpResponse<String> wrong = send(request(e[0], base + e[1]).header("X-Requested-With", "t")
                        .header("Authorization", basic("ops:nope")));
                assertEquals(401, wrong.statusCode(), what + " (wrong password)");
                HttpResponse<String> wrongUser = send(request(e[0], base + e[1]).header("X-Requested-With", "t")
                        .header("Authorization", basic("root:" + PASSWORD)));
                assertEquals(401, wrongUser.statusCode(), what + " (wrong user)");
                HttpResponse<String> forged = send(request(e[0], base + e[1])
                        .header(ClusterSignature.PEER_HEADER, "adm-gw1").header(ClusterSignature.USER_HEADER, "ops")
                        .header(ClusterSignature.TIME_HEADER, String.valueOf(System.currentTimeMillis() / 1000))
                        .header(ClusterSignature.NONCE_HEADER, "00112233445566778899aabbccddeeff")
                        .header(ClusterSignature.SIGNATURE_HEADER, "bm90IGEgc2lnbmF0dXJl"));
                assertEquals(401, forged.statusCode(), what + " (forged peer signature)");
                assertEquals(401, send(request(e[0], base + e[1]).header("Cookie", "GWADMIN=made-up")
                        .header("X-CSRF-Token", "x")).statusCode(), what + " (made-up cookie)");
            }
        }
        // Scripts get the Basic challenge; the console (cookie, /me) does not, or browsers would pop up a dialog.
        assertTrue(send(request("GET", admin1 + "/admin/api/sessions")).headers()
                .firstValue("WWW-Authenticate").orElse("").startsWith("Basic realm="));
        assertFalse(send(request("GET", admin1 + "/admin/api/me")).headers().firstValue("WWW-Authenticate").isPresent());

        // Login: wrong credentials, no cookie; JSON only (a cross-site form cannot send JSON without a preflight).
        HttpResponse<String> badLogin = send(json("POST", admin1 + "/admin/api/login",
                "{\"username\":\"ops\",\"password\":\"nope\"}"));
        assertEquals(401, badLogin.statusCode());
        assertFalse(badLogin.headers().firstValue("Set-Cookie").isPresent());
        HttpResponse<String> formLogin = send(request("POST", admin1 + "/admin/api/login",
                "username=ops&password=" + PASSWORD).header("Content-Type", "application/x-www-form-urlencoded"));
        assertEquals(400, formLogin.statusCode(), formLogin.body());
        assertFalse(formLogin.headers().firstValue("Set-Cookie").isPresent());
        HttpResponse<String> foreignLogin = send(json("POST", admin1 + "/admin/api/login",
                "{\"username\":\"ops\",\"password\":\"" + PASSWORD + "\"}").header("Origin", "https://evil.example"));
        assertEquals(403, foreignLogin.statusCode());
    }

    @Test
    @Order(2)
    void badPagingValuesAreBadRequests() throws Exception {
        for (String query : List.of("limit=0", "limit=501", "limit=x", "offset=-1", "offset=1.5", "scope=all",
                "dn=%3Cscript%3E", "limit=1&limit=2")) {
            for (String list : List.of("sessions", "registrations", "calls", "failures")) {
                HttpResponse<String> r = get(admin1 + "/admin/api/" + list + "?" + query);
                assertEquals(400, r.statusCode(), list + "?" + query + ": " + r.body());
                assertEquals("BAD_REQUEST", JSON.readTree(r.body()).path("code").asText());
            }
        }
        assertEquals(200, get(admin1 + "/admin/api/sessions?limit=500&offset=0&scope=local").statusCode());
    }

    @Test
    @Order(3)
    void theSeparateAdminListenerIsTheOnlyPlaceForAdmin() throws Exception {
        assertEquals(404, get(gw2.httpUrl() + "/admin/api/instance").statusCode(), "main port of gw2");
        assertEquals(404, send(request("GET", gw2.httpUrl() + "/admin/")).statusCode());
        assertEquals(404, send(request("GET", gw2.httpUrl() + "/%61dmin/api/instance").header("Authorization", GOOD))
                .statusCode());
        assertEquals(200, get(admin2 + "/admin/api/instance").statusCode());
        assertEquals(404, send(request("GET", admin2 + "/health/ready")).statusCode(), "only /admin/** on the admin port");
        assertEquals(200, gw2.httpStatus("/health/ready"));
    }

    @Test
    @Order(4)
    void theConsoleAndApiCannotBeFramedByAnotherPage() throws Exception {
        for (String url : List.of(admin1 + "/admin/", admin2 + "/admin/", admin1 + "/admin/api/me")) {
            HttpResponse<String> response = send(request("GET", url));
            assertEquals("DENY", response.headers().firstValue("X-Frame-Options").orElse(null), url);
            assertEquals("frame-ancestors 'none'",
                    response.headers().firstValue("Content-Security-Policy").orElse(null), url);
            assertEquals("nosniff", response.headers().firstValue("X-Content-Type-Options").orElse(null), url);
        }
        // The browser-facing paths stay frameable by the apps that embed a phone.
        assertFalse(send(request("GET", gw1.httpUrl() + "/health/live")).headers().firstValue("X-Frame-Options")
                .isPresent());
    }

    // ---- cluster and lists ----------------------------------------------------------------------------

    @Test
    @Order(10)
    void theClusterViewListsBothInstancesThroughEither() throws Exception {
        for (String base : List.of(admin1, admin2)) {
            JsonNode cluster = body(get(base + "/admin/api/cluster"));
            Set<String> ids = new java.util.HashSet<>();
            for (JsonNode i : cluster.path("instances")) {
                assertFalse(i.hasNonNull("error"), i.toString());
                ids.add(i.path("instance").asText());
                assertEquals("ready", i.path("state").asText(), i.toString());
                assertTrue(i.path("ready").asBoolean());
                assertEquals(1, i.path("load").path("sessions").asInt(), i.toString());
                assertEquals(30, i.path("history").size());
                assertEquals("primary", i.path("sipServers").get(0).path("role").asText());
                assertTrue(i.path("uptimeSeconds").asLong() >= 0);
            }
            assertEquals(Set.of("adm-gw1", "adm-gw2"), ids, cluster.toString());
        }
        JsonNode self = body(get(admin1 + "/admin/api/instance"));
        assertEquals("adm-gw1", self.path("instance").asText());
        assertTrue(self.path("load").path("heapUsedBytes").asLong() > 0);
    }

    @Test
    @Order(11)
    void clusterScopeListsTheSessionsAndRegistrationsOfBoth() throws Exception {
        JsonNode local = body(get(admin2 + "/admin/api/sessions"));
        assertEquals(1, local.path("total").asInt(), local.toString());
        assertEquals(session2, local.path("items").get(0).path("id").asText());

        JsonNode all = body(get(admin2 + "/admin/api/sessions?scope=cluster"));
        assertEquals(2, all.path("total").asInt(), all.toString());
        assertEquals(0, all.path("errors").size(), all.toString());
        Set<String> ids = new java.util.HashSet<>();
        for (JsonNode s : all.path("items")) {
            ids.add(s.path("id").asText());
            assertEquals("websocket", s.path("kind").asText());
            assertEquals(s.path("id").asText().endsWith(".adm-gw1") ? "adm-gw1" : "adm-gw2", s.path("instance").asText());
        }
        assertEquals(Set.of(session1, session2), ids);

        JsonNode filtered = body(get(admin2 + "/admin/api/sessions?scope=cluster&dn=7001"));
        assertEquals(1, filtered.path("total").asInt(), filtered.toString());
        assertEquals("7001", filtered.path("items").get(0).path("dn").asText());
        assertEquals("adm-gw1", filtered.path("items").get(0).path("instance").asText());

        JsonNode page1 = body(get(admin1 + "/admin/api/sessions?scope=cluster&limit=1"));
        JsonNode page2 = body(get(admin1 + "/admin/api/sessions?scope=cluster&limit=1&offset=1"));
        assertEquals(2, page1.path("total").asInt());
        assertEquals(1, page1.path("items").size());
        assertEquals(1, page2.path("items").size());
        assertEquals(1, page2.path("offset").asInt());
        assertEquals(Set.of(session1, session2), Set.of(page1.path("items").get(0).path("id").asText(),
                page2.path("items").get(0).path("id").asText()), "two pages, two different sessions");

        JsonNode regs = body(get(admin1 + "/admin/api/registrations?scope=cluster"));
        assertEquals(2, regs.path("total").asInt(), regs.toString());
        for (JsonNode r : regs.path("items")) {
            assertEquals("registered", r.path("state").asText(), r.toString());
            assertEquals(200, r.path("lastResult").path("status").asInt(), r.toString());
            assertTrue(r.hasNonNull("expiresAt"), r.toString());
        }
        assertEquals(List.of("7001", "7002"), names(regs, "dn"));
        assertEquals(session2, regs.path("items").get(1).path("sessionId").asText());
    }

    // ---- the call -----------------------------------------------------------------------------------

    @Test
    @Order(20)
    void theCallDetailThroughTheOtherInstanceShowsLiveCounters() throws Exception {
        String offer = browser.createOffer();
        call = phone1.ok("call", "to", "5000", "sdp", offer).path("call").asText();
        JsonNode connected = phone1.awaitEvent("connected", T);
        browser.setAnswer(connected.path("sdp").asText());
        browser.awaitIceState("connected", T);

        JsonNode calls = body(get(admin2 + "/admin/api/calls?scope=cluster&dn=5000"));
        assertEquals(1, calls.path("total").asInt(), calls.toString());
        JsonNode item = calls.path("items").get(0);
        assertEquals(call, item.path("id").asText());
        assertEquals("adm-gw1", item.path("instance").asText());
        assertEquals("7001", item.path("dn").asText());
        assertEquals("outgoing", item.path("direction").asText());
        assertEquals("connected", item.path("state").asText());
        assertEquals("PCMU", item.path("codec").asText());
        assertEquals(0, body(get(admin2 + "/admin/api/calls")).path("total").asInt(), "gw2 has no call itself");

        // Through gw2, which forwards to gw1 (the instance the call id names); as the console does it, with a login.
        Login login = login(admin2);
        JsonNode detail = Poll.until(T, "media counters of " + call + " through gw2", () -> {
            try {
                return body(send(request("GET", admin2 + "/admin/api/calls/" + call).header("Cookie", login.cookie)));
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }, d -> d.path("media").path("browserToSip").path("packets").asLong() > 25
                && d.path("media").path("sipToBrowser").path("packets").asLong() > 25);
        assertEquals(call, detail.path("id").asText());
        JsonNode media = detail.path("media");
        assertTrue(media.path("browserToSip").path("bytes").asLong() > 0, detail.toString());
        assertTrue(media.path("browserToSip").has("jitterMs"), detail.toString());
        // SSRCs of both legs: what the browser sends is forwarded under the gateway's own toward SIP.
        assertTrue(media.path("browserToSip").path("ssrc").canConvertToLong()
                && media.path("browserToSip").path("sourceSsrc").canConvertToLong(), detail.toString());
        assertNotEquals(media.path("browserToSip").path("ssrc").asLong(),
                media.path("browserToSip").path("sourceSsrc").asLong(), detail.toString());
        assertTrue(media.path("sipToBrowser").path("ssrc").asLong() > 0, detail.toString());
        // Every m-line: this audio call has one, the same as the audio fields above.
        assertEquals(1, media.path("streams").size(), detail.toString());
        assertEquals("audio", media.path("streams").get(0).path("kind").asText(), detail.toString());
        assertEquals(media.path("browserToSip").path("ssrc"), media.path("streams").get(0).path("browserToSip").path("ssrc"));
        assertTrue(media.path("sipToBrowser").has("lost"), detail.toString());
        assertEquals("connected", media.path("ice").path("state").asText(), detail.toString());
        assertTrue(media.path("ice").path("localCandidate").asText().contains("127.0.0.1"), detail.toString());
        assertEquals("connected", media.path("dtls").path("state").asText(), detail.toString());
        assertTrue(media.path("dtls").path("srtpProfile").asText().startsWith("AES"), detail.toString());
        assertTrue(media.has("rttMs"), detail.toString());
        assertFalse(detail.path("sip").path("callId").asText().isEmpty(), detail.toString());
        assertFalse(detail.path("sip").path("localTag").asText().isEmpty(), detail.toString());
        assertFalse(detail.path("sip").path("remoteTag").asText().isEmpty(), detail.toString());
        assertEquals(404, send(request("GET", admin2 + "/admin/api/calls/nocall.adm-gw1").header("Cookie", login.cookie))
                .statusCode(), "an unknown call on the peer");
        assertEquals(404, send(request("GET", admin2 + "/admin/api/calls/nocall.adm-gw9").header("Cookie", login.cookie))
                .statusCode(), "an instance that is not in the cluster");
    }

    @Test
    @Order(21)
    void aCookiePostWithoutTheCsrfTokenOrFromAnotherOriginIsRefused() throws Exception {
        Login login = login(admin2);
        String hangup = admin2 + "/admin/api/calls/" + call + "/hangup";
        HttpResponse<String> noToken = send(request("POST", hangup).header("Cookie", login.cookie)
                .header("X-Requested-With", "XMLHttpRequest"));
        assertEquals(403, noToken.statusCode(), noToken.body());
        assertEquals("CSRF_TOKEN_INVALID", JSON.readTree(noToken.body()).path("code").asText());
        HttpResponse<String> foreign = send(request("POST", hangup).header("Cookie", login.cookie)
                .header("X-CSRF-Token", login.csrfToken).header("Origin", "https://evil.example"));
        assertEquals(403, foreign.statusCode(), foreign.body());
        assertEquals("FORBIDDEN_ORIGIN", JSON.readTree(foreign.body()).path("code").asText());
        HttpResponse<String> basicNoHeader = send(request("POST", hangup).header("Authorization", GOOD));
        assertEquals(403, basicNoHeader.statusCode());
        assertEquals("CSRF_HEADER_MISSING", JSON.readTree(basicNoHeader.body()).path("code").asText());
        assertEquals("connected", body(get(admin1 + "/admin/api/calls")).path("items").get(0).path("state").asText(),
                "the call is still up");
        assertTrue(sipServer.receivedRequests("BYE").isEmpty());
    }

    @Test
    @Order(22)
    void hangUpThroughTheOtherInstanceSendsByeAndTellsTheBrowser() throws Exception {
        Login login = login(admin2);
        HttpResponse<String> r = send(request("POST", admin2 + "/admin/api/calls/" + call + "/hangup")
                .header("Cookie", login.cookie).header("X-CSRF-Token", login.csrfToken)
                .header("Origin", admin2));
        assertEquals(200, r.statusCode(), r.body());
        assertEquals("hung-up", JSON.readTree(r.body()).path("result").asText());
        sipServer.awaitRequests("BYE", 1, T);
        JsonNode ended = phone1.awaitEvent("ended", T);
        assertEquals(call, ended.path("call").asText());
        assertEquals("admin", ended.path("reason").asText());
        browser.hangUp();
        Poll.until(T, "no calls on gw1", () -> {
            try {
                return body(get(admin1 + "/admin/api/calls")).path("total").asInt();
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }, n -> n == 0);
        assertEquals(404, send(request("POST", admin2 + "/admin/api/calls/" + call + "/hangup")
                .header("Cookie", login.cookie).header("X-CSRF-Token", login.csrfToken)).statusCode(), "gone now");

        JsonNode history = body(get(admin1 + "/admin/api/instance")).path("history");
        int setups = 0;
        for (JsonNode m : history) {
            setups += m.path("setups").asInt();
        }
        assertEquals(1, setups, history.toString());
        JsonNode failures = body(get(admin2 + "/admin/api/failures?scope=cluster"));
        assertEquals(0, failures.path("total").asInt(), "an admin hang-up is no failure: " + failures);
    }

    @Test
    @Order(23)
    void anInviteForADnNobodySignedInWithIsAFailure() throws Exception {
        try (RawSipClient sip = RawSipClient.udp("127.0.0.1:" + gw1.sipPort())) {
            String invite = sip.request("INVITE", "sip:7999@127.0.0.1:" + gw1.sipPort(), "5555",
                    RawSipClient.newCallId(), 1, "Contact: " + sip.contactUri("5555") + "\r\n");
            assertEquals(480, sip.send(invite, T).status());
            // RFC 4028 §8.1: a Session-Expires below our Min-SE (90 s by default) gets 422 naming it
            String brief = sip.request("INVITE", "sip:7001@127.0.0.1:" + gw1.sipPort(), "5555",
                    RawSipClient.newCallId(), 1, "Contact: " + sip.contactUri("5555") + "\r\n"
                            + "Supported: timer\r\nSession-Expires: 30\r\n");
            SipMessage tooBrief = sip.send(brief, T);
            assertEquals(422, tooBrief.status(), tooBrief.toString());
            assertEquals("90", tooBrief.header("Min-SE").orElse("").strip(), tooBrief.toString());
        }
        JsonNode failures = body(get(admin2 + "/admin/api/failures?scope=cluster&dn=7999"));
        assertEquals(1, failures.path("total").asInt(), failures.toString());
        JsonNode f = failures.path("items").get(0);
        assertEquals("call", f.path("kind").asText(), f.toString());
        assertEquals(480, f.path("sipStatus").asInt(), f.toString());
        assertEquals("not-signed-in", f.path("cause").asText(), f.toString());
        assertEquals("adm-gw1", f.path("instance").asText(), f.toString());
        JsonNode brief = body(get(admin2 + "/admin/api/failures?scope=cluster&dn=7001")).path("items").get(0);
        assertEquals(422, brief.path("sipStatus").asInt(), brief.toString());
        assertEquals("session-interval-too-small", brief.path("cause").asText(), brief.toString());
        assertTrue(phone1.seen().stream().noneMatch(e -> e.path("name").asText().equals("incoming")),
                "the browser heard nothing of either INVITE");
    }

    // ---- sessions and drain -------------------------------------------------------------------------

    @Test
    @Order(30)
    void signOutOfASessionOnTheOtherInstance() throws Exception {
        HttpResponse<String> r = send(request("POST", admin1 + "/admin/api/sessions/" + session2 + "/sign-out")
                .header("Authorization", GOOD).header("X-Requested-With", "curl"));
        assertEquals(200, r.statusCode(), r.body());
        assertEquals("signed-out", JSON.readTree(r.body()).path("result").asText());
        JsonNode ended = phone2.awaitEvent("session-ended", T);
        assertEquals("admin", ended.path("reason").asText());
        sipServer.awaitUnregister("7002", T);
        assertEquals(0, body(get(admin2 + "/admin/api/sessions")).path("total").asInt());
        assertEquals(1, body(get(admin1 + "/admin/api/sessions?scope=cluster")).path("total").asInt());
        assertEquals(404, send(request("POST", admin1 + "/admin/api/sessions/" + session2 + "/sign-out")
                .header("Authorization", GOOD).header("X-Requested-With", "curl")).statusCode(), "gone now");
    }

    @Test
    @Order(31)
    void drainOfThePeerMakesItNotReady() throws Exception {
        HttpResponse<String> drained = send(request("POST", admin1 + "/admin/api/instances/adm-gw2/drain")
                .header("Authorization", GOOD).header("X-Requested-With", "curl"));
        assertEquals(200, drained.statusCode(), drained.body());
        JsonNode state = JSON.readTree(drained.body());
        assertEquals("adm-gw2", state.path("instance").asText());
        assertTrue(state.path("draining").asBoolean());
        gw2.awaitHttpStatus("/health/ready", 503, T);
        assertEquals(200, gw1.httpStatus("/health/ready"), "only the peer drains");
        JsonNode gw2View = null;
        for (JsonNode i : body(get(admin1 + "/admin/api/cluster")).path("instances")) {
            if (i.path("instance").asText().equals("adm-gw2")) {
                gw2View = i;
            }
        }
        assertNotNull(gw2View);
        assertEquals("draining", gw2View.path("state").asText());
        assertEquals("draining", gw2View.path("readyReasons").get(0).asText());

        assertEquals(200, send(request("DELETE", admin1 + "/admin/api/instances/adm-gw2/drain")
                .header("Authorization", GOOD).header("X-Requested-With", "curl")).statusCode());
        gw2.awaitHttpStatus("/health/ready", 200, T);
        assertEquals(404, send(request("POST", admin1 + "/admin/api/instances/adm-gw9/drain")
                .header("Authorization", GOOD).header("X-Requested-With", "curl")).statusCode());
        // Its own id works too.
        JsonNode self = JSON.readTree(send(request("GET", admin1 + "/admin/api/instances/adm-gw1/drain")
                .header("Authorization", GOOD)).body());
        assertFalse(self.path("draining").asBoolean());
    }

    @Test
    @Order(32)
    void logoutEndsTheLoginAndEveryActionWasAudited() throws Exception {
        Login login = login(admin1);
        JsonNode me = body(send(request("GET", admin1 + "/admin/api/me").header("Cookie", login.cookie)));
        assertEquals("ops", me.path("username").asText());
        assertEquals(login.csrfToken, me.path("csrfToken").asText());
        assertEquals(403, send(request("POST", admin1 + "/admin/api/logout").header("Cookie", login.cookie)).statusCode(),
                "logout needs the token too");
        HttpResponse<String> out = send(request("POST", admin1 + "/admin/api/logout").header("Cookie", login.cookie)
                .header("X-CSRF-Token", login.csrfToken));
        assertEquals(204, out.statusCode());
        assertTrue(out.headers().firstValue("Set-Cookie").orElse("").contains("Max-Age=0"));
        assertEquals(401, send(request("GET", admin1 + "/admin/api/me").header("Cookie", login.cookie)).statusCode());

        String log1 = Files.readString(gw1.logFile());
        String log2 = Files.readString(gw2.logFile());
        assertTrue(log1.contains("user=ops via=login from=127.0.0.1 action=login target=- result=refused"), "failed login");
        assertTrue(log2.contains("via=login from=127.0.0.1 action=login target=- result=ok"), "login");
        assertTrue(log2.contains("via=cookie from=127.0.0.1 action=hangup target=" + call + " result=\"forwarded to adm-gw1: 200\""),
                "hang-up on gw2");
        assertTrue(log1.contains("via=peer:adm-gw2 from=127.0.0.1 action=hangup target=" + call + " result=ok"), "on gw1");
        assertTrue(log2.contains("via=peer:adm-gw1 from=127.0.0.1 action=sign-out target=\"" + SessionService.logId(session2)
                + " dn 7002\" result=ok"), "sign-out on gw2, naming the session by its logId");
        assertFalse(log1.contains(session2) || log2.contains(session2), "a session id (a bearer secret) is never logged");
        assertTrue(log2.contains("via=peer:adm-gw1 from=127.0.0.1 action=drain target=adm-gw2 result=ok"), "drain");
        assertTrue(log2.contains("action=undrain target=adm-gw2 result=ok"), "undrain");
        assertTrue(log1.contains("via=cookie from=127.0.0.1 action=logout"), "logout");
    }

    // ---- helpers ------------------------------------------------------------------------------------

    private record Login(String cookie, String csrfToken) {}

    private static Login login(String base) throws Exception {
        HttpResponse<String> r = send(json("POST", base + "/admin/api/login",
                "{\"username\":\"ops\",\"password\":\"" + PASSWORD + "\"}"));
        assertEquals(200, r.statusCode(), r.body());
        String setCookie = r.headers().firstValue("Set-Cookie").orElseThrow();
        assertTrue(setCookie.contains("Path=/admin") && setCookie.contains("HttpOnly") && setCookie.contains("SameSite=Strict"),
                setCookie);
        JsonNode b = JSON.readTree(r.body());
        assertEquals(28800, b.path("expiresInSeconds").asInt());
        return new Login(setCookie.substring(0, setCookie.indexOf(';')), b.path("csrfToken").asText());
    }

    private static List<String> names(JsonNode list, String field) {
        List<String> out = new ArrayList<>();
        list.path("items").forEach(n -> out.add(n.path(field).asText()));
        return out;
    }

    private static HttpRequest.Builder request(String method, String url) {
        return request(method, url, null);
    }

    private static HttpRequest.Builder request(String method, String url, String body) {
        return HttpRequest.newBuilder(URI.create(url)).timeout(T).method(method,
                body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
    }

    private static HttpRequest.Builder json(String method, String url, String body) {
        return request(method, url, body).header("Content-Type", "application/json");
    }

    private static HttpResponse<String> send(HttpRequest.Builder request) throws IOException, InterruptedException {
        return HTTP.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    /** GET with Basic credentials. */
    private static HttpResponse<String> get(String url) throws IOException, InterruptedException {
        return send(request("GET", url).header("Authorization", GOOD));
    }

    private static JsonNode body(HttpResponse<String> r) throws IOException {
        assertEquals(200, r.statusCode(), r.request().uri() + ": " + r.body());
        return JSON.readTree(r.body());
    }

    private static String basic(String userColonPassword) {
        return "Basic " + Base64.getEncoder().encodeToString(userColonPassword.getBytes(StandardCharsets.UTF_8));
    }
}
