package io.webrtcgateway.sdp;

import static io.webrtcgateway.sdp.SdpFixtures.SIP_ORIGIN;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.webrtcgateway.testsupport.FuzzBudget;
import org.junit.jupiter.api.Tag;

/**
 * Browser SDP -> SIP SDP ({@link WebRtcToSip}) with the input in the browser's place: as the offer of an
 * outgoing call, and as the answer to a SIP offer (SIPp's) of an incoming one. Each either translates, to
 * SDP that reads back as itself, or throws SdpException.
 */
@Tag("fuzz")
class WebRtcToSipFuzzTest {
    private static final SessionDescription SIPP_OFFER = SdpFixtures.parsed("sipp-offer");
    private static final SessionDescription ASTERISK_OFFER = SdpFixtures.parsed("asterisk-offer");

    @FuzzTest(maxDuration = FuzzBudget.MAX_DURATION, maxExecutions = FuzzBudget.EXECUTIONS)
    void translatesOrRefuses(byte[] input) {
        SessionDescription browser = SdpFuzzing.parseOrNull(input);
        if (browser == null) {
            return;
        }
        SdpFuzzing.attempt(() -> {
            BridgePlan plan = BridgePlan.ofWebRtcOffer(browser);
            SdpFuzzing.writesWhatItReads(WebRtcToSip.offer(browser, SdpFuzzing.ports(plan.bridgedCount()), SIP_ORIGIN));
        });
        for (SessionDescription sipOffer : new SessionDescription[] {SIPP_OFFER, ASTERISK_OFFER}) {
            SdpFuzzing.attempt(() -> {
                BridgePlan plan = BridgePlan.ofSipOffer(sipOffer);
                SdpFuzzing.writesWhatItReads(WebRtcToSip.answer(sipOffer, browser,
                        SdpFuzzing.ports(plan.bridgedCount()), SIP_ORIGIN));
            });
        }
    }
}
