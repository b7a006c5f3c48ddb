package io.webrtcgateway.sip.digest;

import java.security.SecureRandom;
import java.text.ParseException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.ListIterator;
import java.util.Locale;
import java.util.Map;
import java.util.function.Supplier;
import javax.sip.header.AuthorizationHeader;
import javax.sip.header.HeaderFactory;
import javax.sip.header.ProxyAuthenticateHeader;
import javax.sip.header.ProxyAuthorizationHeader;
import javax.sip.header.WWWAuthenticateHeader;
import javax.sip.message.Request;
import javax.sip.message.Response;

/**
 * The client side of SIP digest authentication (RFC 3261 §22.2-§22.4) for one registration or one dialog. It
 * remembers the challenges it was sent, one per realm and header (WWW-Authenticate from SIP Server,
 * Proxy-Authenticate from a proxy on the way), answers them in every request that follows (RFC 3261 §22.3:
 * credentials cached for the realm; the nonce count goes up with each answer), and decides whether a
 * challenged request may go again: once per request, and once more when the new challenge says
 * {@code stale=true} (the password was right, the nonce had expired: RFC 2617 §3.2.1). A request is never
 * re-sent a third time, so a server that keeps challenging cannot make the gateway loop.
 *
 * <p>Not thread-safe: confined to its owner's serial executor (the registration's, the call's).
 */
public final class DigestClient {

    /** Why a challenged request may or may not go again. */
    public enum Outcome {
        /** Answer the challenge: re-send the request with {@link #authorize}. */
        RETRY,
        /** Challenged again after an answer (not stale): the server refused the credentials. */
        REFUSED,
        /** Nothing here can answer it: no Digest challenge, or only ones with an unsupported algorithm or qop. */
        UNSUPPORTED
    }

    /** {@code why} says, for people, what was decided (the unsupported algorithm or qop, or the second challenge). */
    public record Decision(Outcome outcome, String why) {
        public boolean retry() {
            return outcome == Outcome.RETRY;
        }
    }

    /**
     * What one request has used of its retries: one per challenge, one more after {@code stale=true}. A new
     * request (a new BYE, a refresh) starts with a fresh one; the re-sends of one request share it.
     */
    public static final class Budget {
        private int retries;
        private boolean staleRetried;

        /** Re-sends with credentials so far. */
        public int retries() {
            return retries;
        }
    }

    private record Key(boolean proxy, String realm) {}

    private static final SecureRandom RANDOM = new SecureRandom();

    private final HeaderFactory headers;
    private final Supplier<String> cnonces;
    /** The last challenge per realm and header, in the order they came. */
    private final Map<Key, DigestChallenge> challenges = new LinkedHashMap<>();

    public DigestClient(HeaderFactory headers) {
        this(headers, () -> {
            byte[] b = new byte[8];
            RANDOM.nextBytes(b);
            return HexFormat.of().formatHex(b);
        });
    }

    /** With client nonces from {@code cnonces} (tests fix them). */
    DigestClient(HeaderFactory headers, Supplier<String> cnonces) {
        this.headers = headers;
        this.cnonces = cnonces;
    }

    /**
     * A 401 or 407 to a request whose retries so far are {@code budget}: whether it may go again, and if so the
     * challenges are remembered (and the budget charged) so that {@link #authorize} answers them.
     */
    public Decision onChallenge(Response response, Budget budget) {
        Map<Key, DigestChallenge> usable = new LinkedHashMap<>();
        List<String> problems = new ArrayList<>();
        read(response, WWWAuthenticateHeader.NAME, false, usable, problems);
        read(response, ProxyAuthenticateHeader.NAME, true, usable, problems);
        int status = response.getStatusCode();
        if (usable.isEmpty()) {
            return new Decision(Outcome.UNSUPPORTED, problems.isEmpty()
                    ? "no Digest challenge in the " + status
                    : String.join("; ", problems));
        }
        boolean allStale = usable.values().stream().allMatch(DigestChallenge::stale);
        if (budget.retries == 0) {
            budget.retries = 1;
        } else if (allStale && !budget.staleRetried) {
            budget.staleRetried = true;
            budget.retries++;
        } else {
            return new Decision(Outcome.REFUSED, budget.staleRetried
                    ? "challenged again after a retry with the stale nonce renewed: the credentials were refused"
                    : "challenged again after a retry with credentials (not stale): the credentials were refused");
        }
        usable.forEach((key, fresh) -> {
            DigestChallenge known = challenges.get(key);
            // The same nonce again: keep counting (RFC 2617 §3.2.2: nc must not repeat for a nonce).
            if (known == null || !known.nonce().equals(fresh.nonce())) {
                challenges.put(key, fresh);
            }
        });
        return new Decision(Outcome.RETRY, "answering " + describe(usable.keySet())
                + (budget.staleRetried ? " (stale nonce renewed)" : ""));
    }

    /**
     * Replaces any Authorization / Proxy-Authorization in {@code request} with answers to the challenges
     * remembered so far, computed for its method and Request-URI (RFC 3261 §22.4: the digest-uri is the
     * Request-URI). Without remembered challenges, or without {@code credentials}, the request goes without.
     */
    public void authorize(Request request, DigestCredentials credentials) throws ParseException {
        request.removeHeader(AuthorizationHeader.NAME);
        request.removeHeader(ProxyAuthorizationHeader.NAME);
        if (credentials == null) {
            return;
        }
        for (Map.Entry<Key, DigestChallenge> e : challenges.entrySet()) {
            DigestChallenge.Answer a = e.getValue().answer(credentials.username(), credentials.password(),
                    request.getMethod(), request.getRequestURI().toString(), cnonces.get());
            AuthorizationHeader h = e.getKey().proxy()
                    ? headers.createProxyAuthorizationHeader("Digest")
                    : headers.createAuthorizationHeader("Digest");
            h.setUsername(a.username());
            h.setRealm(a.realm());
            h.setNonce(a.nonce());
            h.setURI(request.getRequestURI());
            h.setResponse(a.response());
            h.setAlgorithm(a.algorithm());
            if (a.opaque() != null) {
                h.setOpaque(a.opaque());
            }
            if (a.qop() != null) {
                h.setQop(a.qop());
                h.setCNonce(a.cnonce());
                h.setNonceCount(a.nonceCount());
            }
            request.addHeader(h);
        }
    }

    /** Whether a challenge was taken (so requests now carry credentials). */
    public boolean challenged() {
        return !challenges.isEmpty();
    }

    /** Forgets every challenge (other credentials, another server): requests go without until challenged again. */
    public void forget() {
        challenges.clear();
    }

    private static void read(Response response, String name, boolean proxy, Map<Key, DigestChallenge> usable,
                             List<String> problems) {
        ListIterator<?> it = response.getHeaders(name);
        while (it != null && it.hasNext()) {
            if (!(it.next() instanceof WWWAuthenticateHeader h)) {
                continue;
            }
            String scheme = h.getScheme();
            if (scheme == null || !scheme.toLowerCase(Locale.ROOT).equals("digest")) {
                problems.add(name + " scheme " + scheme + " (only Digest is answered)");
                continue;
            }
            try {
                usable.put(new Key(proxy, h.getRealm()), new DigestChallenge(h.getRealm(), h.getNonce(), h.getOpaque(),
                        h.getAlgorithm(), h.getQop(), h.isStale()));
            } catch (IllegalArgumentException e) {
                problems.add(name + " realm \"" + h.getRealm() + "\": " + e.getMessage());
            }
        }
    }

    private static String describe(Iterable<Key> keys) {
        List<String> parts = new ArrayList<>();
        for (Key k : keys) {
            parts.add((k.proxy() ? "Proxy-Authenticate" : "WWW-Authenticate") + " realm \"" + k.realm() + "\"");
        }
        return String.join(", ", parts);
    }
}
