package io.webrtcgateway.call;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.webrtcgateway.testsupport.Baresip;
import io.webrtcgateway.testsupport.ChromiumPeer;
import io.webrtcgateway.testsupport.Closing;
import io.webrtcgateway.testsupport.GatewayProcess;
import io.webrtcgateway.testsupport.Kamailio;
import io.webrtcgateway.testsupport.Poll;
import io.webrtcgateway.testsupport.WsTestClient;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Real parts on both sides, with a proxy that authenticates calls: Kamailio as registrar and proxy wants
 * Proxy-Authorization (its auth module, {@code pv_proxy_authenticate}) on every INVITE that opens a dialog and
 * every BYE from the browsers' DNs; baresip is the desk phone. The gateway answers each 407 with the DN's password
 * (the one the browser registered with) and the calls work; a wrong password ends the call with the 407 after
 * one retry.
 */
class ProxyCallDigestIT {
    private static final String BROWSER_DN = "2001";
    /** Registers with a password Kamailio's call check refuses (REGISTERs are not authenticated here). */
    private static final String WRONG_DN = "2002";
    private static final String DESK_DN = "3001";
    private static final String PASSWORD = "Circle Of Life";
    private static final Duration T = Duration.ofSeconds(10);

    private static Kamailio kamailio;
    private static Baresip desk;
    private static GatewayProcess gw;
    private static ChromiumPeer browser;
    private static WsTestClient ws;

    @BeforeAll
    static void start() {
        // Chromium starts (start() returns at once) while Kamailio, baresip and the gateway do.
        browser = ChromiumPeer.builder().name("browser").start();
        kamailio = Kamailio.builder().challengeCalls(PASSWORD, BROWSER_DN, WRONG_DN).start();
        desk = Baresip.builder().user(DESK_DN).registrar(kamailio.address()).start();
        gw = GatewayProcess.builder().sipServers(kamailio.serverEntry())
                .set("gateway.media.ice-addresses", List.of("127.0.0.1"))
                .start();
        ws = WsTestClient.connect(gw.wsUrl());
        ws.ok("hello");
        ws.startKeepalive(Duration.ofSeconds(5));
        ws.ok("register", "dn", BROWSER_DN, "password", PASSWORD);
        Poll.until(T, "both DNs registered at Kamailio", () -> kamailio.contacts().keySet(),
                aors -> aors.containsAll(List.of(BROWSER_DN, DESK_DN)));
    }

    @AfterAll
    static void stop() {
        Closing.all(ws, browser, gw, desk, kamailio);
    }

    /**
     * The INVITE is challenged (407) and goes again with Proxy-Authorization; the BYE then carries credentials
     * for the challenge the dialog already had (RFC 3261 §22.3), so Kamailio takes it without a challenge.
     */
    @Test
    void theBrowserCallsTheDeskPhoneThroughTheChallengingProxy() {
        int challenged = kamailio.callAuthLog("challenged", "INVITE", BROWSER_DN).size();
        String call = ws.ok("call", "to", DESK_DN, "sdp", browser.createOffer()).path("call").asText();
        JsonNode ringing = desk.awaitEvent("CALL_INCOMING", T);
        assertTrue(ringing.path("peeruri").asText().contains(BROWSER_DN), ringing.toString());
        String callId = callIdOf(kamailio.callAuthLog("authenticated", "INVITE", BROWSER_DN));
        assertEquals(1, linesOf(kamailio.callAuthLog("challenged", "INVITE", BROWSER_DN), callId).size(),
                "one challenge: " + kamailio.callAuthLog("challenged", "INVITE", BROWSER_DN));
        assertEquals(challenged + 1, kamailio.callAuthLog("challenged", "INVITE", BROWSER_DN).size());

        desk.accept();
        JsonNode connected = event("connected", call);
        browser.setAnswer(connected.path("sdp").asText());
        browser.awaitIceState("connected", Duration.ofSeconds(15));
        Poll.until(Duration.ofSeconds(20), "the desk phone's tone decoded by the browser", browser::stats,
                s -> s.packetsReceived() > 50 && s.totalAudioEnergy() > 0);
        Poll.until(Duration.ofSeconds(20), "the browser's RTP received by the desk phone",
                desk::rtpPacketsReceived, n -> n > 50);

        ws.ok("hangup", "call", call);
        desk.awaitEvent("CALL_CLOSED", BROWSER_DN, T);
        assertEquals("local-hangup", event("ended", call).path("reason").asText());
        browser.hangUp();
        Poll.until(T, "the BYE authenticated at Kamailio", () ->
                linesOf(kamailio.callAuthLog("authenticated", "BYE", BROWSER_DN), callId).size() == 1);
        assertTrue(linesOf(kamailio.callAuthLog("challenged", "BYE", BROWSER_DN), callId).isEmpty(),
                "credentials sent with the BYE from the start: " + kamailio.callAuthLog("challenged", "BYE", BROWSER_DN));
    }

    /**
     * In a call the desk phone placed, the dialog was never challenged, so the gateway's BYE goes without
     * credentials: challenged, it goes again with them, after the call has ended on the gateway.
     */
    @Test
    void theBrowsersByeInACallItTookIsChallengedAndSentAgain() {
        desk.dial(BROWSER_DN);
        JsonNode incoming = ws.awaitEvent("incoming", T);
        assertEquals(DESK_DN, incoming.path("from").asText(), incoming.toString());
        String call = incoming.path("call").asText();
        ws.ok("answer", "call", call, "sdp", browser.setOffer(incoming.path("sdp").asText()));
        desk.awaitEvent("CALL_ESTABLISHED", T);
        int challenges = kamailio.callAuthLog("challenged", "BYE", BROWSER_DN).size();
        int accepted = kamailio.callAuthLog("authenticated", "BYE", BROWSER_DN).size();

        ws.ok("hangup", "call", call);
        assertEquals("local-hangup", event("ended", call).path("reason").asText());
        desk.awaitEvent("CALL_CLOSED", T);
        browser.hangUp();
        Poll.until(T, "the BYE challenged, then authenticated", () ->
                kamailio.callAuthLog("authenticated", "BYE", BROWSER_DN).size() == accepted + 1);
        List<String> challenged = kamailio.callAuthLog("challenged", "BYE", BROWSER_DN);
        assertEquals(challenges + 1, challenged.size(), challenged.toString());
        assertEquals(callIdOf(challenged), callIdOf(kamailio.callAuthLog("authenticated", "BYE", BROWSER_DN)));
    }

    /** A password the proxy refuses: one retry, then the call ends as rejected with the 407; the desk never rings. */
    @Test
    void aWrongPasswordEndsTheCallWithThe407AfterOneRetry() {
        try (WsTestClient wrong = WsTestClient.connect(gw.wsUrl())) {
            wrong.ok("hello");
            wrong.ok("register", "dn", WRONG_DN, "password", "not the password");
            String call = wrong.ok("call", "to", DESK_DN, "sdp", browser.createOffer()).path("call").asText();
            JsonNode ended = wrong.await(T, "ended of " + call, m -> "ended".equals(m.path("name").asText())
                    && call.equals(m.path("call").asText()));
            assertEquals("rejected", ended.path("reason").asText(), ended.toString());
            assertEquals(407, ended.path("sipStatus").asInt(), ended.toString());
            List<String> challenged = kamailio.callAuthLog("challenged", "INVITE", WRONG_DN);
            assertEquals(2, challenged.size(), "the INVITE and exactly one retry: " + challenged);
            assertEquals(callIdOf(challenged.subList(0, 1)), callIdOf(challenged.subList(1, 2)));
            assertTrue(kamailio.callAuthLog("authenticated", "INVITE", WRONG_DN).isEmpty());
            assertTrue(desk.events("CALL_INCOMING").stream().noneMatch(e -> e.toString().contains(WRONG_DN)),
                    "the desk phone never rang for it");
            browser.hangUp();
        }
    }

    private static JsonNode event(String name, String call) {
        return ws.await(T, name + " of " + call, m -> "event".equals(m.path("type").asText())
                && name.equals(m.path("name").asText()) && call.equals(m.path("call").asText()));
    }

    /** The Call-ID of the last of Kamailio's log lines. */
    private static String callIdOf(List<String> lines) {
        assertTrue(!lines.isEmpty(), "no such line in " + kamailio.logFile());
        String last = lines.get(lines.size() - 1);
        return last.substring(last.indexOf("Call-ID ") + "Call-ID ".length()).strip();
    }

    private static List<String> linesOf(List<String> lines, String callId) {
        return lines.stream().filter(l -> l.strip().endsWith("Call-ID " + callId)).toList();
    }
}
