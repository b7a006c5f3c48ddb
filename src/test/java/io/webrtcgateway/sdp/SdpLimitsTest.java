package io.webrtcgateway.sdp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import org.junit.jupiter.api.Test;

/** gateway.limits.max-media-sections and max-sdp-bytes, applied by the parser before anything is built. */
class SdpLimitsTest {
    private static final SdpLimits LIMITS = new SdpLimits(32_768, 4);

    private static String withAudioSections(int n) {
        StringBuilder sdp = new StringBuilder("v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n");
        for (int i = 0; i < n; i++) {
            sdp.append("m=audio ").append(4000 + 2 * i).append(" RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n");
        }
        return sdp.toString();
    }

    @Test
    void asManySectionsAsAllowedParse() {
        assertEquals(4, SdpParser.parse(withAudioSections(4), LIMITS).media().size());
        for (String name : SdpFixtures.inputNames()) {
            SdpParser.parse(SdpFixtures.input(name), LIMITS); // every real SDP of the golden tests is within the defaults
        }
    }

    @Test
    void oneSectionMoreIsRefusedNamingTheKey() {
        SdpException e = assertThrows(SdpException.class, () -> SdpParser.parse(withAudioSections(5), LIMITS));
        assertEquals(SdpException.Reason.TOO_LARGE, e.reason());
        assertTrue(e.getMessage().contains("gateway.limits.max-media-sections"), e.getMessage());
    }

    @Test
    void aHundredThousandSectionsAreRefusedAtTheFifth() {
        // Within the size limit only with the size check off: the m-line count alone must stop it early.
        String huge = withAudioSections(100_000);
        long start = System.nanoTime();
        SdpException e = assertThrows(SdpException.class,
                () -> SdpParser.parse(huge, new SdpLimits(Integer.MAX_VALUE, 4)));
        assertEquals(SdpException.Reason.TOO_LARGE, e.reason());
        assertTrue(e.getMessage().contains("more than 4 media sections"), e.getMessage());
        // Generous: what is being checked is that nothing is built per m-line past the fourth.
        assertTrue(Duration.ofNanos(System.nanoTime() - start).toSeconds() < 10);
    }

    @Test
    void aLargerSdpIsRefusedBeforeItIsSplitIntoLines() {
        String big = withAudioSections(1) + "a=x-pad:" + "x".repeat(40_000) + "\r\n";
        SdpException e = assertThrows(SdpException.class, () -> SdpParser.parse(big, LIMITS));
        assertEquals(SdpException.Reason.TOO_LARGE, e.reason());
        assertTrue(e.getMessage().contains("gateway.limits.max-sdp-bytes"), e.getMessage());
    }

    @Test
    void theSizeIsCountedInUtf8Bytes() {
        String base = withAudioSections(1);
        SdpLimits tight = new SdpLimits(base.length() + 10, 4);
        SdpParser.parse(base + "a=n:ab\r\n", tight); // 8 bytes
        SdpParser.parse(base + "a=n:\ud83d\ude00\r\n", tight); // 10 bytes: a surrogate pair is 4
        // 9 and 10 characters, but 12 and 14 bytes:
        assertThrows(SdpException.class, () -> SdpParser.parse(base + "a=n:\u00e9\u00e9\u00e9\r\n", tight));
        assertThrows(SdpException.class, () -> SdpParser.parse(base + "a=n:\ud83d\ude00\ud83d\ude00\r\n", tight));
    }

    @Test
    void theLimitsMustBePositive() {
        assertThrows(IllegalArgumentException.class, () -> new SdpLimits(0, 4));
        assertThrows(IllegalArgumentException.class, () -> new SdpLimits(1024, 0));
    }
}
