package io.webrtcgateway.sdp;

import static io.webrtcgateway.sdp.SdpFixtures.BROWSER_ORIGIN;
import static io.webrtcgateway.sdp.SdpFixtures.DTLS_ACTPASS;
import static io.webrtcgateway.sdp.SdpFixtures.SDES;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.webrtcgateway.testsupport.FuzzBudget;
import java.util.List;
import org.junit.jupiter.api.Tag;

/**
 * SIP SDP -> browser SDP ({@link SipToWebRtc}) with the input in the SIP peer's place: as the offer of an
 * incoming call or re-INVITE (DTLS and SDES keying, new and kept mids), and as the answer to a browser's offer
 * (Chrome's DTLS one, grtc.js' SDES one) of an outgoing call. Each either translates, to SDP that reads back
 * as itself, or throws SdpException.
 */
@Tag("fuzz")
class SipToWebRtcFuzzTest {
    private static final SessionDescription CHROME_OFFER = SdpFixtures.parsed("chrome-offer");
    private static final SessionDescription GRTC_SDES_OFFER = SdpFixtures.parsed("grtc-sdes-offer");

    @FuzzTest(maxDuration = FuzzBudget.MAX_DURATION, maxExecutions = FuzzBudget.EXECUTIONS)
    void translatesOrRefuses(byte[] input) {
        SessionDescription sip = SdpFuzzing.parseOrNull(input);
        if (sip == null) {
            return;
        }
        SdpFuzzing.attempt(() -> SdpFuzzing.writesWhatItReads(SipToWebRtc.offer(sip, DTLS_ACTPASS, BROWSER_ORIGIN)));
        SdpFuzzing.attempt(() -> SdpFuzzing.writesWhatItReads(
                SipToWebRtc.offer(sip, SDES, BROWSER_ORIGIN, List.of("0", "audio"))));
        for (SessionDescription browserOffer : new SessionDescription[] {CHROME_OFFER, GRTC_SDES_OFFER}) {
            SdpFuzzing.attempt(() -> {
                WebRtcTransportParams browser = WebRtcTransportParams.fromBrowser(browserOffer);
                SdpFuzzing.writesWhatItReads(SipToWebRtc.answer(browserOffer, sip,
                        SdpFuzzing.answeringTransport(browser), BROWSER_ORIGIN));
            });
            SdpFuzzing.attempt(() -> Negotiation.of(browserOffer, sip, sip));
        }
    }
}
