package io.webrtcgateway.sip;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import gov.nist.javax.sip.message.SIPRequest;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.text.ParseException;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class SipMessageGuardTest {
    private static final String INVITE = "INVITE sip:1001@127.0.0.1 SIP/2.0\r\n"
            + "Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK776\r\n"
            + "Max-Forwards: 70\r\nTo: <sip:1001@127.0.0.1>\r\nFrom: <sip:2002@127.0.0.1>;tag=19\r\n"
            + "Call-ID: a84b4c76e66710\r\nCSeq: 1 INVITE\r\n"
            + "Subject:\tTAB is white space\r\n";

    private static SIPRequest parse(String text) throws ParseException {
        return (SIPRequest) new SipMessageGuard().parseSIPMessage(text.getBytes(StandardCharsets.ISO_8859_1), true,
                false, null);
    }

    @Test
    void theDatagramThatRanJainSipOutOfMemoryIsRefusedAtOnce() throws Exception {
        // Found by SipRequestFuzzTest: form feeds in a Via; JAIN-SIP's parser alone allocates until the heap is gone.
        byte[] datagram;
        try (InputStream in = getClass().getResourceAsStream(
                "SipRequestFuzzTestInputs/handlesAnyRequest/crash-2566fd4cac1f83e6dbcb8ab63c366d4c92a832c6")) {
            datagram = in.readAllBytes();
        }
        assertTimeoutPreemptively(Duration.ofSeconds(2), () -> assertThrows(ParseException.class,
                () -> new SipMessageGuard().parseSIPMessage(datagram, true, false, null)));
    }

    @Test
    void controlCharactersInHeadersAreRefusedTabsAndBodiesAreNot() throws Exception {
        assertEquals("a84b4c76e66710", parse(INVITE + "Content-Length: 0\r\n\r\n").getCallId().getCallId());
        for (String bad : new String[] {"\f", "\u0000", "\u000b", "\u001b", "\u007f"}) {
            ParseException e = assertThrows(ParseException.class,
                    () -> parse(INVITE.replace("UDP 127", "UDP" + bad + "127") + "Content-Length: 0\r\n\r\n"));
            assertEquals(INVITE.indexOf("UDP 127") + 3, e.getErrorOffset());
        }
        assertThrows(ParseException.class, () -> parse("\fINVITE" + INVITE.substring(6) + "\r\n"));
        SIPRequest withBody = parse(INVITE + "Content-Type: application/octet-stream\r\nContent-Length: 3\r\n\r\n\f\u0000\u001b");
        assertEquals(3, withBody.getRawContent().length);
        assertInstanceOf(SIPRequest.class, parse("\r\n\r\n" + INVITE + "Content-Length: 0\r\n\r\n"));
    }

    @Test
    void anExceptionJainSipDoesNotDeclareBecomesAParseException() {
        // Found by SipRequestFuzzTest: JAIN-SIP's RSeq parser threw NumberFormatException out of parseSIPMessage.
        ParseException e = assertThrows(ParseException.class,
                () -> parse(INVITE + "RSeq: IIDTTO2002\r\nContent-Length: 0\r\n\r\n"));
        assertInstanceOf(NumberFormatException.class, e.getCause());
    }
}
