package io.webrtcgateway.admin;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.Base64;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Console logins ({@code POST /admin/api/login}): an opaque random id in the {@code GWADMIN} cookie and a
 * second random value, the CSRF token, that the console must echo in {@code X-CSRF-Token} on every request
 * that changes something. A foreign page can make the browser send the cookie (were it not SameSite=Strict)
 * but cannot read the token (same-origin policy), so it cannot forge the header ("synchronizer token",
 * OWASP CSRF cheat sheet). Held in this instance's memory only, keyed by a SHA-256 of the cookie so a heap
 * dump does not hand out live cookies; a login expires {@code timeout} after it was made.
 */
public final class ConsoleLogins {
    public static final String COOKIE = "GWADMIN";
    /** More logins than this: the oldest is dropped (a script logging in in a loop cannot fill the heap). */
    private static final int MAX_LOGINS = 1000;
    private static final SecureRandom RANDOM = new SecureRandom();

    /** One console login. */
    public record Login(String username, String csrfToken, long expiresAtNanos) {}

    /** A new login: the cookie value to set and what it stands for. */
    public record Created(String cookie, Login login) {}

    private final Duration timeout;
    /** Cookie digest -> login, oldest first. Guarded by this. */
    private final Map<String, Login> logins = new LinkedHashMap<>();

    public ConsoleLogins(Duration timeout) {
        this.timeout = timeout;
    }

    public Duration timeout() {
        return timeout;
    }

    public synchronized Created create(String username, long nowNanos) {
        purge(nowNanos);
        if (logins.size() >= MAX_LOGINS) {
            Iterator<String> oldest = logins.keySet().iterator();
            oldest.next();
            oldest.remove();
        }
        String cookie = random();
        Login login = new Login(username, random(), nowNanos + timeout.toNanos());
        logins.put(digest(cookie), login);
        return new Created(cookie, login);
    }

    /** The live login the cookie value names, or null. */
    public synchronized Login find(String cookie, long nowNanos) {
        if (cookie == null || cookie.isEmpty() || cookie.length() > 100) {
            return null;
        }
        String key = digest(cookie);
        Login login = logins.get(key);
        if (login != null && nowNanos - login.expiresAtNanos() >= 0) {
            logins.remove(key);
            return null;
        }
        return login;
    }

    public synchronized void remove(String cookie) {
        if (cookie != null) {
            logins.remove(digest(cookie));
        }
    }

    /** Whether {@code header} is the login's CSRF token, compared in constant time. */
    public static boolean csrfMatches(Login login, String header) {
        return header != null && MessageDigest.isEqual(login.csrfToken().getBytes(StandardCharsets.UTF_8),
                header.trim().getBytes(StandardCharsets.UTF_8));
    }

    private void purge(long nowNanos) {
        logins.values().removeIf(l -> nowNanos - l.expiresAtNanos() >= 0);
    }

    private static String random() {
        byte[] b = new byte[32];
        RANDOM.nextBytes(b);
        return Base64.getUrlEncoder().withoutPadding().encodeToString(b);
    }

    private static String digest(String cookie) {
        try {
            return Base64.getEncoder().encodeToString(
                    MessageDigest.getInstance("SHA-256").digest(cookie.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
