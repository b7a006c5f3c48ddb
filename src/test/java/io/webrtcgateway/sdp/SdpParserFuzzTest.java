package io.webrtcgateway.sdp;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.webrtcgateway.testsupport.FuzzBudget;
import org.junit.jupiter.api.Tag;

/**
 * {@link SdpParser} and what reads a parsed SDP without translating it (codecs, directions, ICE/DTLS/SDES
 * parameters, bridge plans, negotiation outcome): SdpException or a result, nothing else; and what parses
 * writes back to text that parses to the same text.
 */
@Tag("fuzz")
class SdpParserFuzzTest {

    @FuzzTest(maxDuration = FuzzBudget.MAX_DURATION, maxExecutions = FuzzBudget.EXECUTIONS)
    void parsesOrRefuses(byte[] input) {
        SessionDescription sdp = SdpFuzzing.parseOrNull(input);
        if (sdp == null) {
            return;
        }
        SdpFuzzing.writesWhatItReads(sdp);
        SdpFuzzing.attempt(() -> Direction.isHold(sdp));
        for (MediaDescription m : sdp.media()) {
            SdpFuzzing.attempt(() -> Codec.parseAll(m));
            SdpFuzzing.attempt(() -> Direction.effective(sdp, m));
        }
        SdpFuzzing.attempt(() -> WebRtcTransportParams.fromBrowser(sdp));
        SdpFuzzing.attempt(() -> BridgePlan.ofWebRtcOffer(sdp));
        SdpFuzzing.attempt(() -> BridgePlan.ofSipOffer(sdp));
        SdpFuzzing.attempt(() -> Negotiation.of(sdp, sdp, sdp));
    }
}
