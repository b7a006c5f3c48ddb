package io.webrtcgateway.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The keys of gateway.admin beyond the credentials (ConfigLoaderTest has those). */
class AdminConfigTest {
    private static final String CREDENTIALS = "gateway.admin { username = ops, password-hash = "
            + "\"pbkdf2-sha256:600000:AAAAAAAAAAA=:AAAAAAAAAAAAAAAAAAAAAA==\" }\n";

    @Test
    void defaults() {
        GatewayConfig.Admin a = ConfigLoader.parse("").admin();
        assertEquals(0, a.port());
        assertEquals("127.0.0.1", a.bindAddress());
        assertEquals(List.of(), a.peers());
        assertEquals("", a.clusterSecret());
        assertEquals(Duration.ofSeconds(2), a.peerTimeout());
        assertEquals(Duration.ofHours(8), a.sessionTimeout());
        assertEquals(GatewayConfig.LoginThrottle.DEFAULTS, a.loginThrottle(), "reference.conf and DEFAULTS agree");
    }

    @Test
    void loginThrottle() {
        GatewayConfig.LoginThrottle t = ConfigLoader.parse(CREDENTIALS + "gateway.admin.login-throttle { free-attempts = 3, "
                + "delay = 500 ms, max-delay = 10 s, lockout-after = 6, lockout = 1 h, forget-after = 2 h, "
                + "user-free-attempts = 0, max-tracked = 500, hash-threads = 2, hash-queue = 4 }").admin().loginThrottle();
        assertEquals(new GatewayConfig.LoginThrottle(3, Duration.ofMillis(500), Duration.ofSeconds(10), 6,
                Duration.ofHours(1), Duration.ofHours(2), 0, 500, 2, 4), t);
    }

    @Test
    void peersWithASecret() {
        GatewayConfig.Admin a = ConfigLoader.parse(CREDENTIALS + "gateway.admin.peers = [\"http://10.0.0.2:8086/\", "
                + "\"https://gw3.example.com\"]\ngateway.admin.cluster-secret = \"0123456789abcdef\"\n"
                + "gateway.admin.port = 8087\ngateway.admin.bind-address = \"0.0.0.0\"").admin();
        assertEquals(List.of("http://10.0.0.2:8086", "https://gw3.example.com"), a.peers());
        assertEquals(8087, a.port());
        assertEquals("0.0.0.0", a.bindAddress());
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "gateway.admin.peers = [\"10.0.0.2:8086\"], gateway.admin.cluster-secret = \"0123456789abcdef\" | gateway.admin.peers",
        "gateway.admin.peers = [\"ftp://10.0.0.2\"], gateway.admin.cluster-secret = \"0123456789abcdef\" | gateway.admin.peers",
        "gateway.admin.peers = [\"http://10.0.0.2/admin\"], gateway.admin.cluster-secret = \"0123456789abcdef\" | gateway.admin.peers",
        "gateway.admin.peers = [\"http://10.0.0.2\"] | gateway.admin.cluster-secret",
        "gateway.admin.peers = [\"http://10.0.0.2\"], gateway.admin.cluster-secret = short | gateway.admin.cluster-secret",
        "gateway.admin.cluster-secret = short | gateway.admin.cluster-secret",
        "gateway.admin.port = 70000 | gateway.admin.port",
        "gateway.admin.port = 8086 | gateway.admin.port",
        "gateway.admin.bind-address = \"localhost\" | gateway.admin.bind-address",
        "gateway.admin.peer-timeout = 1 ms | gateway.admin.peer-timeout",
        "gateway.admin.session-timeout = 1 s | gateway.admin.session-timeout",
        "gateway.admin.login-throttle.free-attempts = -1 | gateway.admin.login-throttle.free-attempts",
        "gateway.admin.login-throttle.delay = 0 s | gateway.admin.login-throttle.delay",
        "gateway.admin.login-throttle.max-delay = 500 ms | gateway.admin.login-throttle.max-delay",
        "gateway.admin.login-throttle.lockout-after = 5 | gateway.admin.login-throttle.lockout-after",
        "gateway.admin.login-throttle.lockout = 0 s | gateway.admin.login-throttle.lockout",
        "gateway.admin.login-throttle.forget-after = 10 m | gateway.admin.login-throttle.forget-after",
        "gateway.admin.login-throttle.user-free-attempts = -1 | gateway.admin.login-throttle.user-free-attempts",
        "gateway.admin.login-throttle.max-tracked = 10 | gateway.admin.login-throttle.max-tracked",
        "gateway.admin.login-throttle.hash-threads = 0 | gateway.admin.login-throttle.hash-threads",
        "gateway.admin.login-throttle.hash-queue = 0 | gateway.admin.login-throttle.hash-queue",
        "gateway.admin.login-throttle.delay = soon | gateway.admin.login-throttle.delay",
    })
    void invalidValuesNameTheKey(String hocon, String key) {
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.parse(CREDENTIALS + hocon));
        assertTrue(e.getMessage().contains("'" + key + "'"), e.getMessage());
    }

    @Test
    void peersNeedTheAdminApi() {
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.parse(
                "gateway.admin.peers = [\"http://10.0.0.2\"]\ngateway.admin.cluster-secret = \"0123456789abcdef\""));
        assertTrue(e.getMessage().contains("'gateway.admin.peers'"), e.getMessage());
    }
}
