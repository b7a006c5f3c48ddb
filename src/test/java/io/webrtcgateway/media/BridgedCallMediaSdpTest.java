package io.webrtcgateway.media;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.webrtcgateway.sdp.Origin;
import io.webrtcgateway.sdp.SdpParser;
import io.webrtcgateway.sdp.SdpWriter;
import io.webrtcgateway.sdp.SessionDescription;
import org.junit.jupiter.api.Test;

class BridgedCallMediaSdpTest {

    private static final String SIP_OFFER = "v=0\r\n"
            + "o=webrtc-gateway 17 1 IN IP4 127.0.0.1\r\n"
            + "s=-\r\n"
            + "c=IN IP4 127.0.0.1\r\n"
            + "t=0 0\r\n"
            + "m=audio 20000 RTP/AVP 0 126\r\n"
            + "a=rtpmap:0 PCMU/8000\r\n"
            + "a=rtpmap:126 telephone-event/8000\r\n"
            + "a=sendrecv\r\n";

    @Test
    void aReofferKeepsEverythingButTheOriginVersion() {
        SessionDescription sdp = SdpParser.parse(SIP_OFFER);
        Origin next = sdp.origin().nextVersion();

        String reoffer = SdpWriter.write(BridgedCallMedia.withOrigin(sdp, next));

        assertEquals(SIP_OFFER.replace("o=webrtc-gateway 17 1 ", "o=webrtc-gateway 17 2 "), reoffer);
        // and it reads back (a hold re-INVITE failed here with "o=o=..." and a stray CR)
        assertEquals(next, SdpParser.parse(reoffer).origin());
    }
}
