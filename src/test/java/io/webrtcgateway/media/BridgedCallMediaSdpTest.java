package io.webrtcgateway.media;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.webrtcgateway.sdp.Direction;
import io.webrtcgateway.sdp.Fingerprint;
import io.webrtcgateway.sdp.SdpException;
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

    @Test
    void holdAndResumeSetTheDirectionOfEverySectionInUse() {
        String withVideoOff = SIP_OFFER + "m=video 0 RTP/AVP 96\r\n";
        SessionDescription sdp = SdpParser.parse(withVideoOff);

        String hold = SdpWriter.write(BridgedCallMedia.withDirection(sdp, Direction.SENDONLY));
        assertEquals(withVideoOff.replace("a=sendrecv", "a=sendonly"), hold);
        String resume = SdpWriter.write(BridgedCallMedia.withDirection(SdpParser.parse(hold), Direction.SENDRECV));
        assertEquals(withVideoOff, resume);
    }

    @Test
    void aDirectionAtSessionLevelMovesIntoTheSections() {
        SessionDescription sdp = SdpParser.parse(SIP_OFFER.replace("a=sendrecv\r\n", "").replace("t=0 0\r\n", "t=0 0\r\na=recvonly\r\n"));

        String hold = SdpWriter.write(BridgedCallMedia.withDirection(sdp, Direction.SENDONLY));
        assertEquals(SIP_OFFER.replace("a=sendrecv", "a=sendonly"), hold);
    }

    @Test
    void aFingerprintTheDtlsLayerCannotUseIsTheBrowsersMistakeNotAnInternalError() {
        // Found by WsRequestFuzzTest: a call whose offer had a=fingerprint:sha-128 ended in INTERNAL.
        String hex32 = "4A:1F:9C:32:7B:E8:05:D6:6A:90:C3:2E:71:48:BF:0D:92:5C:A7:13:E4:68:3B:F9:20:DD:86:4C:15:A3:7E:B1";
        for (Fingerprint bad : new Fingerprint[] {new Fingerprint("sha-128", hex32), new Fingerprint("sha-256", "7B:8B:F0:65")}) {
            SdpException e = assertThrows(SdpException.class, () -> BridgedCallMedia.toDtls(bad));
            assertEquals(SdpException.Reason.MISSING_KEYING, e.reason());
        }
        assertEquals("sha-256", BridgedCallMedia.toDtls(new Fingerprint("sha-256", hex32)).algorithm());
    }
}
