package io.webrtcgateway.sdp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

class SdpParserTest {

    static List<String> inputNames() {
        return SdpFixtures.inputNames();
    }

    /** Every golden input is written in RFC order, so parse + write must give back the same bytes. */
    @ParameterizedTest
    @MethodSource("inputNames")
    void writesBackWhatItRead(String name) {
        String text = SdpFixtures.input(name);
        assertEquals(text, SdpWriter.write(SdpParser.parse(text)));
    }

    @ParameterizedTest
    @MethodSource("inputNames")
    void acceptsLfLineEndsAndWritesCrlf(String name) {
        String crlf = SdpFixtures.input(name);
        String lf = crlf.replace("\r\n", "\n");
        assertEquals(crlf, SdpWriter.write(SdpParser.parse(lf)));
    }

    @Test
    void readsTheStructure() {
        SessionDescription sdp = SdpFixtures.parsed("chrome-offer");
        assertEquals(new Origin("-", "4611731400430051336", "2", "IN", "IP4", "127.0.0.1"), sdp.origin());
        assertEquals("-", sdp.sessionName());
        assertNull(sdp.connection());
        assertEquals(List.of("0", "1"), sdp.bundleGroup());
        assertEquals(2, sdp.media().size());
        MediaDescription audio = sdp.media().get(0);
        assertEquals("audio", audio.media());
        assertEquals(54113, audio.port());
        assertEquals("UDP/TLS/RTP/SAVPF", audio.protocol());
        assertEquals(List.of("111", "63", "9", "0", "8", "13", "110", "126"), audio.formats());
        assertEquals(new Connection("IN", "IP4", "203.0.113.45"), audio.connection());
        assertEquals("kD3s", audio.attribute("ice-ufrag").orElseThrow());
        assertEquals(2, audio.attributeValues("candidate").size());
        assertTrue(audio.hasAttribute("rtcp-mux"));
        assertEquals("", audio.attribute("rtcp-mux").orElseThrow());
        assertEquals("0", audio.mid().orElseThrow());
    }

    @Test
    void keepsUnknownAndUnmodelledLinesInOrder() {
        String text = String.join("\r\n",
                "v=0",
                "o=- 1 1 IN IP4 192.0.2.1",
                "s=call",
                "i=session info",
                "u=http://example.com/x",
                "e=ops@example.com",
                "c=IN IP4 192.0.2.1",
                "b=AS:128",
                "t=0 0",
                "r=7d 1h 0 25h",
                "t=3034423619 3042462419",
                "z=2882844526 -1h",
                "y=unknown session line",
                "a=x-session-thing:1",
                "a=recvonly",
                "m=audio 5000/2 RTP/AVP 0 96",
                "i=audio info",
                "c=IN IP4 192.0.2.2/127",
                "b=TIAS:64000",
                "x=unknown media line",
                "a=x-vendor:with:colons",
                "a=rtpmap:96 L16/16000",
                "a=property",
                "a=empty:",
                "m=text 5002 RTP/AVP 98",
                "a=rtpmap:98 t140/1000",
                "") ;
        SessionDescription sdp = SdpParser.parse(text);
        assertEquals(text, SdpWriter.write(sdp));
        MediaDescription audio = sdp.media().get(0);
        assertEquals(2, audio.portCount());
        assertEquals("with:colons", audio.attribute("x-vendor").orElseThrow());
        assertEquals(new Attribute("property", null), audio.attributes().get(2));
        assertEquals(new Attribute("empty", ""), audio.attributes().get(3));
        assertEquals(List.of(new SdpLine('i', "audio info"), new SdpLine('b', "TIAS:64000"),
                new SdpLine('x', "unknown media line")), audio.otherLines());
        assertEquals(3, sdp.timing().size()); // t, r, t; z= is kept with the other lines
    }

    @Test
    void writesLinesInRfcOrderWhateverTheInputOrder() {
        // Attributes before c= and b= after a=: accepted, and written back in RFC 8866 §5 order.
        String text = "v=0\no=- 1 1 IN IP4 192.0.2.1\ns=-\nt=0 0\na=sendrecv\nc=IN IP4 192.0.2.1\n"
                + "m=audio 5000 RTP/AVP 0\na=ptime:20\nb=AS:64\nc=IN IP4 192.0.2.3\n";
        assertEquals("v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\na=sendrecv\r\n"
                        + "m=audio 5000 RTP/AVP 0\r\nc=IN IP4 192.0.2.3\r\nb=AS:64\r\na=ptime:20\r\n",
                SdpWriter.write(SdpParser.parse(text)));
    }

    @Test
    void skipsBlankLinesAndToleratesExtraSpaces() {
        SessionDescription sdp = SdpParser.parse(
                "v=0\r\n\r\no=-  1 1 IN IP4  192.0.2.1\r\ns=-\r\nt=0 0\r\nm=audio  5000 RTP/AVP  0 8 \r\n\r\n\r\n");
        assertEquals("192.0.2.1", sdp.origin().address());
        assertEquals(List.of("0", "8"), sdp.media().get(0).formats());
    }

    @Test
    void aNonRtpSectionMayHaveNonNumericFormats() {
        SessionDescription sdp = SdpParser.parse(
                "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nt=0 0\r\nm=image 0 udptl t38\r\n"
                        + "m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\n");
        assertEquals(List.of("t38"), sdp.media().get(0).formats());
        assertFalse(sdp.media().get(0).isActive());
    }

    @Test
    void bundleOnlyWithPortZeroIsActive() {
        MediaDescription video = SdpFixtures.parsed("firefox-offer").media().get(1);
        assertEquals(0, video.port());
        assertTrue(video.isActive());
    }

    @Test
    void originVersionsGoUpByOne() {
        Origin o = Origin.of("webrtc-gateway", 42, 7, "2001:db8::5");
        assertEquals("o=webrtc-gateway 42 7 IN IP6 2001:db8::5", o.toString());
        assertEquals("8", o.nextVersion().sessionVersion());
        Origin big = new Origin("-", "1", "18446744073709551615", "IN", "IP4", "192.0.2.1");
        assertEquals("18446744073709551616", big.nextVersion().sessionVersion());
    }
}
