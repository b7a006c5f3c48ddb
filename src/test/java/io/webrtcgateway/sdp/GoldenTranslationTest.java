package io.webrtcgateway.sdp;

import static io.webrtcgateway.sdp.SdpFixtures.BROWSER_ORIGIN;
import static io.webrtcgateway.sdp.SdpFixtures.DTLS_ACTIVE;
import static io.webrtcgateway.sdp.SdpFixtures.DTLS_ACTPASS;
import static io.webrtcgateway.sdp.SdpFixtures.SDES;
import static io.webrtcgateway.sdp.SdpFixtures.SIP_ORIGIN;
import static io.webrtcgateway.sdp.SdpFixtures.sipPorts;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.function.Function;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Input SDP -> expected SDP, byte for byte. The expected files under src/test/resources/sdp/expected were
 * written by hand and checked by eye (see the README there); nothing here ever writes them.
 */
class GoldenTranslationTest {

    /** One translation: its expected file and how to make it from parsed inputs (looked up by name). */
    record Case(String expected, Function<Function<String, SessionDescription>, SessionDescription> translate) {
        @Override
        public String toString() {
            return expected;
        }
    }

    static Stream<Arguments> cases() {
        return Stream.of(
                // Browser offer -> INVITE offer (outgoing call).
                toSipOffer("chrome-offer", 1, 20000, 20002),
                toSipOffer("chrome-reoffer-hold", 2, 20000),
                toSipOffer("firefox-offer", 1, 20000, 20002),
                toSipOffer("safari-offer", 1, 20000, 20002),
                toSipOffer("grtc-sdes-offer", 1, 20000),
                toSipOffer("grtc-dtls-offer", 1, 20000, 20002),
                // SIP answer -> answer to the browser (outgoing call).
                toWebRtcAnswer("chrome-offer", "asterisk-answer", DTLS_ACTIVE, 1),
                toWebRtcAnswer("chrome-reoffer-hold", "asterisk-answer-hold", DTLS_ACTIVE, 2),
                toWebRtcAnswer("firefox-offer", "genesys-answer", DTLS_ACTIVE, 1),
                toWebRtcAnswer("safari-offer", "sipp-answer", DTLS_ACTIVE, 1),
                toWebRtcAnswer("grtc-sdes-offer", "sipp-answer", SDES, 1),
                toWebRtcAnswer("grtc-dtls-offer", "asterisk-answer-video", DTLS_ACTIVE, 1),
                // SIP offer -> offer to the browser (incoming call, re-INVITE).
                toWebRtcOffer("sipp-offer", "webrtc-offer", DTLS_ACTPASS, List.of(), 1),
                toWebRtcOffer("sipp-offer", "webrtc-offer-sdes", SDES, List.of(), 1),
                toWebRtcOffer("asterisk-offer", "webrtc-offer", DTLS_ACTPASS, List.of(), 1),
                toWebRtcOffer("asterisk-hold-offer", "webrtc-offer", DTLS_ACTPASS, List.of("0", "1"), 2),
                toWebRtcOffer("genesys-offer", "webrtc-offer", DTLS_ACTPASS, List.of(), 1),
                toWebRtcOffer("genesys-hold-offer", "webrtc-offer", DTLS_ACTPASS, List.of("0", "1"), 2),
                // Browser answer -> answer toward SIP (incoming call).
                toSipAnswer("sipp-offer", "chrome-answer", 1, 20000),
                toSipAnswer("asterisk-offer", "firefox-answer", 1, 20000, 20002),
                toSipAnswer("genesys-hold-offer", "chrome-answer-hold", 2, 20000)
        ).map(Arguments::of);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void translatesAsExpected(Case c) {
        String expected = SdpFixtures.read("expected/" + c.expected());
        String actual = SdpWriter.write(c.translate().apply(SdpFixtures::parsed));
        assertEquals(expected, actual, "differs from expected/" + c.expected());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void sameOutputFromLfInputAndOnEveryRun(Case c) {
        String first = SdpWriter.write(c.translate().apply(SdpFixtures::parsed));
        String fromLf = SdpWriter.write(c.translate().apply(
                name -> SdpParser.parse(SdpFixtures.input(name).replace("\r\n", "\n"))));
        assertEquals(first, fromLf);
        assertEquals(first, SdpWriter.write(c.translate().apply(SdpFixtures::parsed)));
        // And what we write reads back as itself.
        assertEquals(first, SdpWriter.write(SdpParser.parse(first)));
    }

    private static Case toSipOffer(String browserOffer, long version, Integer... ports) {
        return new Case(browserOffer + ".sip-offer.sdp", in -> WebRtcToSip.offer(
                in.apply(browserOffer), sipPorts(ports), SIP_ORIGIN.withVersion(version)));
    }

    private static Case toWebRtcAnswer(String browserOffer, String sipAnswer, WebRtcTransportParams local,
                                       long version) {
        return new Case(browserOffer + "+" + sipAnswer + ".webrtc-answer.sdp", in -> SipToWebRtc.answer(
                in.apply(browserOffer), in.apply(sipAnswer), local, BROWSER_ORIGIN.withVersion(version)));
    }

    private static Case toWebRtcOffer(String sipOffer, String kind, WebRtcTransportParams local, List<String> mids,
                                      long version) {
        return new Case(sipOffer + "." + kind + ".sdp", in -> SipToWebRtc.offer(
                in.apply(sipOffer), local, BROWSER_ORIGIN.withVersion(version), mids));
    }

    private static Case toSipAnswer(String sipOffer, String browserAnswer, long version, Integer... ports) {
        return new Case(sipOffer + "+" + browserAnswer + ".sip-answer.sdp", in -> WebRtcToSip.answer(
                in.apply(sipOffer), in.apply(browserAnswer), sipPorts(ports), SIP_ORIGIN.withVersion(version)));
    }
}
