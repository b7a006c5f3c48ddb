package io.webrtcgateway.sip.tcp;

/**
 * Where the SIP messages of one TCP stream begin and end, judged the way JAIN-SIP's NIO parser
 * (gov.nist.javax.sip.parser.NioPipelineParser) will judge them, before it sees the bytes. Two uses:
 * <ul>
 * <li>A message the parser would choke on is refused first. The parser allocates a body of Content-Length
 * bytes as soon as the headers end, whatever its size cap says, so "Content-Length: 2000000000" would take
 * the heap (the OutOfMemoryError kills its only selector thread); and it reads up to its cap of bytes for
 * one message, here counted the same way so the refusal has a name.</li>
 * <li>The connection knows whether a message is under way, for gateway.sip.tcp.read-timeout.</li>
 * </ul>
 *
 * <p>What the parser does, mirrored here (RFC 3261 §7.5, §18.3): header lines end at LF; a CR is dropped
 * unless the line is nothing but CR LF, which ends the headers when a header line came before and is a
 * keep-alive (RFC 5626 §4.4.1) otherwise; only the long form {@code Content-Length} is read (the 15th
 * character is skipped as the colon, the rest trimmed), and its value stays for the connection's later
 * messages until one carries its own (RFC 3261 §18.3 makes the header mandatory over TCP); the body is that
 * many bytes. A peer that follows RFC 3261 is framed the same by both.
 *
 * <p>Not thread-safe: fed only by the selector thread that reads the connection.
 */
final class SipStreamFraming {
    private static final String CONTENT_LENGTH = "content-length";
    /** More of a line than any Content-Length line needs: "Content-Length:" and a padded number. */
    private static final int LINE_HEAD = 256;

    /** A message that must not reach the parser; the connection is closed. */
    static final class Refused extends RuntimeException {
        private final String reason;

        Refused(String reason, String message) {
            super(message, null, false, false);
            this.reason = reason;
        }

        /** The gateway_sip_tcp_connections_closed_total reason: message-too-large or bad-message. */
        String reason() {
            return reason;
        }
    }

    private final int maxMessageBytes;
    /** Body bytes still to come; 0: reading header lines. */
    private long bodyLeft;
    /** A header line (not a keep-alive) of the current message has ended. */
    private boolean headerSeen;
    /** A byte of a message (not of a keep-alive) has arrived since the last message ended. */
    private boolean started;
    /** Bytes since the last message ended, keep-alives included, as the parser counts toward its cap. */
    private long size;
    /** The current line: bytes other than CR (the parser drops those), and CRs before the first of them. */
    private int lineChars;
    private int lineLeadingCrs;
    private final StringBuilder lineHead = new StringBuilder();
    /** The parser's Content-Length: it carries over to later messages (see above). */
    private int contentLength;

    SipStreamFraming(int maxMessageBytes) {
        this.maxMessageBytes = maxMessageBytes;
    }

    /** Whether a message has begun and not ended. */
    boolean midMessage() {
        return started;
    }

    /**
     * Takes the next bytes of the stream; returns how many messages they ended.
     *
     * @throws Refused if the parser must not see them
     */
    int feed(byte[] bytes) {
        int completed = 0;
        int i = 0;
        while (i < bytes.length) {
            if (bodyLeft > 0) {
                int n = (int) Math.min(bodyLeft, bytes.length - i);
                grow(n);
                bodyLeft -= n;
                i += n;
                if (bodyLeft == 0) {
                    completed++;
                    messageEnded();
                }
                continue;
            }
            byte b = bytes[i++];
            grow(1);
            if (b == '\n') {
                if (lineChars == 0 && lineLeadingCrs == 1) {
                    if (headerSeen) {
                        // End of the headers: the parser now takes Content-Length bytes of body.
                        if (contentLength == 0) {
                            completed++;
                            messageEnded();
                        } else {
                            bodyLeft = contentLength;
                        }
                    } // else a keep-alive CRLF between messages
                } else {
                    headerSeen = true;
                    started = true;
                    headerLineEnded();
                }
                lineChars = 0;
                lineLeadingCrs = 0;
                lineHead.setLength(0);
            } else if (b == '\r') {
                if (lineChars == 0) {
                    lineLeadingCrs++;
                }
            } else {
                lineChars++;
                started = true;
                if (lineHead.length() < LINE_HEAD) {
                    lineHead.append((char) (b & 0xff));
                }
            }
        }
        return completed;
    }

    private void grow(long n) {
        size += n;
        if (size > maxMessageBytes) {
            throw new Refused("message-too-large", "a SIP message over " + maxMessageBytes + " bytes");
        }
    }

    private void messageEnded() {
        headerSeen = false;
        started = false;
        size = 0;
    }

    private void headerLineEnded() {
        if (lineHead.length() < CONTENT_LENGTH.length()
                || !lineHead.substring(0, CONTENT_LENGTH.length()).equalsIgnoreCase(CONTENT_LENGTH)) {
            return;
        }
        if (lineChars > LINE_HEAD) {
            throw new Refused("bad-message", "a Content-Length line of " + lineChars + " characters");
        }
        if (lineHead.length() <= CONTENT_LENGTH.length()) {
            return; // the parser fails on it (substring out of range) and closes the connection itself
        }
        String value = lineHead.substring(CONTENT_LENGTH.length() + 1).trim();
        long length;
        try {
            length = Long.parseLong(value);
        } catch (NumberFormatException e) {
            return; // not a number: the parser fails on it and closes the connection itself
        }
        if (length < 0) {
            throw new Refused("bad-message", "Content-Length " + length);
        }
        if (length > maxMessageBytes) {
            throw new Refused("message-too-large", "Content-Length " + length + " over " + maxMessageBytes);
        }
        contentLength = (int) length;
    }
}
