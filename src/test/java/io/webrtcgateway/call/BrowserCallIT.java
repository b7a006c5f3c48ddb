package io.webrtcgateway.call;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.webrtcgateway.testsupport.ChromiumPeer;
import io.webrtcgateway.testsupport.FreePorts;
import io.webrtcgateway.testsupport.GatewayProcess;
import io.webrtcgateway.testsupport.Poll;
import io.webrtcgateway.testsupport.SipMessage;
import io.webrtcgateway.testsupport.Sipp;
import io.webrtcgateway.testsupport.WsTestClient;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A real browser (headless Chromium, fake microphone) calls through the gateway to SIPp answering with RTP
 * echo: ICE connects, DTLS-SRTP completes, audio the browser sends comes back to it through SIPp — so
 * both directions of the bridge carry packets. The WebSocket protocol is spoken by the test itself.
 */
class BrowserCallIT {
    private static Sipp sipp;
    private static GatewayProcess gw;
    private static ChromiumPeer browser;

    @BeforeAll
    static void start() {
        int mediaPort = FreePorts.udpAndTcp();
        sipp = Sipp.scenario("uas-echo.xml").args("-mp", String.valueOf(mediaPort), "-mi", "127.0.0.1", "-rtp_echo").start();
        gw = GatewayProcess.builder().sipServers(sipp.serverEntry())
                .set("gateway.media.ice-addresses", java.util.List.of("127.0.0.1"))
                .start();
        browser = ChromiumPeer.builder().name("browser").audioCodecs("PCMU", "telephone-event").start();
    }

    @AfterAll
    static void stop() {
        for (AutoCloseable c : new AutoCloseable[] {browser, gw, sipp}) {
            try {
                if (c != null) {
                    c.close();
                }
            } catch (Exception e) {
                // keep closing the others
            }
        }
    }

    @Test
    void audioFlowsBothWaysThroughTheBridge() throws Exception {
        try (WsTestClient ws = WsTestClient.connect(gw.wsUrl())) {
            ws.ok("hello");
            ws.startKeepalive(Duration.ofSeconds(5));
            String offer = browser.createOffer();
            JsonNode placed = ws.ok("call", "to", "5000", "sdp", offer);
            String call = placed.path("call").asText();
            SipMessage invite = sipp.awaitRequests("INVITE", 1, Duration.ofSeconds(10)).get(0);
            assertTrue(invite.body().contains("RTP/AVP"), "plain RTP toward SIP: " + invite.body());
            assertTrue(!invite.body().contains("a=fingerprint") && !invite.body().contains("a=ice-ufrag"), invite.body());

            ws.awaitEvent("ringing", Duration.ofSeconds(10));
            JsonNode connected = ws.awaitEvent("connected", Duration.ofSeconds(10));
            assertEquals(call, connected.path("call").asText());
            browser.setAnswer(connected.path("sdp").asText());

            browser.awaitIceState("connected", Duration.ofSeconds(15));
            ChromiumPeer.Stats stats = Poll.until(Duration.ofSeconds(20), "echoed audio decoded by the browser",
                    browser::stats, s -> s.packetsReceived() > 50 && s.totalAudioEnergy() > 0);
            assertEquals("connected", stats.dtlsState());
            assertTrue(stats.packetsSent() > 50, stats.toString());

            JsonNode gwStats = ws.ok("stats", "call", call).path("stats");
            assertEquals("connected", gwStats.path("state").asText(), gwStats.toString());

            ws.ok("hangup", "call", call);
            sipp.awaitRequests("BYE", 1, Duration.ofSeconds(10));
            JsonNode ended = ws.awaitEvent("ended", Duration.ofSeconds(5));
            assertEquals("local-hangup", ended.path("reason").asText());
            browser.hangUp();
        }
    }
}
