package io.webrtcgateway.admin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class ConsoleLoginsTest {
    private static final long HOUR = Duration.ofHours(1).toNanos();

    @Test
    void aLoginLastsItsTimeout() {
        ConsoleLogins logins = new ConsoleLogins(Duration.ofHours(8));
        ConsoleLogins.Created c = logins.create("ops", 0);
        assertEquals("ops", logins.find(c.cookie(), 7 * HOUR).username());
        assertNull(logins.find(c.cookie(), 8 * HOUR));
        assertNull(logins.find(c.cookie(), 0), "an expired login is gone");
    }

    @Test
    void cookiesAndTokensAreRandomAndDistinct() {
        ConsoleLogins logins = new ConsoleLogins(Duration.ofHours(8));
        ConsoleLogins.Created a = logins.create("ops", 0);
        ConsoleLogins.Created b = logins.create("ops", 0);
        assertNotEquals(a.cookie(), b.cookie());
        assertNotEquals(a.login().csrfToken(), b.login().csrfToken());
        assertNotEquals(a.cookie(), a.login().csrfToken());
        assertTrue(a.cookie().length() >= 40, a.cookie());
    }

    @Test
    void logoutForgetsTheLogin() {
        ConsoleLogins logins = new ConsoleLogins(Duration.ofHours(8));
        ConsoleLogins.Created c = logins.create("ops", 0);
        logins.remove(c.cookie());
        assertNull(logins.find(c.cookie(), 1));
        assertNull(logins.find(null, 1));
        assertNull(logins.find("", 1));
    }

    @Test
    void theOldestLoginGoesBeyondTheCap() {
        ConsoleLogins logins = new ConsoleLogins(Duration.ofHours(8));
        ConsoleLogins.Created first = logins.create("ops", 0);
        for (int i = 0; i < 1000; i++) {
            logins.create("ops", 0);
        }
        assertNull(logins.find(first.cookie(), 1));
    }

    @Test
    void csrfComparison() {
        ConsoleLogins.Created c = new ConsoleLogins(Duration.ofHours(1)).create("ops", 0);
        assertTrue(ConsoleLogins.csrfMatches(c.login(), c.login().csrfToken()));
        assertFalse(ConsoleLogins.csrfMatches(c.login(), null));
        assertFalse(ConsoleLogins.csrfMatches(c.login(), ""));
        assertFalse(ConsoleLogins.csrfMatches(c.login(), c.cookie()));
    }
}
