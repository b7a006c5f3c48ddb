package io.webrtcgateway.sdp;

import java.util.ArrayList;
import java.util.List;

/**
 * Text to {@link SessionDescription} (RFC 8866). Accepts CRLF or LF line ends and skips blank lines;
 * checks the grammar of v=, o=, s=, c=, t= and m= (and numeric payload types on RTP m= lines); keeps
 * every other line and every attribute as written and in order, so nothing is lost on the way through.
 * Any problem throws {@link SdpException} (reason MALFORMED) naming the line number, the line and what is wrong.
 */
public final class SdpParser {
    private SdpParser() {}

    public static SessionDescription parse(String text) {
        return parse(text, SdpLimits.NONE);
    }

    /**
     * {@link #parse(String)} of an SDP from outside: one over {@code limits} throws {@link SdpException} with
     * reason TOO_LARGE, checked before the text is split (its size) and before each m-line is built.
     */
    public static SessionDescription parse(String text, SdpLimits limits) {
        if (text == null || text.isBlank()) {
            throw SdpException.malformed("empty SDP");
        }
        limits.checkSize(text);
        return new Run(limits).parse(text);
    }

    /** State of one parse; the parser itself is stateless. */
    private static final class Run {
        private final SdpLimits limits;
        private int lineNumber;
        private String line;
        private int significant;

        private Origin origin;
        private String sessionName;
        private Connection sessionConnection;
        private final List<SdpLine> timing = new ArrayList<>();
        private final List<SdpLine> sessionOther = new ArrayList<>();
        private final List<Attribute> sessionAttributes = new ArrayList<>();
        private final List<MediaDescription> media = new ArrayList<>();
        private Section section;

        Run(SdpLimits limits) {
            this.limits = limits;
        }

        SessionDescription parse(String text) {
            String[] lines = text.split("\n", -1);
            for (int i = 0; i < lines.length; i++) {
                lineNumber = i + 1;
                line = lines[i].endsWith("\r") ? lines[i].substring(0, lines[i].length() - 1) : lines[i];
                if (line.isBlank()) {
                    continue;
                }
                checkCharacters();
                if (line.length() < 2 || line.charAt(1) != '=' || line.charAt(0) < 'a' || line.charAt(0) > 'z') {
                    throw error("expected <type>=<value> with a lower-case type letter");
                }
                char type = line.charAt(0);
                String value = line.substring(2);
                significant++;
                // RFC 8866 §5: v=, o=, s= come first and in this order.
                if (significant == 1 && type != 'v') {
                    throw error("an SDP starts with v=0");
                }
                if (significant == 2 && type != 'o') {
                    throw error("o= must follow v=");
                }
                if (significant == 3 && type != 's') {
                    throw error("s= must follow o=");
                }
                line(type, value);
            }
            finishSection();
            if (origin == null) {
                throw SdpException.malformed("missing o= line");
            }
            if (sessionName == null) {
                throw SdpException.malformed("missing s= line");
            }
            if (timing.stream().noneMatch(l -> l.type() == 't')) {
                throw SdpException.malformed("missing t= line (RFC 8866 §5.9; write \"t=0 0\")");
            }
            return new SessionDescription(origin, sessionName, sessionConnection, timing, sessionOther,
                    sessionAttributes, media);
        }

        private void line(char type, String value) {
            switch (type) {
                case 'v' -> {
                    if (significant > 1) {
                        throw error("v= appears twice");
                    }
                    if (!value.equals("0")) {
                        throw error("only SDP version 0 exists");
                    }
                }
                case 'o' -> {
                    if (origin != null) {
                        throw error("o= appears twice");
                    }
                    origin = origin(value);
                }
                case 's' -> {
                    if (sessionName != null) {
                        throw error("s= appears twice");
                    }
                    sessionName = value;
                }
                case 'm' -> {
                    finishSection();
                    limits.checkMediaSection(media.size());
                    section = mLine(value);
                }
                case 'c' -> {
                    Connection c = connection(value);
                    if (section != null) {
                        if (section.connection != null) {
                            throw error("more than one c= line in a media section is not supported");
                        }
                        section.connection = c;
                    } else {
                        if (sessionConnection != null) {
                            throw error("c= appears twice at session level");
                        }
                        sessionConnection = c;
                    }
                }
                case 'a' -> {
                    Attribute a = attribute(value);
                    (section != null ? section.attributes : sessionAttributes).add(a);
                }
                case 't', 'r' -> {
                    if (section != null) {
                        throw error(type + "= is only allowed at session level");
                    }
                    if (type == 't') {
                        List<String> t = Tokens.split(value);
                        if (t.size() != 2 || t.stream().anyMatch(x -> !x.chars().allMatch(Character::isDigit))) {
                            throw error("t= needs <start-time> <stop-time> as numbers");
                        }
                    } else if (timing.isEmpty()) {
                        throw error("r= must follow a t= line");
                    }
                    timing.add(new SdpLine(type, value));
                }
                default -> (section != null ? section.other : sessionOther).add(new SdpLine(type, value));
            }
        }

        private Origin origin(String value) {
            List<String> f = Tokens.split(value);
            if (f.size() != 6) {
                throw error("o= needs 6 fields: <username> <sess-id> <sess-version> <nettype> <addrtype> <address>");
            }
            requireVisible(f);
            return new Origin(f.get(0), f.get(1), f.get(2), f.get(3), f.get(4), f.get(5));
        }

        private Connection connection(String value) {
            List<String> f = Tokens.split(value);
            if (f.size() != 3) {
                throw error("c= needs 3 fields: <nettype> <addrtype> <connection-address>");
            }
            requireVisible(f);
            return new Connection(f.get(0), f.get(1), f.get(2));
        }

        /**
         * RFC 8866 §9: o= and c= fields are non-ws-strings. Fields are split at spaces and tabs only, so another
         * white-space character (a form feed, a vertical tab) would stay inside one and fail the record's own
         * check with IllegalArgumentException (found by SdpParserFuzzTest).
         */
        private void requireVisible(List<String> fields) {
            for (String field : fields) {
                if (field.chars().anyMatch(Character::isWhitespace)) {
                    throw error("a field holds a white-space character other than a space or a tab");
                }
            }
        }

        private Section mLine(String value) {
            List<String> f = Tokens.split(value);
            if (f.size() < 2) {
                throw error("m= needs <media> <port> <proto> <fmt> ...");
            }
            String portField = f.get(1);
            int slash = portField.indexOf('/');
            int port = Tokens.parseUnsigned(slash < 0 ? portField : portField.substring(0, slash));
            if (port < 0) {
                throw error("port \"" + portField + "\" is not a number");
            }
            if (port > 65535) {
                throw error("port " + port + " is out of range");
            }
            int count = 0;
            if (slash >= 0) {
                count = Tokens.parseUnsigned(portField.substring(slash + 1));
                if (count < 1) {
                    throw error("number of ports in \"" + portField + "\" is not a positive number");
                }
            }
            if (f.size() < 4) {
                throw error("m= needs <media> <port> <proto> <fmt> ...");
            }
            String proto = f.get(2);
            if (!proto.matches("[A-Za-z0-9_.+\\-]+(/[A-Za-z0-9_.+\\-]+)*")) {
                throw error("protocol \"" + proto + "\" is not a valid token");
            }
            List<String> formats = f.subList(3, f.size());
            if (MediaProtocol.isRtp(proto)) {
                // RFC 8866 §5.14: for RTP profiles the formats are RTP payload types (RFC 3550: 7 bits).
                for (String fmt : formats) {
                    int pt = Tokens.parseUnsigned(fmt);
                    if (pt < 0 || pt > 127) {
                        throw error("payload type \"" + fmt + "\" is not a number from 0 to 127");
                    }
                }
            }
            if (!f.get(0).chars().allMatch(Run::isTokenChar)) {
                throw error("media type \"" + f.get(0) + "\" is not a valid token");
            }
            return new Section(f.get(0), port, count, proto, List.copyOf(formats));
        }

        private Attribute attribute(String value) {
            int colon = value.indexOf(':');
            String name = colon < 0 ? value : value.substring(0, colon);
            if (name.isEmpty() || !name.chars().allMatch(Run::isTokenChar)) {
                throw error("attribute name \"" + name + "\" is not a valid token");
            }
            return new Attribute(name, colon < 0 ? null : value.substring(colon + 1));
        }

        private static boolean isTokenChar(int c) {
            // RFC 8866 §9 token-char: visible ASCII except a few separators.
            return c > 0x20 && c < 0x7f && "\"(),/:;<=>?@[\\]{}".indexOf(c) < 0;
        }

        private void checkCharacters() {
            for (int i = 0; i < line.length(); i++) {
                char c = line.charAt(i);
                if (c == '\0' || c == '\r') {
                    throw error(c == '\r' ? "stray CR inside a line" : "NUL character");
                }
            }
        }

        private void finishSection() {
            if (section != null) {
                media.add(new MediaDescription(section.media, section.port, section.portCount, section.protocol,
                        section.formats, section.connection, section.other, section.attributes));
                section = null;
            }
        }

        private SdpException error(String problem) {
            return SdpException.malformed("line " + lineNumber + " " + SdpException.quote(line) + ": " + problem);
        }
    }

    private static final class Section {
        final String media;
        final int port;
        final int portCount;
        final String protocol;
        final List<String> formats;
        Connection connection;
        final List<SdpLine> other = new ArrayList<>();
        final List<Attribute> attributes = new ArrayList<>();

        Section(String media, int port, int portCount, String protocol, List<String> formats) {
            this.media = media;
            this.port = port;
            this.portCount = portCount;
            this.protocol = protocol;
            this.formats = formats;
        }
    }
}
