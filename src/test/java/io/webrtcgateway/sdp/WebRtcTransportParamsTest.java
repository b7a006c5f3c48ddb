package io.webrtcgateway.sdp;

import static io.webrtcgateway.sdp.SdpFixtures.parsed;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import org.junit.jupiter.api.Test;

class WebRtcTransportParamsTest {

    @Test
    void firefoxKeepsItsFingerprintAtSessionLevel() {
        WebRtcTransportParams ff = WebRtcTransportParams.fromBrowser(parsed("firefox-offer"));
        assertEquals("4d7e91a3", ff.iceUfrag());
        assertEquals("9c3f41d7a9d0e0f2c6b8a1e4d5f7a3b2", ff.icePwd());
        assertEquals("sha-256", ff.fingerprint().algorithm());
        assertEquals(SetupRole.ACTPASS, ff.setup());
        assertEquals(List.of(), ff.candidates(), "Firefox trickles");
        assertEquals(List.of(), ff.crypto());
    }

    @Test
    void legacySdesOffer() {
        WebRtcTransportParams grtc = WebRtcTransportParams.fromBrowser(parsed("grtc-sdes-offer"));
        assertNull(grtc.fingerprint());
        assertNull(grtc.setup());
        assertEquals(2, grtc.crypto().size());
        assertEquals("1 AES_CM_128_HMAC_SHA1_80 inline:7eQjTGxRKZGjV2dbPQmB3jT1fGvDHIJwaXX0dYlx", grtc.crypto().get(1));
        assertEquals("/FnmNIfITBcHYEwA", grtc.iceUfrag());
        assertEquals(3, grtc.candidates().size());
        assertEquals("192.168.1.23", grtc.defaultAddress());
        assertEquals(56502, grtc.defaultPort());
    }

    @Test
    void noCandidatesMeansTheDiscardPort() {
        WebRtcTransportParams p = WebRtcTransportParams.dtls("abcd", "0123456789abcdefghijkl",
                SdpFixtures.GATEWAY_FINGERPRINT, SetupRole.ACTPASS, List.of());
        assertEquals("0.0.0.0", p.defaultAddress());
        assertEquals(9, p.defaultPort());
    }

    @Test
    void candidatesMayComeWithTheirPrefix() {
        WebRtcTransportParams p = WebRtcTransportParams.sdes("abcd", "0123456789abcdefghijkl",
                "1 AES_CM_128_HMAC_SHA1_80 inline:x",
                List.of("a=candidate:1 1 udp 2130706431 2001:db8::1 40000 typ host"));
        assertEquals(List.of("1 1 udp 2130706431 2001:db8::1 40000 typ host"), p.candidates());
        assertEquals("2001:db8::1", p.defaultAddress());
    }

    @Test
    void refusesInconsistentParameters() {
        assertThrows(IllegalArgumentException.class, () -> new WebRtcTransportParams("abcd", "pwd", null, null,
                List.of(), List.of()));
        assertThrows(IllegalArgumentException.class, () -> new WebRtcTransportParams("abcd", "pwd",
                SdpFixtures.GATEWAY_FINGERPRINT, null, List.of(), List.of()));
        assertThrows(IllegalArgumentException.class, () -> WebRtcTransportParams.dtls("ab cd", "pwd",
                SdpFixtures.GATEWAY_FINGERPRINT, SetupRole.ACTIVE, List.of()));
        assertThrows(IllegalArgumentException.class, () -> WebRtcTransportParams.dtls("abcd", "pwd",
                SdpFixtures.GATEWAY_FINGERPRINT, SetupRole.ACTIVE, List.of("1 1 udp")));
        assertThrows(IllegalArgumentException.class, () -> new Fingerprint("sha-256", "zz"));
    }
}
