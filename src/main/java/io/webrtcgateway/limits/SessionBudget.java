package io.webrtcgateway.limits;

import io.github.bucket4j.Bucket;
import io.github.bucket4j.ConsumptionProbe;
import io.webrtcgateway.config.GatewayConfig;
import io.webrtcgateway.error.GatewayException;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One session's allowance (gateway.limits.requests-per-session-per-second, request-burst-per-session,
 * max-calls-per-session): made by {@link ClientLimits#newSessionBudget()}, kept by the session, used by every edge
 * and the call core from any thread without a lock of ours.
 */
public final class SessionBudget {
    private final ClientLimits limits;
    /** Null: requests are not limited. Bucket4j's lock-free bucket. */
    private final Bucket requests;
    private final GatewayConfig.Clients settings;
    /** Calls of the session reserved and not yet released. */
    private final AtomicInteger calls = new AtomicInteger();

    SessionBudget(ClientLimits limits, Bucket requests, GatewayConfig.Clients settings) {
        this.limits = limits;
        this.requests = requests;
        this.settings = settings;
    }

    /** A request of the session: takes one of its requests, else RATE_LIMITED. */
    public void request() {
        if (requests == null) {
            return;
        }
        ConsumptionProbe probe = requests.tryConsumeAndReturnRemaining(1);
        if (!probe.isConsumed()) {
            throw limits.refuse(ClientLimits.Limit.REQUEST_RATE, "too many requests in this session: at most "
                    + settings.requestBurst() + " at once and " + settings.requestsPerSecond() + " per second"
                    + " (gateway.limits.request-burst-per-session, requests-per-session-per-second)",
                    ClientLimits.seconds(probe.getNanosToWaitForRefill()));
        }
    }

    /**
     * Reserves a call of the session, else false (counted as a refusal) when it has max-calls-per-session
     * already. Each true must be matched by one {@link #releaseCall()}.
     */
    public boolean tryReserveCall() {
        int max = settings.maxCallsPerSession();
        while (true) {
            int n = calls.get();
            if (max > 0 && n >= max) {
                limits.refused(ClientLimits.Limit.CALLS_PER_SESSION);
                return false;
            }
            if (calls.compareAndSet(n, n + 1)) {
                return true;
            }
        }
    }

    /** {@link #tryReserveCall()}, or RATE_LIMITED. */
    public void reserveCall() {
        if (!tryReserveCall()) {
            throw GatewayException.rateLimited("this session has "
                    + settings.maxCallsPerSession() + " calls, the most gateway.limits.max-calls-per-session allows;"
                    + " hang one up first", ClientLimits.COUNT_RETRY_AFTER_SECONDS);
        }
    }

    /** A call reserved by {@link #tryReserveCall()} ended. */
    public void releaseCall() {
        calls.decrementAndGet();
    }

    /** Calls reserved now. */
    public int calls() {
        return calls.get();
    }
}
