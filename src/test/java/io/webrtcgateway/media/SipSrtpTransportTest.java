package io.webrtcgateway.media;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.webrtcgateway.config.GatewayConfig.Sip.Srtp;
import io.webrtcgateway.config.GatewayConfig.Sip.SrtpMode;
import io.webrtcgateway.sdp.SipSrtp;
import org.junit.jupiter.api.Test;

/**
 * Keys only over TLS (docs/sip.md "Keys only over TLS"): the per-call decision from the call's SIP transport,
 * the seam SIP over TLS (issue 14 item 2) feeds through {@code CallMedia.sipTransport}.
 */
class SipSrtpTransportTest {

    @Test
    void keysTravelOverTlsOnlyUnlessAllowed() {
        Srtp required = new Srtp(SrtpMode.REQUIRED, false);
        assertTrue(MediaEngine.sipSrtpFor(required, "tls").keysAllowed());
        assertTrue(MediaEngine.sipSrtpFor(required, "TLS").keysAllowed(), "a Via says TLS");
        for (String transport : new String[] {"udp", "tcp", null}) {
            SipSrtp call = MediaEngine.sipSrtpFor(required, transport);
            assertFalse(call.keysAllowed(), String.valueOf(transport));
            assertEquals(SipSrtp.Mode.REQUIRED, call.mode());
            assertEquals("SDES keys (a=crypto) go into SDP only over SIP over TLS, and this call's SIP transport is "
                    + (transport == null ? "not known" : transport)
                    + " (gateway.sip.srtp-over-insecure-transport = false)", call.keysRefused());
        }
        assertTrue(MediaEngine.sipSrtpFor(new Srtp(SrtpMode.OPTIONAL, true), "udp").keysAllowed());
        SipSrtp off = MediaEngine.sipSrtpFor(Srtp.OFF, "tls");
        assertEquals(SipSrtp.Mode.OFF, off.mode());
        assertFalse(off.keysAllowed());
    }

    @Test
    void requiredWithoutKeysRefusesToOfferOptionalOffersPlain() {
        SipKeying required = new SipKeying(MediaEngine.sipSrtpFor(new Srtp(SrtpMode.REQUIRED, false), "udp"),
                new java.security.SecureRandom());
        io.webrtcgateway.sdp.SdpException e = org.junit.jupiter.api.Assertions.assertThrows(
                io.webrtcgateway.sdp.SdpException.class, required::requireOfferable);
        assertTrue(e.getMessage().startsWith("SRTP toward SIP is required (gateway.sip.srtp = required), but SDES keys"),
                e.getMessage());
        SipKeying optional = new SipKeying(MediaEngine.sipSrtpFor(new Srtp(SrtpMode.OPTIONAL, false), "tcp"),
                new java.security.SecureRandom());
        optional.requireOfferable();
        assertTrue(optional.offerLines(java.util.List.of(0)).isEmpty(), "plain RTP/AVP, no keys over TCP");
        assertFalse(optional.offersSecureProfile());
    }
}
