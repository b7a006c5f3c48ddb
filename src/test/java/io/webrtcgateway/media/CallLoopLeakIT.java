package io.webrtcgateway.media;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.webrtcgateway.testsupport.ChromiumPeer;
import io.webrtcgateway.testsupport.FreePorts;
import io.webrtcgateway.testsupport.GatewayProcess;
import io.webrtcgateway.testsupport.Poll;
import io.webrtcgateway.testsupport.Sipp;
import io.webrtcgateway.testsupport.WsTestClient;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * 200 calls set up and torn down in a loop (issue 3): every UDP socket (ICE and RTP/RTCP ports), every thread
 * and the live heap come back. Calls use a real browser's offer; each is answered by SIPp and hung up.
 */
class CallLoopLeakIT {
    private static final int CALLS = 200;
    private static final int PARALLEL = 8;

    @Test
    void portsThreadsAndHeapComeBack() throws Exception {
        int mediaPort = FreePorts.sippMedia();
        // Chromium's start() returns at once: it starts while SIPp and the gateway do.
        try (ChromiumPeer browser = ChromiumPeer.builder().name("offer-source").audioCodecs("PCMU", "telephone-event").start();
             Sipp sipp = Sipp.scenario("uas-echo.xml").traceMessages(false)
                     .args("-mp", String.valueOf(mediaPort), "-mi", "127.0.0.1", "-rtp_echo").start();
             GatewayProcess gw = GatewayProcess.builder().sipServers(sipp.serverEntry())
                     .set("gateway.media.ice-addresses", List.of("127.0.0.1")).rtpPortCount(400).start()) {
            String offer = browser.createOffer();
            browser.close(); // only its offer is needed: no Chromium while the calls run
            long pid = gw.pid();
            // Warm up (JIT, pools, ice4j's shared threads), then take the baseline.
            runCalls(gw, offer, 20);
            long socketsBefore = Poll.until(Duration.ofSeconds(60), "sockets settle after warm-up",
                    () -> udpSockets(pid), n -> n >= 0);
            long heapBefore = settledHeap(pid);
            long threadsBefore = threads(pid);

            runCalls(gw, offer, CALLS);

            Poll.until(Duration.ofSeconds(30), "no call left", () -> calls(gw) == 0);
            long socketsAfter = Poll.until(Duration.ofSeconds(30), "every media socket closed",
                    () -> udpSockets(pid), n -> n <= socketsBefore);
            long threadsAfter = Poll.until(Duration.ofSeconds(90), "threads back to where they were after warm-up",
                    () -> threads(pid), n -> n <= threadsBefore + 16);
            long heapAfter = settledHeap(pid);
            if (heapAfter >= heapBefore + 8 * 1024 * 1024) {
                // Keep the evidence: what the heap holds after the loop.
                Path dump = io.webrtcgateway.testsupport.ItLogs.file("heap-after", "txt");
                new ProcessBuilder("jcmd", String.valueOf(pid), "GC.class_histogram").redirectErrorStream(true)
                        .redirectOutput(dump.toFile()).start().waitFor();
            }
            System.out.printf("CallLoopLeakIT: %d calls; UDP sockets %d -> %d; threads %d -> %d; live heap %d KB -> %d KB%n",
                    CALLS, socketsBefore, socketsAfter, threadsBefore, threadsAfter, heapBefore / 1024, heapAfter / 1024);
            assertTrue(socketsAfter <= socketsBefore);
            assertTrue(heapAfter < heapBefore + 8 * 1024 * 1024,
                    "live heap grew by " + (heapAfter - heapBefore) / 1024 + " KB over " + CALLS + " calls");
        }
    }

    private static void runCalls(GatewayProcess gw, String offer, int n) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(PARALLEL);
        try {
            List<Future<?>> all = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                String to = String.valueOf(6000 + i);
                all.add(pool.submit(() -> {
                    try (WsTestClient ws = WsTestClient.connect(gw.wsUrl())) {
                        ws.ok("hello");
                        String call = ws.ok("call", "to", to, "sdp", offer).path("call").asText();
                        ws.awaitEvent("connected", Duration.ofSeconds(15));
                        ws.ok("hangup", "call", call);
                        assertEquals("local-hangup", ws.awaitEvent("ended", Duration.ofSeconds(10)).path("reason").asText());
                        ws.ok("bye");
                    }
                    return null;
                }));
            }
            for (Future<?> f : all) {
                f.get();
            }
        } finally {
            pool.shutdownNow();
        }
    }

    private static int calls(GatewayProcess gw) {
        try (WsTestClient ws = WsTestClient.connect(gw.wsUrl())) {
            var r = java.net.http.HttpClient.newHttpClient().send(java.net.http.HttpRequest.newBuilder(
                    java.net.URI.create(gw.httpUrl().replaceAll("/$", "") + "/api/v1/instance")).build(),
                    java.net.http.HttpResponse.BodyHandlers.ofString());
            return new com.fasterxml.jackson.databind.ObjectMapper().readTree(r.body()).path("calls").asInt(-1);
        } catch (Exception e) {
            return -1;
        }
    }

    /** UDP sockets the process holds: its socket fds matched against /proc/net/udp{,6} inodes. */
    static long udpSockets(long pid) {
        try {
            java.util.Set<String> inodes = new java.util.HashSet<>();
            for (String table : new String[] {"/proc/net/udp", "/proc/net/udp6"}) {
                List<String> lines = Files.readAllLines(Path.of(table));
                for (String line : lines.subList(1, lines.size())) {
                    String[] f = line.trim().split("\\s+");
                    inodes.add(f[9]);
                }
            }
            long n = 0;
            try (Stream<Path> fds = Files.list(Path.of("/proc/" + pid + "/fd"))) {
                for (Path fd : (Iterable<Path>) fds::iterator) {
                    try {
                        String target = Files.readSymbolicLink(fd).toString();
                        if (target.startsWith("socket:[") && inodes.contains(target.substring(8, target.length() - 1))) {
                            n++;
                        }
                    } catch (IOException e) {
                        // fd closed meanwhile
                    }
                }
            }
            return n;
        } catch (IOException e) {
            return -1;
        }
    }

    static long threads(long pid) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
                if (line.startsWith("Threads:")) {
                    return Long.parseLong(line.substring(8).trim());
                }
            }
        } catch (IOException e) {
            return -1;
        }
        return -1;
    }

    /** Live heap (a class histogram runs a full GC), polled until it stops shrinking. */
    static long settledHeap(long pid) throws Exception {
        long previous = liveHeap(pid);
        for (int i = 0; i < 10; i++) {
            java.util.concurrent.locks.LockSupport.parkNanos(Duration.ofSeconds(3).toNanos());
            long now = liveHeap(pid);
            if (Math.abs(now - previous) < previous / 100) {
                return Math.min(now, previous);
            }
            previous = now;
        }
        return previous;
    }

    private static long liveHeap(long pid) throws Exception {
        Process p = new ProcessBuilder("jcmd", String.valueOf(pid), "GC.class_histogram").redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        p.waitFor();
        for (String line : out.split("\n")) {
            if (line.trim().startsWith("Total")) {
                return Long.parseLong(line.trim().split("\\s+")[2]);
            }
        }
        throw new IllegalStateException("no Total in jcmd output");
    }
}
