package io.webrtcgateway.sdp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

/** The offer the gateway writes for a delayed-offer INVITE, byte for byte, and what the browser gets from it. */
class GatewayOfferTest {
    private static final Origin ORIGIN = Origin.of("webrtc-gateway", 42, 1, "10.0.0.5");

    @Test
    void offersEveryBridgedAudioCodecG711First() {
        String sdp = SdpWriter.write(GatewayOffer.audio(SipMediaEndpoint.of("10.0.0.5", 20000), ORIGIN));
        assertEquals(String.join("\r\n",
                "v=0",
                "o=webrtc-gateway 42 1 IN IP4 10.0.0.5",
                "s=-",
                "c=IN IP4 10.0.0.5",
                "t=0 0",
                "m=audio 20000 RTP/AVP 0 8 9 111 101",
                "a=rtpmap:0 PCMU/8000",
                "a=rtpmap:8 PCMA/8000",
                "a=rtpmap:9 G722/8000",
                "a=rtpmap:111 opus/48000/2",
                "a=fmtp:111 minptime=10;useinbandfec=1",
                "a=rtpmap:101 telephone-event/8000",
                "a=fmtp:101 0-16",
                "a=ptime:20",
                "a=sendrecv",
                ""), sdp);
        // Every codec is one the bridge relays: the plan of it as a SIP offer keeps all five.
        assertEquals(5, BridgePlan.ofSipOffer(SdpParser.parse(sdp)).section(0).codecs().size());
    }

    @Test
    void needsExactlyOnePort() {
        assertThrows(IllegalArgumentException.class,
                () -> GatewayOffer.audio(SipMediaEndpoint.of("10.0.0.5", 20000, 20002), ORIGIN));
    }
}
