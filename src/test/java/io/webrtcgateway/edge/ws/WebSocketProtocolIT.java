package io.webrtcgateway.edge.ws;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.webrtcgateway.testsupport.GatewayProcess;
import io.webrtcgateway.testsupport.Poll;
import io.webrtcgateway.testsupport.RawHttp;
import io.webrtcgateway.testsupport.WsTestClient;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * WebSocket protocol v1 (docs/protocol.md) against the real standalone gateway with its sandbox SIP
 * server: sign-in, register, resume, takeover, expiry, sign-out, and every bad input we can think of —
 * each answered with its documented code while another session keeps working.
 */
class WebSocketProtocolIT {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static GatewayProcess gw;
    private static String ws;

    @BeforeAll
    static void start() throws Exception {
        gw = GatewayProcess.builder()
                .instanceId("wsit")
                .set("gateway.session.idle-timeout", "4 s")
                .set("gateway.session.keepalive-interval", "1 s")
                .set("gateway.legacy.poll-timeout", "1 s")
                .set("gateway.limits.max-message-bytes", "4096")
                .set("gateway.calls.anonymous-dial-plan", List.of()) // the default: anonymous sessions call nothing
                .start();
        ws = gw.httpUrl().replaceFirst("^http", "ws").replaceAll("/$", "") + "/ws";
    }

    @AfterAll
    static void stop() throws Exception {
        if (gw != null) {
            gw.close();
        }
    }

    private static int registrations() throws Exception {
        HttpResponse<String> r = HttpClient.newHttpClient().send(
                HttpRequest.newBuilder(URI.create(gw.httpUrl().replaceAll("/$", "") + "/api/v1/instance")).build(),
                HttpResponse.BodyHandlers.ofString());
        return JSON.readTree(r.body()).path("registrations").asInt(-1);
    }

    @Test
    void signInRegisterUnregisterSignOut() throws Exception {
        try (WsTestClient c = WsTestClient.connect(ws)) {
            JsonNode hello = c.ok("hello", "version", 1);
            assertTrue(hello.path("session").asText().endsWith(".wsit"), hello.toString());
            assertEquals("wsit", hello.path("instance").asText());
            assertFalse(hello.path("resumed").asBoolean());
            assertEquals(1, hello.path("keepaliveInterval").asInt());
            assertTrue(hello.path("registration").isNull());

            JsonNode reg = c.ok("register", "dn", "3001", "password", "whatever");
            assertEquals("3001", reg.path("dn").asText());
            assertTrue(reg.path("expires").asInt() > 0, reg.toString());
            c.awaitEvent("registered", Duration.ofSeconds(5));

            assertEquals("ALREADY_REGISTERED", c.request("register", "dn", "3002").path("code").asText());
            assertEquals("3001", c.ok("unregister").path("dn").asText());
            assertEquals("NOT_REGISTERED", c.request("unregister").path("code").asText());
            assertTrue(c.ok("ping").path("time").asLong() > 0);
            c.ok("bye");
            Poll.until(Duration.ofSeconds(5), "socket closed after bye", () -> c.closeCode() == 1000);
        }
    }

    @Test
    void handshakeSetsTheAffinityCookieAndRefusesForeignOrigins() throws Exception {
        RawHttp.Response same = RawHttp.upgrade(gw.httpUrl(), "/ws", null);
        assertEquals(101, same.status(), same.head());
        assertNotNull(same.header("Set-Cookie"), same.head());
        assertTrue(same.header("Set-Cookie").startsWith("GWINSTANCE=wsit;"), same.head());

        RawHttp.Response foreign = RawHttp.upgrade(gw.httpUrl(), "/ws", "http://evil.example.test");
        assertEquals(403, foreign.status(), foreign.head());
    }

    @Test
    void badInputGetsDocumentedErrorsAndLeavesOtherSessionsAlone() throws Exception {
        try (WsTestClient bystander = WsTestClient.connect(ws); WsTestClient c = WsTestClient.connect(ws)) {
            bystander.ok("hello", "version", 1);
            bystander.ok("register", "dn", "3100");

            assertEquals("NOT_SIGNED_IN", c.request("register", "dn", "3101").path("code").asText());
            assertEquals("NOT_SIGNED_IN", c.request("call", "to", "5000").path("code").asText());
            assertEquals("NOT_SIGNED_IN", c.request("ping").path("code").asText());
            assertEquals("UNSUPPORTED_VERSION", c.request("hello", "version", 2).path("code").asText());
            assertEquals("SESSION_UNKNOWN", c.request("hello", "session", "nope.wsit").path("code").asText());
            JsonNode foreign = c.request("hello", "session", "abc.other-instance");
            assertEquals("SESSION_UNKNOWN", foreign.path("code").asText());
            assertEquals("other-instance", foreign.path("instance").asText());

            c.sendRaw("not json");
            assertEquals("BAD_JSON", c.await(Duration.ofSeconds(5), "BAD_JSON", n -> n.path("code").asText().equals("BAD_JSON"))
                    .path("code").asText());
            c.sendRaw("[1,2]");
            c.await(Duration.ofSeconds(5), "array refused", n -> n.path("code").asText().equals("BAD_JSON"));
            c.sendRaw("{\"id\":7}");
            c.await(Duration.ofSeconds(5), "missing type", n -> n.path("code").asText().equals("BAD_REQUEST")
                    && n.path("id").asInt() == 7);
            c.sendRaw("{\"type\":\"ping\"}");
            c.await(Duration.ofSeconds(5), "missing id", n -> n.path("code").asText().equals("BAD_REQUEST")
                    && n.path("id").isNull());

            // A failed hello leaves the socket free for another hello.
            c.ok("hello", "version", 1);
            assertEquals("ALREADY_SIGNED_IN", c.request("hello").path("code").asText());
            assertEquals("UNKNOWN_TYPE", c.request("frobnicate").path("code").asText());
            assertEquals("BAD_REQUEST", c.request("call", "to", "5000").path("code").asText(), "no sdp");
            // This session registered nothing: the dial plan refuses it before the SDP is looked at.
            assertEquals("NOT_REGISTERED", c.request("call", "to", "5000", "sdp", "v=0\r\n").path("code").asText());
            assertEquals("BAD_REQUEST", c.request("call", "to", "50 00", "sdp", "v=0\r\n").path("code").asText());
            assertEquals("CALL_UNKNOWN", c.request("hangup", "call", "nope.wsit").path("code").asText());
            assertEquals("CALL_UNKNOWN", c.request("answer", "call", "nope.wsit", "sdp", "v=0\r\n").path("code").asText());
            assertEquals("BAD_REQUEST", c.request("hangup").path("code").asText(), "no call id");
            assertEquals("BAD_REQUEST", c.request("register").path("code").asText());
            assertEquals("BAD_REQUEST", c.request("register", "dn", 3101).path("code").asText());
            assertEquals("BAD_REQUEST", c.request("register", "dn", "3101", "password", 5).path("code").asText());
            for (String bad : new String[] {"", "31 01", "3101@evil", "3101\r\nVia: x", "x".repeat(65)}) {
                assertEquals("INVALID_DN", c.request("register", "dn", bad).path("code").asText(), bad);
            }
            assertEquals("NOT_REGISTERED", c.request("unregister").path("code").asText());
            // Nothing above changed the session: it still registers normally.
            assertEquals("3101", c.ok("register", "dn", "3101").path("dn").asText());

            assertTrue(bystander.ok("ping").path("time").asLong() > 0);
            bystander.ok("unregister");
            c.ok("bye");
        }
    }

    @Test
    void oversizedAndBinaryFramesCloseTheSocketOnly() throws Exception {
        try (WsTestClient bystander = WsTestClient.connect(ws); WsTestClient big = WsTestClient.connect(ws)) {
            bystander.ok("hello");
            big.ok("hello");
            big.sendRaw("{\"type\":\"ping\",\"id\":1,\"pad\":\"" + "x".repeat(8000) + "\"}");
            Poll.until(Duration.ofSeconds(5), "1009 close for an oversized frame", () -> big.closeCode() == 1009);
            assertTrue(bystander.ok("ping").path("time").asLong() > 0);
        }
    }

    @Test
    void resumeKeepsTheRegistrationAndClosesTheOldSocket() throws Exception {
        String session;
        try (WsTestClient first = WsTestClient.connect(ws)) {
            session = first.ok("hello").path("session").asText();
            first.ok("register", "dn", "3200");
            try (WsTestClient second = WsTestClient.connect(ws)) {
                JsonNode resumed = second.ok("hello", "session", session);
                assertTrue(resumed.path("resumed").asBoolean());
                assertEquals("3200", resumed.path("registration").path("dn").asText());
                assertEquals("registered", resumed.path("registration").path("state").asText());
                Poll.until(Duration.ofSeconds(5), "old socket closed with 4000", () -> first.closeCode() == 4000);
                second.abort(); // the browser vanishes: the session outlives the socket...
            }
        }
        try (WsTestClient third = WsTestClient.connect(ws)) {
            JsonNode resumed = third.ok("hello", "session", session);
            assertEquals("3200", resumed.path("registration").path("dn").asText());
            third.ok("bye");
        }
    }

    @Test
    void aSilentSessionExpiresAndItsDnIsUnregistered() throws Exception {
        String session;
        try (WsTestClient c = WsTestClient.connect(ws)) {
            session = c.ok("hello").path("session").asText();
            c.ok("register", "dn", "3300");
            c.abort();
        }
        // idle-timeout is 4 s: the session ends and its DN is un-registered without anyone asking. (Nothing
        // may probe the session meanwhile: resuming it would count as the browser being back.)
        // Every other test signs out what it registered, so the instance is back to none.
        Poll.until(Duration.ofSeconds(15), "the expired session's DN un-registered", () -> registrationsOrMinusOne() == 0);
        try (WsTestClient probe = WsTestClient.connect(ws)) {
            assertEquals("SESSION_UNKNOWN", probe.request("hello", "session", session).path("code").asText());
        }
    }

    @Test
    void aDnHeldByASessionWhoseBrowserIsThereIsNotTakenOver() throws Exception {
        try (WsTestClient a = WsTestClient.connect(ws); WsTestClient b = WsTestClient.connect(ws)) {
            a.ok("hello");
            a.ok("register", "dn", "3400");
            b.ok("hello");
            JsonNode refused = b.request("register", "dn", "3400");
            assertEquals("DN_IN_USE", refused.path("code").asText(), refused.toString());
            // Nothing changed for the holder.
            a.ok("ping");
            // Once the holder's browser has gone (its socket closed), the DN is free for the next session.
            a.abort();
            JsonNode taken = Poll.until(Duration.ofSeconds(10), "3400 registered by the second session",
                    () -> b.request("register", "dn", "3400"), r -> r.path("type").asText().equals("result"));
            assertEquals("3400", taken.path("dn").asText());
            b.ok("unregister");
            b.ok("bye");
        }
        Poll.until(Duration.ofSeconds(10), "no registration left on the instance", () -> registrationsOrMinusOne() == 0);
    }

    @Test
    void withDnTakeoverAllowedASecondSessionTakesTheDnOverAndTheFirstIsTold() throws Exception {
        try (GatewayProcess open = GatewayProcess.builder().instanceId("wsit-takeover")
                .set("gateway.auth.dn-takeover", "allow").start();
             WsTestClient a = WsTestClient.connect(open.wsUrl()); WsTestClient b = WsTestClient.connect(open.wsUrl())) {
            a.ok("hello");
            a.ok("register", "dn", "3400");
            b.ok("hello");
            assertEquals("3400", b.ok("register", "dn", "3400").path("dn").asText());
            JsonNode lost = a.awaitEvent("unregistered", Duration.ofSeconds(5));
            assertEquals("replaced", lost.path("reason").asText());
            assertEquals("NOT_REGISTERED", a.request("unregister").path("code").asText());
            b.ok("unregister");
            a.ok("bye");
            b.ok("bye");
        }
    }

    private static int registrationsOrMinusOne() {
        try {
            return registrations();
        } catch (Exception e) {
            return -1;
        }
    }
}
