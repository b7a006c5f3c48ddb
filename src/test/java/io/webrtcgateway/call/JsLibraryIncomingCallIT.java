package io.webrtcgateway.call;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.webrtcgateway.testsupport.Closing;
import io.webrtcgateway.testsupport.BrowserPhone;
import io.webrtcgateway.testsupport.FreePorts;
import io.webrtcgateway.testsupport.GatewayProcess;
import io.webrtcgateway.testsupport.Poll;
import io.webrtcgateway.testsupport.SipMessage;
import io.webrtcgateway.testsupport.Sipp;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * SIP Server routes a customer's call to an agent: SIPp ({@code uac-echo.xml}, echoing RTP) calls the DN
 * our JS library registered from headless Chromium. The library announces it ({@code incoming}), the
 * page answers, audio flows both ways (the browser hears its own microphone back through SIPp), and the
 * SIP side hangs up. Also INVITEs without SDP (delayed offer, RFC 3261 §13.2.1): the gateway offers the
 * browser itself, offers SIP Server in its 200 OK and takes the answer from the ACK
 * ({@code uac-delayed-offer.xml}, echoing RTP), also for a 3PCC re-INVITE without SDP; an ACK without the
 * answer ends the call with a BYE ({@code uac-delayed-offer-bad-ack.xml}).
 */
class JsLibraryIncomingCallIT {
    private static final Duration STEP = Duration.ofSeconds(15);
    private static final String DN = "1001";

    private static Sipp registrar;
    private static GatewayProcess gw;
    private static BrowserPhone phone;

    @BeforeAll
    static void start() {
        registrar = Sipp.scenario("registrar-ok.xml").start();
        gw = GatewayProcess.builder().sipServers(registrar.serverEntry())
                .set("gateway.media.ice-addresses", List.of("127.0.0.1"))
                .set("gateway.calls.attached-data.headers.segment", "X-Customer-Segment")
                .start();
        phone = BrowserPhone.start(gw.httpUrl(), "agent");
        phone.connect();
        phone.register(DN);
    }

    @AfterAll
    static void stop() {
        Closing.all(phone, gw, registrar);
    }

    @Test
    void sipCallerReachesTheRegisteredBrowserWhichAnswersHearsItselfBackAndIsHungUpOn() {
        int from = phone.lineCount();
        try (Sipp caller = echoingCaller("uac-echo.xml")) {
            JsonNode incoming = phone.awaitEvent("incoming", from, STEP);
            String call = incoming.path("call").asText();
            assertEquals("5000", incoming.at("/detail/remote").asText(), incoming.toString());
            assertEquals("Customer", incoming.at("/detail/remoteName").asText(), incoming.toString());
            // attached data: the mapped header by its key, the X-Genesys- one by the rest of its name
            assertEquals("gold", incoming.at("/detail/data/segment").asText(), incoming.toString());
            assertEquals("42", incoming.at("/detail/data/case").asText(), incoming.toString());
            assertEquals(2, incoming.at("/detail/data").size(), incoming.toString());
            caller.awaitReceived(m -> !m.isRequest() && m.status() == 180, 1, STEP, "180 Ringing while the page rings");

            phone.answer();
            phone.awaitCallEvent(call, "connected", STEP);
            SipMessage ok = caller.awaitReceived(m -> !m.isRequest() && m.status() == 200, 1, STEP, "200 OK").get(0);
            assertTrue(ok.body().contains("RTP/AVP") && !ok.body().contains("a=fingerprint"), ok.body());

            // SIPp echoes what the browser sends: packets in and decoded energy prove both directions.
            JsonNode stats = Poll.until(Duration.ofSeconds(20), "the browser's audio echoed back by the caller",
                    phone::stats, s -> s.at("/inbound/packets").asLong() > 50
                            && s.at("/inbound/totalAudioEnergy").asDouble() > 0);
            assertTrue(stats.at("/outbound/packets").asLong() > 50, stats.toString());
            assertEquals("connected", stats.at("/gateway/state").asText(), stats.toString());

            // The INFO is uac-echo.xml's cue to hang up.
            phone.info("text/plain", "please-hang-up");
            JsonNode ended = phone.awaitCallEvent(call, "ended", STEP);
            assertEquals("remote-hangup", ended.at("/detail/reason").asText(), ended.toString());
            assertEquals(0, caller.waitForExit(STEP), () -> "SIPp's call failed: " + caller.errors());
        }
    }

    @Test
    void callerGivesUpWhileThePageRings() {
        int from = phone.lineCount();
        try (Sipp caller = caller("uac-cancel.xml")) {
            String call = phone.awaitEvent("incoming", from, STEP).path("call").asText();
            JsonNode ended = phone.awaitCallEvent(call, "ended", STEP);
            assertEquals("cancelled", ended.at("/detail/reason").asText(), ended.toString());
            // SIPp got 200 to its CANCEL and 487 to its INVITE (or its scenario fails).
            assertEquals(0, caller.waitForExit(STEP), () -> "SIPp's call failed: " + caller.errors());
        }
    }

    @Test
    void pageRejectsWithBusy() {
        int from = phone.lineCount();
        try (Sipp caller = caller("uac-rejected.xml")) {
            String call = phone.awaitEvent("incoming", from, STEP).path("call").asText();
            phone.reject(486);
            JsonNode ended = phone.awaitCallEvent(call, "ended", STEP);
            assertEquals("rejected", ended.at("/detail/reason").asText(), ended.toString());
            assertEquals(486, ended.at("/detail/sipStatus").asInt(), ended.toString());
            // SIPp got its 486 and ACKed it (or its scenario fails).
            assertEquals(0, caller.waitForExit(STEP), () -> "SIPp's call failed: " + caller.errors());
        }
    }

    // ---- delayed offer (RFC 3261 §13.2.1): INVITEs without SDP ------------------------------------

    @Test
    void inviteWithoutSdpIsOfferedByTheGatewayAnsweredInTheAckAndAudioFlowsBeforeAndAfterA3pccReinvite() {
        int from = phone.lineCount();
        try (Sipp caller = echoingCaller("uac-delayed-offer.xml")) {
            JsonNode incoming = phone.awaitEvent("incoming", from, STEP);
            String call = incoming.path("call").asText();
            assertEquals("5000", incoming.at("/detail/remote").asText(), incoming.toString());

            phone.answer();
            phone.awaitCallEvent(call, "connected", STEP);
            SipMessage ok = caller.awaitReceived(m -> !m.isRequest() && m.status() == 200 && m.cseq() == 1, 1, STEP,
                    "200 OK carrying the gateway's offer").get(0);
            String offer = ok.body();
            assertTrue(offer.contains("RTP/AVP") && !offer.contains("a=fingerprint") && !offer.contains("a=ice-"), offer);
            for (String codec : List.of("PCMU/8000", "PCMA/8000", "G722/8000", "telephone-event/8000")) {
                assertTrue(offer.contains(codec), "the offer lists " + codec + ":\n" + offer);
            }

            // SIPp echoes what the browser sends, to the address its ACK's answer gave: both directions.
            JsonNode before = Poll.until(Duration.ofSeconds(20), "the browser's audio echoed back by the caller",
                    phone::stats, s -> s.at("/inbound/packets").asLong() > 50
                            && s.at("/inbound/totalAudioEnergy").asDouble() > 0);
            assertTrue(before.at("/outbound/packets").asLong() > 50, before.toString());

            // The 3PCC re-INVITE without SDP: the gateway offers again in its 200, the ACK answers.
            SipMessage reOk = caller.awaitReceived(m -> !m.isRequest() && m.status() == 200 && m.cseq() == 2, 1,
                    STEP, "200 OK to the re-INVITE without SDP, with an offer").get(0);
            assertTrue(reOk.body().contains("m=audio") && reOk.body().contains("RTP/AVP"), reOk.body());
            long after = before.at("/inbound/packets").asLong();
            JsonNode later = Poll.until(Duration.ofSeconds(20), "audio still echoed after the 3PCC re-INVITE",
                    phone::stats, s -> s.at("/inbound/packets").asLong() > after + 100);
            assertEquals("connected", later.at("/gateway/state").asText(), later.toString());

            phone.info("text/plain", "please-hang-up");
            JsonNode ended = phone.awaitCallEvent(call, "ended", STEP);
            assertEquals("remote-hangup", ended.at("/detail/reason").asText(), ended.toString());
            assertEquals(0, caller.waitForExit(STEP), () -> "SIPp's call failed: " + caller.errors());
        }
    }

    @Test
    void ackWithoutTheAnswerEndsTheCallWithAByeGivingTheReason() {
        int from = phone.lineCount();
        try (Sipp caller = Sipp.scenario("uac-delayed-offer-bad-ack.xml").name("bad-ack")
                .remote("127.0.0.1:" + gw.sipPort()).args("-s", DN).maxCalls(1).start()) {
            String call = phone.awaitEvent("incoming", from, STEP).path("call").asText();
            phone.answer();
            JsonNode ended = phone.awaitCallEvent(call, "ended", STEP);
            assertEquals("bad-answer", ended.at("/detail/reason").asText(), ended.toString());
            assertEquals(488, ended.at("/detail/sipStatus").asInt(), ended.toString());
            // SIPp got its BYE (its scenario expects one and answers 200).
            assertEquals(0, caller.waitForExit(STEP), () -> "SIPp's call failed: " + caller.errors());
            SipMessage bye = caller.receivedRequests("BYE").get(0);
            String reason = bye.header("Reason").orElse("");
            assertTrue(reason.contains("cause=488") && reason.contains("ACK"), bye.toString());
            assertFalse(phone.callEvents(call).contains("error"), phone.callEvents(call).toString());
        }
    }

    /** SIPp calling {@link #DN} at the gateway once with {@code scenario}, echoing the RTP it receives. */
    private static Sipp echoingCaller(String scenario) {
        return Sipp.scenario(scenario).name("caller").remote("127.0.0.1:" + gw.sipPort())
                .args("-s", DN, "-mi", "127.0.0.1", "-mp", String.valueOf(FreePorts.sippMedia()), "-rtp_echo")
                .maxCalls(1).start();
    }

    /** SIPp calling {@link #DN} at the gateway once with {@code scenario} (its SDP names port 9: no media). */
    private static Sipp caller(String scenario) {
        return Sipp.scenario(scenario).remote("127.0.0.1:" + gw.sipPort()).args("-s", DN).maxCalls(1)
                .start();
    }
}
