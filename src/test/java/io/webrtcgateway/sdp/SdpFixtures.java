package io.webrtcgateway.sdp;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.List;

/** The gateway's side of every golden case, and access to the files under src/test/resources/sdp. */
final class SdpFixtures {
    private SdpFixtures() {}

    static final String GATEWAY_ADDRESS = "192.0.2.50";
    static final Origin SIP_ORIGIN = Origin.of("webrtc-gateway", 7300000001L, 1, GATEWAY_ADDRESS);
    static final Origin BROWSER_ORIGIN = Origin.of("webrtc-gateway", 7300000002L, 1, GATEWAY_ADDRESS);

    static final Fingerprint GATEWAY_FINGERPRINT = new Fingerprint("sha-256",
            "4A:1F:9C:32:7B:E8:05:D6:6A:90:C3:2E:71:48:BF:0D:92:5C:A7:13:E4:68:3B:F9:20:DD:86:4C:15:A3:7E:B1");
    static final List<String> GATEWAY_CANDIDATES = List.of(
            "1 1 udp 2130706431 192.0.2.50 30000 typ host",
            "2 1 udp 1694498815 203.0.113.7 30000 typ srflx raddr 192.0.2.50 rport 30000");
    static final String UFRAG = "gW4y";
    static final String PWD = "Gw7nH2kqP9sVx3LmR8tYb5Zc";
    static final String CRYPTO = "1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz";

    /** The gateway answering a browser offer with actpass: DTLS client (RFC 5763 §5). */
    static final WebRtcTransportParams DTLS_ACTIVE =
            WebRtcTransportParams.dtls(UFRAG, PWD, GATEWAY_FINGERPRINT, SetupRole.ACTIVE, GATEWAY_CANDIDATES);
    /** The gateway offering to a browser. */
    static final WebRtcTransportParams DTLS_ACTPASS =
            WebRtcTransportParams.dtls(UFRAG, PWD, GATEWAY_FINGERPRINT, SetupRole.ACTPASS, GATEWAY_CANDIDATES);
    static final WebRtcTransportParams SDES = WebRtcTransportParams.sdes(UFRAG, PWD, CRYPTO, GATEWAY_CANDIDATES);

    static SipMediaEndpoint sipPorts(Integer... ports) {
        return SipMediaEndpoint.of(GATEWAY_ADDRESS, ports);
    }

    static String read(String path) {
        try (InputStream in = SdpFixtures.class.getResourceAsStream("/sdp/" + path)) {
            if (in == null) {
                throw new IllegalStateException("missing test resource sdp/" + path);
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static String input(String name) {
        return read("input/" + name + ".sdp");
    }

    static SessionDescription parsed(String name) {
        return SdpParser.parse(input(name));
    }

    static List<String> inputNames() {
        return List.of("asterisk-answer", "asterisk-answer-hold", "asterisk-answer-video", "asterisk-hold-offer",
                "asterisk-offer", "chrome-answer", "chrome-answer-hold", "chrome-offer", "chrome-reoffer-hold",
                "firefox-answer", "firefox-offer", "genesys-answer", "genesys-hold-offer", "genesys-offer",
                "grtc-dtls-offer", "grtc-sdes-offer", "safari-offer", "sipp-answer", "sipp-offer");
    }
}
