package io.webrtcgateway.testsupport;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** One SIP message as text, with just enough parsing for test assertions (not a SIP stack). */
public record SipMessage(String text) {

    /** RFC 3261 §7.3.3 compact forms. */
    private static final Map<String, String> COMPACT = Map.of(
            "i", "call-id", "m", "contact", "e", "content-encoding", "l", "content-length",
            "c", "content-type", "f", "from", "s", "subject", "k", "supported", "t", "to", "v", "via");

    private static final Pattern EXPIRES_PARAM = Pattern.compile(";\\s*expires\\s*=\\s*(\\d+)", Pattern.CASE_INSENSITIVE);

    public String firstLine() {
        int end = text.indexOf("\r\n");
        if (end < 0) {
            end = text.indexOf('\n');
        }
        return end < 0 ? text : text.substring(0, end);
    }

    public boolean isRequest() {
        return !firstLine().startsWith("SIP/2.0 ");
    }

    /** The request method, or for a response the method in its CSeq. */
    public String method() {
        if (isRequest()) {
            return firstLine().split(" ", 2)[0];
        }
        String[] cseq = header("CSeq").orElse("").trim().split("\\s+");
        return cseq.length == 2 ? cseq[1] : "";
    }

    /** The status code of a response; 0 for a request. */
    public int status() {
        if (isRequest()) {
            return 0;
        }
        String[] parts = firstLine().split(" ", 3);
        return Integer.parseInt(parts[1]);
    }

    public String requestUri() {
        String[] parts = firstLine().split(" ");
        return isRequest() && parts.length >= 2 ? parts[1] : "";
    }

    /** The first value of a header (case-insensitive name, compact forms understood). */
    public Optional<String> header(String name) {
        List<String> values = headers(name);
        return values.isEmpty() ? Optional.empty() : Optional.of(values.get(0));
    }

    /** Every value of a header, in order; a line with commas is one value here. */
    public List<String> headers(String name) {
        String wanted = canonical(name);
        List<String> values = new ArrayList<>();
        for (String line : headerLines()) {
            int colon = line.indexOf(':');
            if (colon > 0 && canonical(line.substring(0, colon).trim()).equals(wanted)) {
                values.add(line.substring(colon + 1).trim());
            }
        }
        return values;
    }

    public String callId() {
        return header("Call-ID").orElse("");
    }

    public long cseq() {
        String value = header("CSeq").orElse("").trim();
        int space = value.indexOf(' ');
        return space < 0 ? -1 : Long.parseLong(value.substring(0, space));
    }

    /** The user part of the To URI, e.g. the DN of a REGISTER ("sip:1001@host" -> "1001"). */
    public String toUser() {
        Matcher m = Pattern.compile("sips?:([^@;>]+)@").matcher(header("To").orElse(""));
        return m.find() ? m.group(1) : "";
    }

    /**
     * The expiry asked for: the Contact's ";expires=" parameter, else the Expires header
     * (RFC 3261 §10.2.1.1); empty if neither is present.
     */
    public OptionalInt expires() {
        for (String contact : headers("Contact")) {
            int close = contact.lastIndexOf('>');
            Matcher m = EXPIRES_PARAM.matcher(close < 0 ? contact : contact.substring(close));
            if (m.find()) {
                return OptionalInt.of(Integer.parseInt(m.group(1)));
            }
        }
        Optional<String> header = header("Expires");
        if (header.isPresent() && header.get().trim().matches("\\d+")) {
            return OptionalInt.of(Integer.parseInt(header.get().trim()));
        }
        return OptionalInt.empty();
    }

    /** A REGISTER removing its bindings (Expires 0, RFC 3261 §10.2.2). */
    public boolean isUnregister() {
        return isRequest() && method().equals("REGISTER") && expires().orElse(-1) == 0;
    }

    public String body() {
        int crlf = text.indexOf("\r\n\r\n");
        if (crlf >= 0) {
            return text.substring(crlf + 4);
        }
        int lf = text.indexOf("\n\n");
        return lf < 0 ? "" : text.substring(lf + 2);
    }

    @Override
    public String toString() {
        return text;
    }

    private List<String> headerLines() {
        List<String> lines = new ArrayList<>();
        String[] raw = text.split("\r?\n", -1);
        for (int i = 1; i < raw.length; i++) {
            String line = raw[i];
            if (line.isEmpty()) {
                break;
            }
            if ((line.startsWith(" ") || line.startsWith("\t")) && !lines.isEmpty()) {
                // folded continuation of the previous header (RFC 3261 §7.3.1)
                lines.set(lines.size() - 1, lines.get(lines.size() - 1) + " " + line.trim());
            } else {
                lines.add(line);
            }
        }
        return lines;
    }

    private static String canonical(String name) {
        String lower = name.toLowerCase(Locale.ROOT);
        return COMPACT.getOrDefault(lower, lower);
    }
}
