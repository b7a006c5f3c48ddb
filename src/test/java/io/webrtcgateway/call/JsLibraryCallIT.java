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
import io.webrtcgateway.testsupport.RtpEcho;
import io.webrtcgateway.testsupport.SipMessage;
import io.webrtcgateway.testsupport.Sipp;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Our JS library as a phone in headless Chromium (fake microphone) calls SIPp through a real gateway:
 * SPEC §3 and issue 4's "Show it works". SIPp ({@code uas-calls.xml}) is registrar and callee; the
 * number called picks its behaviour (echo, busy, slow, bye, dtmf). One gateway, one SIPp and one
 * browser serve every test; each test places its own call.
 */
class JsLibraryCallIT {
    private static final Duration STEP = Duration.ofSeconds(15);
    /** telephone-event's payload type in uas-calls.xml's answer (Chromium offers 126 for 8 kHz). */
    private static final int SIP_TELEPHONE_EVENT = 101;

    private static RtpEcho dtmfPeer;
    private static Sipp sipp;
    private static GatewayProcess gw;
    private static BrowserPhone phone;

    @BeforeAll
    static void start() {
        dtmfPeer = RtpEcho.rewritingSsrc(0x5EED_0D7FL);
        sipp = Sipp.scenario("uas-calls.xml")
                .key("peer_rtp_port", String.valueOf(dtmfPeer.port()))
                .args("-mi", "127.0.0.1", "-mp", String.valueOf(FreePorts.sippMedia()), "-rtp_echo")
                .start();
        gw = GatewayProcess.builder().sipServers(sipp.serverEntry())
                .set("gateway.media.ice-addresses", List.of("127.0.0.1"))
                .start();
        phone = BrowserPhone.start(gw.httpUrl(), "phone");
        phone.connect();
        phone.register("1001");
    }

    @AfterAll
    static void stop() {
        Closing.all(phone, gw, sipp, dtmfPeer);
    }

    @Test
    void ringsConnectsCarriesAudioBothWaysHoldsResumesAndHangsUp() {
        BrowserPhone.Placed call = phone.call("5000");
        phone.awaitCallEvent(call.id(), "ringing", STEP);
        phone.awaitCallEvent(call.id(), "connected", STEP);
        SipMessage invite = inviteTo("5000");
        assertTrue(invite.body().contains("RTP/AVP") && !invite.body().contains("a=fingerprint"), invite.body());

        // SIPp echoes what the browser sends: packets in and decoded energy prove both directions.
        JsonNode stats = phone.awaitAudio("audio echoed through SIPp", 0, 0);
        assertEquals("connected", stats.at("/gateway/state").asText(), stats.toString());
        assertTrue(stats.at("/outbound/packets").asLong() > 50, stats.toString());

        phone.hold();
        phone.awaitCallEvent(call.id(), "held", STEP);
        SipMessage holdInvite = invites(invite.callId()).get(1);
        assertTrue(holdInvite.body().contains("a=sendonly") || holdInvite.body().contains("a=inactive"),
                holdInvite.body());
        phone.resume();
        phone.awaitCallEvent(call.id(), "resumed", STEP);
        SipMessage resumeInvite = invites(invite.callId()).get(2);
        assertTrue(resumeInvite.body().contains("a=sendrecv"), resumeInvite.body());
        // Audio flows again after the resume.
        phone.awaitAudio("audio after the resume", stats.at("/inbound/packets").asLong() + 50,
                stats.at("/inbound/totalAudioEnergy").asDouble());

        phone.hangup();
        JsonNode ended = phone.awaitCallEvent(call.id(), "ended", STEP);
        assertEquals("local-hangup", ended.at("/detail/reason").asText());
        awaitRequest("BYE", invite.callId());
        assertEquals(List.of("ringing", "connected", "held", "resumed", "ended"),
                phone.callEvents(call.id()).stream().filter(e -> !e.equals("track")).toList());
    }

    @Test
    void earlyMediaFlowsBeforeTheAnswer() {
        BrowserPhone.Placed call = phone.call("early");
        JsonNode early = phone.awaitCallEvent(call.id(), "early", STEP);
        assertEquals(183, early.at("/detail/sipStatus").asInt(), early.toString());
        // uas-calls.xml answers 4 s after its 183: audio echoed before that is early media.
        JsonNode stats = Poll.until(STEP, "early media echoed", phone::stats,
                s -> s.at("/inbound/packets").asLong() > 10 || !s.at("/gateway/state").asText().equals("early"));
        assertEquals("early", stats.at("/gateway/state").asText(), () -> "no early media before the answer: " + stats);
        phone.awaitCallEvent(call.id(), "connected", STEP);
        phone.awaitAudio("audio after the answer", stats.at("/inbound/packets").asLong() + 25, 0);
        phone.hangup();
        phone.awaitCallEvent(call.id(), "ended", STEP);
    }

    @Test
    void sipSideHoldsAndResumes() {
        BrowserPhone.Placed call = phone.call("holds");
        phone.awaitCallEvent(call.id(), "connected", STEP);
        assertEquals("remote", phone.awaitCallEvent(call.id(), "held", STEP).at("/detail/by").asText());
        assertEquals("remote", phone.awaitCallEvent(call.id(), "resumed", STEP).at("/detail/by").asText());
        String callId = inviteTo("holds").callId();
        // The gateway's answers to SIPp's re-INVITEs (RFC 3264 §6.1: sendonly is answered recvonly or inactive).
        // A 200 retransmitted before SIPp's ACK arrived (RFC 3261 §13.3.1.4; a loaded machine) counts once.
        // The browser hears "resumed" when the gateway sent its 200; SIPp writes what it received to its message
        // log a moment later, so wait for the second answer to be there rather than read the log once.
        List<String> answers = Poll.until(STEP, "the gateway's two answers in SIPp's message log",
                () -> sipp.received().stream().filter(m -> !m.isRequest() && m.status() == 200
                        && m.callId().equals(callId) && m.header("CSeq").orElse("").endsWith("INVITE"))
                        .map(SipMessage::body).distinct().toList(),
                found -> found.size() >= 2);
        assertEquals(2, answers.size(), answers::toString);
        assertTrue(answers.get(0).contains("a=recvonly") || answers.get(0).contains("a=inactive"), answers.get(0));
        assertTrue(answers.get(1).contains("a=sendrecv"), answers.get(1));
        phone.hangup();
        phone.awaitCallEvent(call.id(), "ended", STEP);
        awaitRequest("BYE", callId);
    }

    @Test
    void sipSideHangsUp() {
        BrowserPhone.Placed call = phone.call("bye");
        phone.awaitCallEvent(call.id(), "connected", STEP);
        // uas-calls.xml sends its BYE 2 s after the ACK.
        JsonNode ended = phone.awaitCallEvent(call.id(), "ended", STEP);
        assertEquals("remote-hangup", ended.at("/detail/reason").asText(), ended.toString());
        String callId = inviteTo("bye").callId();
        assertTrue(sipp.sent().stream().anyMatch(m -> m.isRequest() && m.method().equals("BYE") && m.callId().equals(callId)),
                "SIPp sent the BYE");
        // The gateway answered it (SIPp waits for the 200, or its call would fail).
        sipp.awaitReceived(m -> !m.isRequest() && m.status() == 200 && m.callId().equals(callId)
                && m.header("CSeq").orElse("").contains("BYE"), 1, STEP, "200 to the BYE");
    }

    @Test
    void hangingUpBeforeTheAnswerCancels() {
        BrowserPhone.Placed call = phone.call("slow");
        phone.awaitCallEvent(call.id(), "ringing", STEP);
        phone.hangup();
        JsonNode ended = phone.awaitCallEvent(call.id(), "ended", STEP);
        assertEquals("local-hangup", ended.at("/detail/reason").asText());
        String callId = inviteTo("slow").callId();
        awaitRequest("CANCEL", callId);
        // SIPp answered 200 to the CANCEL and 487 to the INVITE, which the gateway ACKed (RFC 3261 §17.1.1.3).
        awaitRequest("ACK", callId);
        assertTrue(sipp.sentResponses(487).stream().anyMatch(m -> m.callId().equals(callId)));
        assertFalse(sipp.receivedRequests("BYE").stream().anyMatch(m -> m.callId().equals(callId)),
                "a call never answered is cancelled, not hung up with BYE");
    }

    @Test
    void hangingUpAfterOnlyA100TryingCancels() {
        BrowserPhone.Placed call = phone.call("trying");
        String callId = inviteTo("trying").callId();
        Poll.until(STEP, "SIPp's 100 Trying", () -> sipp.sentResponses(100).stream().anyMatch(m -> m.callId().equals(callId)));
        phone.hangup();
        // RFC 3261 §9.1: any provisional response, 100 included, lets the CANCEL go.
        awaitRequest("CANCEL", callId);
        awaitRequest("ACK", callId);
        assertEquals("local-hangup", phone.awaitCallEvent(call.id(), "ended", STEP).at("/detail/reason").asText());
    }

    @Test
    void hangingUpBeforeAnyResponseCancelsWhenTheFirstOneArrives() {
        BrowserPhone.Placed call = phone.call("late"); // SIPp answers nothing for 1 s
        phone.hangup();
        String callId = inviteTo("late").callId();
        // RFC 3261 §9.1: the CANCEL waits for a provisional response, then goes (the call is over for the
        // browser already); the phone must not ring on until it answers.
        awaitRequest("CANCEL", callId);
        awaitRequest("ACK", callId);
        assertFalse(sipp.receivedRequests("BYE").stream().anyMatch(m -> m.callId().equals(callId)));
        assertEquals("local-hangup", phone.awaitCallEvent(call.id(), "ended", STEP).at("/detail/reason").asText());
    }

    @Test
    void busyEndsTheCallWithItsSipStatus() {
        BrowserPhone.Placed call = phone.call("busy");
        JsonNode ended = phone.awaitCallEvent(call.id(), "ended", STEP);
        assertEquals("rejected", ended.at("/detail/reason").asText(), ended.toString());
        assertEquals(486, ended.at("/detail/sipStatus").asInt(), ended.toString());
        assertFalse(phone.callEvents(call.id()).contains("connected"));
    }

    @Test
    void dtmfReachesTheSipSideAsRfc4733() {
        BrowserPhone.Placed call = phone.call("dtmf");
        phone.awaitCallEvent(call.id(), "connected", STEP);
        // The SIP side's media is the test's RtpEcho: audio from the browser arrives there first.
        dtmfPeer.awaitRtpPackets(25, STEP);
        phone.dtmf("1#9");
        // Chromium sends each tone as RFC 4733 events on its payload type (126); the bridge maps it to
        // the one the SIP side answered, and the event ends (E bit) after the tone's 100 ms.
        List<Integer> digits = Poll.until(STEP, "three telephone-events ended at the SIP side",
                () -> dtmfPeer.endedTelephoneEvents(SIP_TELEPHONE_EVENT), d -> d.size() >= 3);
        assertEquals(List.of(1, 11, 9), digits, () -> "events " + dtmfPeer.telephoneEvents(SIP_TELEPHONE_EVENT));
        assertTrue(dtmfPeer.telephoneEvents(SIP_TELEPHONE_EVENT).stream().anyMatch(RtpEcho.TelephoneEvent::marker),
                "an event's first packet has the marker bit (RFC 4733 §2.5.1.3)");
        assertEquals(List.of(0, SIP_TELEPHONE_EVENT), List.copyOf(dtmfPeer.payloadTypes().keySet()),
                () -> "only the SIP side's payload types arrive: " + dtmfPeer.payloadTypes());
        phone.hangup();
        phone.awaitCallEvent(call.id(), "ended", STEP);
    }

    // ---- helpers --------------------------------------------------------------------------------


    private static SipMessage inviteTo(String user) {
        return sipp.awaitReceived(m -> m.isRequest() && m.method().equals("INVITE") && m.requestUri().startsWith("sip:" + user + "@"),
                1, STEP, "INVITE to " + user).get(0);
    }

    private static List<SipMessage> invites(String callId) {
        return sipp.receivedRequests("INVITE").stream().filter(m -> m.callId().equals(callId)).toList();
    }

    private static void awaitRequest(String method, String callId) {
        sipp.awaitReceived(m -> m.isRequest() && m.method().equals(method) && m.callId().equals(callId), 1, STEP,
                method + " of " + callId);
    }
}
