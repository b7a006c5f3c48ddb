package io.webrtcgateway.admin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.webrtcgateway.config.GatewayConfig;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Base64;
import java.util.Queue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * HTTP Basic and console-login checks: PBKDF2 on the given executor only, the remembered-header cache,
 * throttled attempts refused before hashing (429 with Retry-After), a full pool refused at once (503),
 * and the gateway.admin.logins counters.
 */
class AdminAuthenticatorTest {
    private static final String HASH = PasswordHash.create("s3cret".toCharArray(), 10_000).toString();
    /** 2 free failures, then 1 s; the 4th failure locks out for 10 min. */
    private static final GatewayConfig.LoginThrottle SETTINGS = new GatewayConfig.LoginThrottle(2,
            Duration.ofSeconds(1), Duration.ofSeconds(8), 4, Duration.ofMinutes(10), Duration.ofHours(1), 50, 100, 1, 8);
    private static final String ATTACKER = "198.51.100.7";
    private static final String OPERATOR = "203.0.113.9";

    private final AtomicLong now = new AtomicLong();
    private final SimpleMeterRegistry meters = new SimpleMeterRegistry();
    /** PBKDF2 runs counted, on the calling thread, or refused while {@link #full} is set. */
    private final AtomicLong hashes = new AtomicLong();
    private final AtomicBoolean full = new AtomicBoolean();
    private final Executor counting = task -> {
        if (full.get()) {
            throw new RejectedExecutionException("full");
        }
        hashes.incrementAndGet();
        task.run();
    };

    private AdminAuthenticator authenticator(Executor hashing) {
        return new AdminAuthenticator(new GatewayConfig.Admin("ops", HASH), hashing, new LoginThrottle(SETTINGS, now::get),
                meters);
    }

    private static String basic(String userColonPassword) {
        return "Basic " + Base64.getEncoder().encodeToString(userColonPassword.getBytes(StandardCharsets.UTF_8));
    }

    private static AdminException refused(CompletableFuture<Boolean> check) {
        CompletionException e = assertThrows(CompletionException.class, check::join);
        return (AdminException) e.getCause();
    }

    private double count(String via, String result) {
        return meters.get("gateway.admin.logins").tag("via", via).tag("result", result).counter().count();
    }

    @Test
    void basicAuthenticationChecksUserAndPassword() {
        AdminAuthenticator auth = authenticator(counting);
        assertTrue(auth.enabled());
        assertTrue(auth.basic(basic("ops:s3cret"), OPERATOR).join());
        assertFalse(auth.basic(basic("ops:wrong"), OPERATOR).join());
        assertFalse(auth.basic(basic("root:s3cret"), OPERATOR).join());
        assertFalse(auth.basic(basic("ops"), OPERATOR).join());
        assertFalse(auth.basic("Basic %%%", OPERATOR).join());
        assertFalse(auth.basic("Bearer x", OPERATOR).join());
        assertFalse(auth.basic(null, OPERATOR).join());
        assertEquals(3, hashes.get(), "malformed headers are not hashed");
        assertTrue(auth.login("ops", "s3cret".toCharArray(), OPERATOR).join());
        assertFalse(auth.login("ops", "S3cret".toCharArray(), OPERATOR).join());
        assertFalse(new AdminAuthenticator(new GatewayConfig.Admin("", ""), counting,
                new LoginThrottle(SETTINGS, now::get), meters).enabled());
    }

    @Test
    void aRememberedHeaderCostsNoHash() {
        AdminAuthenticator auth = authenticator(counting);
        for (int i = 0; i < 10; i++) {
            assertTrue(auth.basic(basic("ops:s3cret"), OPERATOR).join());
        }
        assertEquals(1, hashes.get());
        assertEquals(1, count("basic", "ok"), "a remembered header is not a new login");
    }

    @Test
    void hashingRunsOnTheExecutorNotTheCallersThread() {
        Queue<Runnable> queued = new ArrayDeque<>();
        AdminAuthenticator auth = authenticator(queued::add);
        CompletableFuture<Boolean> first = auth.basic(basic("ops:s3cret"), OPERATOR);
        CompletableFuture<Boolean> second = auth.login("ops", "wrong".toCharArray(), "192.0.2.1");
        assertFalse(first.isDone());
        assertFalse(second.isDone());
        assertEquals(2, queued.size(), "both checks wait for a hashing thread, neither holds a lock");
        queued.poll().run();
        queued.poll().run();
        assertTrue(first.join());
        assertFalse(second.join());
    }

    @Test
    void throttledAttemptsAreRefusedBeforeHashingAndTheLockOutRefusesTheRightPasswordToo() {
        AdminAuthenticator auth = authenticator(counting);
        assertTrue(auth.basic(basic("ops:s3cret"), ATTACKER).join(), "remembered from now on");
        assertFalse(auth.basic(basic("ops:guess1"), ATTACKER).join());
        assertFalse(auth.login("ops", "guess2".toCharArray(), ATTACKER).join());
        assertFalse(auth.basic(basic("ops:guess3"), ATTACKER).join(), "past the free attempts: waits 1 s");
        AdminException fourth = refused(auth.basic(basic("ops:guess4"), ATTACKER));
        assertEquals(429, fourth.status());
        assertEquals("TOO_MANY_ATTEMPTS", fourth.code());
        assertEquals(1, fourth.retryAfterSeconds());
        now.addAndGet(1_000_000_000L);
        assertFalse(auth.basic(basic("ops:guess4"), ATTACKER).join(), "the fourth failure: locked out");
        long hashed = hashes.get();
        for (int i = 0; i < 20; i++) {
            assertEquals(429, refused(auth.basic(basic("ops:guess" + (5 + i)), ATTACKER)).status());
        }
        AdminException right = refused(auth.basic(basic("ops:s3cret"), ATTACKER));
        assertEquals(600, right.retryAfterSeconds(), "a remembered right header is refused during the lock-out");
        assertEquals(429, refused(auth.login("ops", "s3cret".toCharArray(), ATTACKER)).status());
        assertEquals(hashed, hashes.get(), "nothing hashed while throttled");
        assertTrue(auth.basic(basic("ops:s3cret"), OPERATOR).join(), "the operator elsewhere gets in");

        assertEquals(1, count("basic", "ok"), "the operator's header was remembered: no new check");
        assertEquals(3, count("basic", "failed"));
        assertEquals(1, count("login", "failed"));
        assertEquals(22, count("basic", "throttled"));
        assertEquals(1, count("login", "throttled"));
    }

    @Test
    void aFullHashingPoolAnswers503AtOnceAndCountsNoFailure() {
        AdminAuthenticator auth = authenticator(counting);
        full.set(true);
        for (int i = 0; i < 5; i++) {
            AdminException busy = refused(auth.login("ops", "s3cret".toCharArray(), ATTACKER));
            assertEquals(503, busy.status());
            assertEquals("BUSY", busy.code());
            assertEquals(1, busy.retryAfterSeconds());
        }
        assertEquals(5, count("login", "busy"));
        assertEquals(0, hashes.get());
        full.set(false);
        assertTrue(auth.login("ops", "s3cret".toCharArray(), ATTACKER).join(),
                "the refused checks counted as no failures and hold no slot");
    }
}
