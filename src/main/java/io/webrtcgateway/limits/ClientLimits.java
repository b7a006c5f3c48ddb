package io.webrtcgateway.limits;

import io.github.bucket4j.Bucket;
import io.github.bucket4j.ConsumptionProbe;
import io.github.bucket4j.TimeMeter;
import io.github.bucket4j.local.SynchronizationStrategy;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.webrtcgateway.config.GatewayConfig;
import io.webrtcgateway.error.GatewayException;
import java.time.Duration;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.LongSupplier;

/**
 * What one client may do (gateway.limits.*, docs/configuration.md "Per-client limits"): sessions and sign-ins per
 * client address, requests and calls per session ({@link SessionBudget}), registration attempts per DN. Over a limit
 * the request is refused with RATE_LIMITED and a Retry-After, and counted in
 * {@code gateway_limits_refusals_total{limit}}. Nothing here touches readiness: one client's limits are that
 * client's business, never a reason for the load balancer to stop sending others here.
 *
 * <p>Rates are token buckets (Bucket4j): an allowance of {@code burst} at once, refilled continuously at the
 * rate. Counts (sessions per address, calls per session) are exact: reserved before the thing exists, released
 * exactly once when it ends.
 *
 * <p>Memory is bounded: an address appears in the session counts only while it has live sessions (at most
 * gateway.limits.max-sessions of them); the sign-in and registration buckets are kept for at most
 * {@code max-tracked-clients} addresses and, apart, DNs, the least recently seen forgotten first. A forgotten
 * client starts again with a full allowance, which only ever lets a client do more, never less. Every method is
 * O(1) under this object's lock, except {@link SessionBudget}'s, which take no lock of ours.
 */
public final class ClientLimits {
    /** Which limit refused: the {@code limit} label of {@code gateway_limits_refusals_total}. */
    public enum Limit {
        SESSIONS_PER_ADDRESS("sessions-per-address"),
        SIGN_IN_RATE("sign-in-rate"),
        REQUEST_RATE("request-rate"),
        CALLS_PER_SESSION("calls-per-session"),
        REGISTRATION_RATE("registration-rate"),
        /** A call's actor has gateway.limits.max-queued-requests-per-call browser requests waiting. */
        CALL_QUEUE("call-queue"),
        /** A REST or legacy body over gateway.limits.max-message-bytes (413 MESSAGE_TOO_BIG, not RATE_LIMITED). */
        MESSAGE_BYTES("message-bytes");

        private final String label;

        Limit(String label) {
            this.label = label;
        }

        public String label() {
            return label;
        }
    }

    /**
     * Retry-After of a count limit (sessions per address, calls per session): no time frees one, only the end of
     * one of the client's own sessions or calls; this is when to look again.
     */
    static final long COUNT_RETRY_AFTER_SECONDS = 30;

    private final GatewayConfig.Clients settings;
    private final TimeMeter time;
    private final Map<Limit, Counter> refusals = new EnumMap<>(Limit.class);
    /** Address key -> live sessions from it; an entry exists only while its count is above 0. Guarded by this. */
    private final Map<String, Integer> sessionsByAddress = new HashMap<>();
    /** Address key -> sign-in allowance, least recently seen first. Guarded by this. */
    private final Map<String, Bucket> signIns;
    /** DN -> REGISTER allowance, least recently seen first. Guarded by this. */
    private final Map<String, Bucket> registrations;

    /**
     * @param nanos the clock the buckets refill by ({@link System#nanoTime()}; tests move their own)
     */
    public ClientLimits(GatewayConfig.Clients settings, LongSupplier nanos, MeterRegistry meters) {
        this.settings = settings;
        this.time = new TimeMeter() {
            @Override
            public long currentTimeNanos() {
                return nanos.getAsLong();
            }

            @Override
            public boolean isWallClockBased() {
                return false;
            }
        };
        this.signIns = bounded(settings.maxTracked());
        this.registrations = bounded(settings.maxTracked());
        for (Limit limit : Limit.values()) {
            refusals.put(limit, Counter.builder("gateway.limits.refusals")
                    .description("requests refused because one client went over one of its limits (gateway.limits.*)")
                    .tag("limit", limit.label()).register(meters));
        }
    }

    /**
     * A sign-in from {@code address} (a new session): takes one of the address's sign-ins, else RATE_LIMITED.
     * Checked before the sign-in's token, so a flood of sign-ins does not cost a signature check each. Returns the
     * key the address is counted under, for {@link #openSession} and {@link #closeSession}.
     */
    public String signIn(String address) {
        String key = AddressKey.of(address);
        if (settings.signInsPerSecond() == 0) {
            return key;
        }
        ConsumptionProbe probe;
        synchronized (this) {
            Bucket b = signIns.get(key);
            if (b == null) {
                b = bucket(settings.signInBurst(), settings.signInsPerSecond(), Duration.ofSeconds(1), false);
                signIns.put(key, b);
            }
            probe = b.tryConsumeAndReturnRemaining(1);
        }
        if (!probe.isConsumed()) {
            throw refuse(Limit.SIGN_IN_RATE, "too many sign-ins from " + address + ": at most "
                    + settings.signInBurst() + " at once and " + settings.signInsPerSecond()
                    + " per second (gateway.limits.sign-in-burst-per-address, sign-ins-per-address-per-second)",
                    seconds(probe.getNanosToWaitForRefill()));
        }
        return key;
    }

    /**
     * Counts a new session of the address {@code key} ({@link #signIn}), else RATE_LIMITED when it has
     * max-sessions-per-address already. Each call that returns must be matched by one {@link #closeSession}.
     */
    public synchronized void openSession(String key) {
        int live = sessionsByAddress.getOrDefault(key, 0);
        int max = settings.maxSessionsPerAddress();
        if (max > 0 && live >= max) {
            throw refuse(Limit.SESSIONS_PER_ADDRESS, "client address " + key + " has " + live
                    + " sessions on this instance, the most gateway.limits.max-sessions-per-address allows; sign out"
                    + " one first", COUNT_RETRY_AFTER_SECONDS);
        }
        sessionsByAddress.put(key, live + 1);
    }

    /** A session counted by {@link #openSession} ended. */
    public synchronized void closeSession(String key) {
        sessionsByAddress.computeIfPresent(key, (k, n) -> n <= 1 ? null : n - 1);
    }

    /** Live sessions counted for the address key (tests, admin). */
    public synchronized int sessions(String key) {
        return sessionsByAddress.getOrDefault(key, 0);
    }

    /** Addresses with live sessions, sign-in buckets and registration buckets held (tests: the tables stay bounded). */
    synchronized int[] tableSizes() {
        return new int[] {sessionsByAddress.size(), signIns.size(), registrations.size()};
    }

    /** A REGISTER attempt for {@code dn}: takes one of its attempts, else RATE_LIMITED. */
    public void register(String dn) {
        int perMinute = settings.registrationsPerMinute();
        if (perMinute == 0) {
            return;
        }
        ConsumptionProbe probe;
        synchronized (this) {
            Bucket b = registrations.get(dn);
            if (b == null) {
                b = bucket(perMinute, perMinute, Duration.ofMinutes(1), false);
                registrations.put(dn, b);
            }
            probe = b.tryConsumeAndReturnRemaining(1);
        }
        if (!probe.isConsumed()) {
            throw refuse(Limit.REGISTRATION_RATE, "too many registration attempts for DN " + dn + ": at most "
                    + perMinute + " a minute (gateway.limits.registrations-per-dn-per-minute)",
                    seconds(probe.getNanosToWaitForRefill()));
        }
    }

    /** The request and call allowance of a new session. */
    public SessionBudget newSessionBudget() {
        Bucket requests = settings.requestsPerSecond() == 0 ? null
                : bucket(settings.requestBurst(), settings.requestsPerSecond(), Duration.ofSeconds(1), true);
        return new SessionBudget(this, requests, settings);
    }

    /** Counts a refusal and makes its RATE_LIMITED answer. */
    GatewayException refuse(Limit limit, String message, long retryAfterSeconds) {
        refused(limit);
        return GatewayException.rateLimited(message, retryAfterSeconds);
    }

    /** Counts a refusal that is answered elsewhere (an incoming call's 486, a body's 413). */
    public void refused(Limit limit) {
        refusals.get(limit).increment();
    }

    /** A wait as whole seconds for Retry-After: rounded up, at least 1. */
    static long seconds(long nanos) {
        return Math.max(1, (nanos + 999_999_999L) / 1_000_000_000L);
    }

    /**
     * {@code capacity} at once, refilled by {@code tokens} per {@code period} spread evenly over it. Buckets of
     * the tables are only touched under this object's lock, so they need no synchronization of their own.
     */
    private Bucket bucket(long capacity, long tokens, Duration period, boolean shared) {
        return Bucket.builder()
                .addLimit(l -> l.capacity(capacity).refillGreedy(tokens, period))
                .withCustomTimePrecision(time)
                .withSynchronizationStrategy(shared ? SynchronizationStrategy.LOCK_FREE : SynchronizationStrategy.NONE)
                .build();
    }

    /** Access-ordered, so the eldest entry is the one seen least recently; it goes when the table is full. */
    private static Map<String, Bucket> bounded(int max) {
        return new LinkedHashMap<>(64, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<String, Bucket> eldest) {
                return size() > max;
            }
        };
    }
}
