package io.webrtcgateway.edge.legacy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.webrtcgateway.testsupport.FreePorts;
import io.webrtcgateway.testsupport.GatewayProcess;
import io.webrtcgateway.testsupport.LegacyPhone;
import io.webrtcgateway.testsupport.Poll;
import io.webrtcgateway.testsupport.Sipp;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * A grtc.js page (legacy hanging-GET protocol, see legacy-phone.mjs) receives a call whose INVITE had no
 * SDP (delayed offer): the page sees an ordinary incoming offer ("SDP {...}" made by the gateway), answers,
 * and audio flows both ways through SIPp's echo ({@code uac-delayed-offer.xml}, whose ACK carries the
 * answer), also after SIPp's 3PCC re-INVITE without SDP.
 */
class LegacyDelayedOfferIT {
    private static final String DN = "1001";

    @Test
    void legacyPageAnswersADelayedOfferCallWithAudioBothWays() {
        int pagePort = FreePorts.tcp();
        int httpPort = FreePorts.tcp();
        // The page talks to the gateway only once told to sign in: its Chromium (start() returns at once)
        // starts while SIPp and the gateway do.
        try (LegacyPhone phone = LegacyPhone.builder().gateway("http://127.0.0.1:" + httpPort).pagePort(pagePort).start();
             Sipp registrar = Sipp.scenario("registrar-ok.xml").start();
             GatewayProcess gw = GatewayProcess.builder().httpPort(httpPort).sipServers(registrar.serverEntry())
                     .set("gateway.media.ice-addresses", List.of("127.0.0.1"))
                     .set("gateway.cors.allowed-origins", List.of("http://127.0.0.1:" + pagePort))
                     .start()) {
            assertEquals(200, phone.signIn(DN, "secret").path("status").asInt());
            registrar.awaitRequests("REGISTER", 1, Duration.ofSeconds(10));
            try (Sipp caller = Sipp.scenario("uac-delayed-offer.xml").name("sipp-uac")
                    .remote("127.0.0.1:" + gw.sipPort()).maxCalls(1)
                    .args("-s", DN, "-mp", String.valueOf(FreePorts.sippMedia()), "-mi", "127.0.0.1", "-rtp_echo")
                    .start()) {
                JsonNode incoming = phone.awaitEvent("incoming", Duration.ofSeconds(15));
                assertEquals("5000", incoming.path("peer").asText(), incoming.toString());
                assertEquals("offer", incoming.path("kind").asText(), incoming.toString());
                phone.answer();
                phone.awaitIceState("connected", Duration.ofSeconds(15));
                Poll.until(Duration.ofSeconds(20), "echoed audio decoded by the legacy page", phone::stats,
                        s -> s.packetsReceived() > 50 && s.totalAudioEnergy() > 0);
                caller.awaitReceived(m -> !m.isRequest() && m.status() == 200 && m.cseq() == 2, 1,
                        Duration.ofSeconds(15), "200 OK with an offer to the 3PCC re-INVITE without SDP");
                long before = phone.stats().packetsReceived();
                Poll.until(Duration.ofSeconds(20), "audio still echoed after the re-INVITE", phone::stats,
                        s -> s.packetsReceived() > before + 100);

                phone.infoMap(Map.of("reason", "test done"));
                phone.awaitEvent("bye", Duration.ofSeconds(15));
                assertEquals(0, caller.waitForExit(Duration.ofSeconds(15)), "SIPp's call failed: " + caller.errors());
            }
            assertTrue(phone.events("gateway-error").isEmpty(), phone.events("gateway-error").toString());
        }
    }
}
