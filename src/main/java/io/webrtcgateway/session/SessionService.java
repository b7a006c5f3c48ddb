package io.webrtcgateway.session;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.webrtcgateway.auth.AccessControl;
import io.webrtcgateway.auth.Grant;
import io.webrtcgateway.cluster.Admission;
import io.webrtcgateway.config.GatewayConfig;
import io.webrtcgateway.error.ErrorCode;
import io.webrtcgateway.error.GatewayException;
import io.webrtcgateway.limits.CapacityRefusals;
import io.webrtcgateway.limits.ClientLimits;
import io.webrtcgateway.sip.Registration;
import io.webrtcgateway.sip.RegistrationClient;
import io.webrtcgateway.sip.RegistrationListener;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.Collection;
import java.util.Locale;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Signed-in sessions: creation under admission control, lookup, registration of the session's DN, sign-out
 * and expiry of sessions whose browser went silent. Every edge goes through here, so the rules (one DN per
 * session, no overlapping register/unregister, un-REGISTER on every way a session ends) hold for all.
 */
public final class SessionService implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(SessionService.class);
    private static final SecureRandom RANDOM = new SecureRandom();

    private final GatewayConfig config;
    private final RegistrationClient registrations;
    private final ScheduledExecutorService timers;
    private final Admission admission;
    private final Map<String, Session> sessions = new ConcurrentHashMap<>();
    private final MeterRegistry meters;
    /** A browser that showed no sign of life for this long has left (see {@link #browserPresent}). */
    private final long presenceWindowNanos;
    private final java.util.List<java.util.function.Consumer<Session>> endListeners = new java.util.concurrent.CopyOnWriteArrayList<>();
    private final AccessControl access;
    private final ClientLimits limits;
    /** Whether a session still has calls; a session whose token ran out ends only after them. Set once at start. */
    private volatile java.util.function.Predicate<Session> hasCalls = s -> false;
    private ScheduledFuture<?> sweeper;
    /** gateway_capacity_refusals_total{limit="max-sessions"}. */
    private final Counter maxSessionsRefusals;

    public SessionService(GatewayConfig config, RegistrationClient registrations, ScheduledExecutorService timers,
                          Admission admission, MeterRegistry meters, AccessControl access) {
        this.config = config;
        this.access = access;
        this.registrations = registrations;
        this.timers = timers;
        this.admission = admission;
        this.meters = meters;
        this.limits = new ClientLimits(config.limits().clients(), System::nanoTime, meters);
        this.maxSessionsRefusals = CapacityRefusals.counter(meters, CapacityRefusals.Limit.MAX_SESSIONS);
        // REST clients send a keepalive every keepalive-interval, legacy clients poll again at least every
        // poll-timeout; 10 s of slack for a slow network.
        this.presenceWindowNanos = Math.max(config.session().keepaliveInterval().toNanos(),
                config.legacy().pollTimeout().toNanos()) + TimeUnit.SECONDS.toNanos(10);
        for (Session.Kind kind : Session.Kind.values()) {
            Gauge.builder("gateway.sessions", this, service -> service.count(kind))
                    .description("signed-in sessions, by the edge that created them")
                    .tag("kind", kindName(kind))
                    .register(meters);
        }
    }

    private static String kindName(Session.Kind kind) {
        return kind.name().toLowerCase(Locale.ROOT);
    }

    /** Told after a session ended (its calls hang up). */
    public void onEnded(java.util.function.Consumer<Session> listener) {
        endListeners.add(listener);
    }

    /** Tells the sweeper whether a session has calls in progress (a call is never cut by token expiry alone). */
    public void keepWhileCalls(java.util.function.Predicate<Session> hasCalls) {
        this.hasCalls = hasCalls;
    }

    public AccessControl access() {
        return access;
    }

    /** The per-client limits (gateway.limits.*), shared with the call core. */
    public ClientLimits limits() {
        return limits;
    }

    public void start() {
        long period = Math.max(100, Math.min(1000, config.session().idleTimeout().toMillis() / 4));
        sweeper = timers.scheduleWithFixedDelay(this::expireIdle, period, period, TimeUnit.MILLISECONDS);
    }

    /**
     * A new session, or RATE_LIMITED when {@code client} (its address: the TCP peer or, behind a trusted proxy,
     * X-Forwarded-For) signs in too often or has too many sessions, NOT_READY / TOO_MANY_SESSIONS, or
     * AUTH_REQUIRED / AUTH_INVALID when the token (null: none presented) does not let it in (gateway.auth.mode).
     *
     * @param remoteAddress what logs and the admin API show of where it comes from
     */
    public Session create(Session.Kind kind, String client, String remoteAddress, String userAgent, String token) {
        String clientKey = limits.signIn(client); // before the token: a flood must not cost a signature check each
        Grant grant = access.signIn(token);
        if (!admission.acceptingSessions()) {
            throw new GatewayException(ErrorCode.NOT_READY,
                    "instance " + config.instanceId() + " is " + admission.stateName() + "; connect again");
        }
        if (sessions.size() >= config.limits().maxSessions()) {
            maxSessionsRefusals.increment();
            throw new GatewayException(ErrorCode.TOO_MANY_SESSIONS,
                    "instance " + config.instanceId() + " has reached gateway.limits.max-sessions ("
                            + config.limits().maxSessions() + ")");
        }
        limits.openSession(clientKey); // released in end(), which every session reaches
        Session s = new Session(newId(), kind, remoteAddress, truncate(userAgent, 256), clientKey,
                limits.newSessionBudget());
        s.setGrant(grant);
        sessions.put(s.id(), s);
        Counter.builder("gateway.sessions.started").description("sessions created, by edge")
                .tag("kind", kindName(kind)).register(meters).increment();
        LOG.info("session {} created ({}, from {}{})", s.logId(), kind, remoteAddress, grant.fromToken()
                ? ", token for " + (grant.dn() == null ? "no DN" : "DN " + grant.dn()) + " until " + grant.expiresAt()
                        + (grant.jti() == null ? "" : ", jti " + grant.jti())
                : "");
        return s;
    }

    /**
     * A fresh token for the session (long shifts outlive their first token); the same DN as before or
     * FORBIDDEN_DN, valid or AUTH_INVALID. Returns the new grant.
     */
    public Grant refreshToken(Session s, String token) {
        Grant fresh = access.refresh(s.grant(), token);
        s.setGrant(fresh);
        LOG.debug("session {}: token refreshed, valid until {}", s.logId(), fresh.expiresAt());
        return fresh;
    }

    private String newId() {
        byte[] b = new byte[18];
        RANDOM.nextBytes(b);
        // The instance suffix lets any instance tell a foreign session from an expired one (Jetty does the same).
        return Base64.getUrlEncoder().withoutPadding().encodeToString(b) + "." + config.instanceId();
    }

    /** The live session with this id, or SESSION_UNKNOWN naming the instance that owns it. */
    public Session find(String id) {
        Session s = id == null ? null : sessions.get(id);
        if (s == null || s.isEnded()) {
            throw unknown(id);
        }
        return s;
    }

    public Optional<Session> lookup(String id) {
        return Optional.ofNullable(id == null ? null : sessions.get(id));
    }

    public GatewayException unknown(String id) {
        String owner = ownerInstance(id);
        String where = owner == null || owner.equals(config.instanceId())
                ? "it expired or was signed out"
                : "it belongs to instance " + owner;
        return new GatewayException(ErrorCode.SESSION_UNKNOWN, "unknown session: " + where + "; sign in again");
    }

    /**
     * How logs name a session: the first 8 characters of base64url(SHA-256(id)) and the instance suffix,
     * "Xy3k_9Qa.gw1". Never the id itself: it is a bearer secret (a WebSocket {@code hello} with
     * {@code session} resumes it). The admin API shows the same as {@code logId} (docs/admin.md).
     */
    public static String logId(String id) {
        if (id == null) {
            return "-";
        }
        byte[] digest;
        try {
            digest = MessageDigest.getInstance("SHA-256").digest(id.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is part of every Java runtime", e);
        }
        String owner = ownerInstance(id);
        String hash = Base64.getUrlEncoder().withoutPadding().encodeToString(digest).substring(0, 8);
        return owner == null ? hash : hash + "." + owner;
    }

    /** The instance id a session id names, or null if it has no suffix. */
    public static String ownerInstance(String id) {
        if (id == null) {
            return null;
        }
        int dot = id.lastIndexOf('.');
        return dot > 0 && dot < id.length() - 1 ? id.substring(dot + 1) : null;
    }

    public Collection<Session> all() {
        return List.copyOf(sessions.values());
    }

    public int count() {
        return sessions.size();
    }

    public int count(Session.Kind kind) {
        int n = 0;
        for (Session s : sessions.values()) {
            if (s.kind() == kind) {
                n++;
            }
        }
        return n;
    }

    /**
     * Whether the session's browser is still talking to this instance: a WebSocket session while its socket
     * is attached; a REST or legacy session while its keepalives or polls keep coming. A browser that left
     * may be signing in on another instance; its registration then waits instead of refreshing
     * (docs/sip.md, hand-over).
     */
    boolean browserPresent(Session s) {
        if (s.isEnded()) {
            return false;
        }
        if (s.kind() == Session.Kind.WEBSOCKET) {
            return s.sink() != null;
        }
        return s.idleNanos(System.nanoTime()) < presenceWindowNanos;
    }

    /** Registers {@code dn} for the session; completes after SIP Server's 200 OK. */
    public CompletableFuture<Registration> register(Session s, String dn, String password) {
        Dn.validate(dn);
        access.checkRegister(s.grant(), dn);
        limits.register(dn); // REGISTER attempts per DN: SIP Server is not for guessing passwords against
        synchronized (s) {
            if (s.isEnded()) {
                throw unknown(s.id());
            }
            if (s.isRegistrationBusy()) {
                throw new GatewayException(ErrorCode.REGISTRATION_IN_PROGRESS,
                        "a register or unregister of this session is still waiting for SIP Server");
            }
            Registration current = s.registration();
            if (current != null) {
                throw new GatewayException(ErrorCode.ALREADY_REGISTERED,
                        "this session has already registered DN " + current.dn() + "; unregister first");
            }
            Registration held = registrations.find(dn);
            if (held != null && held.owner() instanceof Session holder && holder != s && browserPresent(holder)) {
                // A session whose browser has gone (socket closed, polls stopped) no longer holds its DN:
                // that browser is most likely this one, signing in again after a reload.
                access.checkTakeover(dn);
            }
            s.setRegistrationBusy(true);
        }
        RegistrationListener listener = new RegistrationListener() {
            @Override
            public void onRegistrationLost(Registration r, String reason, Integer sipStatus, String sipReason) {
                boolean wasOurs;
                synchronized (s) {
                    wasOurs = s.registration() == r;
                    if (wasOurs) {
                        s.setRegistration(null);
                    }
                }
                if (wasOurs) {
                    LOG.info("session {}: DN {} lost its registration ({})", s.logId(), r.dn(), reason);
                    s.deliver(new SessionEvent.Unregistered(r.dn(), reason, sipStatus, sipReason));
                }
            }

            @Override
            public boolean ownerPresent() {
                return browserPresent(s);
            }
        };
        CompletableFuture<Registration> result;
        try {
            result = registrations.register(dn, password, listener, s);
        } catch (RuntimeException e) {
            s.setRegistrationBusy(false);
            throw e;
        }
        return result.whenComplete((r, error) -> {
            boolean endedMeanwhile;
            synchronized (s) {
                s.setRegistrationBusy(false);
                endedMeanwhile = s.isEnded();
                if (error == null && !endedMeanwhile) {
                    s.setRegistration(r);
                }
            }
            if (error == null) {
                if (endedMeanwhile && r.owner() == s) {
                    registrations.unregister(r);
                } else if (!endedMeanwhile) {
                    s.deliver(new SessionEvent.Registered(r.dn(), r.expires()));
                }
            }
        });
    }

    /** Un-registers the session's DN; completes when SIP Server answered (or timed out). */
    public CompletableFuture<String> unregister(Session s) {
        Registration r;
        synchronized (s) {
            if (s.isRegistrationBusy()) {
                throw new GatewayException(ErrorCode.REGISTRATION_IN_PROGRESS,
                        "a register or unregister of this session is still waiting for SIP Server");
            }
            r = s.registration();
            if (r == null) {
                throw new GatewayException(ErrorCode.NOT_REGISTERED, "this session has no registered DN");
            }
            s.setRegistrationBusy(true);
            s.setRegistration(null);
        }
        CompletableFuture<Void> done = r.owner() == s ? registrations.unregister(r) : CompletableFuture.completedFuture(null);
        return done.handle((v, e) -> {
            s.setRegistrationBusy(false);
            return r.dn();
        });
    }

    /** Ends the session: un-registers its DN (without waiting), forgets it, tells its edge. */
    public CompletableFuture<Void> end(Session s, String reason) {
        if (!s.markEnded()) {
            return CompletableFuture.completedFuture(null);
        }
        sessions.remove(s.id(), s);
        limits.closeSession(s.clientKey());
        Counter.builder("gateway.sessions.ended").description("sessions ended, by reason")
                .tag("reason", reason).register(meters).increment();
        Registration r;
        synchronized (s) {
            r = s.registration();
            s.setRegistration(null);
        }
        LOG.info("session {} ended ({})", s.logId(), reason);
        for (var l : endListeners) {
            try {
                l.accept(s);
            } catch (RuntimeException e) {
                LOG.error("session end listener failed", e);
            }
        }
        s.deliver(new SessionEvent.Ended(reason));
        if (r != null && r.owner() == s) {
            return registrations.unregister(r);
        }
        return CompletableFuture.completedFuture(null);
    }

    private void expireIdle() {
        long now = System.nanoTime();
        long limit = config.session().idleTimeout().toNanos();
        for (Session s : sessions.values()) {
            if (s.idleNanos(now) > limit) {
                end(s, "expired");
            } else if (access.expired(s.grant()) && !hasCalls.test(s)) {
                // Its token ran out and no fresh one came: after its last call, the session is over.
                end(s, "token-expired");
            }
        }
    }

    /** Tells every session's browser that this instance is going away. */
    public void announceShutdown() {
        for (Session s : sessions.values()) {
            s.deliver(new SessionEvent.Shutdown("stopping"));
        }
    }

    private static String truncate(String s, int max) {
        return s == null ? "" : s.length() <= max ? s : s.substring(0, max);
    }

    @Override
    public void close() {
        if (sweeper != null) {
            sweeper.cancel(false);
        }
    }
}
