package io.webrtcgateway.sdp;

import static io.webrtcgateway.sdp.SdpFixtures.BROWSER_ORIGIN;
import static io.webrtcgateway.sdp.SdpFixtures.DTLS_ACTPASS;
import static io.webrtcgateway.sdp.SdpFixtures.SIP_ORIGIN;
import static io.webrtcgateway.sdp.SdpFixtures.parsed;
import static io.webrtcgateway.sdp.SdpFixtures.sipPorts;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class NegotiationTest {

    @Test
    void outgoingCallFromChromeAnsweredByAsterisk() {
        SessionDescription browserOffer = parsed("chrome-offer");
        SessionDescription sipOffer = WebRtcToSip.offer(browserOffer, sipPorts(20000, 20002), SIP_ORIGIN);
        Negotiation n = Negotiation.of(browserOffer, sipOffer, parsed("asterisk-answer"));

        NegotiatedMedia audio = n.audio().orElseThrow();
        assertEquals(0, audio.index());
        assertEquals("0", audio.mid());
        assertEquals(List.of(
                new NegotiatedCodec("opus", 48000, 2, 111, 111, "useinbandfec=1"),
                new NegotiatedCodec("PCMU", 8000, 1, 0, 0, null),
                new NegotiatedCodec("PCMA", 8000, 1, 8, 8, null),
                // Asterisk renumbered telephone-event: the browser uses 126, the SIP peer 101.
                new NegotiatedCodec("telephone-event", 8000, 1, 126, 101, "0-16")), audio.codecs());
        // Opus runs at 48 kHz but only 8 kHz events were agreed: that is the one to use.
        assertEquals(126, audio.telephoneEvent().browserPayloadType());
        assertEquals(101, audio.telephoneEvent().sipPayloadType());
        assertEquals(8000, audio.telephoneEvent().clockRate());
        assertEquals(new RtpAddress("192.0.2.10", 17890, 17891), audio.sipRemote());
        assertEquals(20000, audio.sipLocalRtpPort());
        assertEquals(20, audio.ptime());
        assertEquals(List.of(3735928559L), audio.browserSsrcs());
        assertTrue(audio.flowsToSip());
        assertTrue(audio.flowsToBrowser());

        NegotiatedMedia video = n.media().get(1);
        assertFalse(video.active(), "Asterisk rejected video");
        assertEquals(List.of(), video.codecs());
        assertNull(video.sipRemote());
        assertEquals(0, video.sipLocalRtpPort());
        assertEquals(List.of(1122334455L, 2233445566L), video.browserSsrcs());

        assertEquals("kD3s", n.browserTransport().iceUfrag());
        assertEquals(SetupRole.ACTPASS, n.browserTransport().setup());
        assertEquals(2, n.browserTransport().candidates().size());
    }

    @Test
    void incomingCallFromSippAnsweredByChrome() {
        SessionDescription sipOffer = parsed("sipp-offer");
        SessionDescription browserAnswer = parsed("chrome-answer");
        SessionDescription sipAnswer = WebRtcToSip.answer(sipOffer, browserAnswer, sipPorts(20000), SIP_ORIGIN);
        Negotiation n = Negotiation.of(browserAnswer, sipAnswer, sipOffer);

        NegotiatedMedia audio = n.audio().orElseThrow();
        assertEquals(List.of(new NegotiatedCodec("PCMA", 8000, 1, 8, 8, null),
                new NegotiatedCodec("telephone-event", 8000, 1, 101, 101, "0-11,16")), audio.codecs());
        assertEquals(101, audio.telephoneEvent().sipPayloadType());
        assertEquals(new RtpAddress("127.0.0.1", 6000, 6001), audio.sipRemote());
        assertEquals(20, audio.ptime(), "SIPp says no ptime: 20 ms");
        assertEquals(SetupRole.ACTIVE, n.browserTransport().setup());
        assertEquals("Hx9P", n.browserTransport().iceUfrag());
    }

    @Test
    void holdByZeroAddressStopsMediaTowardSip() {
        SessionDescription sipOffer = parsed("genesys-hold-offer");
        SessionDescription browserAnswer = parsed("chrome-answer-hold");
        SessionDescription sipAnswer = WebRtcToSip.answer(sipOffer, browserAnswer, sipPorts(20000),
                SIP_ORIGIN.withVersion(2));
        NegotiatedMedia audio = Negotiation.of(browserAnswer, sipAnswer, sipOffer).audio().orElseThrow();

        assertEquals(Direction.SENDONLY, audio.sipDirection(), "c=0.0.0.0 with sendrecv means sendonly");
        assertEquals(Direction.RECVONLY, audio.browserDirection());
        assertTrue(audio.sipRemote().isUnspecified());
        assertFalse(audio.flowsToSip());
        assertTrue(audio.flowsToBrowser(), "music on hold still reaches the browser");
    }

    @Test
    void telephoneEventAtTheVoiceCodecRateIsPreferred() {
        SessionDescription browserOffer = parsed("chrome-offer");
        SessionDescription sipOffer = WebRtcToSip.offer(browserOffer, sipPorts(20000, 20002), SIP_ORIGIN);
        SessionDescription sipAnswer = SdpParser.parse("v=0\r\no=- 1 1 IN IP4 192.0.2.9\r\ns=-\r\n"
                + "c=IN IP4 192.0.2.9\r\nt=0 0\r\nm=audio 7000 RTP/AVP 111 126 110\r\na=rtpmap:111 opus/48000/2\r\n"
                + "a=rtpmap:126 telephone-event/8000\r\na=rtpmap:110 telephone-event/48000\r\na=rtcp:7005\r\n");
        NegotiatedMedia audio = Negotiation.of(browserOffer, sipOffer, sipAnswer).audio().orElseThrow();
        assertEquals(48000, audio.telephoneEvent().clockRate());
        assertEquals(110, audio.telephoneEvent().browserPayloadType());
        assertEquals(new RtpAddress("192.0.2.9", 7000, 7005), audio.sipRemote(), "a=rtcp (RFC 3605)");
        assertFalse(Negotiation.of(browserOffer, sipOffer, sipAnswer).media().get(1).active(),
                "the answer stopped short: video counts as rejected");
    }

    @Test
    void sectionsWithoutAnyVoiceCodecAreNotActive() {
        SessionDescription browserOffer = parsed("grtc-sdes-offer");
        SessionDescription sipOffer = WebRtcToSip.offer(browserOffer, sipPorts(20000), SIP_ORIGIN);
        SessionDescription teOnly = SdpParser.parse("v=0\r\no=- 1 1 IN IP4 192.0.2.9\r\ns=-\r\nc=IN IP4 192.0.2.9\r\n"
                + "t=0 0\r\nm=audio 7000 RTP/AVP 126\r\na=rtpmap:126 telephone-event/8000\r\n");
        assertTrue(Negotiation.of(browserOffer, sipOffer, teOnly).audio().isEmpty());
    }

    @Test
    void aBrowserOfferWithoutBundleBridgesItsFirstAudioSection() {
        // Two sections, no a=group: one transport per call means the second is refused.
        String offer = SdpFixtures.input("grtc-dtls-offer").replace("a=group:BUNDLE audio video\r\n", "");
        SessionDescription browserOffer = SdpParser.parse(offer);
        assertEquals(1, BridgePlan.ofWebRtcOffer(browserOffer).bridgedCount());
        SessionDescription sipOffer = WebRtcToSip.offer(browserOffer, sipPorts(20000), SIP_ORIGIN);
        assertEquals(0, sipOffer.media().get(1).port());
        SessionDescription answer = SipToWebRtc.answer(browserOffer, parsed("sipp-answer"),
                SdpFixtures.DTLS_ACTIVE, BROWSER_ORIGIN);
        assertTrue(answer.attribute("group").isEmpty(), "no BUNDLE offered, none answered");
        assertEquals("audio", answer.media().get(0).mid().orElseThrow());
    }

    @Test
    void reOfferKeepsTheBrowserSessionsMidsAndNumbersNewSections() {
        SessionDescription sipOffer = parsed("asterisk-offer");
        SessionDescription offer = SipToWebRtc.offer(sipOffer, DTLS_ACTPASS, BROWSER_ORIGIN, List.of("audio"));
        assertEquals("audio", offer.media().get(0).mid().orElseThrow());
        assertEquals("1", offer.media().get(1).mid().orElseThrow());
        assertEquals(List.of("audio", "1"), offer.bundleGroup());
        SessionDescription fresh = SipToWebRtc.offer(sipOffer, DTLS_ACTPASS, BROWSER_ORIGIN, List.of("1"));
        assertEquals(List.of("1", "2"), fresh.bundleGroup(), "a new mid never reuses one in use");
    }
}
