package io.webrtcgateway.sip;

import gov.nist.javax.sip.message.SIPMessage;
import gov.nist.javax.sip.parser.MessageParser;
import gov.nist.javax.sip.parser.MessageParserFactory;
import gov.nist.javax.sip.parser.ParseExceptionListener;
import gov.nist.javax.sip.parser.StringMsgParser;
import gov.nist.javax.sip.stack.SIPTransactionStack;
import java.text.ParseException;

/**
 * JAIN-SIP's message parser with two guards, installed as the stack's {@code gov.nist.javax.sip.MESSAGE_PARSER_FACTORY}
 * (UDP datagrams and TCP messages both go through it): a check of the header section's characters before it
 * parses, and its unchecked exceptions turned into the ParseException it declares.
 *
 * <p>RFC 3261 §25.1 allows no control character in a start line or header field but HTAB, and CR LF to end
 * lines. JAIN-SIP's Via parser does not stop on a form feed: a 246-byte datagram with form feeds in a Via
 * made it allocate until the heap ran out (about 4 s for 512 MB; found by SipRequestFuzzTest). A message
 * with such a character before its blank line is refused as unparseable, which is what the stack does with
 * any bad message: over UDP it is dropped, over TCP the connection is closed. Bodies are not looked at.
 */
public final class SipMessageGuard extends StringMsgParser {

    /** The factory named in the stack's properties (SipStacks); JAIN-SIP makes it by reflection. */
    public static final class Factory implements MessageParserFactory {
        @Override
        public MessageParser createMessageParser(SIPTransactionStack stack) {
            return new SipMessageGuard();
        }
    }

    @Override
    public SIPMessage parseSIPMessage(byte[] message, boolean readBody, boolean strict,
                                      ParseExceptionListener listener) throws ParseException {
        int bad = firstControlCharacter(message);
        if (bad >= 0) {
            throw new ParseException("control character 0x" + Integer.toHexString(message[bad] & 0xff)
                    + " in the header section", bad);
        }
        try {
            return super.parseSIPMessage(message, readBody, strict, listener);
        } catch (RuntimeException e) {
            // e.g. NumberFormatException from its RSeq parser for "RSeq: x" (found by SipRequestFuzzTest): the
            // stack handles ParseException as a bad message and nothing else.
            ParseException refused = new ParseException("unparseable: " + e, 0);
            refused.initCause(e);
            throw refused;
        }
    }

    /** Offset of the first control character other than HTAB, CR, LF before the blank line, or -1. */
    static int firstControlCharacter(byte[] message) {
        if (message == null) {
            return -1;
        }
        boolean lineEmpty = true;
        boolean seenLine = false;
        for (int i = 0; i < message.length; i++) {
            int c = message[i] & 0xff;
            if (c == '\n') {
                if (lineEmpty && seenLine) {
                    return -1; // the blank line: the body follows
                }
                seenLine |= !lineEmpty;
                lineEmpty = true;
            } else if (c != '\r') {
                if ((c < 0x20 && c != '\t') || c == 0x7f) {
                    return i;
                }
                lineEmpty = false;
            }
        }
        return -1;
    }
}
