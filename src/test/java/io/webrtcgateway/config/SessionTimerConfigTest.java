package io.webrtcgateway.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import org.junit.jupiter.api.Test;

/** gateway.calls.session-expires, min-se and session-timer-floor (RFC 4028 session timers). */
class SessionTimerConfigTest {

    @Test
    void defaultsFollowRfc4028() {
        GatewayConfig.SessionTimers t = ConfigLoader.parse("").calls().sessionTimers();
        assertEquals(Duration.ofSeconds(1800), t.sessionExpires());
        assertEquals(Duration.ofSeconds(90), t.minSe());
        assertEquals(Duration.ofSeconds(90), t.floor());
    }

    @Test
    void zeroTurnsThemOff() {
        assertTrue(ConfigLoader.parse("gateway.calls.session-expires = 0").calls().sessionTimers().sessionExpires().isZero());
    }

    @Test
    void belowNinetySecondsIsRefusedUnlessTheTestFloorIsLowered() {
        assertError("gateway.calls.min-se", "gateway.calls.min-se = 30 s");
        assertError("gateway.calls.session-expires", "gateway.calls.session-expires = 60 s");
        assertError("gateway.calls.session-expires", "gateway.calls.session-expires = 100 s\ngateway.calls.min-se = 120 s");
        assertError("gateway.calls.session-timer-floor", "gateway.calls.session-timer-floor = 1 s");
        assertError("gateway.calls.min-se", "gateway.calls.session-timer-floor = 2 s\ngateway.calls.min-se = 2500 ms");
        GatewayConfig.SessionTimers t = ConfigLoader.parse("gateway.calls.session-timer-floor = 2 s\n"
                + "gateway.calls.min-se = 2 s\ngateway.calls.session-expires = 3 s").calls().sessionTimers();
        assertEquals(Duration.ofSeconds(3), t.sessionExpires());
        assertEquals(Duration.ofSeconds(2), t.minSe());
    }

    private static void assertError(String key, String hocon) {
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.parse(hocon));
        assertTrue(e.getMessage().contains("'" + key + "'"), e.getMessage());
    }
}
