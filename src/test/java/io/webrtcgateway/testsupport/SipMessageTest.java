package io.webrtcgateway.testsupport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;

class SipMessageTest {

    private static SipMessage message(String... lines) {
        return new SipMessage(String.join("\r\n", lines) + "\r\n\r\n");
    }

    @Test
    void readsRequestLineAndHeaders() {
        SipMessage register = message(
                "REGISTER sip:127.0.0.1:5060 SIP/2.0",
                "Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK1",
                "v: SIP/2.0/UDP 127.0.0.1:5071;branch=z9hG4bK2",
                "To: <sip:1001@127.0.0.1>",
                "i: abc@host",
                "CSeq: 7 REGISTER",
                "Contact: <sip:1001@127.0.0.1:5070;transport=tcp>",
                "Expires: 3600");

        assertTrue(register.isRequest());
        assertEquals("REGISTER", register.method());
        assertEquals("sip:127.0.0.1:5060", register.requestUri());
        assertEquals(2, register.headers("Via").size());
        assertEquals("abc@host", register.callId());
        assertEquals(7, register.cseq());
        assertEquals("1001", register.toUser());
        assertEquals(OptionalInt.of(3600), register.expires());
        assertFalse(register.isUnregister());
    }

    @Test
    void contactExpiresParameterWinsOverTheHeader() {
        SipMessage register = message(
                "REGISTER sip:h SIP/2.0",
                "Contact: <sip:1001@h;transport=tcp>;expires=0",
                "Expires: 3600");

        assertEquals(OptionalInt.of(0), register.expires());
        assertTrue(register.isUnregister());
    }

    @Test
    void expiresHeaderZeroIsAnUnregister() {
        assertTrue(message("REGISTER sip:h SIP/2.0", "Contact: *", "Expires: 0").isUnregister());
        assertFalse(message("OPTIONS sip:h SIP/2.0", "Expires: 0").isUnregister());
        assertEquals(OptionalInt.empty(), message("REGISTER sip:h SIP/2.0", "Contact: <sip:a@h>").expires());
    }

    @Test
    void readsResponses() {
        SipMessage response = message("SIP/2.0 401 Unauthorized", "CSeq: 1 REGISTER",
                "WWW-Authenticate: Digest realm=\"x\",",
                "  nonce=\"y\"");

        assertFalse(response.isRequest());
        assertEquals(401, response.status());
        assertEquals("REGISTER", response.method());
        assertEquals(List.of("Digest realm=\"x\", nonce=\"y\""), response.headers("www-authenticate"));
    }
}
