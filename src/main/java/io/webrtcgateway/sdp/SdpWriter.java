package io.webrtcgateway.sdp;

import java.util.List;

/**
 * {@link SessionDescription} to text: CRLF line ends always (RFC 8866 §5), lines in the order RFC 8866 §5
 * prescribes (v o s i u e p c b t r z k a, then each m= section as m i c b k a), lines of one type and all
 * attributes in their stored order. The same description always gives the same bytes.
 */
public final class SdpWriter {
    private static final String CRLF = "\r\n";

    private SdpWriter() {}

    public static String write(SessionDescription sdp) {
        StringBuilder out = new StringBuilder(1024);
        out.append("v=0").append(CRLF);
        out.append(sdp.origin()).append(CRLF);
        out.append("s=").append(sdp.sessionName()).append(CRLF);
        lines(out, sdp.otherLines(), "iuep");
        if (sdp.connection() != null) {
            out.append(sdp.connection()).append(CRLF);
        }
        lines(out, sdp.otherLines(), "b");
        for (SdpLine t : sdp.timing()) {
            out.append(t).append(CRLF);
        }
        lines(out, sdp.otherLines(), "z");
        lines(out, sdp.otherLines(), "k");
        unknownLines(out, sdp.otherLines(), "iuepbzk");
        attributes(out, sdp.attributes());
        for (MediaDescription m : sdp.media()) {
            out.append(m.mLine()).append(CRLF);
            lines(out, m.otherLines(), "i");
            if (m.connection() != null) {
                out.append(m.connection()).append(CRLF);
            }
            lines(out, m.otherLines(), "b");
            lines(out, m.otherLines(), "k");
            unknownLines(out, m.otherLines(), "ibk");
            attributes(out, m.attributes());
        }
        return out.toString();
    }

    /** Lines whose type is one of {@code types}, grouped by type in that order, each group in stored order. */
    private static void lines(StringBuilder out, List<SdpLine> lines, String types) {
        for (int i = 0; i < types.length(); i++) {
            char type = types.charAt(i);
            for (SdpLine line : lines) {
                if (line.type() == type) {
                    out.append(line).append(CRLF);
                }
            }
        }
    }

    /** Type letters RFC 8866 does not define go just before the attributes, in stored order. */
    private static void unknownLines(StringBuilder out, List<SdpLine> lines, String knownTypes) {
        for (SdpLine line : lines) {
            if (knownTypes.indexOf(line.type()) < 0) {
                out.append(line).append(CRLF);
            }
        }
    }

    private static void attributes(StringBuilder out, List<Attribute> attributes) {
        for (Attribute a : attributes) {
            out.append(a).append(CRLF);
        }
    }
}
