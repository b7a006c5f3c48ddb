package io.webrtcgateway.sip.sandbox;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.text.ParseException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Calendar;
import java.util.Comparator;
import java.util.GregorianCalendar;
import java.util.List;
import java.util.ListIterator;
import java.util.Locale;
import java.util.Map;
import java.util.TimeZone;
import java.util.concurrent.ConcurrentHashMap;

import javax.sip.InvalidArgumentException;
import javax.sip.address.SipURI;
import javax.sip.address.URI;
import javax.sip.header.CSeqHeader;
import javax.sip.header.CallIdHeader;
import javax.sip.header.ContactHeader;
import javax.sip.header.ExpiresHeader;
import javax.sip.header.HeaderFactory;
import javax.sip.header.RequireHeader;
import javax.sip.header.ToHeader;
import javax.sip.message.MessageFactory;
import javax.sip.message.Request;
import javax.sip.message.Response;

import gov.nist.javax.sip.message.SIPMessage;

/**
 * The sandbox's location service: processes REGISTER as RFC 3261 §10.3 describes, except that it
 * authenticates nobody (steps 3-4 skipped) and accepts any domain (step 1). Demo/dev only.
 *
 * <p>Bindings are kept per address-of-record; each AOR's list is replaced atomically inside
 * {@link ConcurrentHashMap#compute}, which gives §10.3 step 7's all-or-nothing commit without a
 * global lock. Stored lists are immutable.
 */
final class Registrar {

    /** Used when neither Contact;expires nor Expires is present (RFC 3261 §10.3 step 7 suggests 3600). */
    static final int DEFAULT_EXPIRES = 3600;
    /** Longer requests are shortened to this, which §10.2.1 allows the registrar to do. */
    static final int MAX_EXPIRES = 7200;
    /**
     * Shorter non-zero requests get 423 Interval Too Brief (§10.3 step 7). Low on purpose: developers
     * use short expiries to watch refreshes happen, but a refresh every second is never intended.
     */
    static final int MIN_EXPIRES = 10;

    private final MessageFactory messages;
    private final HeaderFactory headers;
    private final Clock clock;

    /** AOR (canonical, see {@link #addressOfRecord}) -> its bindings; lists are immutable. */
    private final Map<String, List<Entry>> bindingsByAor = new ConcurrentHashMap<>();

    /** One binding as stored: the Contact (without expires), its URI for §19.1.4 comparison, and §10.3 ordering data. */
    private record Entry(ContactHeader contact, URI uri, Instant expiresAt, String callId, long cseq) {
        boolean expired(Instant now) {
            return !expiresAt.isAfter(now);
        }
    }

    /** Raised inside compute() to abandon a whole REGISTER with a given status; nothing is committed. */
    private static final class Rejection extends RuntimeException {
        final int status;

        Rejection(int status, String reason) {
            super(reason, null, false, false);
            this.status = status;
        }
    }

    Registrar(MessageFactory messages, HeaderFactory headers, Clock clock) {
        this.messages = messages;
        this.headers = headers;
        this.clock = clock;
    }

    /** Processes one REGISTER and returns the final response to send (never null). */
    Response register(Request request) throws ParseException, InvalidArgumentException {
        // Step 2: we support no extensions, so any Require option is unsupported (§8.2.2.3).
        List<String> required = new ArrayList<>();
        for (var it = request.getHeaders(RequireHeader.NAME); it.hasNext(); ) {
            required.add(((RequireHeader) it.next()).getOptionTag());
        }
        if (!required.isEmpty()) {
            Response response = messages.createResponse(Response.BAD_EXTENSION, request);
            for (String tag : required) {
                response.addHeader(headers.createUnsupportedHeader(tag));
            }
            return response;
        }

        // Step 5: the To URI is the address-of-record. Any domain will do in the sandbox.
        ToHeader to = (ToHeader) request.getHeader(ToHeader.NAME);
        CallIdHeader callIdHeader = (CallIdHeader) request.getHeader(CallIdHeader.NAME);
        CSeqHeader cseqHeader = (CSeqHeader) request.getHeader(CSeqHeader.NAME);
        if (to == null || callIdHeader == null || cseqHeader == null) {
            return reason(messages.createResponse(Response.BAD_REQUEST, request), "Missing To, Call-ID or CSeq");
        }
        String aor = addressOfRecord(to.getAddress().getURI());
        if (aor == null) {
            return reason(messages.createResponse(Response.NOT_FOUND, request), "Not a sip: or sips: address-of-record");
        }

        String unparsable = unparsableBindingHeader(request);
        if (unparsable != null) {
            return reason(messages.createResponse(Response.BAD_REQUEST, request), "Malformed " + unparsable);
        }

        List<ContactHeader> contacts = new ArrayList<>();
        for (var it = request.getHeaders(ContactHeader.NAME); it.hasNext(); ) {
            contacts.add((ContactHeader) it.next());
        }
        ExpiresHeader expiresHeader = request.getExpires();
        Instant now = clock.instant();
        String callId = callIdHeader.getCallId();
        long cseq = cseqHeader.getSeqNumber();

        List<Entry> current;
        if (contacts.stream().anyMatch(ContactHeader::isWildCard)) {
            // Step 6: "*" must stand alone and come with Expires: 0.
            if (contacts.size() != 1 || expiresHeader == null || expiresHeader.getExpires() != 0) {
                return reason(messages.createResponse(Response.BAD_REQUEST, request),
                        "Contact * needs Expires: 0 and no other Contact");
            }
            try {
                current = removeAll(aor, callId, cseq, now);
            } catch (Rejection r) {
                return reason(messages.createResponse(r.status, request), r.getMessage());
            }
        } else {
            List<Change> changes = new ArrayList<>(contacts.size());
            if (expiresHeader != null && expiresHeader.getExpires() < 0) {
                return reason(messages.createResponse(Response.BAD_REQUEST, request), "Invalid Expires");
            }
            for (ContactHeader contact : contacts) {
                long requested;
                String param = contact.getParameter("expires");
                if (param != null) {
                    requested = deltaSeconds(param);
                    if (requested < 0) {
                        return reason(messages.createResponse(Response.BAD_REQUEST, request), "Invalid Contact expires");
                    }
                } else {
                    requested = expiresHeader != null ? expiresHeader.getExpires() : DEFAULT_EXPIRES;
                }
                if (requested > 0 && requested < MIN_EXPIRES) {
                    Response response = messages.createResponse(Response.INTERVAL_TOO_BRIEF, request);
                    response.addHeader(headers.createMinExpiresHeader(MIN_EXPIRES));
                    return response;
                }
                changes.add(new Change(contact, (int) Math.min(requested, MAX_EXPIRES)));
            }
            try {
                // No Contact at all is a query (§10.2.3): compute() then only drops expired entries.
                current = apply(aor, changes, callId, cseq, now);
            } catch (Rejection r) {
                return reason(messages.createResponse(r.status, request), r.getMessage());
            }
        }
        return ok(request, current, now);
    }

    /** Snapshot of all unexpired bindings, ordered by AOR then contact. */
    List<SandboxSipServer.Binding> bindings() {
        Instant now = clock.instant();
        List<SandboxSipServer.Binding> out = new ArrayList<>();
        bindingsByAor.forEach((aor, entries) -> {
            for (Entry e : entries) {
                if (!e.expired(now)) {
                    out.add(new SandboxSipServer.Binding(aor, e.uri().toString(), e.expiresAt(), e.callId(), e.cseq()));
                }
            }
        });
        out.sort(Comparator.comparing(SandboxSipServer.Binding::aor).thenComparing(SandboxSipServer.Binding::contact));
        return List.copyOf(out);
    }

    /**
     * Where to send a call for {@code user} (a DN): the most recently written unexpired contact of an
     * address-of-record with that user part, whatever its domain (the sandbox serves any domain, and the
     * gateway addresses it by IP). Null when nobody with that user is registered. The sandbox does not
     * fork (RFC 3261 §16.6 parallel search): one contact per DN is enough for a demo.
     */
    URI contactOf(String user) {
        Instant now = clock.instant();
        Entry best = null;
        for (Map.Entry<String, List<Entry>> e : bindingsByAor.entrySet()) {
            if (!user.equals(userOf(e.getKey()))) {
                continue;
            }
            List<Entry> live = unexpired(e.getValue(), now);
            if (!live.isEmpty()) {
                Entry last = live.get(live.size() - 1); // apply() appends, so the last one was written last
                if (best == null || last.expiresAt().isAfter(best.expiresAt())) {
                    best = last;
                }
            }
        }
        return best == null ? null : (URI) best.uri().clone();
    }

    /** The user part of a canonical AOR ("sip:1001@host" -> "1001"), or null if it has none. */
    private static String userOf(String aor) {
        int colon = aor.indexOf(':');
        int at = aor.lastIndexOf('@');
        return at < 0 ? null : aor.substring(colon + 1, at);
    }

    /** The user part of a SIP URI as the registrar stores it (unescaped, §10.3 step 5), or null. */
    static String userOf(URI uri) {
        return uri instanceof SipURI sip && sip.getUser() != null ? unescape(sip.getUser()) : null;
    }

    /** Forgets expired bindings and AORs left without any; run periodically by the server. */
    void purgeExpired() {
        Instant now = clock.instant();
        for (String aor : bindingsByAor.keySet()) {
            bindingsByAor.computeIfPresent(aor, (k, entries) -> emptyToNull(unexpired(entries, now)));
        }
    }

    private record Change(ContactHeader contact, int expires) {}

    /** §10.3 step 7 for an ordinary REGISTER: all changes or none. Returns the AOR's bindings afterwards. */
    private List<Entry> apply(String aor, List<Change> changes, String callId, long cseq, Instant now) {
        List<Entry> result = bindingsByAor.compute(aor, (k, existing) -> {
            List<Entry> entries = existing == null ? new ArrayList<>() : unexpired(existing, now);
            for (Change change : changes) {
                URI uri = change.contact().getAddress().getURI();
                ListIterator<Entry> it = entries.listIterator();
                Entry found = null;
                while (it.hasNext()) {
                    Entry e = it.next();
                    if (e.uri().equals(uri)) { // §19.1.4 URI comparison (SipUri.equals implements it)
                        found = e;
                        break;
                    }
                }
                if (found != null && found.callId().equals(callId) && cseq <= found.cseq()) {
                    // Same UA, out-of-order or replayed request: ignore it entirely (§10.3 step 7).
                    throw new Rejection(Response.SERVER_INTERNAL_ERROR, "CSeq not higher than the binding's");
                }
                if (found != null) {
                    it.remove();
                }
                if (change.expires() > 0) {
                    ContactHeader stored = (ContactHeader) change.contact().clone();
                    stored.removeParameter("expires");
                    entries.add(new Entry(stored, (URI) uri.clone(), now.plusSeconds(change.expires()), callId, cseq));
                }
            }
            return emptyToNull(entries);
        });
        return result == null ? List.of() : result;
    }

    /** §10.3 step 6 ("*"): remove every binding unless one of them is from a newer request of the same UA. */
    private List<Entry> removeAll(String aor, String callId, long cseq, Instant now) {
        bindingsByAor.computeIfPresent(aor, (k, existing) -> {
            for (Entry e : unexpired(existing, now)) {
                if (e.callId().equals(callId) && cseq <= e.cseq()) {
                    throw new Rejection(Response.SERVER_INTERNAL_ERROR, "CSeq not higher than the binding's");
                }
            }
            return null;
        });
        return List.of();
    }

    /** Step 8: 200 OK listing every current binding with the expiry the registrar chose. */
    private Response ok(Request request, List<Entry> current, Instant now) throws ParseException, InvalidArgumentException {
        Response response = messages.createResponse(Response.OK, request);
        for (Entry e : current) {
            ContactHeader contact = (ContactHeader) e.contact().clone();
            contact.setExpires((int) Math.max(1, Duration.between(now, e.expiresAt()).toSeconds()));
            response.addHeader(contact);
        }
        Calendar date = new GregorianCalendar(TimeZone.getTimeZone("GMT"));
        date.setTimeInMillis(now.toEpochMilli());
        response.addHeader(headers.createDateHeader(date));
        return response;
    }

    /**
     * The canonical AOR of §10.3 step 5: scheme, user and host[:port], no parameters, user unescaped.
     * Null for anything but sip:/sips: URIs.
     */
    static String addressOfRecord(URI uri) {
        if (!(uri instanceof SipURI sip) || sip.getHost() == null) {
            return null;
        }
        StringBuilder aor = new StringBuilder(sip.isSecure() ? "sips:" : "sip:");
        if (sip.getUser() != null) {
            aor.append(unescape(sip.getUser())).append('@');
        }
        aor.append(sip.getHost().toLowerCase(Locale.ROOT));
        if (sip.getPort() > 0) {
            aor.append(':').append(sip.getPort());
        }
        return aor.toString();
    }

    /** Percent-decodes the user part (§10.3 step 5: escaped characters converted to their unescaped form). */
    private static String unescape(String user) {
        if (user.indexOf('%') < 0) {
            return user;
        }
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        for (int i = 0; i < user.length(); i++) {
            char c = user.charAt(i);
            if (c == '%' && i + 2 < user.length()
                    && Character.digit(user.charAt(i + 1), 16) >= 0 && Character.digit(user.charAt(i + 2), 16) >= 0) {
                bytes.write(Integer.parseInt(user, i + 1, i + 3, 16));
                i += 2;
            } else {
                bytes.writeBytes(String.valueOf(c).getBytes(StandardCharsets.UTF_8));
            }
        }
        return bytes.toString(StandardCharsets.UTF_8);
    }

    /**
     * JAIN-SIP sets aside header lines it cannot parse instead of rejecting the request. A REGISTER
     * whose Contact or Expires was set aside would pass for a query or get the default expiry, and
     * the UA would believe a registration it did not ask for; name the header instead.
     */
    private static String unparsableBindingHeader(Request request) {
        if (request instanceof SIPMessage message) {
            for (var it = message.getUnrecognizedHeaders(); it.hasNext(); ) {
                String line = it.next();
                int colon = line.indexOf(':');
                String name = (colon < 0 ? line : line.substring(0, colon)).trim();
                if (name.equalsIgnoreCase(ContactHeader.NAME) || name.equalsIgnoreCase("m")
                        || name.equalsIgnoreCase(ExpiresHeader.NAME)) {
                    return name;
                }
            }
        }
        return null;
    }

    /** RFC 3261 §25.1 delta-seconds; -1 if not one. Huge values are fine: they get shortened anyway. */
    private static long deltaSeconds(String text) {
        String t = text.trim();
        if (t.isEmpty() || !t.chars().allMatch(c -> c >= '0' && c <= '9')) {
            return -1;
        }
        return t.length() > 18 ? Long.MAX_VALUE : Long.parseLong(t);
    }

    private static List<Entry> unexpired(List<Entry> entries, Instant now) {
        List<Entry> out = new ArrayList<>(entries.size());
        for (Entry e : entries) {
            if (!e.expired(now)) {
                out.add(e);
            }
        }
        return out;
    }

    private static List<Entry> emptyToNull(List<Entry> entries) {
        return entries.isEmpty() ? null : List.copyOf(entries);
    }

    private static Response reason(Response response, String reasonPhrase) throws ParseException {
        response.setReasonPhrase(reasonPhrase);
        return response;
    }
}
