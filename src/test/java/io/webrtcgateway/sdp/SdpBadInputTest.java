package io.webrtcgateway.sdp;

import static io.webrtcgateway.sdp.SdpException.Reason.ANSWER_MISMATCH;
import static io.webrtcgateway.sdp.SdpException.Reason.MALFORMED;
import static io.webrtcgateway.sdp.SdpException.Reason.MISSING_ICE;
import static io.webrtcgateway.sdp.SdpException.Reason.MISSING_KEYING;
import static io.webrtcgateway.sdp.SdpException.Reason.NO_AUDIO;
import static io.webrtcgateway.sdp.SdpException.Reason.NO_COMMON_CODEC;
import static io.webrtcgateway.sdp.SdpException.Reason.UNSUPPORTED_PROFILE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.function.Consumer;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Every bad input gives an SdpException with a stable reason and a message naming the line and the problem. */
class SdpBadInputTest {

    private static final String HEAD = "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nt=0 0\r\n";
    private static final String SIP_HEAD = HEAD + "c=IN IP4 192.0.2.1\r\n";
    /** A valid browser offer to patch: ICE, DTLS, BUNDLE, one audio section. */
    private static final String BROWSER = HEAD + "a=group:BUNDLE 0\r\n"
            + "m=audio 9 UDP/TLS/RTP/SAVPF 111 0\r\nc=IN IP4 0.0.0.0\r\n"
            + "a=ice-ufrag:kD3s\r\na=ice-pwd:NgVf7pG0hX3Y8m1rQ2w9zTa4\r\n"
            + "a=fingerprint:sha-256 7B:8B:F0:65\r\na=setup:actpass\r\na=mid:0\r\na=rtcp-mux\r\n"
            + "a=rtpmap:111 opus/48000/2\r\na=rtpmap:0 PCMU/8000\r\n";

    static Stream<Arguments> parserCases() {
        return Stream.of(
                bad("empty body", "", "empty SDP"),
                bad("only blank lines", "\r\n  \r\n", "empty SDP"),
                bad("not SDP at all", "<html>", "line 1 \"<html>\": expected <type>=<value>"),
                bad("upper-case type", "V=0\r\n", "line 1 \"V=0\": expected <type>=<value> with a lower-case"),
                bad("version 1", "v=1\r\n", "line 1 \"v=1\": only SDP version 0 exists"),
                bad("no v= first", "o=- 1 1 IN IP4 192.0.2.1\r\n", "an SDP starts with v=0"),
                bad("no o= line", "v=0\r\ns=-\r\nt=0 0\r\n", "line 2 \"s=-\": o= must follow v="),
                bad("truncated o= line", "v=0\r\no=- 1 1 IN IP4\r\ns=-\r\nt=0 0\r\n", "o= needs 6 fields"),
                bad("no s= line", "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\nt=0 0\r\n", "s= must follow o="),
                // Found by SdpParserFuzzTest and WebRtcToSipFuzzTest: these leaked IllegalArgumentException.
                bad("form feed in o=", "v=0\r\no=- 1 1 IN IP4 192.0.2.1\f\r\ns=-\r\nt=0 0\r\n",
                        "line 2 \"o=- 1 1 IN IP4 192.0.2.1?\": a field holds a white-space character"),
                bad("vertical tab in c=", HEAD + "c=IN IP4\u000b 192.0.2.1\r\n",
                        "line 5 \"c=IN IP4? 192.0.2.1\": a field holds a white-space character"),
                bad("no t= line", "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\n", "missing t= line"),
                bad("bad t= line", "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nt=now 0\r\n", "\"t=now 0\": t= needs"),
                bad("r= before t=", "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nr=7d 1h 0\r\nt=0 0\r\n",
                        "r= must follow a t= line"),
                bad("second o= line", HEAD + "o=- 2 2 IN IP4 192.0.2.1\r\n",
                        "line 5 \"o=- 2 2 IN IP4 192.0.2.1\": o= appears twice"),
                bad("second v= line", HEAD + "v=0\r\n", "v= appears twice"),
                bad("truncated line", HEAD + "m", "line 5 \"m\": expected <type>=<value>"),
                bad("truncated m= line", HEAD + "m=audio\r\n",
                        "line 5 \"m=audio\": m= needs <media> <port> <proto> <fmt>"),
                bad("m= line without port", HEAD + "m=audio RTP/AVP 0\r\n",
                        "line 5 \"m=audio RTP/AVP 0\": port \"RTP/AVP\" is not a number"),
                bad("m= line without formats", HEAD + "m=audio 5000 RTP/AVP\r\n", "m= needs"),
                bad("negative port", HEAD + "m=audio -1 RTP/AVP 0\r\n", "port \"-1\" is not a number"),
                bad("port out of range", HEAD + "m=audio 70000 RTP/AVP 0\r\n", "port 70000 is out of range"),
                bad("huge port", HEAD + "m=audio 99999999999999999999 RTP/AVP 0\r\n", "is not a number"),
                bad("zero port count", HEAD + "m=audio 5000/0 RTP/AVP 0\r\n", "number of ports in \"5000/0\""),
                bad("non-numeric payload type", HEAD + "m=audio 5000 RTP/AVP PCMU\r\n",
                        "line 5 \"m=audio 5000 RTP/AVP PCMU\": payload type \"PCMU\" is not a number from 0 to 127"),
                bad("payload type over 127", HEAD + "m=audio 5000 RTP/AVP 0 128\r\n", "payload type \"128\""),
                bad("invalid profile token", HEAD + "m=audio 5000 RTP//AVP 0\r\n",
                        "protocol \"RTP//AVP\" is not a valid token"),
                bad("truncated c= line", HEAD + "c=IN IP4\r\n", "line 5 \"c=IN IP4\": c= needs 3 fields"),
                bad("two c= lines in a section",
                        HEAD + "m=audio 5000 RTP/AVP 0\r\nc=IN IP4 192.0.2.1\r\nc=IN IP4 192.0.2.2\r\n",
                        "more than one c= line"),
                bad("empty attribute", HEAD + "a=\r\n", "line 5 \"a=\": attribute name \"\" is not a valid token"),
                bad("attribute name with space", HEAD + "a=rtp map:0 PCMU/8000\r\n", "attribute name \"rtp map\""),
                bad("NUL character", HEAD + "a=tool:x\0y\r\n", "line 5 \"a=tool:x?y\": NUL character"),
                bad("stray CR", HEAD + "a=tool:x\ry\r\n", "stray CR inside a line"),
                bad("t= in a media section", HEAD + "m=audio 5000 RTP/AVP 0\r\nt=0 0\r\n",
                        "only allowed at session level"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("parserCases")
    void parserRefuses(String what, String sdp, String message) {
        SdpException e = assertThrows(SdpException.class, () -> SdpParser.parse(sdp));
        assertEquals(MALFORMED, e.reason());
        assertTrue(e.getMessage().contains(message), () -> "message: " + e.getMessage());
    }

    static Stream<Arguments> translationCases() {
        Consumer<String> toSipOffer = s -> WebRtcToSip.offer(SdpParser.parse(s), SdpFixtures.sipPorts(20000),
                SdpFixtures.SIP_ORIGIN);
        Consumer<String> toBrowserOffer = s -> SipToWebRtc.offer(SdpParser.parse(s), SdpFixtures.DTLS_ACTPASS,
                SdpFixtures.BROWSER_ORIGIN);
        Consumer<String> sipAnswer = s -> SipToWebRtc.answer(SdpParser.parse(BROWSER), SdpParser.parse(s),
                SdpFixtures.DTLS_ACTIVE, SdpFixtures.BROWSER_ORIGIN);
        return Stream.of(
                translation("unknown profile (SIP offer)", toBrowserOffer, UNSUPPORTED_PROFILE,
                        SIP_HEAD + "m=audio 5000 RTP/XYZ 0\r\n",
                        "\"m=audio 5000 RTP/XYZ 0\": profile RTP/XYZ is not supported on the SIP side"),
                translation("SRTP offered to the plain side", toBrowserOffer, UNSUPPORTED_PROFILE,
                        SIP_HEAD + "m=audio 5000 RTP/SAVP 0\r\na=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:x\r\n",
                        "profile RTP/SAVP"),
                translation("plain RTP from a browser", toSipOffer, UNSUPPORTED_PROFILE,
                        BROWSER.replace("UDP/TLS/RTP/SAVPF", "RTP/AVP"), "is not a WebRTC profile"),
                translation("no audio section", toBrowserOffer, NO_AUDIO,
                        SIP_HEAD + "m=video 5000 RTP/AVP 96\r\na=rtpmap:96 VP8/90000\r\n", "has no audio section"),
                translation("audio rejected in the offer", toBrowserOffer, NO_AUDIO,
                        SIP_HEAD + "m=audio 0 RTP/AVP 0\r\n", "every audio section of the offer is rejected"),
                translation("empty offer", toBrowserOffer, NO_AUDIO, SIP_HEAD, "has no audio section"),
                translation("only unsupported codecs", toBrowserOffer, NO_COMMON_CODEC,
                        SIP_HEAD + "m=audio 5000 RTP/AVP 18 13\r\na=rtpmap:18 G729/8000\r\n",
                        "no codec the gateway bridges (offered: 18 G729/8000, 13 CN/8000)"),
                translation("only telephone-event", toBrowserOffer, NO_COMMON_CODEC,
                        SIP_HEAD + "m=audio 5000 RTP/AVP 101\r\na=rtpmap:101 telephone-event/8000\r\n",
                        "no codec the gateway bridges"),
                translation("browser offer without common codec", toSipOffer, NO_COMMON_CODEC,
                        BROWSER.replace("111 0", "103").replace("a=rtpmap:111 opus/48000/2\r\na=rtpmap:0 PCMU/8000",
                                "a=rtpmap:103 ISAC/16000"), "offered: 103 ISAC/16000"),
                translation("truncated rtpmap", toBrowserOffer, MALFORMED,
                        SIP_HEAD + "m=audio 5000 RTP/AVP 96\r\na=rtpmap:96 opus\r\n",
                        "\"a=rtpmap:96 opus\": expected <payload type> <encoding name>/<clock rate>"),
                translation("rtpmap without encoding", toBrowserOffer, MALFORMED,
                        SIP_HEAD + "m=audio 5000 RTP/AVP 96\r\na=rtpmap:96\r\n", "\"a=rtpmap:96\": expected"),
                translation("non-numeric clock rate", toBrowserOffer, MALFORMED,
                        SIP_HEAD + "m=audio 5000 RTP/AVP 96\r\na=rtpmap:96 opus/fast/2\r\n", "clock rate \"fast\""),
                translation("non-numeric channels", toBrowserOffer, MALFORMED,
                        SIP_HEAD + "m=audio 5000 RTP/AVP 96\r\na=rtpmap:96 opus/48000/two\r\n",
                        "channel count \"two\""),
                translation("non-numeric rtpmap payload type", toBrowserOffer, MALFORMED,
                        SIP_HEAD + "m=audio 5000 RTP/AVP 0\r\na=rtpmap:x PCMU/8000\r\n",
                        "\"a=rtpmap:x PCMU/8000\": payload type \"x\" is not a number"),
                translation("two rtpmaps for one payload type", toBrowserOffer, MALFORMED,
                        SIP_HEAD + "m=audio 5000 RTP/AVP 96\r\na=rtpmap:96 PCMU/8000\r\na=rtpmap:96 PCMA/8000\r\n",
                        "second rtpmap for payload type 96"),
                translation("fmtp without parameters", toBrowserOffer, MALFORMED,
                        SIP_HEAD + "m=audio 5000 RTP/AVP 0 101\r\na=rtpmap:101 telephone-event/8000\r\na=fmtp:101\r\n",
                        "\"a=fmtp:101\": missing <format specific parameters>"),
                translation("rtcp-fb without type", toBrowserOffer, MALFORMED,
                        SIP_HEAD + "m=audio 5000 RTP/AVP 0\r\na=rtcp-fb:0\r\n", "missing <feedback type>"),
                translation("SIP offer without c=", toBrowserOffer, MALFORMED,
                        HEAD + "m=audio 5000 RTP/AVP 0\r\n", "no c= line in the section or at session level"),
                translation("browser offer without ICE", toSipOffer, MISSING_ICE,
                        BROWSER.replace("a=ice-ufrag:kD3s\r\n", ""), "no a=ice-ufrag/a=ice-pwd"),
                translation("bad ICE ufrag", toSipOffer, MALFORMED,
                        BROWSER.replace("a=ice-ufrag:kD3s", "a=ice-ufrag:k=3s"), "\"a=ice-ufrag:k=3s\""),
                translation("browser offer without keying", toSipOffer, MISSING_KEYING,
                        BROWSER.replace("a=fingerprint:sha-256 7B:8B:F0:65\r\n", ""), "neither a=fingerprint"),
                translation("bad fingerprint", toSipOffer, MALFORMED,
                        BROWSER.replace("7B:8B:F0:65", "7B8BF065"), "\"a=fingerprint:sha-256 7B8BF065\""),
                translation("bad setup", toSipOffer, MALFORMED,
                        BROWSER.replace("a=setup:actpass", "a=setup:both"), "\"a=setup:both\": expected active"),
                translation("bad candidate", toSipOffer, MALFORMED,
                        BROWSER.replace("a=mid:0", "a=mid:0\r\na=candidate:1 1 udp 2130706431 192.0.2.9"),
                        "\"a=candidate:1 1 udp 2130706431 192.0.2.9\": expected <foundation>"),
                translation("candidate port out of range", toSipOffer, MALFORMED,
                        BROWSER.replace("a=mid:0",
                                "a=mid:0\r\na=candidate:1 1 udp 2130706431 192.0.2.9 65536 typ host"),
                        "port \"65536\""),
                translation("answer with more m-lines", sipAnswer, ANSWER_MISMATCH,
                        SIP_HEAD + "m=audio 5000 RTP/AVP 0\r\nm=video 0 RTP/AVP 96\r\n",
                        "the SIP answer has 2 m-line(s), the offer had 1"),
                translation("answer with another media type", sipAnswer, ANSWER_MISMATCH,
                        SIP_HEAD + "m=video 5000 RTP/AVP 96\r\n", "answers \"m=audio 9 UDP/TLS/RTP/SAVPF 111 0\""),
                translation("answer without common codec", sipAnswer, NO_COMMON_CODEC,
                        SIP_HEAD + "m=audio 5000 RTP/AVP 8\r\n",
                        "the SIP answer accepts no audio codec the offer has: \"m=audio 5000 RTP/AVP 8\""
                                + " (answered: 8 PCMA/8000)"),
                translation("answer rejecting audio", sipAnswer, NO_COMMON_CODEC,
                        SIP_HEAD + "m=audio 0 RTP/AVP 0\r\n", "the SIP answer rejects audio"),
                translation("answer without c=", sipAnswer, MALFORMED, HEAD + "m=audio 5000 RTP/AVP 0\r\n",
                        "no c= line"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("translationCases")
    void translationRefuses(String what, Consumer<String> translate, SdpException.Reason reason, String sdp,
                            String message) {
        SdpException e = assertThrows(SdpException.class, () -> translate.accept(sdp));
        assertEquals(reason, e.reason(), () -> "message: " + e.getMessage());
        assertTrue(e.getMessage().contains(message), () -> "message: " + e.getMessage());
    }

    private static Arguments bad(String what, String sdp, String message) {
        return Arguments.of(what, sdp, message);
    }

    private static Arguments translation(String what, Consumer<String> translate, SdpException.Reason reason,
                                         String sdp, String message) {
        return Arguments.of(what, translate, reason, sdp, message);
    }
}
