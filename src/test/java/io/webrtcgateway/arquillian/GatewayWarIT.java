package io.webrtcgateway.arquillian;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.webrtcgateway.deploy.GatewayProbe;
import java.io.File;
import java.net.URL;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.jboss.arquillian.container.test.api.Deployment;
import org.jboss.arquillian.junit5.ArquillianExtension;
import org.jboss.arquillian.test.api.ArquillianResource;
import org.jboss.shrinkwrap.api.ShrinkWrap;
import org.jboss.shrinkwrap.api.importer.ZipImporter;
import org.jboss.shrinkwrap.api.spec.WebArchive;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Arquillian deploys the packaged WAR (target/webrtc-gateway.war, as shipped) into embedded Jetty 12.1 on a
 * free port and the tests talk to it as clients do.
 */
@ExtendWith({InJvmGatewayConfig.class, ArquillianExtension.class})
class GatewayWarIT {

    @ArquillianResource
    private URL base;

    private GatewayProbe probe;

    @Deployment(testable = false)
    static WebArchive packagedWar() {
        File war = new File(System.getProperty("it.war", "target/webrtc-gateway.war"));
        if (!war.isFile()) {
            throw new IllegalStateException(war + " does not exist; run `mvn verify` (packages it first)");
        }
        // ROOT.war: served at "/", where the legacy endpoints and /js/ live.
        return ShrinkWrap.create(ZipImporter.class, "ROOT.war").importFrom(war).as(WebArchive.class);
    }

    @BeforeEach
    void connect() throws Exception {
        probe = new GatewayProbe(base.toURI());
    }

    @Test
    void deployedOnAFreeLoopbackPort() {
        assertEquals("127.0.0.1", base.getHost());
        assertTrue(base.getPort() > 0, "port " + base.getPort());
    }

    @Test
    void liveAnswersUp() throws Exception {
        HttpResponse<String> live = probe.get("/health/live");
        assertEquals(200, live.statusCode(), live.body());
        assertTrue(live.body().contains("\"status\"") && live.body().contains("\"UP\""), live.body());
    }

    @Test
    void becomesReady() throws Exception {
        // Readiness may trail liveness (e.g. the first SIP Server keepalive); poll, don't assume.
        probe.awaitStatus("/health/ready", 200, Duration.ofSeconds(30),
                () -> LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(100)));
    }

    @Test
    void restApiAnswers() throws Exception {
        HttpResponse<String> instance = probe.get("/api/v1/instance");
        assertEquals(200, instance.statusCode(), instance.body());
        assertTrue(instance.body().contains("\"instance\""), instance.body());
    }

    @Test
    void webSocketHelloOpensASession() throws Exception {
        JsonNode result = probe.exchange("/ws", "{\"type\":\"hello\",\"id\":1,\"version\":1}", Duration.ofSeconds(10));
        assertEquals("result", result.path("type").asText(), result.toString());
        assertEquals(1, result.path("id").asInt(), result.toString());
    }
}
