package io.webrtcgateway.sdp;

import static io.webrtcgateway.sdp.SdpFixtures.GATEWAY_ADDRESS;
import static io.webrtcgateway.sdp.SdpFixtures.SIP_ORIGIN;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * SDES-SRTP toward SIP in the translators (docs/sip.md "SRTP toward SIP Server", docs/sdp-translation.md): the
 * gateway's offers and answers per gateway.sip.srtp mode, which SIP offers are bridged, and the 488 reasons for
 * bad a=crypto lines.
 */
class SipSrtpSdpTest {
    /** 30 bytes of key || salt, base64. */
    private static final String KEY = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwd";
    private static final String OUR_80 = "1 AES_CM_128_HMAC_SHA1_80 inline:ZmZmZmZmZmZmZmZmZmZmZmZmZmZmZmZmZmZm";
    private static final String OUR_32 = "2 AES_CM_128_HMAC_SHA1_32 inline:Z2dnZ2dnZ2dnZ2dnZ2dnZ2dnZ2dnZ2dnZ2dn";
    private static final SipSrtp OPTIONAL = new SipSrtp(SipSrtp.Mode.OPTIONAL, null);
    private static final SipSrtp REQUIRED = new SipSrtp(SipSrtp.Mode.REQUIRED, null);
    private static final String OVER_UDP = "SDES keys (a=crypto) go into SDP only over SIP over TLS, and this call's"
            + " SIP transport is udp (gateway.sip.srtp-over-insecure-transport = false)";

    private static SessionDescription sipOffer(String profile, String... crypto) {
        StringBuilder sb = new StringBuilder("v=0\r\no=pbx 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
                + "m=audio 6000 " + profile + " 8 101\r\na=rtpmap:8 PCMA/8000\r\na=rtpmap:101 telephone-event/8000\r\n"
                + "a=fmtp:101 0-11,16\r\n");
        for (String c : crypto) {
            sb.append("a=crypto:").append(c).append("\r\n");
        }
        return SdpParser.parse(sb.toString());
    }

    private static SipMediaEndpoint keyed(boolean secure, String... lines) {
        return new SipMediaEndpoint(GATEWAY_ADDRESS, List.of(20000), Map.of(0, List.of(lines)), secure);
    }

    /** chrome-offer bridges audio and video: two ports, keys for the audio section. */
    private static SipMediaEndpoint keyedAudioVideo(boolean secure, String... lines) {
        return new SipMediaEndpoint(GATEWAY_ADDRESS, List.of(20000, 20002), Map.of(0, List.of(lines)), secure);
    }

    // ---- the gateway's offers -------------------------------------------------------------------------

    @Test
    void requiredOffersSavpWithOneLinePerSuite() {
        String sdp = SdpWriter.write(WebRtcToSip.offer(SdpFixtures.parsed("chrome-offer"), keyedAudioVideo(true, OUR_80, OUR_32),
                SIP_ORIGIN));
        assertTrue(sdp.contains("m=audio 20000 RTP/SAVP "), sdp);
        assertTrue(sdp.contains("a=crypto:" + OUR_80 + "\r\na=crypto:" + OUR_32 + "\r\n"), sdp);
        assertFalse(sdp.contains("RTP/AVP"), sdp);
    }

    @Test
    void optionalOffersAvpWithCryptoAndOffPlainAvp() {
        String optional = SdpWriter.write(WebRtcToSip.offer(SdpFixtures.parsed("chrome-offer"),
                keyedAudioVideo(false, OUR_80, OUR_32), SIP_ORIGIN));
        assertTrue(optional.contains("m=audio 20000 RTP/AVP "), optional);
        assertTrue(optional.contains("a=crypto:" + OUR_80), optional);
        String off = SdpWriter.write(WebRtcToSip.offer(SdpFixtures.parsed("chrome-offer"),
                SipMediaEndpoint.of(GATEWAY_ADDRESS, 20000, 20002), SIP_ORIGIN));
        assertTrue(off.contains("m=audio 20000 RTP/AVP ") && !off.contains("crypto"), off);
    }

    @Test
    void aDelayedOfferCarriesTheKeysToo() {
        String sdp = SdpWriter.write(GatewayOffer.audio(keyed(true, OUR_80, OUR_32), SIP_ORIGIN));
        assertTrue(sdp.contains("m=audio 20000 RTP/SAVP 0 8 9 111 101\r\n"), sdp);
        assertTrue(sdp.contains("a=crypto:" + OUR_80 + "\r\na=crypto:" + OUR_32 + "\r\n"), sdp);
    }

    // ---- which SIP offers are bridged, and how ---------------------------------------------------------

    @Test
    void savpOffersAreAnsweredSavpWithOneKey() {
        SessionDescription offer = sipOffer("RTP/SAVP", "1 AES_CM_128_HMAC_SHA1_32 inline:" + KEY);
        for (SipSrtp mode : List.of(OPTIONAL, REQUIRED)) {
            BridgePlan plan = BridgePlan.ofSipOffer(offer, mode);
            assertEquals("1 AES_CM_128_HMAC_SHA1_32 inline:" + KEY, plan.section(0).sipCrypto());
            String answer = SdpWriter.write(WebRtcToSip.answer(offer, SdpFixtures.parsed("chrome-answer"),
                    keyed(false, "1" + OUR_32.substring(1)), SIP_ORIGIN, mode));
            assertTrue(answer.contains("m=audio 20000 RTP/SAVP 8 101\r\n"), answer);
            assertEquals(1, answer.split("a=crypto:").length - 1, answer);
            assertTrue(answer.contains("a=crypto:1 AES_CM_128_HMAC_SHA1_32 inline:Z2dn"), answer);
        }
    }

    @Test
    void avpOffersAreAnsweredAvpWithKeysOnlyWhenTheyCarryThem() {
        SessionDescription plain = sipOffer("RTP/AVP");
        assertNull(BridgePlan.ofSipOffer(plain, OPTIONAL).section(0).sipCrypto());
        String answer = SdpWriter.write(WebRtcToSip.answer(plain, SdpFixtures.parsed("chrome-answer"),
                SipMediaEndpoint.of(GATEWAY_ADDRESS, 20000), SIP_ORIGIN, OPTIONAL));
        assertTrue(answer.contains("m=audio 20000 RTP/AVP 8 101\r\n") && !answer.contains("crypto"), answer);

        // best-effort SRTP (RTP/AVP with a=crypto, as baresip's "srtp" and FreeSWITCH's optional mode offer)
        SessionDescription bestEffort = sipOffer("RTP/AVP", "1 AES_CM_128_HMAC_SHA1_80 inline:" + KEY);
        for (SipSrtp mode : List.of(OPTIONAL, REQUIRED)) {
            assertEquals("1 AES_CM_128_HMAC_SHA1_80 inline:" + KEY,
                    BridgePlan.ofSipOffer(bestEffort, mode).section(0).sipCrypto());
            String keyed = SdpWriter.write(WebRtcToSip.answer(bestEffort, SdpFixtures.parsed("chrome-answer"),
                    keyed(false, OUR_80), SIP_ORIGIN, mode));
            assertTrue(keyed.contains("m=audio 20000 RTP/AVP 8 101\r\n") && keyed.contains("a=crypto:" + OUR_80), keyed);
        }
        // off: the keys are ignored, as before
        assertNull(BridgePlan.ofSipOffer(bestEffort, SipSrtp.OFF).section(0).sipCrypto());
        // optional, keys it cannot use: plain
        assertNull(BridgePlan.ofSipOffer(sipOffer("RTP/AVP", "1 F8_128_HMAC_SHA1_80 inline:" + KEY), OPTIONAL)
                .section(0).sipCrypto());
    }

    @Test
    void theFirstUsableLineWinsInOfferOrder() {
        SessionDescription offer = sipOffer("RTP/SAVP", "1 AEAD_AES_256_GCM inline:" + KEY,
                "2 AES_CM_128_HMAC_SHA1_80 inline:" + KEY, "3 AES_CM_128_HMAC_SHA1_32 inline:" + KEY);
        assertEquals("2 AES_CM_128_HMAC_SHA1_80 inline:" + KEY, BridgePlan.ofSipOffer(offer, REQUIRED).section(0).sipCrypto());
    }

    @Test
    void anMkiAndALifetimeAreTaken() {
        String line = "1 AES_CM_128_HMAC_SHA1_80 inline:" + KEY + "|2^20|1:4";
        assertEquals(line, BridgePlan.ofSipOffer(sipOffer("RTP/SAVP", line), REQUIRED).section(0).sipCrypto());
    }

    @Test
    void offRefusesSavpSayingWhy() {
        SdpException e = assertThrows(SdpException.class,
                () -> BridgePlan.ofSipOffer(sipOffer("RTP/SAVP", "1 AES_CM_128_HMAC_SHA1_80 inline:" + KEY), SipSrtp.OFF));
        assertEquals(SdpException.Reason.UNSUPPORTED_PROFILE, e.reason());
        assertEquals("\"m=audio 6000 RTP/SAVP 8 101\": profile RTP/SAVP is SRTP keyed in the SDP (a=crypto), refused:"
                + " SRTP toward SIP Server is off (gateway.sip.srtp = off)", e.getMessage());
        // the old entry point is "off"
        assertThrows(SdpException.class, () -> BridgePlan.ofSipOffer(sipOffer("RTP/SAVP")));
    }

    @Test
    void keysThatMayNotTravelAreRefusedOrLeftOut() {
        SipSrtp optionalOverUdp = new SipSrtp(SipSrtp.Mode.OPTIONAL, OVER_UDP);
        SdpException savp = assertThrows(SdpException.class, () -> BridgePlan.ofSipOffer(
                sipOffer("RTP/SAVP", "1 AES_CM_128_HMAC_SHA1_80 inline:" + KEY), optionalOverUdp));
        assertTrue(savp.getMessage().endsWith("refused: " + OVER_UDP), savp.getMessage());
        // optional: an AVP offer is bridged plain, its keys ignored
        assertNull(BridgePlan.ofSipOffer(sipOffer("RTP/AVP", "1 AES_CM_128_HMAC_SHA1_80 inline:" + KEY), optionalOverUdp)
                .section(0).sipCrypto());
        // required: nothing can be bridged
        SdpException required = assertThrows(SdpException.class, () -> BridgePlan.ofSipOffer(sipOffer("RTP/AVP"),
                new SipSrtp(SipSrtp.Mode.REQUIRED, OVER_UDP)));
        assertTrue(required.getMessage().endsWith("SRTP is required (gateway.sip.srtp = required), but " + OVER_UDP),
                required.getMessage());
    }

    @Test
    void requiredRefusesPlainRtp() {
        SdpException e = assertThrows(SdpException.class, () -> BridgePlan.ofSipOffer(sipOffer("RTP/AVP"), REQUIRED));
        assertEquals(SdpException.Reason.UNSUPPORTED_PROFILE, e.reason());
        assertEquals("\"m=audio 6000 RTP/AVP 8 101\": profile RTP/AVP without a=crypto is plain RTP, refused:"
                + " gateway.sip.srtp = required", e.getMessage());
        SdpException savp = assertThrows(SdpException.class, () -> BridgePlan.ofSipOffer(sipOffer("RTP/SAVP"), OPTIONAL));
        assertEquals(SdpException.Reason.MISSING_KEYING, savp.reason());
        assertTrue(savp.getMessage().endsWith("profile RTP/SAVP without a=crypto: SRTP toward SIP is keyed with SDES"
                + " (RFC 4568) only"), savp.getMessage());
    }

    /** Bad a=crypto lines: each refusal names the line (its key masked) and the problem. */
    @Test
    void badCryptoLinesAreRefusedWithTheirProblem() {
        String shortKey = "AAECAwQFBgcICQoLDA0ODxAREhMU"; // 21 bytes
        Map<String, String> cases = Map.of(
                "1 AES_CM_128_HMAC_SHA1_80 inline:" + shortKey, "inline key||salt must be 30 bytes, got 21",
                "1 AES_CM_256_HMAC_SHA1_80 inline:" + KEY, "unsupported crypto suite 'AES_CM_256_HMAC_SHA1_80'",
                "1 AES_CM_128_HMAC_SHA1_80 inline:" + KEY + ";inline:" + KEY,
                "more than one key in a crypto attribute is not supported",
                "1 AES_CM_128_HMAC_SHA1_80 inline:" + KEY + "|2^31|1:0", "MKI length must be 1 to 128, got 0",
                "1 AES_CM_128_HMAC_SHA1_80 inline:" + KEY + "|256:1", "MKI value 256 does not fit in 1 bytes",
                "1 AES_CM_128_HMAC_SHA1_80 " + KEY, "key method must be 'inline:'",
                "1 AES_CM_128_HMAC_SHA1_80 inline:" + KEY + " KDR=1", "session parameter KDR is not supported",
                "1 AES_CM_128_HMAC_SHA1_80", "crypto attribute needs '<tag> <suite> <key-params>'");
        cases.forEach((line, problem) -> {
            SdpException e = assertThrows(SdpException.class,
                    () -> BridgePlan.ofSipOffer(sipOffer("RTP/SAVP", line), REQUIRED), line);
            assertEquals(SdpException.Reason.MISSING_KEYING, e.reason(), line);
            assertTrue(e.getMessage().contains("no usable a=crypto in RTP/SAVP section: \"a=crypto:1 "), e.getMessage());
            assertTrue(e.getMessage().contains(problem), line + " -> " + e.getMessage());
            assertFalse(e.getMessage().contains(KEY) || e.getMessage().contains(shortKey), "no key material: "
                    + e.getMessage());
        });
    }

    @Test
    void theBrowserNeverSeesTheSipSidesKeys() {
        SessionDescription offer = sipOffer("RTP/SAVP", "1 AES_CM_128_HMAC_SHA1_80 inline:" + KEY);
        String browser = SdpWriter.write(SipToWebRtc.offer(offer, SdpFixtures.DTLS_ACTPASS, SdpFixtures.BROWSER_ORIGIN,
                List.of(), REQUIRED));
        assertTrue(browser.contains("m=audio 9 UDP/TLS/RTP/SAVPF 8 101") || browser.contains("UDP/TLS/RTP/SAVPF 8 101"),
                browser);
        assertFalse(browser.contains("a=crypto"), browser);
    }

    @Test
    void aSavpAnswerToOurOfferIsBridged() {
        SessionDescription browserOffer = SdpFixtures.parsed("chrome-offer");
        SessionDescription ours = WebRtcToSip.offer(browserOffer, keyedAudioVideo(true, OUR_80, OUR_32), SIP_ORIGIN);
        String answerText = SdpWriter.write(ours).replace("m=audio 20000", "m=audio 40000")
                .replace("a=crypto:" + OUR_80 + "\r\n", "").replace("a=crypto:" + OUR_32,
                        "a=crypto:2 AES_CM_128_HMAC_SHA1_32 inline:" + KEY);
        SessionDescription answer = SdpParser.parse(answerText);
        Negotiation n = Negotiation.of(browserOffer, ours, answer);
        assertTrue(n.audio().isPresent() && n.audio().get().active(), n.toString());
        String browserAnswer = SdpWriter.write(SipToWebRtc.answer(browserOffer, answer, SdpFixtures.DTLS_ACTIVE,
                SdpFixtures.BROWSER_ORIGIN));
        assertFalse(browserAnswer.contains("a=crypto"), browserAnswer);
    }
}
