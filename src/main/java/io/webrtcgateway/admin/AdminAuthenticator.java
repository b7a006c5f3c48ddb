package io.webrtcgateway.admin;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.webrtcgateway.config.GatewayConfig;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.Base64;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;

/**
 * The operator's password, by HTTP Basic (RFC 7617) or the console login, against
 * {@code gateway.admin.username} / {@code password-hash}, throttled by {@link LoginThrottle}.
 *
 * <p>PBKDF2 is slow on purpose (a few hundred ms), so it never runs on an HTTP thread nor under a lock:
 * each check is a task on the small hashing executor the application owns, whose queue is bounded; when
 * it is full the login is refused at once (503) instead of queueing without bound. Answers are futures, and
 * the servlet answers asynchronously meanwhile. A throttled attempt is refused (429) before any hashing.
 * A Basic header that passed is remembered (as a SHA-256 digest, not the password) so that a script or
 * console polling every second costs one hash, not one per request.
 */
public final class AdminAuthenticator {
    private static final int REMEMBERED = 16;
    private static final String[] VIAS = {"login", "basic"};
    private static final String[] RESULTS = {"ok", "failed", "throttled", "busy"};

    private final String username;
    private final PasswordHash hash;
    private final Executor hashing;
    private final LoginThrottle throttle;
    private final AdminAudit audit = new AdminAudit();
    /** "via/result" -> gateway.admin.logins counter; filled in the constructor, read-only after. */
    private final Map<String, Counter> counters = new HashMap<>();
    /**
     * Digests of Authorization headers that passed, least recently used first. Guarded by itself, held
     * only for a lookup or an insert, never while hashing.
     */
    private final Map<String, Boolean> passed = new LinkedHashMap<>(REMEMBERED, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Boolean> eldest) {
            return size() > REMEMBERED;
        }
    };

    /**
     * @param hashing  where PBKDF2 runs: bounded, refusing work when full (GatewayApplication#adminHashing)
     * @param meters   gets {@code gateway.admin.logins}
     */
    public AdminAuthenticator(GatewayConfig.Admin config, Executor hashing, LoginThrottle throttle, MeterRegistry meters) {
        this.username = config.username();
        this.hash = config.enabled() ? PasswordHash.parse(config.passwordHash()) : null;
        this.hashing = hashing;
        this.throttle = throttle;
        for (String via : hash == null ? new String[0] : VIAS) { // the admin API is off: no admin metrics
            for (String result : RESULTS) {
                counters.put(via + "/" + result, Counter.builder("gateway.admin.logins")
                        .description("admin password checks (console login, HTTP Basic) by outcome")
                        .tag("via", via).tag("result", result).register(meters));
            }
        }
    }

    public boolean enabled() {
        return hash != null;
    }

    public String username() {
        return username;
    }

    /**
     * Whether the {@code Authorization} header value carries the admin credentials: completes true or
     * false (also for a missing or malformed header), or fails with {@link AdminException} 429 (throttled)
     * or 503 (no hashing thread free). Completed at once unless a password had to be hashed.
     */
    public CompletableFuture<Boolean> basic(String authorization, String address) {
        if (hash == null || authorization == null || !authorization.regionMatches(true, 0, "Basic ", 0, 6)) {
            return CompletableFuture.completedFuture(false);
        }
        String decoded;
        try {
            decoded = new String(Base64.getDecoder().decode(authorization.substring(6).trim()), StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            return CompletableFuture.completedFuture(false);
        }
        int colon = decoded.indexOf(':');
        if (colon < 0) {
            return CompletableFuture.completedFuture(false);
        }
        String user = decoded.substring(0, colon);
        String digest = sha256(authorization);
        boolean remembered;
        synchronized (passed) {
            remembered = passed.containsKey(digest);
        }
        if (remembered) {
            // No hash needed, but a lock-out still means it: the right password is refused too.
            long wait = throttle.waitNanos(address, user);
            if (wait > 0) {
                counters.get("basic/throttled").increment();
                return CompletableFuture.failedFuture(AdminException.tooManyAttempts(wait));
            }
            throttle.succeeded(address);
            return CompletableFuture.completedFuture(true);
        }
        return check("basic", address, user, decoded.substring(colon + 1).toCharArray(), digest);
    }

    /** The console login's user name and password: as {@link #basic}. */
    public CompletableFuture<Boolean> login(String user, char[] password, String address) {
        if (hash == null || user == null || password == null) {
            return CompletableFuture.completedFuture(false);
        }
        return check("login", address, user, password, null);
    }

    /** One throttled PBKDF2 check on the hashing executor; {@code password} is wiped after. */
    private CompletableFuture<Boolean> check(String via, String address, String user, char[] password,
            String rememberAs) {
        long wait = throttle.acquire(address, user);
        if (wait > 0) {
            Arrays.fill(password, '\0');
            counters.get(via + "/throttled").increment();
            return CompletableFuture.failedFuture(AdminException.tooManyAttempts(wait));
        }
        CompletableFuture<Boolean> result = new CompletableFuture<>();
        try {
            hashing.execute(() -> {
                try {
                    boolean ok = verifies(user, password);
                    if (ok) {
                        throttle.succeeded(address);
                        if (rememberAs != null) {
                            synchronized (passed) {
                                passed.put(rememberAs, Boolean.TRUE);
                            }
                        }
                    } else {
                        LoginThrottle.Penalty p = throttle.failed(address, user);
                        if (p.waitNanos() > 0) {
                            audit.log(new AdminAudit.Actor(user, via, address), "login-throttle", "-",
                                    p.failures() + " failures: " + (p.lockedOut() ? "locked out" : "waits") + " "
                                            + LoginThrottle.seconds(p.waitNanos()) + " s");
                        }
                    }
                    counters.get(via + (ok ? "/ok" : "/failed")).increment();
                    result.complete(ok);
                } catch (RuntimeException | Error e) {
                    throttle.released(address);
                    result.completeExceptionally(e);
                } finally {
                    Arrays.fill(password, '\0');
                }
            });
        } catch (RejectedExecutionException e) {
            throttle.released(address);
            Arrays.fill(password, '\0');
            counters.get(via + "/busy").increment();
            return CompletableFuture.failedFuture(AdminException.busy());
        }
        return result;
    }

    /** One PBKDF2 computation, also for a wrong user name, so the time taken does not tell which was wrong. */
    private boolean verifies(String user, char[] password) {
        boolean userOk = MessageDigest.isEqual(user.getBytes(StandardCharsets.UTF_8),
                username.getBytes(StandardCharsets.UTF_8));
        boolean passwordOk = hash.matches(password);
        return userOk && passwordOk;
    }

    private static String sha256(String text) {
        try {
            return Base64.getEncoder().encodeToString(
                    MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
