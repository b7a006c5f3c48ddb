package io.webrtcgateway.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.webrtcgateway.testsupport.FreePorts;
import io.webrtcgateway.testsupport.GatewayProcess;
import io.webrtcgateway.testsupport.ItLogs;
import java.io.IOException;
import java.net.CookieManager;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * {@code deploy/cluster/cluster.sh start 1 1} then {@code stop}: two instances (sandbox SIP servers) behind
 * HAProxy on loopback; sign-ins through HAProxy reach both instances and stay on theirs; stop ends every
 * process it started (the pid files' processes are gone, the gateways stopped gracefully).
 */
class ClusterScriptIT {
    private static final Path SCRIPT = Path.of("deploy", "cluster", "cluster.sh");

    @Test
    void startsTwoInstancesBehindHaproxyAndStopsThemCleanly() throws Exception {
        Path runDir = ItLogs.dir().resolve("ClusterScriptIT-run");
        int lbPort = FreePorts.tcp();
        int base = freeBase();
        FreePorts.Range rtp = FreePorts.udpRange(400);
        String jar = System.getProperty(GatewayProcess.JAR_PROPERTY, "target/webrtc-gateway-standalone.jar");
        List<String> common = List.of("--run-dir", runDir.toString());
        try {
            List<String> start = new ArrayList<>(List.of("start", "1", "1", "--lb-port", String.valueOf(lbPort),
                    "--base-port", String.valueOf(base), "--rtp-base", String.valueOf(rtp.low()), "--rtp-span", "200", "--jar", jar));
            start.addAll(common);
            Result started = run(start, Duration.ofSeconds(150));
            assertEquals(0, started.code, started.output);
            assertTrue(started.output.contains("gw1 ready") && started.output.contains("gw2 ready"), started.output);

            String lb = "http://127.0.0.1:" + lbPort;
            Set<String> instances = new HashSet<>();
            for (int i = 0; i < 6; i++) {
                HttpClient browser = HttpClient.newBuilder().cookieHandler(new CookieManager()).build();
                HttpResponse<String> signIn = browser.send(HttpRequest.newBuilder(
                        URI.create(lb + "/sign_in?anon" + "e".repeat(32))).build(), HttpResponse.BodyHandlers.ofString());
                assertEquals(200, signIn.statusCode(), signIn.body());
                String ssid = signIn.body().substring(signIn.body().indexOf('=') + 1).strip();
                String instance = ssid.substring(ssid.lastIndexOf('.') + 1);
                instances.add(instance);
                for (int j = 0; j < 3; j++) {
                    HttpResponse<String> info = browser.send(HttpRequest.newBuilder(URI.create(lb + "/api/v1/instance"))
                            .build(), HttpResponse.BodyHandlers.ofString());
                    assertTrue(info.body().contains("\"instance\":\"" + instance + "\""), info.body());
                }
                browser.send(HttpRequest.newBuilder(URI.create(lb + "/sign_out?id=" + ssid)).build(),
                        HttpResponse.BodyHandlers.ofString());
            }
            assertEquals(Set.of("gw1", "gw2"), instances, "sign-ins reach both instances");
            List<Long> pids = new ArrayList<>();
            for (String name : List.of("gw1", "gw2", "haproxy")) {
                pids.add(Long.parseLong(Files.readString(runDir.resolve(name + ".pid")).strip()));
            }

            List<String> stop = new ArrayList<>(List.of("stop"));
            stop.addAll(common);
            Result stopped = run(stop, Duration.ofSeconds(90));
            assertEquals(0, stopped.code, stopped.output);
            for (long pid : pids) {
                assertFalse(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false), "pid " + pid + " still running");
            }
            assertTrue(Files.readString(runDir.resolve("gw1.log")).contains("instance gw1 stopped"),
                    "gw1 stopped gracefully");
        } finally {
            List<String> stop = new ArrayList<>(List.of("stop"));
            stop.addAll(common);
            run(stop, Duration.ofSeconds(90));
        }
    }

    /** A base port B with B+1, B+2 (HTTP), B+101, B+102 (SIP) and B+201, B+202 (sandbox) free now. */
    private static int freeBase() {
        for (int attempt = 0; attempt < 200; attempt++) {
            int base = 33000 + ThreadLocalRandom.current().nextInt(0, 4000);
            boolean free = true;
            for (int offset : new int[] {1, 2, 101, 102, 201, 202}) {
                free &= FreePorts.tcpFree(base + offset) && FreePorts.udpFree(base + offset);
            }
            if (free) {
                return base;
            }
        }
        throw new IllegalStateException("no free port block for cluster.sh");
    }

    private record Result(int code, String output) {}

    private static Result run(List<String> args, Duration timeout) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of("bash", SCRIPT.toString()));
        command.addAll(args);
        Path log = ItLogs.file("ClusterScriptIT", "cluster-sh-" + args.get(0), "log");
        Process p = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("cluster.sh " + args + " did not finish within " + timeout);
        }
        return new Result(p.exitValue(), Files.readString(log, StandardCharsets.UTF_8));
    }
}
