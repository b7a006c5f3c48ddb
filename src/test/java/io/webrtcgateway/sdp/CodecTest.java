package io.webrtcgateway.sdp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class CodecTest {

    private static MediaDescription section(String mLineAndAttributes) {
        return SdpParser.parse("v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n"
                + mLineAndAttributes).media().get(0);
    }

    private static Codec codec(int pt, String name, int clock, int channels, String fmtp) {
        return new Codec(pt, name, clock, channels, fmtp, List.of());
    }

    @Test
    void staticPayloadTypesNeedNoRtpmap() {
        List<Codec> codecs = Codec.parseAll(section("m=audio 5000 RTP/AVP 0 8 9 18 96\r\n"));
        // 96 has no rtpmap and no static meaning: left out.
        assertEquals(List.of(codec(0, "PCMU", 8000, 1, null), codec(8, "PCMA", 8000, 1, null),
                codec(9, "G722", 8000, 1, null), codec(18, "G729", 8000, 1, null)), codecs);
    }

    @Test
    void readsRtpmapFmtpAndFeedbackInMLineOrder() {
        List<Codec> codecs = Codec.parseAll(section("m=video 5000 RTP/AVPF 100 96\r\n"
                + "a=rtcp-fb:* nack\r\na=rtpmap:96 VP8/90000\r\na=fmtp:100 packetization-mode=1\r\n"
                + "a=rtcp-fb:96 ccm fir\r\na=rtpmap:100 H264/90000\r\n"));
        assertEquals(new Codec(100, "H264", 90000, 1, "packetization-mode=1", List.of("nack")), codecs.get(0));
        assertEquals(new Codec(96, "VP8", 90000, 1, null, List.of("nack", "ccm fir")), codecs.get(1));
        assertEquals("opus/48000/2", codec(111, "opus", 48000, 2, null).rtpmap());
        assertEquals("G722/8000", codec(9, "G722", 8000, 1, null).rtpmap());
    }

    @Test
    void sameCodecIgnoresNumbersAndCase() {
        Codec te8k = codec(126, "telephone-event", 8000, 1, null);
        assertTrue(codec(101, "TELEPHONE-EVENT", 8000, 1, "0-16").sameCodecAs(te8k));
        assertFalse(codec(110, "telephone-event", 48000, 1, null).sameCodecAs(te8k));
        // RFC 7587: Opus is always written /2; a peer that writes /1 still means Opus.
        assertTrue(codec(111, "opus", 48000, 2, null).sameCodecAs(codec(107, "opus", 48000, 1, null)));
        assertFalse(codec(9, "G722", 8000, 1, null).sameCodecAs(codec(9, "G722", 8000, 2, null)));
    }

    @Test
    void h264NeedsTheSamePacketizationModeAndProfile() {
        Codec cb1 = codec(109, "H264", 90000, 1,
                "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f");
        assertTrue(cb1.sameCodecAs(codec(99, "H264", 90000, 1, "packetization-mode=1;profile-level-id=42E015")),
                "a lower level is the same codec");
        assertFalse(cb1.sameCodecAs(codec(115, "H264", 90000, 1, "packetization-mode=0;profile-level-id=42e01f")));
        assertFalse(cb1.sameCodecAs(codec(103, "H264", 90000, 1, "packetization-mode=1;profile-level-id=42001f")));
        assertTrue(codec(97, "H264", 90000, 1, null).sameCodecAs(
                codec(98, "H264", 90000, 1, "profile-level-id=420010")), "RFC 6184 defaults");
    }

    @Test
    void fmtpParameters() {
        assertEquals(java.util.Map.of("minptime", "10", "useinbandfec", "1"),
                codec(111, "opus", 48000, 2, "minptime=10; useinbandfec=1").fmtpParameters());
    }

    @Test
    void nonRtpSectionsHaveNoCodecs() {
        assertEquals(List.of(), Codec.parseAll(section("m=image 5000 udptl t38\r\n")));
    }

    @Test
    void theBridgeRelaysOnlyWhatBothSidesDecode() {
        assertTrue(BridgedCodecs.accepts("audio", codec(0, "PCMU", 8000, 1, null)));
        assertTrue(BridgedCodecs.accepts("audio", codec(111, "opus", 48000, 2, null)));
        assertTrue(BridgedCodecs.accepts("audio", codec(110, "telephone-event", 48000, 1, null)));
        assertTrue(BridgedCodecs.accepts("video", codec(96, "VP8", 90000, 1, null)));
        assertTrue(BridgedCodecs.accepts("video", codec(97, "h264", 90000, 1, null)));
        for (String repair : List.of("rtx", "red", "ulpfec", "flexfec-03", "CN", "ISAC", "G729")) {
            assertFalse(BridgedCodecs.accepts("audio", codec(100, repair, 8000, 1, null)), repair);
            assertFalse(BridgedCodecs.accepts("video", codec(100, repair, 90000, 1, null)), repair);
        }
        assertFalse(BridgedCodecs.accepts("video", codec(98, "VP9", 90000, 1, null)));
        assertFalse(BridgedCodecs.accepts("audio", codec(96, "VP8", 90000, 1, null)), "video codec in audio");
    }
}
