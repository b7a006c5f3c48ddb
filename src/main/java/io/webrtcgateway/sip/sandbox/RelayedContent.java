package io.webrtcgateway.sip.sandbox;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;

import javax.sip.header.ContentTypeHeader;
import javax.sip.header.Header;
import javax.sip.message.Message;

/**
 * What the sandbox's B2BUA carries from one leg's message to the other's: the body with its Content-Type,
 * attached data ({@code X-...} headers, how SIP Server and the gateway pass key/value data), and the
 * headers some methods cannot do without (NOTIFY's Event and Subscription-State, RFC 6665 §8.2; INFO's
 * Info-Package, RFC 6086 §7). Everything else belongs to one leg and is built fresh by JAIN-SIP.
 */
final class RelayedContent {
    private static final Set<String> PASSED_HEADERS = Set.of("event", "o", "subscription-state", "info-package");

    private RelayedContent() {}

    static void copy(Message from, Message to) throws java.text.ParseException {
        copyBody(from, to);
        List<String> names = new ArrayList<>();
        for (var it = from.getHeaderNames(); it.hasNext(); ) {
            names.add((String) it.next());
        }
        for (String name : names) {
            String lower = name.toLowerCase(Locale.ROOT);
            if (lower.startsWith("x-") || PASSED_HEADERS.contains(lower)) {
                for (var it = from.getHeaders(name); it.hasNext(); ) {
                    to.addHeader((Header) ((Header) it.next()).clone());
                }
            }
        }
    }

    /** The body and its Content-Type; nothing when {@code from} has no body (or a body without a type). */
    static void copyBody(Message from, Message to) throws java.text.ParseException {
        byte[] body = from.getRawContent();
        ContentTypeHeader type = (ContentTypeHeader) from.getHeader(ContentTypeHeader.NAME);
        if (body != null && body.length > 0 && type != null) {
            to.setContent(body, (ContentTypeHeader) type.clone());
        }
    }

    static String body(Message m) {
        byte[] raw = m.getRawContent();
        return raw == null || raw.length == 0 ? null : new String(raw, java.nio.charset.StandardCharsets.UTF_8);
    }
}
