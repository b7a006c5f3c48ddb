package io.webrtcgateway.testsupport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.webrtcgateway.config.ConfigLoader;
import io.webrtcgateway.config.GatewayConfig;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The HOCON GatewayProcess writes is accepted by the gateway's own loader and says what the builder was told. */
class GatewayProcessConfigTest {

    @Test
    void generatedConfigLoadsWithTheGatewaysLoader() {
        GatewayProcess.Settings settings = GatewayProcess.builder()
                .sipServers("127.0.0.1:5062", "127.0.0.1:5064;transport=tcp")
                .set("gateway.session.idle-timeout", "5 s")
                .set("gateway.session.keepalive-interval", "2 s")
                .set("gateway.legacy.poll-timeout", "3 s")
                .set("gateway.cors.allowed-origins", List.of("http://a.example", "http://b.example"))
                .setHocon("gateway.sip.keepalive-failures", "3")
                .instanceId("gw1")
                .settings();

        GatewayConfig config = ConfigLoader.parse(settings.hocon());

        assertEquals("gw1", config.instanceId());
        assertEquals("127.0.0.1", config.http().host());
        assertEquals(settings.httpPort, config.http().port());
        assertEquals("127.0.0.1", config.sip().listen().host());
        assertEquals(settings.sipPort, config.sip().listen().port());
        assertEquals(settings.sandboxPort, config.sip().sandboxListen().port());
        assertEquals(2, config.sip().servers().size());
        assertEquals(5064, config.sip().servers().get(1).address().port());
        assertEquals("tcp", config.sip().servers().get(1).transport());
        assertEquals(Duration.ofSeconds(5), config.session().idleTimeout());
        assertEquals(3, config.sip().keepaliveFailures());
        assertEquals(List.of("http://a.example", "http://b.example"), config.cors().allowedOrigins());
        assertEquals(settings.rtpPorts.low(), config.media().rtpPortMin());
        assertEquals(settings.rtpPorts.high(), config.media().rtpPortMax());
        // browsers on loopback must reach the gateway's ICE: loopback and own addresses allowed, the rest denied
        assertEquals(false, config.media().iceDenyOwnAddresses());
        assertTrue(config.media().iceRemoteDeny().stream().noneMatch(c -> c.contains(java.net.InetAddress.getLoopbackAddress())));
        assertTrue(config.media().iceRemoteDeny().stream().anyMatch(c -> c.toString().equals("169.254.0.0/16")));
    }

    @Test
    void defaultsToTheSandboxOnItsOwnFreePort() {
        GatewayProcess.Settings settings = GatewayProcess.builder().settings();

        GatewayConfig config = ConfigLoader.parse(settings.hocon());

        assertTrue(config.sip().usesSandbox());
        assertEquals(settings.sandboxPort, config.sip().sandboxListen().port());
        assertNotEquals(settings.sipPort, settings.sandboxPort);
        assertTrue(settings.instanceId.startsWith("gw"));
    }

    @Test
    void setOverridesAGeneratedKey() {
        GatewayProcess.Settings settings = GatewayProcess.builder().set("gateway.http.host", "::1").settings();

        assertEquals("::1", ConfigLoader.parse(settings.hocon()).http().host());
    }

    @Test
    void quotesStringsAsHocon() {
        assertEquals("\"a \\\"b\\\" \\\\ c\\n\"", GatewayProcess.quote("a \"b\" \\ c\n"));
        assertEquals("[\"x\", \"y;transport=tcp\"]", GatewayProcess.list(List.of("x", "y;transport=tcp")));
    }

    @Test
    void rejectsKeysThatAreNotPlainPaths() {
        assertThrows(IllegalArgumentException.class, () -> GatewayProcess.builder().set("gateway.x = 1\nfoo", "2"));
    }

    @Test
    void missingJarFailsWithAHint() {
        AssertionError e = assertThrows(AssertionError.class,
                () -> GatewayProcess.builder().jar(java.nio.file.Path.of("target/no-such.jar")).start());
        assertTrue(e.getMessage().contains("mvn package"), e.getMessage());
    }
}
