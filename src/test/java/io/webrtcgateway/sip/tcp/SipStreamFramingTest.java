package io.webrtcgateway.sip.tcp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class SipStreamFramingTest {
    private static final String OPTIONS = "OPTIONS sip:gw SIP/2.0\r\nVia: SIP/2.0/TCP 10.0.0.1;branch=z9hG4bK1\r\n"
            + "Call-ID: a\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n";
    private static final String BODY = "v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\n";
    private static final String INVITE = "INVITE sip:1001@gw SIP/2.0\r\nCall-ID: b\r\nContent-Length: " + BODY.length()
            + "\r\n\r\n" + BODY;

    private static byte[] b(String s) {
        return s.getBytes(StandardCharsets.ISO_8859_1);
    }

    @Test
    void messagesEndWithTheirHeadersOrBodyWhateverTheChunks() {
        SipStreamFraming f = new SipStreamFraming(65536);
        String stream = OPTIONS + INVITE + OPTIONS;
        int completed = 0;
        for (int i = 0; i < stream.length(); i++) { // one byte at a time: every boundary is a chunk boundary
            completed += f.feed(b(stream.substring(i, i + 1)));
        }
        assertEquals(3, completed);
        assertFalse(f.midMessage());

        SipStreamFraming whole = new SipStreamFraming(65536);
        assertEquals(3, whole.feed(b(stream)));
    }

    @Test
    void aMessageIsUnderWayFromItsFirstByteUntilItsLast() {
        SipStreamFraming f = new SipStreamFraming(65536);
        assertEquals(0, f.feed(b("\r\n\r\n\r\n")), "keep-alives (RFC 5626 §4.4.1) are no message");
        assertFalse(f.midMessage());
        assertEquals(0, f.feed(b("INV")));
        assertTrue(f.midMessage());
        String rest = INVITE.substring(3);
        assertEquals(0, f.feed(b(rest.substring(0, rest.length() - 1))));
        assertTrue(f.midMessage(), "the body's last byte is still missing");
        assertEquals(1, f.feed(b(rest.substring(rest.length() - 1))));
        assertFalse(f.midMessage());
    }

    @Test
    void contentLengthCarriesOverLikeJainSipsParser() {
        // JAIN-SIP's NIO parser keeps the last Content-Length for a message that has none (RFC 3261 §18.3
        // requires one over TCP): framed the same way, so both agree where the next message starts.
        SipStreamFraming f = new SipStreamFraming(65536);
        String noLength = "BYE sip:x SIP/2.0\r\nCall-ID: c\r\n\r\n" + "x".repeat(BODY.length());
        assertEquals(2, f.feed(b(INVITE + noLength)));
        assertFalse(f.midMessage());
    }

    @Test
    void aHugeContentLengthIsRefusedBeforeTheParserCouldAllocateIt() {
        SipStreamFraming f = new SipStreamFraming(65536);
        f.feed(b("INVITE sip:1001@gw SIP/2.0\r\nCall-ID: d\r\n"));
        SipStreamFraming.Refused e = assertThrows(SipStreamFraming.Refused.class,
                () -> f.feed(b("content-length: 2000000000\r\n\r\n")));
        assertEquals("message-too-large", e.reason());
        assertEquals("message-too-large", assertThrows(SipStreamFraming.Refused.class,
                () -> new SipStreamFraming(65536).feed(b("INVITE x SIP/2.0\r\nContent-Length: 99999999999999\r\n")))
                .reason());
        assertEquals("bad-message", assertThrows(SipStreamFraming.Refused.class,
                () -> new SipStreamFraming(65536).feed(b("INVITE x SIP/2.0\r\nContent-Length: -5\r\n"))).reason());
        assertEquals(1, new SipStreamFraming(65536).feed(b("OPTIONS x SIP/2.0\r\nContent-Length:  4 \r\n\r\nabcd")),
                "a padded value is read as the parser reads it");
    }

    @Test
    void aMessageOverTheCapIsRefusedWhereTheParserWouldFail() {
        SipStreamFraming f = new SipStreamFraming(4096);
        f.feed(b("INVITE sip:1001@gw SIP/2.0\r\n"));
        SipStreamFraming.Refused e = assertThrows(SipStreamFraming.Refused.class,
                () -> f.feed(b(("X-Filler: " + "a".repeat(100) + "\r\n").repeat(40))));
        assertEquals("message-too-large", e.reason());

        SipStreamFraming fits = new SipStreamFraming(4096);
        for (int i = 0; i < 100; i++) {
            assertEquals(1, fits.feed(b(OPTIONS)), "the count starts over with each message");
        }
    }

    @Test
    void aBareLfLineIsAHeaderLineForTheParserToo() {
        SipStreamFraming f = new SipStreamFraming(65536);
        assertEquals(0, f.feed(b("\n")));
        assertTrue(f.midMessage(), "the parser appends a bare LF line to the message");
        assertEquals(1, f.feed(b("Content-Length: 0\r\n\r\n")));
    }
}
