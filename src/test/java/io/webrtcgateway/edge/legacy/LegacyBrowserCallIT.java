package io.webrtcgateway.edge.legacy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.webrtcgateway.testsupport.Closing;
import io.webrtcgateway.testsupport.ChromiumPeer;
import io.webrtcgateway.testsupport.FreePorts;
import io.webrtcgateway.testsupport.GatewayProcess;
import io.webrtcgateway.testsupport.LegacyPhone;
import io.webrtcgateway.testsupport.Poll;
import io.webrtcgateway.testsupport.SipMessage;
import io.webrtcgateway.testsupport.Sipp;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * An existing grtc.js app, as far as the wire shows: a page in headless Chromium speaking the legacy
 * hanging-GET protocol with a raw RTCPeerConnection exactly as the deployed library does (see
 * legacy-phone.mjs), cross-origin with credentials, places and receives calls through the gateway to
 * SIPp with RTP echo: audio both ways, hold/resume re-offers, hang-up from either side.
 */
class LegacyBrowserCallIT {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String DN = "1001";
    private static Sipp sipServer;
    private static GatewayProcess gw;
    private static LegacyPhone phone;

    @BeforeAll
    static void start() {
        int pagePort = FreePorts.tcp();
        int httpPort = FreePorts.tcp();
        // The page talks to the gateway only once told to sign in: its Chromium (start() returns at once)
        // starts while SIPp and the gateway do.
        phone = LegacyPhone.builder().gateway("http://127.0.0.1:" + httpPort).pagePort(pagePort).start();
        int mediaPort = FreePorts.sippMedia();
        sipServer = Sipp.scenario("registrar-uas-echo.xml")
                .args("-mp", String.valueOf(mediaPort), "-mi", "127.0.0.1", "-rtp_echo").start();
        gw = GatewayProcess.builder().httpPort(httpPort).sipServers(sipServer.serverEntry())
                .set("gateway.media.ice-addresses", List.of("127.0.0.1"))
                .set("gateway.cors.allowed-origins", List.of("http://127.0.0.1:" + pagePort))
                .start();
        // With a password grtc.js posts "<dn>:<password>" to /sign_in (form-encoded, as jQuery does).
        JsonNode signedIn = phone.signIn(DN, "secret");
        assertEquals(200, signedIn.path("status").asInt(), signedIn.toString());
        sipServer.awaitRequests("REGISTER", 1, Duration.ofSeconds(10));
    }

    @AfterAll
    static void stop() {
        Closing.all(phone, gw, sipServer);
    }

    @BeforeEach
    void onlyNewEvents() {
        phone.discardEvents();
    }

    @Test
    void placesACallWithAudioBothWaysHoldsResumesAndHangsUp() throws Exception {
        int invitesBefore = sipServer.receivedRequests("INVITE").size();
        int byeEventsBefore = phone.events("bye").size();
        int errorsBefore = phone.events("gateway-error").size();
        phone.call("5000");
        JsonNode offer = rsmp(phone.awaitEvent("sent", e -> e.path("body").asText().contains("\"OFFER\""),
                Duration.ofSeconds(5)));
        String offerSdp = offer.path("sdp").asText();
        assertTrue(offerSdp.contains(" RTP/SAVPF ") && !offerSdp.contains("UDP/TLS/"),
                "grtc.js strips UDP/TLS/ from its offers: " + offerSdp);
        assertTrue(offer.path("Candidates").size() > 0, "non-trickle: candidates beside the SDP: " + offer);

        SipMessage invite = sipServer.awaitRequests("INVITE", invitesBefore + 1, Duration.ofSeconds(10)).get(invitesBefore);
        assertTrue(invite.body().contains("RTP/AVP") && !invite.body().contains("a=fingerprint"), invite.body());

        JsonNode answered = phone.awaitEvent("answer-received", Duration.ofSeconds(15));
        String answerSdp = answered.path("sdp").asText();
        assertTrue(answerSdp.contains(" RTP/SAVPF ") && !answerSdp.contains("UDP/TLS/"),
                "the gateway answers RTP/SAVPF in kind: " + answerSdp);
        JsonNode okSent = phone.awaitEvent("sent", e -> e.path("body").asText().contains("\"OK\""),
                Duration.ofSeconds(5));
        assertEquals(200, okSent.path("status").asInt(), okSent.toString());
        assertFalse(rsmp(okSent).has("sdp"), okSent.toString());

        phone.awaitIceState("connected", Duration.ofSeconds(15));
        ChromiumPeer.Stats stats = Poll.until(Duration.ofSeconds(20), "echoed audio decoded by the legacy page",
                phone::stats, s -> s.packetsReceived() > 50 && s.totalAudioEnergy() > 0);
        assertEquals("connected", stats.dtlsState(), stats.toString());

        phone.getServerStats();
        JsonNode putStats = phone.awaitEvent("put-stats", Duration.ofSeconds(5));
        assertEquals("connected", putStats.path("stats").path("state").asText(), putStats.toString());

        // Hold as the brief of the SPEC allows (sendonly), then resume: both reach SIP as re-INVITEs.
        phone.hold("sendonly");
        phone.awaitEvent("answer-received", Duration.ofSeconds(10));
        SipMessage holdInvite = sipServer.awaitRequests("INVITE", invitesBefore + 2, Duration.ofSeconds(10))
                .get(invitesBefore + 1);
        assertTrue(holdInvite.body().contains("a=sendonly"), holdInvite.body());

        phone.resume();
        phone.awaitEvent("answer-received", Duration.ofSeconds(10));
        SipMessage resumeInvite = sipServer.awaitRequests("INVITE", invitesBefore + 3, Duration.ofSeconds(10))
                .get(invitesBefore + 2);
        assertTrue(resumeInvite.body().contains("a=sendrecv"), resumeInvite.body());
        long before = phone.stats().packetsReceived();
        Poll.until(Duration.ofSeconds(10), "audio flowing again after resume", phone::stats,
                s -> s.packetsReceived() > before + 25);

        // grtc.js's own hold: an inactive re-offer.
        phone.hold("inactive");
        phone.awaitEvent("answer-received", Duration.ofSeconds(10));
        sipServer.awaitRequests("INVITE", invitesBefore + 4, Duration.ofSeconds(10));
        phone.resume();
        phone.awaitEvent("answer-received", Duration.ofSeconds(10));
        sipServer.awaitRequests("INVITE", invitesBefore + 5, Duration.ofSeconds(10));

        int byesBefore = sipServer.receivedRequests("BYE").size();
        phone.hangUp();
        sipServer.awaitRequests("BYE", byesBefore + 1, Duration.ofSeconds(10));
        assertEquals(errorsBefore, phone.events("gateway-error").size(), "no gateway errors: " + phone.events("gateway-error"));
        // grtc.js would take a BYE now as the far end hanging up a call it already closed
        assertEquals(byeEventsBefore, phone.events("bye").size(), "our own hang-up is not echoed back as BYE");
    }

    @Test
    void receivesACallFromSipAnswersWithAudioBothWaysAndHearsTheFarEndHangUp() throws Exception {
        int errorsBefore = phone.events("gateway-error").size();
        int mediaPort = FreePorts.sippMedia();
        try (Sipp caller = Sipp.scenario("uac-echo.xml").name("sipp-uac")
                .remote("127.0.0.1:" + gw.sipPort()).maxCalls(1)
                .args("-s", DN, "-mp", String.valueOf(mediaPort), "-mi", "127.0.0.1", "-rtp_echo").start()) {
            JsonNode incoming = phone.awaitEvent("incoming", Duration.ofSeconds(15));
            assertEquals("5000", incoming.path("peer").asText(), incoming.toString());
            assertEquals("offer", incoming.path("kind").asText());
            JsonNode offerPoll = phone.awaitEvent("poll", e -> e.path("body").asText().startsWith("SDP"),
                    Duration.ofSeconds(1));
            assertEquals("5000", offerPoll.path("pragma").asText(), "Pragma names the caller");
            assertTrue(offerPoll.path("body").asText().contains("UDP/TLS/RTP/SAVPF"), offerPoll.toString());
            // uac-echo.xml's X-Genesys-case header, as grtc.js's own attacheddata list
            JsonNode attached = rsmp(offerPoll).path("attacheddata");
            assertEquals("case", attached.path(0).path("key").asText(), offerPoll.toString());
            assertEquals("42", attached.path(0).path("value").asText(), offerPoll.toString());

            phone.answer();
            JsonNode answer = rsmp(phone.awaitEvent("sent", e -> e.path("body").asText().contains("\"ANSWER\""),
                    Duration.ofSeconds(5)));
            assertTrue(answer.path("sdp").asText().contains("UDP/TLS/RTP/SAVPF"),
                    "grtc.js keeps UDP/TLS/ in answers: " + answer);

            phone.awaitIceState("connected", Duration.ofSeconds(15));
            Poll.until(Duration.ofSeconds(20), "echoed audio decoded by the legacy page", phone::stats,
                    s -> s.packetsReceived() > 50 && s.totalAudioEnergy() > 0);

            // INFO-MAP reaches SIPp as SIP INFO; the scenario then hangs up from the SIP side.
            phone.infoMap(Map.of("reason", "test done"));
            JsonNode bye = phone.awaitEvent("bye", Duration.ofSeconds(15));
            assertEquals("5000", bye.path("peer").asText(), bye.toString());
            assertEquals(0, caller.waitForExit(Duration.ofSeconds(15)), "SIPp's call succeeded: " + caller.errors());
            SipMessage info = caller.awaitRequests("INFO", 1, Duration.ofSeconds(1)).get(0);
            assertTrue(info.header("Content-Type").orElse("").contains("application/x-www-form-urlencoded"), info.text());
            assertTrue(info.body().contains("reason=test+done"), info.text());
        }
        assertEquals(errorsBefore, phone.events("gateway-error").size(), "no gateway errors: " + phone.events("gateway-error"));
    }

    @Test
    void refusedMessagesReachTheAppThroughTheLongPoll() {
        int invites = sipServer.receivedRequests("INVITE").size();
        // grtc.js ignores what a POST answers: a refusal must also come through /wait, with Pragma: <peer>.
        JsonNode answer = phone.post("4040", "RSMP {\"messageType\":\"ANSWER\",\"sdp\":\"v=0\\r\\n\",\"Candidates\":[]}");
        assertEquals(404, answer.path("status").asInt(), answer.toString());
        assertEquals("CALL_UNKNOWN", gatewayError("4040").path("errorType").asText());
        phone.post("4040", "INFO-MAP a=b");
        assertEquals("CALL_UNKNOWN", gatewayError("4040").path("errorType").asText());
        phone.post("4040", "GET-STATS");
        assertEquals("CALL_UNKNOWN", gatewayError("4040").path("errorType").asText());

        // An offer the gateway cannot use: accepted, then refused through the long poll; no INVITE.
        JsonNode offer = phone.post("5000", "RSMP {\"messageType\":\"OFFER\",\"sdp\":\"not SDP\",\"seq\":1}");
        assertEquals(200, offer.path("status").asInt(), offer.toString());
        assertEquals("BAD_SDP", gatewayError("5000").path("errorType").asText());

        // Malformed bodies are refused by the POST itself (400), as documented.
        JsonNode garbage = phone.post("5000", "HELLO THERE");
        assertEquals(400, garbage.path("status").asInt(), garbage.toString());
        assertTrue(garbage.path("answer").asText().indexOf("ERROR") > 0, garbage.toString());
        JsonNode badPeer = phone.post("50%2000", "BYE");
        assertEquals(400, badPeer.path("status").asInt(), badPeer.toString());
        // A BYE for no call is a hang-up already done.
        assertEquals(200, phone.post("4040", "BYE").path("status").asInt());

        assertEquals(invites, sipServer.receivedRequests("INVITE").size(), "no INVITE for refused messages");
    }

    private static JsonNode gatewayError(String peer) {
        JsonNode error = phone.awaitEvent("gateway-error", Duration.ofSeconds(10));
        assertEquals(peer, error.path("peer").asText(), "Pragma names the peer: " + error);
        return error;
    }

    private static JsonNode rsmp(JsonNode sentEvent) throws Exception {
        String body = sentEvent.path("body").asText();
        return JSON.readTree(body.substring(body.indexOf('{')));
    }
}
