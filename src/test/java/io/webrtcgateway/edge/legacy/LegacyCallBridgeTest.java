package io.webrtcgateway.edge.legacy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.webrtcgateway.error.ErrorCode;
import io.webrtcgateway.error.GatewayException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class LegacyCallBridgeTest {
    private final ObjectMapper json = new ObjectMapper();

    @Test
    void candidatesGoToTheirSectionWithOrWithoutPrefix() throws Exception {
        String sdp = "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\nm=audio 9 RTP/SAVPF 0\r\na=mid:audio\r\nm=video 9 RTP/SAVPF 96\r\na=mid:video\r\n";
        String merged = LegacyCallBridge.withCandidates(sdp, json.readTree("""
                [{"candidate":"a=candidate:1 1 udp 2122260223 192.0.2.1 5000 typ host","sdpMLineIndex":0,"sdpMid":"audio"},
                 {"candidate":"candidate:2 1 udp 2122260223 192.0.2.1 5002 typ host","sdpMLineIndex":1,"sdpMid":"video"}]"""));
        assertEquals("v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\nm=audio 9 RTP/SAVPF 0\r\na=mid:audio\r\n"
                + "a=candidate:1 1 udp 2122260223 192.0.2.1 5000 typ host\r\n"
                + "m=video 9 RTP/SAVPF 96\r\na=mid:video\r\na=candidate:2 1 udp 2122260223 192.0.2.1 5002 typ host\r\n", merged);
    }

    @Test
    void noCandidatesLeavesTheSdpAlone() throws Exception {
        assertEquals("v=0\r\n", LegacyCallBridge.withCandidates("v=0\r\n", json.readTree("[]")));
        assertEquals("v=0\r\n", LegacyCallBridge.withCandidates("v=0\r\n", null));
    }

    @Test
    void refusesWhatIsNotACandidate() throws Exception {
        assertThrows(GatewayException.class, () -> LegacyCallBridge.withCandidates("v=0\r\nm=audio 9 RTP/SAVPF 0\r\n",
                json.readTree("[{\"candidate\":\"a=fingerprint:sha-256 00\",\"sdpMLineIndex\":0}]")));
    }

    /**
     * Issue 13: sdpMLineIndex 1,000,000 used to make a million lists, 2147483647 exhausted the heap. An index
     * that names no m-line of the SDP is BAD_REQUEST, found before anything is made per index.
     */
    @ParameterizedTest
    @ValueSource(strings = {"2", "1000000", "2147483647", "2147483648", "-1", "1.5", "\"x\"", "true", "{}"})
    void anIndexThatNamesNoMLineIsBadRequest(String index) throws Exception {
        String sdp = "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\nm=audio 9 RTP/SAVPF 0\r\nm=video 9 RTP/SAVPF 96\r\n";
        GatewayException e = assertThrows(GatewayException.class, () -> LegacyCallBridge.withCandidates(sdp, json.readTree(
                "[{\"candidate\":\"candidate:1 1 udp 2122260223 192.0.2.1 5000 typ host\",\"sdpMLineIndex\":" + index + "}]")));
        assertEquals(ErrorCode.BAD_REQUEST, e.code());
        assertTrue(e.getMessage().contains("sdpMLineIndex"), e.getMessage());
    }

    @Test
    void theLastMLineAndAnIndexWrittenAsTextAreFine() throws Exception {
        String sdp = "v=0\r\nm=audio 9 RTP/SAVPF 0\r\nm=video 9 RTP/SAVPF 96\r\n";
        assertEquals("v=0\r\nm=audio 9 RTP/SAVPF 0\r\na=candidate:2 1 udp 1 192.0.2.1 5002 typ host\r\n"
                + "m=video 9 RTP/SAVPF 96\r\na=candidate:1 1 udp 1 192.0.2.1 5000 typ host\r\n",
                LegacyCallBridge.withCandidates(sdp, json.readTree("[{\"candidate\":\"candidate:1 1 udp 1 192.0.2.1 5000 typ host\","
                        + "\"sdpMLineIndex\":1},{\"candidate\":\"candidate:2 1 udp 1 192.0.2.1 5002 typ host\",\"sdpMLineIndex\":\"0\"}]")));
    }
}
