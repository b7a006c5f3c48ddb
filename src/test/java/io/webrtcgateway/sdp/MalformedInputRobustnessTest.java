package io.webrtcgateway.sdp;

import static io.webrtcgateway.sdp.SdpFixtures.BROWSER_ORIGIN;
import static io.webrtcgateway.sdp.SdpFixtures.DTLS_ACTIVE;
import static io.webrtcgateway.sdp.SdpFixtures.DTLS_ACTPASS;
import static io.webrtcgateway.sdp.SdpFixtures.SIP_ORIGIN;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Damaged versions of every golden input (truncated, a line missing, random edits with a fixed seed) go
 * through every entry point in every role. Each call either works or throws SdpException: never a
 * NullPointerException, IndexOutOfBoundsException, NumberFormatException or IllegalArgumentException.
 * And whatever a translation writes parses back to the same text.
 */
class MalformedInputRobustnessTest {

    private static final String ALPHABET = " :/=\r\n\t0123456789abcmvtsoAPTIN-.*;\0\u00e9";
    private static final SessionDescription CHROME_OFFER = SdpFixtures.parsed("chrome-offer");
    private static final SessionDescription SIPP_OFFER = SdpFixtures.parsed("sipp-offer");
    private static final SessionDescription SIPP_ANSWER = SdpFixtures.parsed("sipp-answer");
    private static final SessionDescription CHROME_ANSWER = SdpFixtures.parsed("chrome-answer");

    static List<String> inputNames() {
        return SdpFixtures.inputNames();
    }

    @ParameterizedTest
    @MethodSource("inputNames")
    void damagedInputFailsCleanly(String name) {
        String text = SdpFixtures.input(name);
        for (String variant : damaged(text, new Random(name.hashCode()))) {
            exercise(variant);
        }
    }

    @Test
    void randomGarbageFailsCleanly() {
        Random random = new Random(7);
        for (int i = 0; i < 2000; i++) {
            StringBuilder sb = new StringBuilder("v=0\r\n");
            int n = random.nextInt(200);
            for (int j = 0; j < n; j++) {
                sb.append(random.nextInt(4) == 0 ? ALPHABET.charAt(random.nextInt(ALPHABET.length()))
                        : (char) (0x20 + random.nextInt(0x5f)));
            }
            exercise(sb.toString());
        }
    }

    @Test
    void hugeInputWithinTheMessageLimitIsCheap() {
        // 64 KiB (the signaling size limit) of repeated payload types and m-lines: must not go quadratic or worse.
        StringBuilder sdp = new StringBuilder("v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\n");
        sdp.append("c=IN IP4 192.0.2.1\r\nt=0 0\r\n");
        sdp.append("m=audio 5000 RTP/AVP").append(" 0 101".repeat(5000)).append("\r\n");
        sdp.append("a=rtpmap:101 telephone-event/8000\r\n");
        sdp.append("m=audio 0 RTP/AVP 0\r\n".repeat(1000));
        assertTimeoutPreemptively(Duration.ofSeconds(10), () -> {
            SessionDescription offer = SdpParser.parse(sdp.toString());
            SessionDescription browserOffer = SipToWebRtc.offer(offer, DTLS_ACTPASS, BROWSER_ORIGIN);
            assertEquals(1001, browserOffer.media().size());
            NegotiatedMedia audio = Negotiation.of(browserOffer, offer, offer).audio().orElseThrow();
            assertEquals(2, audio.codecs().size());
        });
    }

    private static List<String> damaged(String text, Random random) {
        List<String> variants = new ArrayList<>();
        // Truncated at each line end, inside the last token of each line, and at random places.
        for (int end = text.indexOf('\n'); end >= 0; end = text.indexOf('\n', end + 1)) {
            variants.add(text.substring(0, end + 1));
            variants.add(text.substring(0, Math.max(0, end - 3)));
        }
        for (int i = 0; i < 100; i++) {
            variants.add(text.substring(0, random.nextInt(text.length())));
        }
        String[] lines = text.split("\r\n");
        for (int skip = 0; skip < lines.length; skip++) {
            StringBuilder sb = new StringBuilder();
            for (int i = 0; i < lines.length; i++) {
                if (i != skip) {
                    sb.append(lines[i]).append("\r\n");
                }
            }
            variants.add(sb.toString());
        }
        for (int i = 0; i < 200; i++) {
            StringBuilder sb = new StringBuilder(text);
            for (int edits = 1 + random.nextInt(3); edits > 0 && sb.length() > 0; edits--) {
                int at = random.nextInt(sb.length());
                char c = ALPHABET.charAt(random.nextInt(ALPHABET.length()));
                switch (random.nextInt(3)) {
                    case 0 -> sb.setCharAt(at, c);
                    case 1 -> sb.insert(at, c);
                    default -> sb.deleteCharAt(at);
                }
            }
            variants.add(sb.toString());
        }
        return variants;
    }

    private static void exercise(String text) {
        SessionDescription sdp;
        try {
            sdp = SdpParser.parse(text);
        } catch (SdpException expected) {
            return;
        } catch (RuntimeException e) {
            throw failure("parse", text, e);
        }
        attempt(text, "as browser offer -> SIP offer", () -> {
            BridgePlan plan = BridgePlan.ofWebRtcOffer(sdp);
            check(WebRtcToSip.offer(sdp, ports(plan.bridgedCount()), SIP_ORIGIN));
        });
        attempt(text, "as browser offer -> answer from SIPp", () -> {
            WebRtcTransportParams browser = WebRtcTransportParams.fromBrowser(sdp);
            check(SipToWebRtc.answer(sdp, SIPP_ANSWER, answeringTransport(browser), BROWSER_ORIGIN));
        });
        attempt(text, "as SIP offer -> browser offer",
                () -> check(SipToWebRtc.offer(sdp, DTLS_ACTPASS, BROWSER_ORIGIN)));
        attempt(text, "as SIP offer -> answer from Chrome", () -> {
            BridgePlan plan = BridgePlan.ofSipOffer(sdp);
            check(WebRtcToSip.answer(sdp, CHROME_ANSWER, ports(plan.bridgedCount()), SIP_ORIGIN));
        });
        attempt(text, "as SIP answer to Chrome", () -> check(SipToWebRtc.answer(CHROME_OFFER, sdp, DTLS_ACTIVE,
                BROWSER_ORIGIN)));
        attempt(text, "as browser answer to SIPp", () -> check(WebRtcToSip.answer(SIPP_OFFER, sdp, ports(1),
                SIP_ORIGIN)));
        attempt(text, "negotiation, all roles", () -> Negotiation.of(sdp, sdp, sdp));
        attempt(text, "negotiation as SIP peer", () -> Negotiation.of(CHROME_ANSWER, SIPP_ANSWER, sdp));
        attempt(text, "hold and codecs", () -> {
            Direction.isHold(sdp);
            for (MediaDescription m : sdp.media()) {
                Codec.parseAll(m);
                Direction.effective(sdp, m);
            }
        });
    }

    /** How the call layer picks its keying for an answer: DTLS in the role the offer allows, else SDES. */
    private static WebRtcTransportParams answeringTransport(WebRtcTransportParams browser) {
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

    private static SipMediaEndpoint ports(int count) {
        List<Integer> ports = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            ports.add(20000 + 2 * i);
        }
        return new SipMediaEndpoint(SdpFixtures.GATEWAY_ADDRESS, ports);
    }

    private static void check(SessionDescription written) {
        String text = SdpWriter.write(written);
        assertEquals(text, SdpWriter.write(SdpParser.parse(text)));
    }

    private static void attempt(String input, String what, Runnable action) {
        try {
            action.run();
        } catch (SdpException expected) {
            // A clear refusal is the right outcome for damaged input.
        } catch (RuntimeException | AssertionError e) {
            throw failure(what, input, e);
        }
    }

    private static AssertionError failure(String what, String input, Throwable e) {
        return new AssertionError(what + " threw " + e + " for input:\n" + input.replace("\r\n", "\n"), e);
    }
}
