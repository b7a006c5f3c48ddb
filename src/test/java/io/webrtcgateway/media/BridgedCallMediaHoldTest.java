package io.webrtcgateway.media;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.webrtcgateway.sdp.Direction;
import io.webrtcgateway.sdp.SdpParser;
import io.webrtcgateway.sdp.SdpWriter;
import io.webrtcgateway.sdp.SessionDescription;
import org.junit.jupiter.api.Test;

/** The hold/resume re-offer toward SIP (RFC 3264 §8.4), built on the parsed SDP. */
class BridgedCallMediaHoldTest {

    private static final String OFFER = "v=0\r\n"
            + "o=webrtc-gateway 17 1 IN IP4 127.0.0.1\r\n"
            + "s=-\r\n"
            + "c=IN IP4 127.0.0.1\r\n"
            + "t=0 0\r\n"
            + "m=audio 20000 RTP/AVP 0 126\r\n"
            + "a=rtpmap:0 PCMU/8000\r\n"
            + "a=rtpmap:126 telephone-event/8000\r\n"
            + "a=sendrecv\r\n"
            + "m=video 0 RTP/AVP 96\r\n"
            + "a=rtpmap:96 VP8/90000\r\n";

    @Test
    void holdReplacesTheDirectionOfActiveSectionsAndResumeRestoresIt() {
        SessionDescription held = BridgedCallMedia.withDirection(SdpParser.parse(OFFER), Direction.SENDONLY);
        String text = SdpWriter.write(held);

        // one direction line, no stray CR (a hold re-INVITE once failed to parse here), rejected m= untouched
        assertEquals(OFFER.replace("a=sendrecv\r\n", "a=sendonly\r\n"), text);
        assertEquals(text, SdpWriter.write(SdpParser.parse(text)));

        String resumed = SdpWriter.write(BridgedCallMedia.withDirection(held, Direction.SENDRECV));
        assertEquals(OFFER, resumed);
    }

    @Test
    void aSessionLevelDirectionIsMovedToTheSections() {
        String sessionLevel = OFFER.replace("t=0 0\r\n", "t=0 0\r\na=inactive\r\n").replace("a=sendrecv\r\n", "");
        String text = SdpWriter.write(BridgedCallMedia.withDirection(SdpParser.parse(sessionLevel), Direction.SENDONLY));
        assertEquals(OFFER.replace("a=sendrecv\r\n", "a=sendonly\r\n"), text);
    }
}
