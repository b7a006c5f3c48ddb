package io.webrtcgateway.sip;

import io.webrtcgateway.concurrent.SerialExecutor;
import io.webrtcgateway.config.SipServerAddress;
import io.webrtcgateway.error.ErrorCode;
import io.webrtcgateway.error.GatewayException;
import io.webrtcgateway.sip.digest.DigestClient;
import io.webrtcgateway.sip.digest.DigestCredentials;
import java.util.ListIterator;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import javax.sip.ClientTransaction;
import javax.sip.ResponseEvent;
import javax.sip.address.Address;
import javax.sip.address.SipURI;
import javax.sip.header.ContactHeader;
import javax.sip.header.ExpiresHeader;
import javax.sip.header.MinExpiresHeader;
import javax.sip.message.Request;
import javax.sip.message.Response;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One DN's registration with SIP Server (RFC 3261 §10.2): REGISTER with digest authentication, refresh
 * before expiry, un-REGISTER. One Call-ID for the registration's whole life with CSeq increasing, so the
 * registrar can order our requests (§10.2.4). At most one REGISTER in flight (§10.2: a UA must not send a
 * new registration before the previous one got a final response or timed out).
 *
 * <p>All state is confined to {@link #executor}: JAIN-SIP callbacks and timers only post to it.
 */
public final class Registration {
    private static final Logger LOG = LoggerFactory.getLogger(Registration.class);

    public enum State { NEW, REGISTERING, REGISTERED, UNREGISTERING, ENDED }

    private enum Purpose { INITIAL, TAKEOVER, REFRESH, MOVE, UNREGISTER }

    /** How often a refresh that waits for its absent owner checks again. */
    private static final long OWNER_RECHECK_MS = 1000;

    private final RegistrationClient client;
    private final String dn;
    private final String callId;
    private final String fromTag;
    private final SerialExecutor executor;

    // Confined to executor.
    private State state = State.NEW;
    private long cseq;
    private String password;
    private RegistrationListener listener;
    private Object owner;
    /** SIP Server's challenges, answered in every REGISTER until it challenges again (docs/sip.md). */
    private final DigestClient digest;
    private SipServerAddress server;
    private int requestedExpires;
    private int grantedSeconds;
    private long expiresAtMillis;
    private ScheduledFuture<?> refreshTask;
    private Attempt pending;
    private Runnable afterPending;
    private volatile State publishedState = State.NEW;
    private volatile int publishedExpires;
    private volatile String publishedServer = "";
    private volatile String lastResult = "";
    private volatile java.time.Instant lastResultAt;
    private volatile long publishedExpiresAtMillis;
    /**
     * The DN's credentials for its calls' challenges: the password it registers with (after a take-over, the
     * new session's once SIP Server accepted it); null without a password.
     */
    private volatile DigestCredentials callCredentials;

    Registration(RegistrationClient client, String dn) {
        this.client = client;
        this.dn = dn;
        this.callId = client.sip().newCallId();
        this.fromTag = SipEndpoint.randomHex(4);
        this.executor = new SerialExecutor(client.workers(), client.actors());
        this.requestedExpires = (int) client.config().registerExpires().toSeconds();
        this.digest = new DigestClient(client.sip().headers());
    }

    public String dn() {
        return dn;
    }

    public State state() {
        return publishedState;
    }

    /** Seconds SIP Server granted in its last 200 OK. */
    public int expires() {
        return publishedExpires;
    }

    public String server() {
        return publishedServer;
    }

    /** Last outcome in words, e.g. "200 OK" or "408 timeout", for admin and status. */
    public String lastResult() {
        return lastResult;
    }

    /** When {@link #lastResult()} came, or null before any. */
    public java.time.Instant lastResultAt() {
        return lastResultAt;
    }

    /** When the binding SIP Server granted runs out, or null while there is none. */
    public java.time.Instant expiresAt() {
        long at = publishedExpiresAtMillis;
        return at == 0 || publishedState != State.REGISTERED ? null : java.time.Instant.ofEpochMilli(at);
    }

    /** Who holds this registration (a session); opaque here. */
    public Object owner() {
        return owner;
    }

    CompletableFuture<Registration> start(String password, RegistrationListener listener, Object owner) {
        CompletableFuture<Registration> result = new CompletableFuture<>();
        executor.execute(() -> {
            this.password = password;
            this.callCredentials = credentials(password);
            this.listener = listener;
            this.owner = owner;
            transitionTo(State.REGISTERING);
            send(new Attempt(Purpose.INITIAL, result, requestedExpires, password));
        });
        return result;
    }

    /**
     * Another session registers the same DN: SIP Server must accept its credentials before it takes the
     * registration over, so a wrong password cannot steal a DN.
     */
    CompletableFuture<Registration> takeOver(String newPassword, RegistrationListener newListener, Object newOwner) {
        CompletableFuture<Registration> result = new CompletableFuture<>();
        executor.execute(() -> {
            if (state != State.REGISTERED || pending != null) {
                result.completeExceptionally(new GatewayException(ErrorCode.REGISTRATION_IN_PROGRESS,
                        "DN " + dn + " is being registered or un-registered by another session; try again"));
                return;
            }
            Attempt attempt = new Attempt(Purpose.TAKEOVER, result, requestedExpires, newPassword);
            attempt.onSuccess = () -> {
                RegistrationListener old = listener;
                Object oldOwner = owner;
                password = newPassword;
                callCredentials = credentials(newPassword);
                listener = newListener;
                owner = newOwner;
                if (old != null && oldOwner != newOwner) {
                    old.onRegistrationLost(this, "replaced", null, null);
                }
            };
            // The new credentials' challenge state is separate from ours until they succeed.
            digest.forget();
            send(attempt);
        });
        return result;
    }

    /** Sends REGISTER with Expires 0; completes when SIP Server answered or the request timed out. */
    CompletableFuture<Void> unregister() {
        CompletableFuture<Void> done = new CompletableFuture<>();
        executor.execute(() -> doUnregister(done));
        return done;
    }

    private void doUnregister(CompletableFuture<Void> done) {
        if (state == State.ENDED || state == State.NEW) {
            done.complete(null);
            return;
        }
        if (pending != null) {
            Runnable previous = afterPending;
            afterPending = () -> {
                if (previous != null) {
                    previous.run();
                }
                doUnregister(done);
            };
            return;
        }
        cancelRefresh();
        transitionTo(State.UNREGISTERING);
        CompletableFuture<Registration> r = new CompletableFuture<>();
        r.whenComplete((ok, err) -> done.complete(null));
        send(new Attempt(Purpose.UNREGISTER, r, 0, password));
    }

    /** The active SIP Server changed: register there at once so calls for this DN follow. */
    void moveTo(SipServerAddress newServer) {
        executor.execute(() -> {
            if (state != State.REGISTERED || newServer == null || newServer.equals(server)) {
                return;
            }
            if (pending != null) {
                afterPending = () -> moveTo(newServer);
                return;
            }
            LOG.info("{}: moving registration to {}", dn, newServer);
            digest.forget();
            send(new Attempt(Purpose.MOVE, new CompletableFuture<>(), requestedExpires, password));
        });
    }

    /** One REGISTER transaction (plus its authenticated retry) and what to do with its outcome. */
    private final class Attempt implements ClientTransactionHandler {
        final Purpose purpose;
        final CompletableFuture<Registration> result;
        int expires;
        final String credentials;
        Runnable onSuccess;
        /** Its digest retries (RFC 3261 §22.2): one, and one more after stale=true. */
        DigestClient.Budget auth = new DigestClient.Budget();
        boolean retriedOtherServer;
        boolean intervalRetried;
        SipServerAddress target;
        ClientTransaction transaction;
        ScheduledFuture<?> timeout;

        Attempt(Purpose purpose, CompletableFuture<Registration> result, int expires, String credentials) {
            this.purpose = purpose;
            this.result = result;
            this.expires = expires;
            this.credentials = credentials;
            client.countAttempt(purposeName(purpose));
        }

        @Override
        public void onResponse(ResponseEvent event) {
            Response response = event.getResponse();
            ClientTransaction ct = event.getClientTransaction();
            executor.execute(() -> handleResponse(this, ct, response));
        }

        @Override
        public void onFailure(String why) {
            ClientTransaction ct = transaction;
            executor.execute(() -> handleNoAnswer(this, ct, why));
        }
    }

    private void send(Attempt attempt) {
        SipServerAddress target = client.servers().active();
        if (target == null) {
            finishFailed(attempt, new GatewayException(ErrorCode.SIP_UNAVAILABLE,
                    "no SIP Server is reachable", null, null), "server-unreachable");
            return;
        }
        attempt.target = target;
        pending = attempt;
        try {
            Request request = client.buildRegister(this, target, ++cseq, attempt.expires);
            digest.authorize(request, credentials(attempt.credentials));
            attempt.transaction = client.sip().send(request, target.transport(), attempt);
            ClientTransaction ct = attempt.transaction;
            attempt.timeout = client.timers().schedule(
                    () -> executor.execute(() -> {
                        if (attempt == pending && ct == attempt.transaction) {
                            client.sip().countNoAnswer(Request.REGISTER); // we give up before JAIN-SIP does
                        }
                        handleNoAnswer(attempt, ct, "no answer within "
                                + client.config().requestTimeout().toMillis() + " ms");
                    }),
                    client.config().requestTimeout().toMillis(), TimeUnit.MILLISECONDS);
        } catch (Exception e) {
            LOG.debug("{}: REGISTER to {} not sent: {}", dn, target, e.toString());
            handleNoAnswer(attempt, attempt.transaction, "send failed: " + e.getMessage());
        }
    }

    String callId() {
        return callId;
    }

    String fromTag() {
        return fromTag;
    }

    /** The DN with {@code password} as digest credentials; null without a password. */
    private DigestCredentials credentials(String password) {
        return password == null ? null : new DigestCredentials(dn, password);
    }

    /**
     * What the DN's calls answer SIP Server's challenges with (docs/sip.md "Authentication of calls"): the
     * password the browser signed in with; null without one. Any thread.
     */
    DigestCredentials credentials() {
        return callCredentials;
    }

    private void handleResponse(Attempt attempt, ClientTransaction ct, javax.sip.message.Response response) {
        int status = response.getStatusCode();
        if (attempt != pending || ct != attempt.transaction || status < 200) {
            return; // provisional, or the answer to a request we already gave up on
        }
        String reason = response.getReasonPhrase();
        if ((status == Response.UNAUTHORIZED || status == Response.PROXY_AUTHENTICATION_REQUIRED)
                && attempt.credentials != null) {
            DigestClient.Decision decision = digest.onChallenge(response, attempt.auth);
            if (decision.retry()) {
                cancelTimeout(attempt);
                send(attempt);
                return;
            }
            if (decision.outcome() == DigestClient.Outcome.UNSUPPORTED) {
                LOG.warn("{}: REGISTER challenged with {} and not answered: {}", dn, status, decision.why());
            }
        }
        if (status == 423 && !attempt.intervalRetried && response.getHeader(MinExpiresHeader.NAME) != null) {
            // RFC 3261 §10.2.8: retry with at least the registrar's Min-Expires.
            cancelTimeout(attempt);
            attempt.intervalRetried = true;
            attempt.expires = ((MinExpiresHeader) response.getHeader(MinExpiresHeader.NAME)).getExpires();
            requestedExpires = attempt.expires;
            send(attempt);
            return;
        }
        cancelTimeout(attempt);
        pending = null;
        lastResult = status + " " + reason;
        lastResultAt = java.time.Instant.now();
        if (status >= 200 && status < 300) {
            server = attempt.target;
            publishedServer = server.toString();
            if (attempt.purpose == Purpose.UNREGISTER) {
                end();
                attempt.result.complete(this);
            } else {
                int granted = grantedExpires(response, attempt.expires, attempt.target.transport());
                if (granted <= 0) {
                    finishFailed(attempt, new GatewayException(ErrorCode.SIP_REJECTED,
                            "SIP Server answered 200 OK without keeping the binding", status, reason), "refresh-failed");
                    return;
                }
                grantedSeconds = granted;
                publishedExpires = granted;
                expiresAtMillis = System.currentTimeMillis() + granted * 1000L;
                publishedExpiresAtMillis = expiresAtMillis;
                if (attempt.onSuccess != null) {
                    attempt.onSuccess.run();
                }
                transitionTo(State.REGISTERED);
                scheduleRefresh();
                attempt.result.complete(this);
            }
        } else {
            if (attempt.purpose == Purpose.UNREGISTER) {
                client.countFailure(purposeName(attempt.purpose), ErrorCode.SIP_REJECTED, status);
                end();
                attempt.result.complete(this);
            } else {
                String what = status == Response.UNAUTHORIZED || status == Response.PROXY_AUTHENTICATION_REQUIRED
                        ? (attempt.credentials == null ? "SIP Server requires a password" : "SIP Server refused the password")
                        : "SIP Server refused the registration";
                finishFailed(attempt, new GatewayException(ErrorCode.SIP_REJECTED,
                        what + ": " + status + " " + reason, status, reason), "refresh-failed");
            }
        }
        runAfterPending();
    }

    private void handleNoAnswer(Attempt attempt, ClientTransaction ct, String why) {
        if (attempt != pending || ct != attempt.transaction) {
            return;
        }
        cancelTimeout(attempt);
        terminate(ct);
        pending = null;
        lastResult = "408 " + why;
        lastResultAt = java.time.Instant.now();
        LOG.info("{}: REGISTER to {}: {}", dn, attempt.target, why);
        if (attempt.target != null) {
            client.servers().reportNoAnswer(attempt.target);
        }
        SipServerAddress now = client.servers().active();
        if (attempt.purpose != Purpose.UNREGISTER && !attempt.retriedOtherServer && now != null
                && !now.equals(attempt.target)) {
            attempt.retriedOtherServer = true;
            attempt.auth = new DigestClient.Budget();
            digest.forget();
            send(attempt);
            return;
        }
        if (attempt.purpose == Purpose.UNREGISTER) {
            client.countFailure(purposeName(attempt.purpose), ErrorCode.SIP_TIMEOUT, 408);
            end();
            attempt.result.complete(this);
        } else if ((attempt.purpose == Purpose.REFRESH || attempt.purpose == Purpose.MOVE)
                && System.currentTimeMillis() + 2000 < expiresAtMillis) {
            client.countFailure(purposeName(attempt.purpose), ErrorCode.SIP_TIMEOUT, 408);
            // The binding is still valid: keep trying until it runs out.
            long retryMs = Math.min(5000, (expiresAtMillis - System.currentTimeMillis()) / 2);
            refreshTask = client.timers().schedule(() -> executor.execute(this::refresh), retryMs, TimeUnit.MILLISECONDS);
        } else {
            finishFailed(attempt, new GatewayException(ErrorCode.SIP_TIMEOUT,
                    "SIP Server did not answer the REGISTER (" + why + ")", 408, "Request Timeout"),
                    "server-unreachable");
        }
        runAfterPending();
    }

    private void finishFailed(Attempt attempt, GatewayException error, String lostReason) {
        pending = null;
        client.countFailure(purposeName(attempt.purpose), error.code(), error.sipStatus());
        client.failed(this, purposeName(attempt.purpose), error);
        switch (attempt.purpose) {
            case INITIAL -> {
                end();
                attempt.result.completeExceptionally(error);
            }
            case TAKEOVER -> attempt.result.completeExceptionally(error);
            default -> {
                RegistrationListener l = listener;
                end();
                attempt.result.completeExceptionally(error);
                if (l != null) {
                    l.onRegistrationLost(this, lostReason, error.sipStatus(), error.sipReason());
                }
            }
        }
    }

    private void refresh() {
        if (state != State.REGISTERED) {
            return;
        }
        if (pending != null) {
            afterPending = this::refresh;
            return;
        }
        if (!ownerPresent()) {
            // The browser has left (socket closed, polls stopped). It may be registering this DN through
            // another instance right now; a refresh from here would take the binding back from it (a
            // registrar that keeps one contact per DN, or one matching +sip.instance, replaces bindings).
            // Wait until the browser comes back here, or its session expires and un-registers.
            refreshTask = client.timers().schedule(() -> executor.execute(this::refresh), OWNER_RECHECK_MS,
                    TimeUnit.MILLISECONDS);
            return;
        }
        send(new Attempt(Purpose.REFRESH, new CompletableFuture<>(), requestedExpires, password));
    }

    private boolean ownerPresent() {
        RegistrationListener l = listener;
        try {
            return l == null || l.ownerPresent();
        } catch (RuntimeException e) {
            LOG.warn("{}: owner presence check failed: {}", dn, e.toString());
            return true;
        }
    }

    private static String purposeName(Purpose p) {
        return p.name().toLowerCase(Locale.ROOT);
    }

    private void scheduleRefresh() {
        cancelRefresh();
        // Refresh a little past half-way, with jitter so thousands of DNs registered together spread out.
        double fraction = 0.5 + ThreadLocalRandom.current().nextDouble(0.1);
        long delayMs = Math.max(500, (long) (grantedSeconds * 1000L * fraction));
        refreshTask = client.timers().schedule(() -> executor.execute(this::refresh), delayMs, TimeUnit.MILLISECONDS);
    }

    private void cancelRefresh() {
        if (refreshTask != null) {
            refreshTask.cancel(false);
            refreshTask = null;
        }
    }

    private void runAfterPending() {
        Runnable next = afterPending;
        afterPending = null;
        if (next != null) {
            next.run();
        }
    }

    private void end() {
        cancelRefresh();
        transitionTo(State.ENDED);
        client.forget(this);
    }

    private static void cancelTimeout(Attempt attempt) {
        if (attempt.timeout != null) {
            attempt.timeout.cancel(false);
        }
    }

    private static void terminate(ClientTransaction ct) {
        if (ct != null) {
            try {
                ct.terminate();
            } catch (Exception ignored) {
                // already gone
            }
        }
    }

    private void transitionTo(State next) {
        if (state == next) {
            return;
        }
        LOG.info("{}: registration {} -> {}", dn, state, next);
        state = next;
        publishedState = next;
    }

    /** Our binding's expiry: our Contact's expires param, else the Expires header, else what we asked. */
    private int grantedExpires(javax.sip.message.Response response, int asked, String transport) {
        ListIterator<?> contacts = response.getHeaders(ContactHeader.NAME);
        int fromContact = -1;
        int anyContact = -1;
        while (contacts != null && contacts.hasNext()) {
            ContactHeader c = (ContactHeader) contacts.next();
            Address a = c.getAddress();
            if (a != null && a.getURI() instanceof SipURI uri && c.getExpires() >= 0) {
                anyContact = c.getExpires();
                if (dn.equals(uri.getUser()) && client.sip().advertisedHost().equalsIgnoreCase(uri.getHost())
                        && (uri.getPort() == client.sip().advertisedPort(transport)
                            || (uri.getPort() < 0 && client.sip().advertisedPort(transport) == 5060))) {
                    fromContact = c.getExpires();
                }
            }
        }
        if (fromContact >= 0) {
            return fromContact;
        }
        ExpiresHeader expires = (ExpiresHeader) response.getHeader(ExpiresHeader.NAME);
        if (expires != null) {
            return expires.getExpires();
        }
        return anyContact >= 0 ? anyContact : asked;
    }
}
