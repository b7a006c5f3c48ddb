package io.webrtcgateway.media;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.webrtcgateway.config.ConfigLoader;
import io.webrtcgateway.media.rtp.SourcePolicy;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** gateway.media.sip-source-policy and the latch limits become the SIP-side sockets' SourcePolicy. */
class MediaEngineSourcePolicyTest {

    private static SourcePolicy policy(String hocon) {
        return MediaEngine.sourcePolicy(ConfigLoader.parse(hocon).media());
    }

    @Test
    void eachConfigNameMapsToItsPolicy() {
        assertEquals(SourcePolicy.LATCHING, policy(""));
        assertEquals(SourcePolicy.LATCHING_STRICT, policy("gateway.media.sip-source-policy = latching-strict"));
        assertEquals(SourcePolicy.SDP, policy("gateway.media.sip-source-policy = sdp"));
        assertEquals(SourcePolicy.SDP_STRICT, policy("gateway.media.sip-source-policy = sdp-strict"));
    }

    @Test
    void latchLimitsComeFromTheConfig() {
        assertEquals(new SourcePolicy(true, false, 5, Duration.ofMillis(300)),
                policy("gateway.media { latch-packets = 5, latch-window = 300 ms }"));
        // without latching the limits don't apply
        assertEquals(SourcePolicy.SDP, policy("gateway.media { sip-source-policy = sdp, latch-packets = 5 }"));
    }
}
