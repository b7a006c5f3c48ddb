package io.webrtcgateway.media;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.webrtcgateway.config.ConfigLoader;
import io.webrtcgateway.media.rtp.SourcePolicy;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** gateway.media.sip-source-policy and the latch/learn limits become the SIP-side sockets' SourcePolicy. */
class MediaEngineSourcePolicyTest {

    private static SourcePolicy policy(String hocon) {
        return MediaEngine.sourcePolicy(ConfigLoader.parse(hocon).media());
    }

    @Test
    void eachConfigNameMapsToItsPolicy() {
        assertEquals(SourcePolicy.LEARNING, policy(""));
        assertEquals(SourcePolicy.LATCHING, policy("gateway.media.sip-source-policy = latching"));
        assertEquals(SourcePolicy.LATCHING_STRICT, policy("gateway.media.sip-source-policy = latching-strict"));
        assertEquals(SourcePolicy.SDP, policy("gateway.media.sip-source-policy = sdp"));
        assertEquals(SourcePolicy.SDP_STRICT, policy("gateway.media.sip-source-policy = sdp-strict"));
    }

    @Test
    void latchLimitsComeFromTheConfig() {
        assertEquals(new SourcePolicy(true, false, 5, Duration.ofMillis(300)),
                policy("gateway.media { sip-source-policy = latching, latch-packets = 5, latch-window = 300 ms }"));
        // without latching the limits don't apply
        assertEquals(SourcePolicy.SDP, policy("gateway.media { sip-source-policy = sdp, latch-packets = 5 }"));
    }

    @Test
    void learningLimitsComeFromTheConfig() {
        assertEquals(SourcePolicy.learning(8, Duration.ofMillis(500)),
                policy("gateway.media { learn-packets = 8, learn-silence = 500 ms }"));
        assertTrue(policy("").learning());
        assertFalse(policy("gateway.media { sip-source-policy = sdp-strict, learn-packets = 8 }").learning());
    }
}
