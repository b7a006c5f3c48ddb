package io.webrtcgateway.admin;

import io.webrtcgateway.config.GatewayConfig;
import io.webrtcgateway.limits.AddressKey;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.LongSupplier;

/**
 * How many wrong admin passwords came from where, and how long an address must wait before its next
 * password is checked (docs/admin.md, "Login throttling"; numbers in {@code gateway.admin.login-throttle}).
 *
 * <ul>
 *   <li>Per client address (IPv6: its /64, which one subscriber typically holds whole): {@code freeAttempts}
 *       failures cost nothing; each further one makes the address wait {@code delay}, doubled per failure
 *       up to {@code maxDelay}; from {@code lockoutAfter} failures on each failure locks it out for
 *       {@code lockout}. A success forgets the address's failures.</li>
 *   <li>Per user name, failures from every address together: after {@code userFreeAttempts} the same
 *       growing waits, imposed only on addresses that have failures of their own. Someone guessing the
 *       admin's password from many addresses gets one guess per fresh address, while the operator at a
 *       clean address is never kept out by a stranger's guesses.</li>
 *   <li>Only one password of an address is checked at a time once its free attempts are used up, so a
 *       burst of parallel guesses cannot overshoot the count.</li>
 * </ul>
 *
 * <p>A failure counter with exponential backoff and not a token bucket (Bucket4j): the rules here are
 * about failures, not requests (right passwords never consume anything), a success must reset the
 * count, the wait has to grow with each failure, and a lock-out must hold even for the right password.
 * Tokens refill at a fixed rate and know nothing of outcomes, so a bucket would model none of that.
 *
 * <p>Memory is bounded: each table keeps at most {@code maxTracked} entries and drops the least recently
 * seen first, so rotating addresses or user names cannot grow it. Every method is O(1) under this
 * object's lock, which is never held while a password is hashed.
 */
public final class LoginThrottle {
    /** Retry-After for an address whose one permitted check is still running. */
    private static final long BUSY_WAIT_NANOS = 1_000_000_000L;
    /** User names longer than the longest valid one (128, ConfigLoader) are cut: they only ever fail. */
    private static final int MAX_USER_KEY = 129;

    /** What a failure led to: the count so far and the wait it imposes (0: none yet). */
    public record Penalty(int failures, long waitNanos, boolean lockedOut) {}

    /** Failures of one address or user name. Guarded by the enclosing LoginThrottle. */
    private static final class Failures {
        int count;
        /** Password checks of this address under way (addresses only). */
        int checking;
        long lastNanos;
        long blockedUntilNanos;

        /** Times start at {@code now}, not 0: System.nanoTime() may be negative. */
        Failures(long now) {
            lastNanos = now;
            blockedUntilNanos = now;
        }
    }

    private final GatewayConfig.LoginThrottle settings;
    private final LongSupplier nanos;
    /** Address key -> failures, least recently seen first. Guarded by this. */
    private final Map<String, Failures> addresses;
    /** User name as sent -> failures from every address. Guarded by this. */
    private final Map<String, Failures> users;

    public LoginThrottle(GatewayConfig.LoginThrottle settings, LongSupplier nanos) {
        this.settings = settings;
        this.nanos = nanos;
        this.addresses = bounded(settings.maxTracked());
        this.users = bounded(settings.maxTracked());
    }

    /**
     * Nanoseconds {@code address} must wait before a password for {@code user} may be checked; 0: now.
     * Reserves nothing: for credentials that need no check (a remembered Basic header), which a
     * lock-out still refuses.
     */
    public synchronized long waitNanos(String address, String user) {
        long now = nanos.getAsLong();
        Failures a = live(addresses, addressKey(address), now);
        if (a == null) {
            return 0;
        }
        long wait = Math.max(0, a.blockedUntilNanos - now);
        if (a.count > 0) {
            Failures u = live(users, userKey(user), now);
            if (u != null) {
                wait = Math.max(wait, u.blockedUntilNanos - now);
            }
        }
        return wait;
    }

    /**
     * 0 when a password from {@code address} for {@code user} may be checked now, and then the caller
     * must report the check's end with exactly one of {@link #succeeded}, {@link #failed} or
     * {@link #released}; otherwise the nanoseconds to wait.
     */
    public synchronized long acquire(String address, String user) {
        long wait = waitNanos(address, user);
        if (wait > 0) {
            return wait;
        }
        String key = addressKey(address);
        Failures a = addresses.get(key);
        if (a == null) {
            a = new Failures(nanos.getAsLong());
            addresses.put(key, a);
        }
        if (a.checking > 0 && a.count + a.checking >= settings.freeAttempts()) {
            return BUSY_WAIT_NANOS;
        }
        a.checking++;
        return 0;
    }

    /** The right password: the address's failures are forgotten (not the user name's). */
    public synchronized void succeeded(String address) {
        addresses.remove(addressKey(address));
    }

    /** A wrong user name or password, checked. */
    public synchronized Penalty failed(String address, String user) {
        long now = nanos.getAsLong();
        String key = addressKey(address);
        Failures a = addresses.get(key);
        if (a == null) {
            a = new Failures(now);
            addresses.put(key, a);
        }
        a.checking = Math.max(0, a.checking - 1);
        a.count++;
        a.lastNanos = now;
        boolean lockedOut = a.count >= settings.lockoutAfter();
        if (lockedOut) {
            a.blockedUntilNanos = now + settings.lockout().toNanos();
        } else if (a.count > settings.freeAttempts()) {
            a.blockedUntilNanos = now + backoff(a.count - settings.freeAttempts());
        }
        String userKey = userKey(user);
        Failures u = live(users, userKey, now);
        if (u == null) {
            u = new Failures(now);
            users.put(userKey, u);
        }
        u.count++;
        u.lastNanos = now;
        if (u.count > settings.userFreeAttempts()) {
            u.blockedUntilNanos = now + backoff(u.count - settings.userFreeAttempts());
        }
        return new Penalty(a.count, Math.max(0, a.blockedUntilNanos - now), lockedOut);
    }

    /** The check did not happen (refused for lack of a hashing thread, or it broke): nothing counted. */
    public synchronized void released(String address) {
        String key = addressKey(address);
        Failures a = addresses.get(key);
        if (a != null) {
            a.checking = Math.max(0, a.checking - 1);
            if (a.checking == 0 && a.count == 0) {
                addresses.remove(key);
            }
        }
    }

    /** A wait as whole seconds for Retry-After: rounded up, at least 1. */
    static long seconds(long waitNanos) {
        return Math.max(1, (waitNanos + 999_999_999L) / 1_000_000_000L);
    }

    synchronized int trackedAddresses() {
        return addresses.size();
    }

    synchronized int trackedUsers() {
        return users.size();
    }

    /** The {@code n}th wait (n >= 1): delay * 2^(n-1), at most maxDelay. */
    private long backoff(int n) {
        long delay = settings.delay().toNanos();
        long max = settings.maxDelay().toNanos();
        int doublings = Math.min(n - 1, 62);
        return delay > (max >> doublings) ? max : Math.min(max, delay << doublings);
    }

    /** The entry, unless it is forgotten by now (then it is dropped). */
    private Failures live(Map<String, Failures> table, String key, long now) {
        Failures f = table.get(key);
        if (f != null && f.checking == 0 && now - f.lastNanos >= settings.forgetAfter().toNanos()
                && now - f.blockedUntilNanos >= 0) {
            table.remove(key);
            return null;
        }
        return f;
    }

    /** Access-ordered, so the eldest entry is the one seen least recently; it goes when the table is full. */
    private static Map<String, Failures> bounded(int max) {
        return new LinkedHashMap<>(64, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<String, Failures> eldest) {
                return size() > max;
            }
        };
    }

    /** IPv4 as is; IPv6 by its /64 (one subscriber's LAN: rotating within it would otherwise be free). */
    static String addressKey(String address) {
        return AddressKey.of(address);
    }

    private static String userKey(String user) {
        String u = user == null ? "" : user;
        return u.length() > MAX_USER_KEY ? u.substring(0, MAX_USER_KEY) : u;
    }
}
