package io.webrtcgateway.sdp;

import static io.webrtcgateway.sdp.SdpFixtures.BROWSER_ORIGIN;
import static io.webrtcgateway.sdp.SdpFixtures.DTLS_ACTIVE;
import static io.webrtcgateway.sdp.SdpFixtures.DTLS_ACTPASS;
import static io.webrtcgateway.sdp.SdpFixtures.SIP_ORIGIN;
import static io.webrtcgateway.sdp.SdpFixtures.parsed;
import static io.webrtcgateway.sdp.SdpFixtures.sipPorts;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class BridgePlanTest {

    @Test
    void chromeOfferBridgesAudioAndVideo() {
        BridgePlan plan = BridgePlan.ofWebRtcOffer(parsed("chrome-offer"));
        assertEquals(2, plan.bridgedCount());
        assertEquals(List.of(111, 9, 0, 8, 110, 126),
                plan.section(0).codecs().stream().map(Codec::payloadType).toList());
    }

    @Test
    void firefoxBundleOnlySectionsAreBridgedButNotTheDataChannel() {
        BridgePlan plan = BridgePlan.ofWebRtcOffer(parsed("firefox-offer"));
        assertEquals(2, plan.bridgedCount());
        assertFalse(plan.section(2).bridged());
        assertTrue(plan.section(2).rejection().contains("\"application\" media is not bridged"));
    }

    @Test
    void theCallerMustBringOnePortPerBridgedSection() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> WebRtcToSip.offer(parsed("chrome-offer"), sipPorts(20000), SIP_ORIGIN));
        assertEquals("expected 2 RTP port(s), one per bridged m-line, got 1", e.getMessage());
    }

    @Test
    void aPayloadTypeMeansOneCodecOnTheBundle() {
        // Audio uses 101 for telephone-event, video for H.264: the browser could not tell them apart.
        SessionDescription sipOffer = SdpParser.parse("v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\n"
                + "c=IN IP4 192.0.2.1\r\nt=0 0\r\n"
                + "m=audio 5000 RTP/AVP 0 101\r\na=rtpmap:101 telephone-event/8000\r\n"
                + "m=video 5002 RTP/AVP 101 100\r\na=rtpmap:101 H264/90000\r\na=rtpmap:100 VP8/90000\r\n"
                + "m=video 5004 RTP/AVP 101\r\na=rtpmap:101 H264/90000\r\n");
        BridgePlan plan = BridgePlan.ofSipOffer(sipOffer);
        assertEquals(List.of(100), plan.section(1).codecs().stream().map(Codec::payloadType).toList());
        assertFalse(plan.section(2).bridged());
        assertEquals(SdpException.Reason.NO_COMMON_CODEC, plan.section(2).rejectionReason());
        SessionDescription offer = SipToWebRtc.offer(sipOffer, DTLS_ACTPASS, BROWSER_ORIGIN);
        assertEquals("m=video 30000 UDP/TLS/RTP/SAVPF 100", offer.media().get(1).mLine());
        assertEquals("m=video 0 UDP/TLS/RTP/SAVPF 101", offer.media().get(2).mLine());
        assertEquals(List.of("0", "1"), offer.bundleGroup());
    }

    @Test
    void keyingMustFitTheBrowserOffer() {
        SessionDescription sdesOffer = parsed("grtc-sdes-offer");
        SessionDescription sippAnswer = parsed("sipp-answer");
        IllegalArgumentException noDtls = assertThrows(IllegalArgumentException.class,
                () -> SipToWebRtc.answer(sdesOffer, sippAnswer, DTLS_ACTIVE, BROWSER_ORIGIN));
        assertTrue(noDtls.getMessage().contains("answer with SDES"));
        IllegalArgumentException noSdes = assertThrows(IllegalArgumentException.class,
                () -> SipToWebRtc.answer(parsed("chrome-offer"), parsed("asterisk-answer"), SdpFixtures.SDES,
                        BROWSER_ORIGIN));
        assertTrue(noSdes.getMessage().contains("answer with DTLS"));
        IllegalArgumentException actpass = assertThrows(IllegalArgumentException.class,
                () -> SipToWebRtc.answer(parsed("chrome-offer"), parsed("asterisk-answer"), DTLS_ACTPASS,
                        BROWSER_ORIGIN));
        assertEquals("a=setup:actpass cannot answer a=setup:actpass (RFC 4145 §4)", actpass.getMessage());
    }

    @Test
    void setupRoles() {
        assertEquals(SetupRole.ACTIVE, SetupRole.answerFor(SetupRole.ACTPASS));
        assertEquals(SetupRole.ACTIVE, SetupRole.answerFor(SetupRole.PASSIVE));
        assertEquals(SetupRole.PASSIVE, SetupRole.answerFor(SetupRole.ACTIVE));
        assertTrue(SetupRole.PASSIVE.canAnswer(SetupRole.ACTPASS));
        assertFalse(SetupRole.ACTIVE.canAnswer(SetupRole.ACTIVE));
    }
}
