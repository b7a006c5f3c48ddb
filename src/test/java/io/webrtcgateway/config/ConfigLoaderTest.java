package io.webrtcgateway.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ConfigLoaderTest {

    @Test
    void defaultsMatchTheSpec() {
        GatewayConfig c = ConfigLoader.parse("");
        assertEquals("0.0.0.0", c.http().host());
        assertEquals(8086, c.http().port());
        assertEquals(new HostPort("0.0.0.0", 5070), c.sip().listen());
        assertTrue(c.sip().usesSandbox());
        assertEquals(Duration.ofSeconds(3600), c.sip().registerExpires());
        assertEquals(20000, c.media().rtpPortMin());
        assertEquals(29999, c.media().rtpPortMax());
        assertTrue(c.cors().allowedOrigins().isEmpty());
        assertTrue(c.limits().maxSessions() > 0, "max-sessions 0 is sized to the box");
        assertFalse(c.instanceId().isEmpty(), "instance id defaults to the host name");
    }

    /** Slow clients (docs/protocol.md) and stuck executors (docs/deployment.md): defaults sized for a browser. */
    @Test
    void sendQueueWriteTimeoutAndStuckAfter() {
        GatewayConfig defaults = ConfigLoader.parse("");
        assertEquals(1000, defaults.limits().wsSendQueueMessages());
        assertEquals(256 * 1024, defaults.limits().wsSendQueueBytes());
        assertEquals(Duration.ofSeconds(10), defaults.limits().writeTimeout());
        assertEquals(Duration.ofSeconds(5), defaults.health().stuckAfter());
        GatewayConfig set = ConfigLoader.parse("gateway.limits { ws-send-queue-messages = 50, ws-send-queue-bytes = 65536, "
                + "write-timeout = 2 s }\ngateway.health.stuck-after = 1500 ms");
        assertEquals(50, set.limits().wsSendQueueMessages());
        assertEquals(65536, set.limits().wsSendQueueBytes());
        assertEquals(Duration.ofSeconds(2), set.limits().writeTimeout());
        assertEquals(Duration.ofMillis(1500), set.health().stuckAfter());
    }

    @Test
    void sipSideSourcePolicyAndReceiveThreads() {
        GatewayConfig.Media defaults = ConfigLoader.parse("").media();
        assertEquals(GatewayConfig.SipSource.LEARNING, defaults.sipSource());
        assertEquals(5, defaults.learnPackets());
        assertEquals(Duration.ofSeconds(1), defaults.learnSilence());
        assertEquals(50, defaults.latchPackets());
        assertEquals(Duration.ofSeconds(2), defaults.latchWindow());
        assertEquals(Math.max(1, Runtime.getRuntime().availableProcessors()), defaults.receiveThreads());
        GatewayConfig.Media strict = ConfigLoader.parse("gateway.media { sip-source-policy = \"sdp-strict\", "
                + "latch-packets = 10, latch-window = 500 ms, receive-threads = 3 }").media();
        assertEquals(GatewayConfig.SipSource.SDP_STRICT, strict.sipSource());
        assertEquals(10, strict.latchPackets());
        assertEquals(Duration.ofMillis(500), strict.latchWindow());
        assertEquals(3, strict.receiveThreads());
        GatewayConfig.Media learning = ConfigLoader.parse("gateway.media { learn-packets = 8, learn-silence = 0 }").media();
        assertEquals(8, learning.learnPackets());
        assertEquals(Duration.ZERO, learning.learnSilence());
        assertEquals(GatewayConfig.SipSource.LATCHING,
                ConfigLoader.parse("gateway.media.sip-source-policy = latching").media().sipSource());
    }

    @Test
    void iceRemoteDenyDefaultsAndOwnAddresses() throws Exception {
        GatewayConfig.Media defaults = ConfigLoader.parse("").media();
        assertTrue(defaults.iceDenyOwnAddresses());
        for (String denied : List.of("127.0.0.1", "127.255.0.9", "::1", "169.254.169.254", "fe80::1", "fd00:ec2::254",
                "0.0.0.0", "::", "224.0.0.1", "239.255.255.250", "255.255.255.255", "ff02::1", "::ffff:127.0.0.1")) {
            assertTrue(Cidr.anyContains(defaults.iceRemoteDeny(), java.net.InetAddress.getByName(denied)), denied);
        }
        for (String allowed : List.of("192.0.2.10", "10.1.2.3", "203.0.113.9", "2001:db8::1", "fd00::2")) {
            assertFalse(Cidr.anyContains(defaults.iceRemoteDeny(), java.net.InetAddress.getByName(allowed)), allowed);
        }
        GatewayConfig.Media mine = ConfigLoader.parse("gateway.media.ice-remote-deny = [\"10.0.0.0/8\"]").media();
        assertEquals(List.of(Cidr.parse("10.0.0.0/8")), mine.iceRemoteDeny());
        assertFalse(mine.iceDenyOwnAddresses());
        GatewayConfig.Media none = ConfigLoader.parse("gateway.media.ice-remote-deny = []").media();
        assertTrue(none.iceRemoteDeny().isEmpty() && !none.iceDenyOwnAddresses());
        assertTrue(ConfigLoader.parse("gateway.media.ice-remote-deny = [own-addresses]").media().iceDenyOwnAddresses());
    }

    /** reference.conf has the map empty; its entries are the user's, not unknown keys. */
    @Test
    void attachedDataHeaderMapping() {
        GatewayConfig c = ConfigLoader.parse("gateway.calls.attached-data { header-prefix = \"X-CC-\", "
                + "headers { case = \"X-Case-Id\", segment = \"X-Customer-Segment\" } }");
        assertEquals(Map.of("case", "X-Case-Id", "segment", "X-Customer-Segment"), c.calls().attachedDataHeaders());
        assertEquals("X-CC-", c.calls().attachedDataPrefix());
        assertEquals("X-Case-Id", ConfigLoader.parse("gateway.calls.attached-data.headers.case = X-Case-Id")
                .calls().attachedDataHeaders().get("case"));
    }

    @Test
    void parsesServersWithTransports() {
        GatewayConfig c = ConfigLoader.parse("gateway.sip.servers = [\"10.0.0.1\", \"sip.example.com:5080;transport=tcp\", \"[::1]:5062\"]"
                + "\ngateway.auth.mode = none");
        assertEquals(new HostPort("10.0.0.1", 5060), c.sip().servers().get(0).address());
        assertEquals("udp", c.sip().servers().get(0).transport());
        assertEquals("tcp", c.sip().servers().get(1).transport());
        assertEquals(new HostPort("::1", 5062), c.sip().servers().get(2).address());
        assertFalse(c.sip().usesSandbox());
    }

    @Test
    void sipTrustedSourcesAndWhatOthersGet() {
        GatewayConfig defaults = ConfigLoader.parse("");
        assertEquals(List.of(), defaults.sip().trustedSources());
        assertEquals(GatewayConfig.Sip.Untrusted.REJECT, defaults.sip().untrusted());
        GatewayConfig c = ConfigLoader.parse(
                "gateway.sip { trusted-sources = [\"10.1.2.0/24\", \"::1\"], untrusted = drop }");
        assertEquals(List.of(Cidr.parse("10.1.2.0/24"), Cidr.parse("::1")), c.sip().trustedSources());
        assertEquals(GatewayConfig.Sip.Untrusted.DROP, c.sip().untrusted());
    }

    @Test
    void allowedHostsAreNormalisedAndEmptyByDefault() {
        assertEquals(List.of(), ConfigLoader.parse("").http().allowedHosts());
        GatewayConfig c = ConfigLoader.parse("gateway.http.allowed-hosts = [\"GW.Example.com.\", \" *.agents.example.net\"]");
        assertEquals(List.of("gw.example.com", "*.agents.example.net"), c.http().allowedHosts());
    }

    /** The launcher's connectors; a held long poll (silent for poll-timeout) must not be cut by them. */
    @Test
    void httpIdleTimeoutIsJettysDefaultAndOutlastsTheLongPoll() {
        assertEquals(Duration.ofSeconds(30), ConfigLoader.parse("").http().idleTimeout());
        GatewayConfig c = ConfigLoader.parse("gateway.http.idle-timeout = 5 s\ngateway.legacy.poll-timeout = 4 s");
        assertEquals(Duration.ofSeconds(5), c.http().idleTimeout());
        ConfigException e = assertThrows(ConfigException.class,
                () -> ConfigLoader.parse("gateway.http.idle-timeout = 5 s\ngateway.legacy.poll-timeout = 5 s"));
        assertTrue(e.getMessage().contains("gateway.legacy.poll-timeout")
                && e.getMessage().contains("gateway.http.idle-timeout"), e.getMessage());
    }

    @Test
    void sipFloodLimits() {
        GatewayConfig defaults = ConfigLoader.parse("");
        assertEquals(new GatewayConfig.Sip.Tcp(256, 64, Duration.ofSeconds(120), Duration.ofSeconds(10)),
                defaults.sip().tcp());
        assertEquals(GatewayConfig.Sip.Tcp.DEFAULTS, defaults.sip().tcp(), "the record's defaults are reference.conf's");
        assertEquals(500, defaults.sip().maxRequestsPerSecond());
        assertEquals(50, defaults.limits().maxIncomingCallsPerSecond());
        GatewayConfig c = ConfigLoader.parse("gateway.sip { max-requests-per-second = 0, tcp { max-connections = 10,"
                + " max-connections-per-source = 2, read-timeout = 1 s, idle-timeout = 3 s } }\n"
                + "gateway.calls.no-answer-timeout = 2 s\ngateway.limits.max-incoming-calls-per-second = 0");
        assertEquals(new GatewayConfig.Sip.Tcp(10, 2, Duration.ofSeconds(3), Duration.ofSeconds(1)), c.sip().tcp());
        assertEquals(0, c.sip().maxRequestsPerSecond());
        assertEquals(0, c.limits().maxIncomingCallsPerSecond());
    }

    @Test
    void unknownKeySuggestsTheClosest() {
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.parse("gateway.sip.registr-expires = 60 s"));
        assertTrue(e.getMessage().contains("gateway.sip.registr-expires"), e.getMessage());
        assertTrue(e.getMessage().contains("did you mean 'gateway.sip.register-expires'"), e.getMessage());
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "gateway.http.port = 70000                          | gateway.http.port",
        "gateway.http.port = \"abc\"                        | gateway.http.port",
        "gateway.http.allowed-hosts = [\"https://gw.example.com\"] | gateway.http.allowed-hosts",
        "gateway.http.allowed-hosts = [\"gw.example.com:8086\"]    | gateway.http.allowed-hosts",
        "gateway.http.allowed-hosts = [\"gw.*.com\"]               | gateway.http.allowed-hosts",
        "gateway.http.allowed-hosts = [\"\"]                       | gateway.http.allowed-hosts",
        "gateway.http.allowed-hosts = \"gw.example.com\"           | gateway.http.allowed-hosts",
        "gateway.sip.servers = []                           | gateway.sip.servers",
        "gateway.sip.servers = [\"host:5060;transport=sctp\"] | gateway.sip.servers",
        "gateway.sip.servers = [\"host:99999\"]             | gateway.sip.servers",
        "gateway.sip.listen = \"::1:5070\"                  | gateway.sip.listen",
        "gateway.sip.trusted-sources = [\"sip.example.com\"] | gateway.sip.trusted-sources",
        "gateway.sip.trusted-sources = [\"10.0.0.0/33\"]   | gateway.sip.trusted-sources",
        "gateway.sip.trusted-sources = \"10.0.0.1\"        | gateway.sip.trusted-sources",
        "gateway.sip.untrusted = ignore                     | gateway.sip.untrusted",
        "gateway.sip.untrusted = REJECT                     | gateway.sip.untrusted",
        "gateway.sip.max-requests-per-second = -1           | gateway.sip.max-requests-per-second",
        "gateway.sip.tcp.max-connections = 0                | gateway.sip.tcp.max-connections",
        "gateway.sip.tcp.max-connections-per-source = 0     | gateway.sip.tcp.max-connections-per-source",
        "gateway.sip.tcp.read-timeout = 0 s                 | gateway.sip.tcp.read-timeout",
        "gateway.sip.tcp.read-timeout = 1 h                 | gateway.sip.tcp.read-timeout",
        "gateway.sip.tcp { read-timeout = 20 s, idle-timeout = 10 s } | gateway.sip.tcp.idle-timeout",
        "gateway.sip.tcp.idle-timeout = 60 s                | gateway.sip.tcp.idle-timeout",
        "gateway.sip.tcp.idle-timeout = soon                | gateway.sip.tcp.idle-timeout",
        "gateway.limits.max-incoming-calls-per-second = -5  | gateway.limits.max-incoming-calls-per-second",
        "gateway.media.rtp-port-range = \"30000-20000\"     | gateway.media.rtp-port-range",
        "gateway.media.rtp-port-range = \"80-90\"           | gateway.media.rtp-port-range",
        "gateway.media.sip-source-policy = symmetric        | gateway.media.sip-source-policy",
        "gateway.media.sip-source-policy = LATCHING         | gateway.media.sip-source-policy",
        "gateway.media.latch-packets = 0                    | gateway.media.latch-packets",
        "gateway.media.learn-packets = 1                    | gateway.media.learn-packets",
        "gateway.media.learn-packets = 1001                 | gateway.media.learn-packets",
        "gateway.media.learn-silence = 2 m                  | gateway.media.learn-silence",
        "gateway.media.learn-silence = -1 s                 | gateway.media.learn-silence",
        "gateway.media.ice-remote-deny = [\"own\"]          | gateway.media.ice-remote-deny",
        "gateway.media.ice-remote-deny = [\"10.0.0.0/33\"]  | gateway.media.ice-remote-deny",
        "gateway.media.ice-remote-deny = \"127.0.0.0/8\"    | gateway.media.ice-remote-deny",
        "gateway.media.latch-window = 0 s                   | gateway.media.latch-window",
        "gateway.media.latch-window = 5 m                   | gateway.media.latch-window",
        "gateway.media.receive-threads = -1                 | gateway.media.receive-threads",
        "gateway.media.receive-threads = 65                 | gateway.media.receive-threads",
        "gateway.calls.attached-data.headers.case = \"X Case\" | gateway.calls.attached-data.headers.case",
        "gateway.calls.attached-data.headers.case = { a = b }  | gateway.calls.attached-data.headers.case",
        "gateway.calls.attached-data.header-prefix = \"X:\"    | gateway.calls.attached-data.header-prefix",
        "gateway.sip.register-expires = 1 s                 | gateway.sip.register-expires",
        "gateway.session.idle-timeout = \"soon\"            | gateway.session.idle-timeout",
        "gateway.session.keepalive-interval = 90 s          | gateway.session.keepalive-interval",
        "gateway.legacy.poll-timeout = 2 m                  | gateway.legacy.poll-timeout",
        "gateway.http.idle-timeout = 0 s                    | gateway.http.idle-timeout",
        "gateway.http.idle-timeout = 2 h                    | gateway.http.idle-timeout",
        "gateway.http.idle-timeout = 20 s                   | gateway.legacy.poll-timeout",
        "gateway.cors.allowed-origins = [\"example.com\"]   | gateway.cors.allowed-origins",
        "gateway.instance-id = \"bad id!\"                  | gateway.instance-id",
        "gateway.cluster.affinity-cookie = \"a b\"          | gateway.cluster.affinity-cookie",
        "gateway.limits.max-message-bytes = 10              | gateway.limits.max-message-bytes",
        "gateway.limits.ws-send-queue-messages = 0          | gateway.limits.ws-send-queue-messages",
        "gateway.limits.ws-send-queue-bytes = 1 KiB         | gateway.limits.ws-send-queue-bytes",
        "gateway.limits.ws-send-queue-bytes = 1 GiB         | gateway.limits.ws-send-queue-bytes",
        "gateway.limits.ws-send-queue-bytes = lots          | gateway.limits.ws-send-queue-bytes",
        "gateway.limits.write-timeout = 0 s                 | gateway.limits.write-timeout",
        "gateway.limits.write-timeout = 1 h                 | gateway.limits.write-timeout",
        "gateway.health.stuck-after = 10 ms                 | gateway.health.stuck-after",
        "gateway.health.stuck-after = \"later\"             | gateway.health.stuck-after",
        "gateway.sip.max-headers = 10                       | gateway.sip.max-headers",
        "gateway.sip.max-header-bytes = 100000              | gateway.sip.max-header-bytes",
        "gateway.limits.max-media-sections = 0              | gateway.limits.max-media-sections",
        "gateway.limits.max-media-sections = 65             | gateway.limits.max-media-sections",
        "gateway.limits.max-sdp-bytes = 100                 | gateway.limits.max-sdp-bytes",
        "gateway.limits.max-candidates-per-call = 0         | gateway.limits.max-candidates-per-call",
        "gateway.limits.max-attached-data-keys = 0          | gateway.limits.max-attached-data-keys",
        "gateway.limits.max-attached-data-bytes = 10        | gateway.limits.max-attached-data-bytes",
        "gateway.limits.max-info-bytes = many               | gateway.limits.max-info-bytes",
        "gateway.limits.max-queued-requests-per-call = 0    | gateway.limits.max-queued-requests-per-call",
        "gateway.limits.max-sessions-per-address = -1       | gateway.limits.max-sessions-per-address",
        "gateway.limits.sign-ins-per-address-per-second = -5 | gateway.limits.sign-ins-per-address-per-second",
        "gateway.limits.sign-in-burst-per-address = 0       | gateway.limits.sign-in-burst-per-address",
        "gateway.limits.requests-per-session-per-second = lots | gateway.limits.requests-per-session-per-second",
        "gateway.limits.request-burst-per-session = 0       | gateway.limits.request-burst-per-session",
        "gateway.limits.max-calls-per-session = -1          | gateway.limits.max-calls-per-session",
        "gateway.limits.registrations-per-dn-per-minute = -1 | gateway.limits.registrations-per-dn-per-minute",
        "gateway.limits.max-tracked-clients = 10            | gateway.limits.max-tracked-clients",
        "gateway.admin.username = ops                       | gateway.admin.password-hash",
        "gateway.admin.password-hash = \"pbkdf2-sha256:600000:AAAAAAAAAAA=:AAAAAAAAAAAAAAAAAAAAAA==\" | gateway.admin.username",
        "gateway.admin { username = ops, password-hash = secret } | gateway.admin.password-hash",
        "gateway.admin { username = ops, password-hash = \"pbkdf2-sha256:10:AAAAAAAAAAA=:AAAAAAAAAAAAAAAAAAAAAA==\" } | gateway.admin.password-hash",
        "gateway.admin { username = \"a:b\", password-hash = \"pbkdf2-sha256:600000:AAAAAAAAAAA=:AAAAAAAAAAAAAAAAAAAAAA==\" } | gateway.admin.username",
        "gateway.auth.mode = tokens                         | gateway.auth.mode",
        "gateway.auth.mode = token                          | gateway.auth",
        "gateway.auth.dn-takeover = maybe                   | gateway.auth.dn-takeover",
        "gateway.auth.token.hmac-secrets = [\"short\"]       | gateway.auth.token.hmac-secrets",
        "gateway.auth.token.public-keys = \"/nonexistent/jwks.json\" | gateway.auth.token.public-keys",
        "gateway.auth.token.max-lifetime = 5 s              | gateway.auth.token.max-lifetime",
        "gateway.auth.token.clock-skew = 1 h                | gateway.auth.token.clock-skew",
        "gateway.calls.dial-plan.allow = [\"5 000\"]         | gateway.calls.dial-plan.allow",
        "gateway.calls.dial-plan.deny = [\"\"]               | gateway.calls.dial-plan.deny",
        "gateway.calls.anonymous-dial-plan = [\"a/b\"]       | gateway.calls.anonymous-dial-plan",
        "gateway.http.trusted-proxies = [\"proxy.example\"]  | gateway.http.trusted-proxies",
    })
    void invalidValuesNameTheKey(String hocon, String key) {
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.parse(hocon));
        assertTrue(e.getMessage().contains("'" + key + "'"), e.getMessage());
    }

    @Test
    void limitsDefaultToTheirRecordsDefaultsAndZeroTurnsClientLimitsOff() {
        GatewayConfig.Limits defaults = ConfigLoader.parse("").limits();
        assertEquals(GatewayConfig.Inputs.DEFAULTS, defaults.inputs());
        assertEquals(GatewayConfig.Clients.DEFAULTS, defaults.clients());
        assertEquals(4, defaults.clients().maxCallsPerSession());
        assertEquals(4, defaults.inputs().maxMediaSections());
        GatewayConfig.Clients off = ConfigLoader.parse("gateway.limits { max-sessions-per-address = 0, "
                + "sign-ins-per-address-per-second = 0, requests-per-session-per-second = 0, max-calls-per-session = 0,"
                + " registrations-per-dn-per-minute = 0 }").limits().clients();
        assertEquals(new GatewayConfig.Clients(0, 0, 200, 0, 100, 0, 0, 10_000), off);
    }

    @Test
    void tokensAreTheDefaultWithARealSipServer() {
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.parse("gateway.sip.servers = [\"10.0.0.1\"]"));
        assertTrue(e.getMessage().contains("'gateway.auth'") && e.getMessage().contains("gateway.auth.mode = none"), e.getMessage());
        GatewayConfig withKey = ConfigLoader.parse("gateway.sip.servers = [\"10.0.0.1\"]\n"
                + "gateway.auth.token.hmac-secrets = [\"0123456789abcdef0123456789abcdef\"]");
        assertEquals(GatewayConfig.AuthMode.TOKEN, withKey.auth().mode());
        GatewayConfig explicitNone = ConfigLoader.parse("gateway.sip.servers = [\"10.0.0.1\"]\ngateway.auth.mode = none");
        assertEquals(GatewayConfig.AuthMode.NONE, explicitNone.auth().mode());
        GatewayConfig sandbox = ConfigLoader.parse("");
        assertEquals(GatewayConfig.AuthMode.NONE, sandbox.auth().mode());
        assertFalse(sandbox.auth().dnTakeover());
        assertEquals(java.util.List.of("*"), sandbox.calls().dialPlan().allow());
        assertTrue(sandbox.calls().dialPlan().anonymous().isEmpty());
    }

    @Test
    void fileThenOverrides(@TempDir Path dir) throws Exception {
        File f = dir.resolve("gw.conf").toFile();
        Files.writeString(f.toPath(), "gateway { instance-id = \"from-file\", http.port = 9000 }\n");
        GatewayConfig c = ConfigLoader.load(f, ConfigFactory.parseMap(Map.of("gateway.http.port", "9100")));
        assertEquals("from-file", c.instanceId());
        assertEquals(9100, c.http().port(), "overrides win over the file");
    }

    @Test
    void missingOrBrokenFileIsAClearError(@TempDir Path dir) throws Exception {
        ConfigException missing = assertThrows(ConfigException.class,
                () -> ConfigLoader.load(dir.resolve("nope.conf").toFile(), ConfigFactory.empty()));
        assertTrue(missing.getMessage().contains("does not exist"), missing.getMessage());
        File broken = dir.resolve("broken.conf").toFile();
        Files.writeString(broken.toPath(), "gateway { http.port = \n");
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.load(broken, ConfigFactory.empty()));
        assertTrue(e.getMessage().contains("not valid HOCON"), e.getMessage());
    }

    @Test
    void otherLibrariesKeysAreLeftAlone() {
        GatewayConfig c = ConfigLoader.parse("akka.loglevel = DEBUG\ngateway.http.port = 8090");
        assertEquals(8090, c.http().port());
    }

    @Test
    void callMediaTimeouts() {
        GatewayConfig d = ConfigLoader.parse("");
        assertEquals(Duration.ofSeconds(20), d.calls().mediaSetupTimeout());
        assertEquals(Duration.ofSeconds(60), d.calls().mediaTimeout());
        assertEquals(Duration.ZERO, ConfigLoader.parse("gateway.calls.media-timeout = 0").calls().mediaTimeout(), "0 = off");
        assertEquals(Duration.ofSeconds(3), ConfigLoader.parse("gateway.calls.media-setup-timeout = 3 s").calls().mediaSetupTimeout());
        for (String bad : new String[] {"gateway.calls.media-timeout = 500 ms", "gateway.calls.media-timeout = -1 s",
                "gateway.calls.media-setup-timeout = 0", "gateway.calls.media-setup-timeout = 1 h"}) {
            ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.parse(bad));
            String key = bad.substring(0, bad.indexOf(' '));
            assertTrue(e.getMessage().contains("'" + key + "'"), e.getMessage());
        }
    }
}
