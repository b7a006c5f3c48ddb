package io.webrtcgateway.session;

import io.webrtcgateway.auth.Grant;
import io.webrtcgateway.limits.SessionBudget;
import io.webrtcgateway.sip.Registration;
import java.time.Instant;

/**
 * A signed-in browser: who it is, where it connects from, its registration. Edges attach an event sink
 * (a WebSocket connection, a legacy mailbox). Mutable fields are guarded by {@code this}; nothing here
 * does I/O.
 */
public final class Session {
    public enum Kind { WEBSOCKET, REST, LEGACY }

    private final String id;
    /** What logs show instead of the id (SessionService#logId). */
    private final String logId;
    private final Kind kind;
    private final Instant createdAt = Instant.now();
    private final String remoteAddress;
    /** The client address as the per-client limits count it (limits.AddressKey). */
    private final String clientKey;
    private final SessionBudget budget;
    private final String userAgent;
    private volatile long lastActivityNanos = System.nanoTime();
    /** What the session's token allows; replaced when the browser presents a fresh token. */
    private volatile Grant grant = Grant.UNRESTRICTED;
    /** Guarded by this. */
    private SessionEventSink sink;
    /** Guarded by this. */
    private Registration registration;
    /** Guarded by this: a register/unregister waiting for SIP Server. */
    private boolean registrationBusy;
    /** Guarded by this. */
    private boolean ended;

    Session(String id, Kind kind, String remoteAddress, String userAgent, String clientKey, SessionBudget budget) {
        this.id = id;
        this.logId = SessionService.logId(id);
        this.kind = kind;
        this.remoteAddress = remoteAddress;
        this.userAgent = userAgent;
        this.clientKey = clientKey;
        this.budget = budget;
    }

    public String id() {
        return id;
    }

    /** The session in logs: a short hash of the id, never the id (a bearer secret). */
    public String logId() {
        return logId;
    }

    public Kind kind() {
        return kind;
    }

    public Instant createdAt() {
        return createdAt;
    }

    public String remoteAddress() {
        return remoteAddress;
    }

    public String userAgent() {
        return userAgent;
    }

    String clientKey() {
        return clientKey;
    }

    /** Its requests and calls allowance (gateway.limits.*-per-session). */
    public SessionBudget budget() {
        return budget;
    }

    public Grant grant() {
        return grant;
    }

    void setGrant(Grant grant) {
        this.grant = grant;
    }

    /** The browser showed a sign of life. */
    public void touch() {
        lastActivityNanos = System.nanoTime();
    }

    /**
     * A request from the browser: a sign of life, and one of its requests (RATE_LIMITED when it has none left,
     * gateway.limits.requests-per-session-per-second). Requests that only end things (sign-out, hang-up) call
     * {@link #touch()} instead: they are never refused.
     */
    public void request() {
        touch();
        budget.request();
    }

    long idleNanos(long now) {
        return now - lastActivityNanos;
    }

    /** Attaches a sink and returns the previous one (e.g. the socket a resumed session leaves behind). */
    public synchronized SessionEventSink attach(SessionEventSink newSink) {
        SessionEventSink old = sink;
        sink = newSink;
        return old;
    }

    /** Detaches {@code s} if it is still the session's sink. */
    public synchronized void detach(SessionEventSink s) {
        if (sink == s) {
            sink = null;
        }
    }

    public synchronized SessionEventSink sink() {
        return sink;
    }

    public void deliver(SessionEvent event) {
        SessionEventSink s = sink();
        if (s != null) {
            s.deliver(event);
        }
    }

    public synchronized Registration registration() {
        return registration;
    }

    synchronized void setRegistration(Registration r) {
        registration = r;
    }

    synchronized boolean isRegistrationBusy() {
        return registrationBusy;
    }

    synchronized void setRegistrationBusy(boolean busy) {
        registrationBusy = busy;
    }

    public synchronized boolean isEnded() {
        return ended;
    }

    /** Marks ended; true only for the first caller. */
    synchronized boolean markEnded() {
        if (ended) {
            return false;
        }
        ended = true;
        return true;
    }
}
