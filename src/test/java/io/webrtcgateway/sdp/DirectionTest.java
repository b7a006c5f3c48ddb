package io.webrtcgateway.sdp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class DirectionTest {

    private static SessionDescription sip(String session, String media) {
        return SdpParser.parse("v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\n" + session + "t=0 0\r\n"
                + "m=audio 5000 RTP/AVP 0\r\n" + media);
    }

    @ParameterizedTest(name = "{0} | {1} -> declared {2}, effective {3}, hold {4}")
    @CsvSource(delimiter = '|', value = {
            "c=IN IP4 192.0.2.1\\r\\n                  | ''                            | SENDRECV | SENDRECV | false",
            "c=IN IP4 192.0.2.1\\r\\n                  | a=sendonly\\r\\n              | SENDONLY | SENDONLY | true",
            "c=IN IP4 192.0.2.1\\r\\n                  | a=recvonly\\r\\n              | RECVONLY | RECVONLY | false",
            "c=IN IP4 192.0.2.1\\r\\n                  | a=inactive\\r\\n              | INACTIVE | INACTIVE | true",
            "c=IN IP4 192.0.2.1\\r\\na=sendonly\\r\\n  | ''                            | SENDONLY | SENDONLY | true",
            "c=IN IP4 192.0.2.1\\r\\na=sendonly\\r\\n  | a=sendrecv\\r\\n              | SENDRECV | SENDRECV | false",
            "c=IN IP4 0.0.0.0\\r\\n                    | ''                            | SENDRECV | SENDONLY | true",
            "c=IN IP4 0.0.0.0\\r\\n                    | a=recvonly\\r\\n              | RECVONLY | INACTIVE | true",
            "c=IN IP4 192.0.2.1\\r\\n                  | c=IN IP4 0.0.0.0\\r\\n        | SENDRECV | SENDONLY | true",
            "c=IN IP6 ::\\r\\n                         | ''                            | SENDRECV | SENDONLY | true",
            // With ICE, 0.0.0.0 only says "look at the candidates" (RFC 8839): no hold.
            "c=IN IP4 0.0.0.0\\r\\n                    | a=ice-ufrag:abcd\\r\\n        | SENDRECV | SENDRECV | false"})
    void readsDirectionAndHold(String session, String media, Direction declared, Direction effective,
                               boolean hold) {
        SessionDescription sdp = sip(session.trim().replace("\\r\\n", "\r\n"), media.trim().replace("\\r\\n", "\r\n"));
        MediaDescription m = sdp.media().get(0);
        assertEquals(declared, Direction.declared(sdp, m));
        assertEquals(effective, Direction.effective(sdp, m));
        assertEquals(hold, Direction.isHold(sdp, m));
        assertEquals(hold, Direction.isHold(sdp));
    }

    @Test
    void wholeSdpHold() {
        assertTrue(Direction.isHold(SdpFixtures.parsed("genesys-hold-offer")));
        assertTrue(Direction.isHold(SdpFixtures.parsed("asterisk-hold-offer")));
        assertTrue(Direction.isHold(SdpFixtures.parsed("chrome-reoffer-hold")));
        assertFalse(Direction.isHold(SdpFixtures.parsed("sipp-offer")));
        assertFalse(Direction.isHold(SdpFixtures.parsed("chrome-offer")));
        assertFalse(Direction.isHold(SdpFixtures.parsed("chrome-answer-hold")), "recvonly: the author is held");
    }

    @ParameterizedTest(name = "{0} answering {1} -> {2}")
    @CsvSource({
            "SENDRECV, SENDRECV, SENDRECV",
            "SENDRECV, SENDONLY, RECVONLY",
            "SENDRECV, RECVONLY, SENDONLY",
            "SENDRECV, INACTIVE, INACTIVE",
            "RECVONLY, SENDONLY, RECVONLY",
            "SENDONLY, SENDONLY, INACTIVE",
            "INACTIVE, SENDRECV, INACTIVE"})
    void answersAreLimitedByTheOffer(Direction answer, Direction offer, Direction expected) {
        assertEquals(expected, answer.answering(offer));
    }

    @Test
    void reverse() {
        assertEquals(Direction.RECVONLY, Direction.SENDONLY.reverse());
        assertEquals(Direction.SENDRECV, Direction.SENDRECV.reverse());
        assertEquals("inactive", Direction.INACTIVE.attributeName());
    }
}
