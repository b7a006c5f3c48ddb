package io.webrtcgateway.sdp;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * What the SDP fuzz targets share: input bytes as the text that arrives (UTF-8, as in a JSON string or a SIP
 * body), the one outcome allowed besides success ({@link SdpException}), and the check that whatever a
 * translation writes parses back to the same text.
 */
final class SdpFuzzing {
    private SdpFuzzing() {}

    /** The parsed input, or null when the parser refused it with SdpException. */
    static SessionDescription parseOrNull(byte[] input) {
        try {
            return SdpParser.parse(new String(input, StandardCharsets.UTF_8));
        } catch (SdpException refused) {
            return null;
        }
    }

    /** Runs one translation; SdpException is a refusal, anything else (and IllegalArgumentException) fails. */
    static void attempt(Runnable translation) {
        try {
            translation.run();
        } catch (SdpException refused) {
            // bad or unbridgeable SDP: the call layer answers 488 or an error
        }
    }

    static void writesWhatItReads(SessionDescription written) {
        String text = SdpWriter.write(written);
        assertEquals(text, SdpWriter.write(SdpParser.parse(text)));
    }

    /** The gateway's RTP ports for a plan, as the media layer allocates them. */
    static SipMediaEndpoint ports(int count) {
        List<Integer> ports = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            ports.add(20000 + 2 * i);
        }
        return new SipMediaEndpoint(SdpFixtures.GATEWAY_ADDRESS, ports);
    }

    /** How the call layer picks its keying for an answer: DTLS in the role the offer allows, else SDES. */
    static WebRtcTransportParams answeringTransport(WebRtcTransportParams browser) {
        if (browser.fingerprint() != null) {
            SetupRole role = SetupRole.answerFor(browser.setup());
            if (role == null) {
                throw new SdpException(SdpException.Reason.MALFORMED, "holdconn: nothing to answer");
            }
            return WebRtcTransportParams.dtls(SdpFixtures.UFRAG, SdpFixtures.PWD, SdpFixtures.GATEWAY_FINGERPRINT,
                    role, SdpFixtures.GATEWAY_CANDIDATES);
        }
        return SdpFixtures.SDES;
    }
}
