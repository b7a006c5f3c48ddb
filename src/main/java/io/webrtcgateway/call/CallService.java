package io.webrtcgateway.call;

import io.github.bucket4j.Bucket;
import io.github.bucket4j.ConsumptionProbe;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.webrtcgateway.auth.AccessControl;
import io.webrtcgateway.concurrent.SerialExecutor;
import io.webrtcgateway.config.GatewayConfig;
import io.webrtcgateway.config.SipServerAddress;
import io.webrtcgateway.error.ErrorCode;
import io.webrtcgateway.error.GatewayException;
import io.webrtcgateway.limits.CapacityRefusals;
import io.webrtcgateway.limits.ClientLimits;
import io.webrtcgateway.sdp.SdpException;
import io.webrtcgateway.session.Session;
import io.webrtcgateway.session.SessionService;
import io.webrtcgateway.sip.CallSignaling;
import io.webrtcgateway.sip.Registration;
import io.webrtcgateway.sip.RegistrationClient;
import io.webrtcgateway.sip.SipLeg;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.Base64;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import javax.sip.RequestEvent;
import javax.sip.address.SipURI;
import javax.sip.header.CallIdHeader;
import javax.sip.header.FromHeader;
import javax.sip.message.Response;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Calls of this instance: placing them for a session, taking SIP Server's INVITEs for registered DNs,
 * admission ({@code gateway.limits.max-calls}), lookup by id within a session, and hanging up whatever is
 * left when a session ends or the instance stops. The edges call in here; each call then runs on its own
 * serial executor.
 */
public final class CallService {
    private static final Logger LOG = LoggerFactory.getLogger(CallService.class);
    /** One line per ended call (CallRecord#logLine): route it to a file of its own in the logging config. */
    private static final Logger RECORDS = LoggerFactory.getLogger("io.webrtcgateway.call.record");
    private static final SecureRandom RANDOM = new SecureRandom();

    private final GatewayConfig config;
    private final CallSignaling signaling;
    private final RegistrationClient registrations;
    private final CallMediaFactory mediaFactory;
    private final ExecutorService workers;
    private final ScheduledExecutorService timers;
    private final Map<String, Call> calls = new ConcurrentHashMap<>();
    private final List<Consumer<Call>> startListeners = new CopyOnWriteArrayList<>();
    private final List<Consumer<Call>> endListeners = new CopyOnWriteArrayList<>();
    private final List<Consumer<RefusedInvite>> refusedListeners = new CopyOnWriteArrayList<>();
    private final List<Consumer<RefusedCall>> refusedCallListeners = new CopyOnWriteArrayList<>();
    private final AccessControl access;
    /** Every call's actor, watched together (concurrent.ExecutorWatchdog). */
    private final SerialExecutor.Group actors = new SerialExecutor.Group("call");

    /** Causes of {@link RefusedInvite}, each exported in gateway_sip_invites_refused_total from the start. */
    static final List<String> REFUSAL_CAUSES = List.of("not-signed-in", "limit-calls", "limit-calls-per-session",
            "limit-call-rate", "session-interval-too-small", "internal-error");

    /**
     * gateway.limits.max-incoming-calls-per-second: one second's worth of tokens, refilled continuously; null
     * when off. Checked before any media is allocated, so an INVITE flood cannot empty the RTP port range.
     */
    private final Bucket incomingCalls;
    /**
     * Call-IDs of the last {@value #RATE_REFUSALS_KEPT} INVITEs refused over that rate. The 503 is sent without a
     * transaction (a flood must not fill the stack's transaction table), so a retransmission of the INVITE
     * (UDP, RFC 3261 §17.1.1.2) would look new and might find a token: it gets the same 503 instead, and no
     * browser rings for a call its caller already gave up. Guarded by itself.
     */
    private final Map<String, Boolean> rateRefused = new LinkedHashMap<>() {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Boolean> eldest) {
            return size() > RATE_REFUSALS_KEPT;
        }
    };
    private static final int RATE_REFUSALS_KEPT = 4096;
    private final MeterRegistry meters;
    private final ClientLimits limits;
    private final CallMetrics metrics;
    /** gateway_capacity_refusals_total{limit="max-calls"}: calls browsers asked for over gateway.limits.max-calls. */
    private final Counter maxCallsRefusals;

    /**
     * An INVITE from SIP Server answered with an error before any call existed: {@code dn} is the Request-URI's
     * user, {@code remote} the From user (either may be null); {@code cause} says why in the words of the
     * admin API (not-signed-in, limit-calls, limit-call-rate, session-interval-too-small, internal-error).
     */
    public record RefusedInvite(String dn, String remote, int sipStatus, String cause) {}

    /** A call a session asked for and was not allowed to place (dial plan, no DN): the admin failures list. */
    public record RefusedCall(Session session, String to, String code, String message) {}

    public CallService(GatewayConfig config, CallSignaling signaling, RegistrationClient registrations,
                       SessionService sessions, CallMediaFactory mediaFactory, ExecutorService workers,
                       ScheduledExecutorService timers, MeterRegistry meters) {
        this.config = config;
        this.meters = meters;
        int perSecond = config.limits().maxIncomingCallsPerSecond();
        this.incomingCalls = perSecond == 0 ? null : Bucket.builder()
                .addLimit(limit -> limit.capacity(perSecond).refillGreedy(perSecond, Duration.ofSeconds(1)))
                .build();
        REFUSAL_CAUSES.forEach(this::refusedCounter);
        this.metrics = new CallMetrics(meters, config.instanceId());
        this.maxCallsRefusals = CapacityRefusals.counter(meters, CapacityRefusals.Limit.MAX_CALLS);
        this.signaling = signaling;
        this.registrations = registrations;
        this.mediaFactory = mediaFactory;
        this.workers = workers;
        this.timers = timers;
        signaling.onInvite(this::onInvite);
        sessions.onEnded(session -> forSession(session).forEach(c -> c.terminate("session-ended")));
        sessions.keepWhileCalls(session -> !forSession(session).isEmpty());
        this.access = sessions.access();
        this.limits = sessions.limits();
    }

    /** Told when a call is placed or offered (admin history); on the caller's thread, must not block. */
    public void onStarted(Consumer<Call> listener) {
        startListeners.add(listener);
    }

    /** Told once when a call ended (also one whose INVITE never went out); must not block. */
    public void onEnded(Consumer<Call> listener) {
        endListeners.add(listener);
    }

    /** Told of each call a session was refused before any INVITE (admin history); must not block. */
    public void onRefusedCall(Consumer<RefusedCall> listener) {
        refusedCallListeners.add(listener);
    }

    /** Told of each INVITE refused before a call existed (admin history); must not block. */
    public void onRefused(Consumer<RefusedInvite> listener) {
        refusedListeners.add(listener);
    }

    private void refuse(RequestEvent event, String dn, int status, String cause) {
        signaling.reply(event, status);
        refused(event, dn, status, cause);
    }

    private void refused(RequestEvent event, String dn, int status, String cause) {
        refusedCounter(cause).increment();
        notify(refusedListeners, new RefusedInvite(dn, fromUser(event), status, cause));
    }

    /** {@code gateway_sip_invites_refused_total{cause}} (docs/metrics.md). */
    private Counter refusedCounter(String cause) {
        return Counter.builder("gateway.sip.invites.refused")
                .description("INVITEs from SIP Server answered with an error before any call or media existed, by cause")
                .tag("cause", cause)
                .register(meters);
    }

    /**
     * Takes a token for a new incoming call: 0 if it may go on, else whole seconds until the next token
     * (Retry-After, at least 1).
     */
    private int incomingCallWait() {
        if (incomingCalls == null) {
            return 0;
        }
        ConsumptionProbe probe = incomingCalls.tryConsumeAndReturnRemaining(1);
        return probe.isConsumed() ? 0
                : (int) Math.max(1, Math.min(3600, (probe.getNanosToWaitForRefill() + 999_999_999L) / 1_000_000_000L));
    }

    private static String fromUser(RequestEvent event) {
        var from = (FromHeader) event.getRequest().getHeader(FromHeader.NAME);
        return from != null && from.getAddress().getURI() instanceof SipURI s ? s.getUser() : null;
    }

    /** Tells each listener, on the caller's thread; one that fails is logged and the others still hear. */
    private static <T> void notify(List<Consumer<T>> listeners, T value) {
        for (Consumer<T> l : listeners) {
            try {
                l.accept(value);
            } catch (RuntimeException e) {
                LOG.error("call listener failed", e);
            }
        }
    }

    /** The calls' actors, for the watchdog. */
    public SerialExecutor.Group actors() {
        return actors;
    }

    GatewayConfig.Calls config() {
        return config.calls();
    }

    CallMetrics metrics() {
        return metrics;
    }

    GatewayConfig.Inputs inputs() {
        return config.limits().inputs();
    }

    /** A call's actor refused a browser request (gateway.limits.max-queued-requests-per-call): counted. */
    void queueFull() {
        limits.refused(ClientLimits.Limit.CALL_QUEUE);
    }

    ScheduledExecutorService timers() {
        return timers;
    }

    SipServerAddress activeServerOrThrow() {
        SipServerAddress server = signaling.activeServer();
        if (server == null) {
            throw new GatewayException(ErrorCode.SIP_UNAVAILABLE, "no SIP Server is reachable");
        }
        return server;
    }

    private String newId() {
        byte[] b = new byte[9];
        RANDOM.nextBytes(b);
        return Base64.getUrlEncoder().withoutPadding().encodeToString(b) + "." + config.instanceId();
    }

    private void admit() {
        if (calls.size() >= config.limits().maxCalls()) {
            maxCallsRefusals.increment();
            throw new GatewayException(ErrorCode.TOO_MANY_CALLS, "instance " + config.instanceId()
                    + " has reached gateway.limits.max-calls (" + config.limits().maxCalls() + ")");
        }
    }

    /** Places a call for {@code session}; completes with the call once the INVITE is out. */
    public CompletableFuture<Call> place(Session session, String to, String browserOffer, Map<String, String> data) {
        if (!GatewayConfig.DialPlan.wellFormed(to)) {
            throw new GatewayException(ErrorCode.BAD_REQUEST, "'to' must be a DN (1-64 of A-Z a-z 0-9 . _ + * # -)");
        }
        if (browserOffer == null || browserOffer.isBlank()) {
            throw new GatewayException(ErrorCode.BAD_SDP, "'sdp' (the browser's offer) is required");
        }
        Map<String, String> headers = AttachedData.toHeaders(data, config.calls(), config.limits().inputs());
        Registration reg = session.registration();
        try {
            access.checkDestination(session.grant(), reg != null ? reg.dn() : null, to);
        } catch (GatewayException e) {
            notify(refusedCallListeners, new RefusedCall(session, to, e.code().name(), e.getMessage()));
            throw e;
        }
        admit();
        session.budget().reserveCall(); // RATE_LIMITED at gateway.limits.max-calls-per-session; released when it ends
        String from = reg != null ? reg.dn() : "anonymous";
        String id = newId();
        Call call;
        CallMedia media;
        try {
            media = mediaFactory.create(id);
            call = new Call(id, session, Call.Direction.OUTGOING, to, workers, this, media);
            call.attach(SipLeg.outgoing(signaling, call.executor(), call, reg)); // challenges answered with reg's credentials
        } catch (RuntimeException e) {
            session.budget().releaseCall();
            throw e;
        }
        calls.put(id, call);
        metrics.started(call);
        notify(startListeners, call);
        return call.submit(() -> {
            try {
                call.start(browserOffer, from, to, headers);
            } catch (RuntimeException e) {
                media.close();
                dropUnstarted(call, e instanceof GatewayException g ? g.code().name() : "internal-error");
                throw e;
            }
            return call;
        });
    }

    private void onInvite(RequestEvent event) {
        String dn = null;
        Session reserved = null;
        try {
            var uri = event.getRequest().getRequestURI();
            dn = uri instanceof SipURI s ? s.getUser() : null;
            Registration reg = dn == null ? null : registrations.find(dn);
            Object owner = reg == null ? null : reg.owner();
            if (!(owner instanceof Session session) || session.isEnded()) {
                refuse(event, dn, Response.TEMPORARILY_UNAVAILABLE, "not-signed-in"); // 480: nobody with that DN here
                return;
            }
            if (calls.size() >= config.limits().maxCalls()) {
                refuse(event, dn, Response.BUSY_HERE, "limit-calls");
                return;
            }
            if (signaling.refusedAsTooBrief(event)) {
                // it answered 422: the Session-Expires is below our Min-SE (RFC 4028 §8.1)
                refused(event, dn, 422, "session-interval-too-small");
                return;
            }
            String callId = event.getRequest().getHeader(CallIdHeader.NAME) instanceof CallIdHeader h ? h.getCallId() : "";
            synchronized (rateRefused) {
                if (rateRefused.containsKey(callId)) {
                    signaling.reply(event, Response.SERVICE_UNAVAILABLE, 1); // a retransmission: not counted again
                    return;
                }
            }
            int retryAfter = incomingCallWait();
            if (retryAfter > 0) {
                // Before any media port is taken. 503 + Retry-After (RFC 3261 §21.5.4): SIP Server may try
                // another instance now, or this one after that many seconds.
                synchronized (rateRefused) {
                    rateRefused.put(callId, Boolean.TRUE);
                }
                signaling.reply(event, Response.SERVICE_UNAVAILABLE, retryAfter);
                refused(event, dn, Response.SERVICE_UNAVAILABLE, "limit-call-rate");
                return;
            }
            if (!session.budget().tryReserveCall()) {
                // 486 (RFC 3261 §21.4.24): the DN's browser has gateway.limits.max-calls-per-session calls already.
                refuse(event, dn, Response.BUSY_HERE, "limit-calls-per-session");
                return;
            }
            reserved = session;
            String id = newId();
            CallMedia media = mediaFactory.create(id);
            Call call = new Call(id, session, Call.Direction.INCOMING, null, workers, this, media);
            SipLeg leg = SipLeg.incoming(signaling, event, call.executor(), call, reg);
            call.attach(leg);
            calls.put(id, call);
            reserved = null; // from here the call releases it when it ends
            metrics.started(call);
            notify(startListeners, call);
            Map<String, String> data = AttachedData.fromHeaders(leg.incomingHeaderNames(), leg::incomingHeader,
                    config.calls(), config.limits().inputs());
            String from = leg.remoteUser();
            String fromName = leg.remoteDisplayName();
            String to = dn;
            call.executor().execute(() -> {
                try {
                    // Null: a delayed offer (RFC 3261 §13.2.1); the gateway offers, in its 200 OK.
                    call.offerToBrowser(leg.incomingOffer(), from, fromName, to, data);
                } catch (SdpException e) {
                    LOG.info("incoming call to {} refused (488): {}", to, e.getMessage());
                    leg.reject(Response.NOT_ACCEPTABLE_HERE, e.getMessage()); // Warning: 399 says why
                    media.close();
                    dropUnstarted(call, "bad-sdp");
                } catch (RuntimeException e) {
                    LOG.error("incoming call to {} failed", to, e);
                    leg.reject(Response.SERVER_INTERNAL_ERROR);
                    media.close();
                    dropUnstarted(call, "internal-error");
                }
            });
        } catch (Exception e) {
            LOG.warn("INVITE for {} not taken: {}", dn, e.toString());
            if (reserved != null) {
                reserved.budget().releaseCall();
            }
            refuse(event, dn, Response.SERVER_INTERNAL_ERROR, "internal-error");
        }
    }

    /** The session's call {@code id}, or CALL_UNKNOWN. */
    public Call find(Session session, String id) {
        Call call = id == null ? null : calls.get(id);
        if (call == null || call.session() != session) {
            throw new GatewayException(ErrorCode.CALL_UNKNOWN, "no call " + id + " in this session");
        }
        return call;
    }

    public List<Call> forSession(Session session) {
        return calls.values().stream().filter(c -> c.session() == session).toList();
    }

    public Collection<Call> all() {
        return List.copyOf(calls.values());
    }

    public int count() {
        return calls.size();
    }

    void ended(Call call) {
        if (calls.remove(call.id(), call)) {
            call.session().budget().releaseCall();
            finish(call);
        }
    }

    private void dropUnstarted(Call call, String reason) {
        if (calls.remove(call.id(), call)) {
            call.session().budget().releaseCall();
            call.failedToStart(reason);
            finish(call);
        }
    }

    /**
     * An ended call (its media closed): its counters leave the live metrics, its record is made, logged and kept
     * on the call, then the end listeners hear of it. On the call's executor.
     */
    private void finish(Call call) {
        List<CallMedia.StreamCounters> counters = metrics.ended(call);
        CallRecord record = CallRecord.of(call, config.instanceId(), java.time.Instant.now(), counters);
        call.recorded(record);
        metrics.recorded(record);
        RECORDS.info(record.logLine());
        notify(endListeners, call);
    }

    /** Any call of this instance by id (admin), or null. */
    public Call lookup(String id) {
        return id == null ? null : calls.get(id);
    }

    /** Admin hang-up: the SIP side gets BYE/CANCEL/480 as the state needs, the browser "ended" with reason "admin". */
    public CompletableFuture<Void> hangupByAdmin(Call call) {
        return call.hangup("admin");
    }

    /** Media counters and the SIP dialog's ids of a call (admin). */
    public CompletableFuture<Map<String, Object>> adminDetail(Call call) {
        return call.adminDetail();
    }

    /** Instance stopping: hang up every call. */
    public void terminateAll() {
        calls.values().forEach(c -> c.terminate("instance-stopping"));
    }

    // Requests from the edges, by call id within a session.

    public CompletableFuture<Void> answer(Session s, String id, String sdp) {
        return find(s, id).answer(sdp);
    }

    public CompletableFuture<Void> reject(Session s, String id, int status) {
        if (status != 486 && status != 603 && status != 480 && status != 488) {
            throw new GatewayException(ErrorCode.BAD_REQUEST, "reject status must be 480, 486, 488 or 603");
        }
        return find(s, id).reject(status);
    }

    public CompletableFuture<Void> hangup(Session s, String id) {
        return find(s, id).hangup();
    }

    public CompletableFuture<Void> hold(Session s, String id, boolean hold) {
        return find(s, id).hold(hold);
    }

    public CompletableFuture<Void> dtmf(Session s, String id, String digits, int durationMs) {
        if (digits == null || !digits.matches("[0-9*#A-Da-d]{1,32}")) {
            throw new GatewayException(ErrorCode.BAD_REQUEST, "'digits' must be 1-32 of 0-9 * # A-D");
        }
        if (durationMs < 40 || durationMs > 5000) {
            throw new GatewayException(ErrorCode.BAD_REQUEST, "'duration' must be 40-5000 ms");
        }
        return find(s, id).dtmf(digits.toUpperCase(), durationMs);
    }

    public CompletableFuture<Void> info(Session s, String id, String contentType, String body) {
        // RFC 6838 §4.2: type and subtype names of at most 127 characters each.
        if (contentType == null || !contentType.matches("[A-Za-z0-9.+\\-]{1,127}/[A-Za-z0-9.+\\-]{1,127}")) {
            throw new GatewayException(ErrorCode.BAD_REQUEST, "'contentType' must be a MIME type like text/plain");
        }
        int max = config.limits().inputs().maxInfoBytes();
        if (body == null || body.getBytes(java.nio.charset.StandardCharsets.UTF_8).length > max) {
            throw new GatewayException(ErrorCode.BAD_REQUEST, "'body' is required (at most " + max
                    + " bytes, gateway.limits.max-info-bytes)");
        }
        return find(s, id).info(contentType, body);
    }

    public CompletableFuture<Void> candidate(Session s, String id, String candidate, int mLineIndex) {
        return find(s, id).candidate(candidate, mLineIndex);
    }

    public CompletableFuture<String> iceRestart(Session s, String id, String sdp) {
        return find(s, id).iceRestart(sdp);
    }

    /** A legacy re-offer within a call; {@code hold} null when the direction is unchanged. */
    public CompletableFuture<String> browserReoffer(Session s, String id, String sdp, Boolean hold) {
        return find(s, id).browserReoffer(sdp, hold);
    }

    public CompletableFuture<Map<String, Object>> stats(Session s, String id) {
        return find(s, id).stats();
    }
}
