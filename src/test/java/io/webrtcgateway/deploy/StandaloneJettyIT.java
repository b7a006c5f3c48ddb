package io.webrtcgateway.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpResponse;
import io.webrtcgateway.testsupport.FreePorts;
import io.webrtcgateway.testsupport.Poll;
import io.webrtcgateway.testsupport.RawHttp;
import io.webrtcgateway.testsupport.TestCa;
import io.webrtcgateway.testsupport.TlsProbe;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import javax.net.ssl.SSLHandshakeException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The WAR on a real Jetty 12.1 distribution (jetty-home, unpacked by the build in pre-integration-test) with
 * the jetty-base shipped in deploy/jetty, started as an operator would: {@code java -jar start.jar}.
 */
class StandaloneJettyIT {

    private static final Duration START_TIMEOUT = Duration.ofSeconds(90);
    private static final Duration STOP_TIMEOUT = Duration.ofSeconds(30);

    @TempDir
    Path temp;

    private Process jetty;
    private Path log;

    @Test
    void warServesHealthAndWebSocketOnStandaloneJetty() throws Exception {
        Path jettyBase = prepareBase("StandaloneJettyIT-jetty.log");
        int httpPort = FreePorts.tcp();
        long t0 = System.nanoTime();
        launch(jettyBase, httpPort, List.of());
        GatewayProbe probe = new GatewayProbe(URI.create("http://127.0.0.1:" + httpPort + "/"));
        GatewayProbe.Pause whileJettyRuns = whileJettyRuns();

        HttpResponse<String> live = awaitOrShowLog(() -> probe.awaitStatus("/health/live", 200, START_TIMEOUT, whileJettyRuns));
        long liveMillis = millisSince(t0);
        assertTrue(live.body().contains("\"UP\""), "live body: " + live.body());

        awaitOrShowLog(() -> probe.awaitStatus("/health/ready", 200, START_TIMEOUT, whileJettyRuns));

        // Jersey (JAX-RS in the WAR) works on this container.
        HttpResponse<String> instance = probe.get("/api/v1/instance");
        assertEquals(200, instance.statusCode(), instance.body());
        assertTrue(instance.body().contains("\"instance\""), instance.body());

        JsonNode result = probe.exchange("/ws", "{\"type\":\"hello\",\"id\":1,\"version\":1}", Duration.ofSeconds(10));
        assertEquals("result", result.path("type").asText(), "hello answer: " + result);
        assertEquals(1, result.path("id").asInt(), "hello answer: " + result);

        long t1 = System.nanoTime();
        stopJetty();
        long stopMillis = millisSince(t1);
        String jettyLog = Files.readString(log);
        // A SIGTERM runs Jetty's shutdown hook, which stops the web app (and so the gateway's listener).
        assertTrue(jettyLog.contains("Stopped oeje10w.WebAppContext"),
                "the web app was not stopped cleanly; log " + log + ":\n" + logTail());
        System.out.printf("StandaloneJettyIT: /health/live after %d ms, stop took %d ms, total %d ms%n",
                liveMillis, stopMillis, millisSince(t0));
    }

    /**
     * deploy/jetty/optional/https.ini in start.d with a PKCS12 keystore from a test CA: HTTPS with the TLS the
     * standalone jar speaks, the gateway's WSS cookie marked Secure, Host still checked, and the keystore file
     * replaced (in one step) while Jetty runs: new connections get the new certificate (Jetty's ssl-reload).
     */
    @Test
    void warServesHttpsWithTheOptionalHttpsIni() throws Exception {
        Path jettyBase = prepareBase("StandaloneJettyIT-https-jetty.log");
        Files.copy(jettyBase.resolve("optional/https.ini"), jettyBase.resolve("start.d/https.ini"));
        TestCa ca = TestCa.create("StandaloneJettyIT CA");
        TestCa.Issued first = ca.issue("127.0.0.1", "localhost");
        Path keystore = temp.resolve("keystore.p12");
        first.writePkcs12(keystore, "changeit");
        int httpPort = FreePorts.tcp();
        int httpsPort = FreePorts.tcp();
        launch(jettyBase, httpPort, List.of("jetty.ssl.host=127.0.0.1", "jetty.ssl.port=" + httpsPort,
                "jetty.sslContext.keyStorePath=" + keystore, "jetty.sslContext.keyStorePassword=changeit"));
        GatewayProbe probe = new GatewayProbe(URI.create("http://127.0.0.1:" + httpPort + "/"));
        awaitOrShowLog(() -> probe.awaitStatus("/health/live", 200, START_TIMEOUT, whileJettyRuns()));

        try (TlsProbe.Connection c = TlsProbe.connect(httpsPort)) {
            assertEquals(first.serial(), c.certificate().getSerialNumber());
            assertEquals("TLSv1.3", c.protocol());
            assertEquals(200, c.get("/health/live").status());
            RawHttp.Response upgrade = c.request("GET /ws HTTP/1.1\r\nHost: 127.0.0.1:" + httpsPort + "\r\n"
                    + RawHttp.UPGRADE_HEADERS + "\r\n");
            assertEquals(101, upgrade.status(), upgrade.head());
            assertTrue(upgrade.header("Set-Cookie").contains("; Secure"), upgrade.head());
        }
        try (TlsProbe.Connection c = TlsProbe.connect(httpsPort)) {
            assertEquals(421, c.request("GET /health/live HTTP/1.1\r\nHost: rebound.example\r\n\r\n").status());
        }
        for (String suite : List.of("TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256", "TLS_RSA_WITH_AES_128_GCM_SHA256")) {
            assertThrows(SSLHandshakeException.class,
                    () -> TlsProbe.connect(httpsPort, null, new String[] {"TLSv1.2"}, new String[] {suite}).close(), suite);
        }

        TestCa.Issued second = ca.issue("127.0.0.1", "localhost");
        Path next = temp.resolve("next.p12");
        second.writePkcs12(next, "changeit");
        Files.move(next, keystore, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        Poll.until(Duration.ofSeconds(15), "Jetty serves the replaced keystore",
                () -> TlsProbe.certificate(httpsPort).getSerialNumber(), second.serial()::equals);
        stopJetty();
    }

    /** A copy of deploy/jetty with the WAR in it; Jetty's output will go to {@code logName} in target/it-logs. */
    private Path prepareBase(String logName) throws IOException {
        Path baseTemplate = requiredPath("it.jettyBase", "start.d");
        Path war = requiredPath("it.war", null);
        Path logDir = Paths.get(System.getProperty("it.buildDir", "target"), "it-logs");
        Files.createDirectories(logDir);
        log = logDir.resolve(logName);
        Path jettyBase = temp.resolve("jetty-base");
        copyTree(baseTemplate, jettyBase);
        Files.copy(war, jettyBase.resolve("webapps/webrtc-gateway.war"), StandardCopyOption.REPLACE_EXISTING);
        // With ${jetty.base}/work present Jetty unpacks the WAR there instead of /tmp; the TempDir cleans it.
        Files.createDirectories(jettyBase.resolve("work"));
        return jettyBase;
    }

    /** {@code java -jar start.jar} on {@code jettyBase}, HTTP on 127.0.0.1:{@code httpPort}, plus {@code properties}. */
    private void launch(Path jettyBase, int httpPort, List<String> properties) throws IOException {
        Path jettyHome = requiredPath("it.jettyHome", "start.jar");
        int sipPort = FreePorts.udpAndTcp();
        int sandboxPort = FreePorts.udpAndTcp();
        int rtpLow = FreePorts.udpRange(10).low();
        Path config = temp.resolve("gateway.conf");
        Files.writeString(config, String.join("\n",
                "gateway.sip.listen = \"127.0.0.1:" + sipPort + "\"",
                "gateway.sip.sandbox.listen = \"127.0.0.1:" + sandboxPort + "\"",
                "gateway.media.rtp-port-range = \"" + rtpLow + "-" + (rtpLow + 9) + "\"",
                ""));
        List<String> command = new ArrayList<>(List.of(
                Paths.get(System.getProperty("java.home"), "bin", "java").toString(),
                "-jar", jettyHome.resolve("start.jar").toString(),
                "jetty.base=" + jettyBase,
                "jetty.http.host=127.0.0.1",
                "jetty.http.port=" + httpPort));
        command.addAll(properties);
        ProcessBuilder builder = new ProcessBuilder(command)
                .directory(jettyBase.toFile())
                .redirectErrorStream(true)
                .redirectOutput(log.toFile());
        builder.environment().put("GATEWAY_CONFIG", config.toString());
        jetty = builder.start();
    }

    private GatewayProbe.Pause whileJettyRuns() {
        return () -> {
            if (jetty.waitFor(100, TimeUnit.MILLISECONDS)) {
                fail("Jetty exited with " + jetty.exitValue() + " before it was up; log " + log + ":\n" + logTail());
            }
        };
    }

    @AfterEach
    void stopIfRunning() throws InterruptedException {
        if (jetty != null && jetty.isAlive()) {
            jetty.descendants().forEach(ProcessHandle::destroyForcibly);
            jetty.destroyForcibly();
            jetty.waitFor(STOP_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
        }
    }

    private void stopJetty() throws Exception {
        // start.jar runs Jetty in its own JVM unless the base asks for --exec; stop a forked child too.
        List<ProcessHandle> children = new ArrayList<>(jetty.descendants().toList());
        jetty.destroy();
        children.forEach(ProcessHandle::destroy);
        boolean exited = jetty.waitFor(STOP_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
        assertTrue(exited, "Jetty did not exit within " + STOP_TIMEOUT + " of SIGTERM");
        for (ProcessHandle child : children) {
            child.onExit().get(STOP_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
        }
    }

    private interface Await<T> {
        T run() throws InterruptedException;
    }

    private <T> T awaitOrShowLog(Await<T> await) throws InterruptedException {
        try {
            return await.run();
        } catch (AssertionError e) {
            throw new AssertionError(e.getMessage() + "\nJetty log " + log + ":\n" + logTail(), e);
        }
    }

    private String logTail() {
        try {
            List<String> lines = Files.readAllLines(log);
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 80), lines.size()));
        } catch (IOException e) {
            return "(log unreadable: " + e + ")";
        }
    }

    private static Path requiredPath(String property, String mustContain) {
        String value = System.getProperty(property);
        if (value == null || value.isBlank()) {
            fail("system property " + property + " is not set; run through Maven: mvn verify");
        }
        Path path = Paths.get(value);
        Path check = mustContain == null ? path : path.resolve(mustContain);
        if (!Files.exists(check)) {
            fail(check + " does not exist (" + property + "); run `mvn verify`, which unpacks jetty-home "
                    + "and packages the WAR before the integration tests");
        }
        return path;
    }

    private static void copyTree(Path from, Path to) throws IOException {
        try (Stream<Path> paths = Files.walk(from)) {
            for (Path source : (Iterable<Path>) paths::iterator) {
                Path target = to.resolve(from.relativize(source).toString());
                if (Files.isDirectory(source)) {
                    Files.createDirectories(target);
                } else {
                    Files.copy(source, target, StandardCopyOption.REPLACE_EXISTING);
                }
            }
        }
    }

    private static long millisSince(long nanoTime) {
        return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - nanoTime);
    }
}
