package io.webrtcgateway.testsupport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.jar.Attributes;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * GatewayProcess's process handling (config hand-over, liveness wait, SIGTERM, restart on the same ports,
 * start failures) against a stand-in jar: a few lines of HTTP server that read GATEWAY_CONFIG like the
 * gateway does. The real gateway is exercised by the feature ITs.
 */
class GatewayProcessFakeJarIT {

    private static Path fakeJar;

    @BeforeAll
    static void buildFakeJar() throws IOException {
        // A jar whose manifest runs FakeGateway from target/test-classes (Class-Path is relative to the jar).
        Path testClasses = Path.of(FakeGateway.class.getProtectionDomain().getCodeSource().getLocation().getPath());
        fakeJar = testClasses.resolveSibling("fake-gateway-standalone.jar");
        Manifest manifest = new Manifest();
        manifest.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
        manifest.getMainAttributes().put(Attributes.Name.MAIN_CLASS, FakeGateway.class.getName());
        manifest.getMainAttributes().put(Attributes.Name.CLASS_PATH, testClasses.getFileName() + "/");
        try (JarOutputStream jar = new JarOutputStream(Files.newOutputStream(fakeJar), manifest)) {
            jar.flush();
        }
    }

    @Test
    void startsWithTheGeneratedConfigAndStopsGracefully() throws IOException {
        GatewayProcess gw = GatewayProcess.builder().jar(fakeJar).instanceId("gw-fake")
                .set("gateway.session.idle-timeout", "45 s").start();
        try {
            assertTrue(gw.isAlive());
            assertEquals("http://127.0.0.1:" + gw.httpPort(), gw.httpUrl());
            assertEquals("ws://127.0.0.1:" + gw.httpPort() + "/ws", gw.wsUrl());
            assertEquals("gw-fake", gw.instanceId());
            assertEquals(200, gw.httpStatus("/health/live"));
            String config = Files.readString(gw.configFile());
            assertTrue(config.contains("gateway.session.idle-timeout = \"45 s\""), config);
            assertTrue(config.contains("gateway.sip.listen = \"127.0.0.1:" + gw.sipPort() + "\""), config);
            assertTrue(gw.logTail(20).contains("GATEWAY_CONFIG=" + gw.configFile()), gw.logTail(20));
        } finally {
            gw.stop();
        }
        assertFalse(gw.isAlive());
        assertTrue(gw.logTail(5).contains("graceful shutdown"), "SIGTERM ran the shutdown hooks:\n" + gw.logTail(5));
        assertEquals(-1, gw.httpStatus("/health/live"));
    }

    @Test
    void restartKeepsTheSamePorts() {
        try (GatewayProcess gw = GatewayProcess.builder().jar(fakeJar).start()) {
            long firstPid = gw.pid();
            int port = gw.httpPort();

            gw.restart();

            assertTrue(gw.pid() != firstPid);
            assertEquals(port, gw.httpPort());
            assertEquals(200, gw.httpStatus("/health/live"));

            gw.kill9();
            assertEquals(-1, gw.httpStatus("/health/live"));
            gw.startAgain();
            assertEquals(200, gw.httpStatus("/health/live"));
        }
    }

    @Test
    void aGatewayThatDiesAtStartFailsAtOnceWithItsLog() {
        long start = System.nanoTime();

        AssertionError e = assertThrows(AssertionError.class,
                () -> GatewayProcess.builder().jar(fakeJar).env("FAKE_GATEWAY_FAIL", "bad key gateway.x").start());

        assertTrue(e.getMessage().contains("exited with code 3"), e.getMessage());
        assertTrue(e.getMessage().contains("bad key gateway.x"), e.getMessage());
        assertTrue(System.nanoTime() - start < Duration.ofSeconds(30).toNanos(), "not the 60 s deadline");
    }

    /** The stand-in: serves GET /health/live on gateway.http.port from the file named by GATEWAY_CONFIG. */
    public static final class FakeGateway {
        public static void main(String[] args) throws IOException {
            String configFile = System.getenv("GATEWAY_CONFIG");
            System.out.println("GATEWAY_CONFIG=" + configFile);
            String failure = System.getenv("FAKE_GATEWAY_FAIL");
            if (failure != null) {
                System.out.println("refusing to start: " + failure);
                System.exit(3);
            }
            String config = Files.readString(Path.of(configFile), StandardCharsets.UTF_8);
            Matcher port = Pattern.compile("(?m)^gateway\\.http\\.port = (\\d+)$").matcher(config);
            if (!port.find()) {
                System.out.println("no gateway.http.port in " + configFile);
                System.exit(2);
            }
            HttpServer server = HttpServer.create(
                    new InetSocketAddress("127.0.0.1", Integer.parseInt(port.group(1))), 0);
            server.createContext("/health/live", exchange -> {
                byte[] body = "{\"status\":\"UP\"}".getBytes(StandardCharsets.UTF_8);
                exchange.sendResponseHeaders(200, body.length);
                try (OutputStream out = exchange.getResponseBody()) {
                    out.write(body);
                }
            });
            server.start();
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                server.stop(0);
                System.out.println("graceful shutdown");
            }));
            System.out.println("listening on " + port.group(1));
        }
    }
}
