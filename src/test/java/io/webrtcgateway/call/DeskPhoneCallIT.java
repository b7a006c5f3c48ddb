package io.webrtcgateway.call;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.webrtcgateway.testsupport.Closing;
import io.webrtcgateway.testsupport.Baresip;
import io.webrtcgateway.testsupport.ChromiumPeer;
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
 * The users' first test, with real parts on both sides: Kamailio as registrar and proxy, baresip as the
 * desk phone registered with it, headless Chromium behind the gateway registered as another DN. The
 * browser calls the desk phone and the desk phone calls the browser; audio goes both ways (the browser
 * decodes baresip's tone; baresip counts the browser's RTP), and either side hangs up.
 */
class DeskPhoneCallIT {
    private static final String BROWSER_DN = "2001";
    private static final String DESK_DN = "3001";
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
        kamailio = Kamailio.builder().start();
        desk = Baresip.builder().user(DESK_DN).registrar(kamailio.address()).start();
        gw = GatewayProcess.builder().sipServers(kamailio.serverEntry())
                .set("gateway.media.ice-addresses", List.of("127.0.0.1"))
                .start();
        ws = WsTestClient.connect(gw.wsUrl());
        ws.ok("hello");
        ws.startKeepalive(Duration.ofSeconds(5));
        ws.ok("register", "dn", BROWSER_DN);
        Poll.until(T, "both DNs registered at Kamailio", () -> kamailio.contacts().keySet(),
                aors -> aors.containsAll(List.of(BROWSER_DN, DESK_DN)));
    }

    @AfterAll
    static void stop() {
        Closing.all(ws, browser, gw, desk, kamailio);
    }

    @Test
    void theBrowserCallsTheDeskPhone() {
        String call = ws.ok("call", "to", DESK_DN, "sdp", browser.createOffer()).path("call").asText();
        JsonNode ringing = desk.awaitEvent("CALL_INCOMING", T);
        assertTrue(ringing.path("peeruri").asText().contains(BROWSER_DN), ringing.toString());
        desk.accept();
        JsonNode connected = ws.awaitEvent("connected", T);
        assertEquals(call, connected.path("call").asText());
        browser.setAnswer(connected.path("sdp").asText());

        assertAudioBothWays();

        ws.ok("hangup", "call", call);
        JsonNode closed = desk.awaitEvent("CALL_CLOSED", T);
        assertTrue(closed.path("peeruri").asText().contains(BROWSER_DN), closed.toString());
        assertEquals("local-hangup", ws.awaitEvent("ended", T).path("reason").asText());
        browser.hangUp();
    }

    @Test
    void theDeskPhoneCallsTheBrowser() {
        desk.dial(BROWSER_DN);
        JsonNode incoming = ws.awaitEvent("incoming", T);
        assertEquals(DESK_DN, incoming.path("from").asText(), incoming.toString());
        String call = incoming.path("call").asText();
        ws.ok("answer", "call", call, "sdp", browser.setOffer(incoming.path("sdp").asText()));
        desk.awaitEvent("CALL_ESTABLISHED", T);

        assertAudioBothWays();

        desk.hangUp();
        JsonNode ended = ws.awaitEvent("ended", T);
        assertEquals(call, ended.path("call").asText());
        assertEquals("remote-hangup", ended.path("reason").asText(), ended.toString());
        desk.awaitEvent("CALL_CLOSED", T);
        browser.hangUp();
    }

    private static void assertAudioBothWays() {
        browser.awaitIceState("connected", Duration.ofSeconds(15));
        ChromiumPeer.Stats stats = Poll.until(Duration.ofSeconds(20), "the desk phone's tone decoded by the browser",
                browser::stats, s -> s.packetsReceived() > 50 && s.totalAudioEnergy() > 0);
        assertTrue(stats.inbound().codec().startsWith("PCM"), "G.711 end to end: " + stats);
        desk.awaitEvent("CALL_RTPESTAB", T);
        Poll.until(Duration.ofSeconds(20), "the browser's RTP received by the desk phone",
                desk::rtpPacketsReceived, n -> n > 50);
    }
}
