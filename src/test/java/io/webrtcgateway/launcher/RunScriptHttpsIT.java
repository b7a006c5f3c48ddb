package io.webrtcgateway.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.webrtcgateway.testsupport.FreePorts;
import io.webrtcgateway.testsupport.GatewayProcess;
import io.webrtcgateway.testsupport.ItLogs;
import io.webrtcgateway.testsupport.PeerProcess;
import io.webrtcgateway.testsupport.Poll;
import io.webrtcgateway.testsupport.RawHttp;
import io.webrtcgateway.testsupport.TlsProbe;
import java.io.IOException;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * {@code scripts/run.sh --https}, the demo over HTTPS in one step: a self-signed certificate for this machine's
 * names and addresses is made once (keytool) and served on the HTTPS port, those names are served
 * (gateway.http.allowed-hosts), a GATEWAY_CONFIG of the user's is read too, and a second start reuses the
 * certificate. HOME is a directory of the test's, so the user's ~/.cache is left alone; ports are the test's.
 */
class RunScriptHttpsIT {

    @Test
    void makesACertificateForThisMachineOnceAndServesItsNames() throws Exception {
        Path home = Files.createDirectories(ItLogs.dir().resolve("RunScriptHttpsIT-home"));
        Path cache = home.resolve(".cache/webrtc-gateway/https");
        deleteTree(cache);
        Path userConfig = ItLogs.dir().resolve("RunScriptHttpsIT-user.conf");
        Files.writeString(userConfig, "gateway.instance-id = \"runsh\"\ngateway.http.allowed-hosts = [\"gw.example.com\"]\n");
        int httpsPort = FreePorts.tcp();
        int httpPort = FreePorts.tcp();
        FreePorts.Range rtp = FreePorts.udpRange(20);
        Map<String, String> env = new LinkedHashMap<>();
        env.put("HOME", home.toString());
        env.put("XDG_CACHE_HOME", home.resolve(".cache").toString());
        env.put("GATEWAY_CONFIG", userConfig.toString());
        env.put("GATEWAY_HTTPS_PORT", String.valueOf(httpsPort));
        // The jar the build made (failsafe names it): run.sh would build one itself if a source were newer.
        env.put("GATEWAY_JAR", Path.of(System.getProperty(GatewayProcess.JAR_PROPERTY,
                "target/webrtc-gateway-standalone.jar")).toAbsolutePath().toString());
        env.put("CONFIG_FORCE_gateway_http_host", "127.0.0.1"); // run.sh's default is every interface
        env.put("CONFIG_FORCE_gateway_http_port", String.valueOf(httpPort));
        env.put("CONFIG_FORCE_gateway_sip_listen", "127.0.0.1:" + FreePorts.udpAndTcp());
        env.put("CONFIG_FORCE_gateway_sip_sandbox_listen", "127.0.0.1:" + FreePorts.udpAndTcp());
        env.put("CONFIG_FORCE_gateway_media_rtp__port__range", rtp.toString());
        List<String> names = machineNames();
        List<String> addresses = machineAddresses();
        BigInteger serial;
        try (Script first = new Script("run-sh-first", env)) {
            X509Certificate certificate = awaitHttps(first, httpsPort);
            serial = certificate.getSerialNumber();
            List<String> san = subjectAltNames(certificate);
            for (String expected : concat(List.of("localhost", "127.0.0.1"), names, addresses)) {
                assertTrue(san.contains(expected), expected + " in the certificate's names " + san);
            }
            // This machine's names are served, the user's allowed host too, others not (DNS rebinding).
            for (String host : concat(names, List.of("gw.example.com", "localhost"), addresses)) {
                String hostHeader = host.contains(":") ? "[" + host + "]" : host;
                assertEquals(200, status(httpsPort, hostHeader + ":" + httpsPort), host);
            }
            assertEquals(421, status(httpsPort, "rebound.example:" + httpsPort));
            assertTrue(first.logTail(400).contains("WebRTC Gateway runsh listening on https://"), first.logTail(40));
            assertTrue(first.logTail(400).contains("making a self-signed certificate"), first.logTail(40));
            assertStoppedCleanly(first);
        }
        try (Script second = new Script("run-sh-second", env)) {
            assertEquals(serial, awaitHttps(second, httpsPort).getSerialNumber(), "the certificate is made once");
            assertFalse(second.logTail(400).contains("making a self-signed certificate"), second.logTail(40));
            assertStoppedCleanly(second);
        } finally {
            FreePorts.release(rtp);
        }
    }

    private static X509Certificate awaitHttps(Script script, int port) {
        return Poll.until(Duration.ofSeconds(90), "run.sh --https serving HTTPS on " + port, () -> {
            script.requireAlive("starting");
            try (TlsProbe.Connection c = TlsProbe.connect(port)) {
                return Optional.of(c.certificate());
            } catch (IOException e) {
                return Optional.<X509Certificate>empty();
            }
        }, Optional::isPresent).orElseThrow();
    }

    /** SIGTERM: the JVM's shutdown hooks stop Jetty and the gateway; 143 = 128 + SIGTERM, what systemd calls clean. */
    private static void assertStoppedCleanly(Script script) {
        int code = script.stop();
        assertTrue(code == 143 || code == 0, "exit code " + code + "\n" + script.logTail(40));
    }

    private static int status(int port, String host) throws IOException {
        try (TlsProbe.Connection c = TlsProbe.connect(port)) {
            RawHttp.Response r = c.request("GET /health/live HTTP/1.1\r\nHost: " + host + "\r\n\r\n");
            return r.status();
        }
    }

    private static List<String> subjectAltNames(X509Certificate c) throws Exception {
        List<String> out = new ArrayList<>();
        for (List<?> entry : c.getSubjectAlternativeNames()) {
            String value = String.valueOf(entry.get(1));
            // IPv6 comes back in its long form (0:0:0:0:0:0:0:1): compare canonical forms.
            out.add(value.contains(":") ? java.net.InetAddress.getByName(value).getHostAddress() : value);
        }
        return out;
    }

    /** `hostname` and `hostname -f`, lower case, as run.sh takes them. */
    private static List<String> machineNames() throws Exception {
        List<String> out = new ArrayList<>();
        for (String n : List.of(run("hostname"), run("hostname", "-f"))) {
            String name = n.strip().toLowerCase(java.util.Locale.ROOT);
            if (!name.isEmpty() && !out.contains(name)) {
                out.add(name);
            }
        }
        return out;
    }

    /** `hostname -I` without link-local IPv6, in Java's canonical form. */
    private static List<String> machineAddresses() throws Exception {
        List<String> out = new ArrayList<>();
        for (String a : run("hostname", "-I").strip().split("\\s+")) {
            if (!a.isEmpty() && !a.startsWith("fe80:")) {
                out.add(java.net.InetAddress.getByName(a).getHostAddress());
            }
        }
        return out;
    }

    private static String run(String... command) throws Exception {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        p.waitFor();
        return output;
    }

    @SafeVarargs
    private static List<String> concat(List<String>... lists) {
        return Arrays.stream(lists).flatMap(List::stream).toList();
    }

    private static void deleteTree(Path dir) throws IOException {
        if (Files.exists(dir)) {
            try (var paths = Files.walk(dir)) {
                for (Path p : paths.sorted(java.util.Comparator.reverseOrder()).toList()) {
                    Files.delete(p);
                }
            }
        }
    }

    /** scripts/run.sh --https as a process of the test (it execs java: SIGTERM stops the gateway gracefully). */
    private static final class Script extends PeerProcess {
        Script(String name, Map<String, String> env) {
            super(name, List.of(Path.of("scripts/run.sh").toAbsolutePath().toString(), "--https"), env, null,
                    ItLogs.file(name, "log"));
            launch();
        }
    }
}
