package io.webrtcgateway.sip.sandbox;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

import io.webrtcgateway.sdp.SdpException;

class EchoSdpTest {

    private static final String HEAD = "v=0\r\no=- 7 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n";

    private static String answerHead(long version) {
        return "v=0\r\no=sandbox 42 " + version + " IN IP4 127.0.0.1\r\ns=sandbox echo\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n";
    }

    @Test
    void pcmuWithTelephoneEventIsAnsweredWithBoth() {
        String offer = HEAD + "m=audio 40000 RTP/AVP 0 8 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\n"
                + "a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-16\r\na=ptime:20\r\na=sendrecv\r\n";

        EchoSdp.Answer a = EchoSdp.answer(offer, "127.0.0.1", 50000, 42, 1);

        assertEquals(answerHead(1) + "m=audio 50000 RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\n"
                + "a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-16\r\na=ptime:20\r\na=sendrecv\r\n", a.sdp());
        assertTrue(a.sends());
    }

    @Test
    void theFirstVoiceCodecIsChosenWhateverItIs() {
        String offer = HEAD + "m=audio 40000 RTP/AVP 101 9 0\r\na=rtpmap:101 telephone-event/8000\r\n";

        assertTrue(EchoSdp.answer(offer, "127.0.0.1", 50000, 42, 1).sdp()
                .contains("m=audio 50000 RTP/AVP 9 101\r\na=rtpmap:9 G722/8000\r\n"));
    }

    @Test
    void opusGetsTheTelephoneEventOfItsOwnClockRate() {
        String offer = HEAD + "m=audio 40000 RTP/AVP 111 126 101\r\na=rtpmap:111 opus/48000/2\r\n"
                + "a=fmtp:111 minptime=10;useinbandfec=1\r\na=rtpmap:126 telephone-event/8000\r\n"
                + "a=rtpmap:101 telephone-event/48000\r\n";

        String sdp = EchoSdp.answer(offer, "127.0.0.1", 50000, 42, 3).sdp();

        assertEquals(answerHead(3) + "m=audio 50000 RTP/AVP 111 101\r\na=rtpmap:111 opus/48000/2\r\n"
                + "a=fmtp:111 minptime=10;useinbandfec=1\r\na=rtpmap:101 telephone-event/48000\r\na=sendrecv\r\n", sdp);
    }

    @Test
    void theDirectionIsMirrored() {
        String base = HEAD + "m=audio 40000 RTP/AVP 0\r\n";
        EchoSdp.Answer hold = EchoSdp.answer(base + "a=sendonly\r\n", "127.0.0.1", 50000, 42, 2);
        assertTrue(hold.sdp().endsWith("a=recvonly\r\n"));
        assertFalse(hold.sends(), "the holder does not want our media");

        EchoSdp.Answer inactive = EchoSdp.answer(base + "a=inactive\r\n", "127.0.0.1", 50000, 42, 2);
        assertTrue(inactive.sdp().endsWith("a=inactive\r\n"));
        assertFalse(inactive.sends());

        EchoSdp.Answer listenOnly = EchoSdp.answer(base + "a=recvonly\r\n", "127.0.0.1", 50000, 42, 2);
        assertTrue(listenOnly.sdp().endsWith("a=sendonly\r\n"));
        assertTrue(listenOnly.sends());

        // RFC 2543 hold: c=0.0.0.0 means "do not send to me".
        EchoSdp.Answer oldHold = EchoSdp.answer(base.replace("c=IN IP4 127.0.0.1", "c=IN IP4 0.0.0.0"), "127.0.0.1", 50000, 42, 2);
        assertFalse(oldHold.sends());
    }

    @Test
    void otherSectionsAreRefusedWithPortZeroAndKeepTheirPlace() {
        String offer = HEAD + "m=video 40002 RTP/AVP 96\r\na=rtpmap:96 VP8/90000\r\n"
                + "m=audio 40000 RTP/AVP 8\r\n";

        String sdp = EchoSdp.answer(offer, "127.0.0.1", 50000, 42, 1).sdp();

        assertEquals(answerHead(1) + "m=video 0 RTP/AVP 96\r\nm=audio 50000 RTP/AVP 8\r\na=rtpmap:8 PCMA/8000\r\n"
                + "a=sendrecv\r\n", sdp);
    }

    @Test
    void ipv6UsesIp6() {
        String offer = HEAD + "m=audio 40000 RTP/AVP 0\r\n";
        assertTrue(EchoSdp.answer(offer, "::1", 50000, 42, 1).sdp().contains("c=IN IP6 ::1\r\n"));
    }

    @Test
    void unusableOffersAreRefusedWithAReason() {
        assertEquals(SdpException.Reason.MALFORMED,
                assertThrows(SdpException.class, () -> EchoSdp.answer("garbage", "127.0.0.1", 1, 1, 1)).reason());
        assertEquals(SdpException.Reason.NO_AUDIO, assertThrows(SdpException.class,
                () -> EchoSdp.answer(HEAD + "m=video 4000 RTP/AVP 96\r\na=rtpmap:96 VP8/90000\r\n", "127.0.0.1", 1, 1, 1)).reason());
        assertEquals(SdpException.Reason.NO_AUDIO, assertThrows(SdpException.class,
                () -> EchoSdp.answer(HEAD + "m=audio 4000 UDP/TLS/RTP/SAVPF 111\r\na=rtpmap:111 opus/48000/2\r\n",
                        "127.0.0.1", 1, 1, 1)).reason(), "the echo speaks plain RTP only");
        assertEquals(SdpException.Reason.NO_AUDIO, assertThrows(SdpException.class,
                () -> EchoSdp.answer(HEAD + "m=audio 0 RTP/AVP 0\r\n", "127.0.0.1", 1, 1, 1)).reason());
        assertEquals(SdpException.Reason.NO_COMMON_CODEC, assertThrows(SdpException.class,
                () -> EchoSdp.answer(HEAD + "m=audio 4000 RTP/AVP 101\r\na=rtpmap:101 telephone-event/8000\r\n",
                        "127.0.0.1", 1, 1, 1)).reason());
    }

    @Test
    void theOfferForADelayedOfferInviteIsPcmuPcmaAndEvents() {
        String offer = EchoSdp.offer("127.0.0.1", 50000, 42, 1);
        assertTrue(offer.contains("m=audio 50000 RTP/AVP 0 8 101\r\n"), offer);
        assertTrue(EchoSdp.answerLetsUsSend(HEAD + "m=audio 4000 RTP/AVP 0\r\na=sendrecv\r\n"));
        assertFalse(EchoSdp.answerLetsUsSend(HEAD + "m=audio 4000 RTP/AVP 0\r\na=sendonly\r\n"));
    }
}
