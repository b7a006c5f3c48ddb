package io.webrtcgateway.bench;

import static io.webrtcgateway.bench.NearestRank.percentile;

import com.fasterxml.jackson.databind.JsonNode;
import io.webrtcgateway.testsupport.BrowserPhone;
import io.webrtcgateway.testsupport.ChromiumPeer;
import io.webrtcgateway.testsupport.FreePorts;
import io.webrtcgateway.testsupport.GatewayProcess;
import io.webrtcgateway.testsupport.Sipp;
import io.webrtcgateway.testsupport.SippMessageLog;
import io.webrtcgateway.testsupport.WsTestClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * Figures for issue 4 (run: {@code mvn -B verify -Pbench -Dit.test=CallSetupBench}; prints tables, writes
 * target/bench/call-setup.csv):
 * <ul>
 *   <li><b>Call setup latency</b> seen by a real browser: our JS library in headless Chromium
 *       ({@link BrowserPhone}) calls SIPp through the gateway, {@code bench.calls} (50) calls one after
 *       the other after 5 warm-up calls, each hung up once connected. Measured: the page's
 *       {@code client.call()} to the INVITE arriving at SIPp, and SIPp's 200 OK to the page's
 *       {@code connected} event, each split into its browser and gateway parts with the times the page
 *       saw the {@code call} request leave and the {@code connected} event arrive on its WebSocket.
 *       Page times are {@code performance.timeOrigin + performance.now()}, SIPp's are its message
 *       trace: one clock (this machine's), loopback in between.</li>
 *   <li><b>Sustained call setups per second</b>, signaling only: WebSocket clients place calls with a
 *       canned offer from a real Chromium {@code createOffer()} (no ICE follows), SIPp answers at once,
 *       each call is hung up as soon as {@code connected} arrived and the client places the next. For
 *       each concurrency of {@code bench.concurrency} (4,8,16,32,64), {@code bench.seconds} (15 s):
 *       setups, failures (an error, an end before connected, no answer in 10 s), setups/s and the
 *       setup time ({@code call} request to {@code connected}).</li>
 * </ul>
 * Not a test: it asserts nothing about speed. The machine (2 vCPU, shared with SIPp and the browser)
 * is noisy.
 */
class CallSetupBench {
    private static final int CALLS = Integer.getInteger("bench.calls", 50);
    private static final int WARM_UP = 5;
    private static final int[] CONCURRENCY = Arrays.stream(System.getProperty("bench.concurrency", "4,8,16,32,64")
            .split(",")).mapToInt(s -> Integer.parseInt(s.trim())).toArray();
    private static final Duration LEVEL = Duration.ofSeconds(Integer.getInteger("bench.seconds", 15));
    private static final Duration STEP = Duration.ofSeconds(15);

    @Test
    void callSetupLatencyAndRate() throws Exception {
        StringBuilder csv = new StringBuilder("figure,p50_ms,p99_ms,max_ms\n");
        String latency = latency(csv);
        String rate = rate(csv);
        System.out.println(latency + rate);
        Path out = Path.of(System.getProperty("it.buildDir", "target"), "bench", "call-setup.csv");
        Files.createDirectories(out.getParent());
        Files.writeString(out, csv);
    }

    // ---- latency, with a real browser -------------------------------------------------------------

    private record Sample(double startedAt, double callSentAt, double connectedArrivedAt, double connectedAt) {}

    private static String latency(StringBuilder csv) {
        try (Sipp sipp = Sipp.scenario("uas-calls.xml").name("sipp-latency").key("peer_rtp_port", "9")
                     .args("-mi", "127.0.0.1", "-mp", String.valueOf(FreePorts.sippMedia()), "-rtp_echo").start();
             GatewayProcess gw = ClientLimitsOff.on(GatewayProcess.builder()).sipServers(sipp.serverEntry()).instanceId("bench-latency")
                     .set("gateway.media.ice-addresses", List.of("127.0.0.1")).start();
             BrowserPhone phone = BrowserPhone.start(gw.httpUrl(), "bench-phone")) {
            phone.connect();
            List<Sample> samples = new ArrayList<>();
            for (int i = 0; i < WARM_UP + CALLS; i++) {
                int mark = phone.lineCount();
                BrowserPhone.Placed call = phone.call("fast");
                JsonNode connected = phone.awaitCallEvent(call.id(), "connected", STEP);
                JsonNode callSent = phone.linesFrom(mark, l -> "out".equals(l.path("wire").asText())
                        && "call".equals(l.path("type").asText())).get(0);
                JsonNode connectedArrived = phone.linesFrom(mark, l -> "in".equals(l.path("wire").asText())
                        && "connected".equals(l.path("name").asText()) && call.id().equals(l.path("call").asText())).get(0);
                phone.hangup();
                phone.awaitCallEvent(call.id(), "ended", STEP);
                samples.add(new Sample(call.startedAt(), callSent.path("at").asDouble(),
                        connectedArrived.path("at").asDouble(), connected.path("at").asDouble()));
            }

            // SIPp's side, in call order: each INVITE's arrival and its 200's departure.
            List<SippMessageLog.Entry> entries = sipp.messageEntries();
            List<SippMessageLog.Entry> invites = entries.stream().filter(e -> e.received() && e.message().isRequest()
                    && e.message().method().equals("INVITE") && e.message().cseq() == 1).toList();
            if (invites.size() != samples.size()) {
                throw new AssertionError(invites.size() + " INVITEs at SIPp for " + samples.size() + " calls");
            }
            List<Double> toInvite = new ArrayList<>();
            List<Double> browserOffer = new ArrayList<>();
            List<Double> gatewayInvite = new ArrayList<>();
            List<Double> toConnected = new ArrayList<>();
            List<Double> gatewayConnected = new ArrayList<>();
            List<Double> browserAnswer = new ArrayList<>();
            for (int i = WARM_UP; i < samples.size(); i++) {
                Sample s = samples.get(i);
                String callId = invites.get(i).message().callId();
                double inviteAt = millis(invites.get(i));
                double okAt = millis(entries.stream().filter(e -> !e.received() && !e.message().isRequest()
                        && e.message().status() == 200 && e.message().callId().equals(callId)
                        && e.message().header("CSeq").orElse("").endsWith("INVITE")).findFirst().orElseThrow());
                toInvite.add(inviteAt - s.startedAt());
                browserOffer.add(s.callSentAt() - s.startedAt());
                gatewayInvite.add(inviteAt - s.callSentAt());
                toConnected.add(s.connectedAt() - okAt);
                gatewayConnected.add(s.connectedArrivedAt() - okAt);
                browserAnswer.add(s.connectedAt() - s.connectedArrivedAt());
            }
            StringBuilder table = new StringBuilder(String.format(
                    "%nCall setup latency, our JS library in headless Chromium -> gateway -> SIPp (%d calls, one at a time)%n"
                            + "| figure | p50 ms | p99 ms | max ms |%n|---|---|---|---|%n", CALLS));
            row(table, csv, "client.call() -> INVITE at SIPp", toInvite);
            row(table, csv, "  browser: client.call() -> `call` request sent (getUserMedia, offer, ICE gathering)", browserOffer);
            row(table, csv, "  gateway: `call` request sent -> INVITE at SIPp", gatewayInvite);
            row(table, csv, "200 OK from SIPp -> `connected` event in the page", toConnected);
            row(table, csv, "  gateway: 200 OK from SIPp -> `connected` frame in the page", gatewayConnected);
            row(table, csv, "  browser: `connected` frame -> `connected` event (setRemoteDescription)", browserAnswer);
            return table.toString();
        }
    }

    private static double millis(SippMessageLog.Entry e) {
        java.time.Instant t = e.instant();
        return t.getEpochSecond() * 1000.0 + t.getNano() / 1e6;
    }

    // ---- rate, signaling only ---------------------------------------------------------------------

    private static String rate(StringBuilder csv) throws Exception {
        String offer;
        try (ChromiumPeer chromium = ChromiumPeer.builder().name("bench-offerer").start()) {
            offer = chromium.createOffer();
        }
        int maxConcurrency = Arrays.stream(CONCURRENCY).max().orElse(1);
        ExecutorService pool = Executors.newFixedThreadPool(maxConcurrency);
        StringBuilder table = new StringBuilder(String.format(
                "%nSustained call setups, WebSocket clients -> gateway -> SIPp (signaling only: a canned Chromium offer,"
                        + " no ICE; hung up once connected), %d s per concurrency%n"
                        + "| concurrent calls | setups | failures | setups/s | setup p50 ms | setup p99 ms |%n"
                        + "|---|---|---|---|---|---|%n", LEVEL.toSeconds()));
        csv.append("\nconcurrency,setups,failures,setups_per_s,setup_p50_ms,setup_p99_ms\n");
        try (Sipp sipp = Sipp.scenario("uas-calls.xml").name("sipp-rate").key("peer_rtp_port", "9").traceMessages(false)
                     .args("-mi", "127.0.0.1", "-mp", String.valueOf(FreePorts.sippMedia()), "-buff_size", "4194304").start();
             GatewayProcess gw = ClientLimitsOff.on(GatewayProcess.builder()).sipServers(sipp.serverEntry()).instanceId("bench-rate")
                     .jvmArgs("-Xmx1g").rtpPortCount(2000)
                     .set("gateway.media.ice-addresses", List.of("127.0.0.1"))
                     .set("gateway.limits.max-calls", "5000").set("gateway.limits.max-sessions", "5000").start()) {
            level(gw.wsUrl(), offer, 4, Duration.ofSeconds(5), pool); // warm-up: JIT, pools
            double best = 0;
            for (int c : CONCURRENCY) {
                Level r = level(gw.wsUrl(), offer, c, LEVEL, pool);
                double perSecond = r.setups() / r.seconds();
                table.append(String.format("| %d | %d | %d | %.0f | %.1f | %.1f |%n", c, r.setups(), r.failures(),
                        perSecond, percentile(r.latencies(), 50), percentile(r.latencies(), 99)));
                csv.append(String.format("%d,%d,%d,%.1f,%.1f,%.1f%n", c, r.setups(), r.failures(), perSecond,
                        percentile(r.latencies(), 50), percentile(r.latencies(), 99)));
                if (r.failures() == 0) {
                    best = Math.max(best, perSecond);
                }
            }
            table.append(String.format("Highest rate without a failure: %.0f setups/s; SIPp unexpected messages: %d%n",
                    best, sipp.unexpectedMessageCount()));
        } finally {
            pool.shutdownNow();
        }
        return table.toString();
    }

    private record Level(int setups, int failures, double seconds, List<Double> latencies) {}

    private static Level level(String ws, String offer, int concurrency, Duration length, ExecutorService pool)
            throws Exception {
        List<WsTestClient> clients = new ArrayList<>();
        for (int i = 0; i < concurrency; i++) {
            WsTestClient c = WsTestClient.connect(ws);
            c.ok("hello");
            clients.add(c);
        }
        AtomicInteger setups = new AtomicInteger();
        AtomicInteger failures = new AtomicInteger();
        List<Double> latencies = Collections.synchronizedList(new ArrayList<>());
        long start = System.nanoTime();
        long deadline = start + length.toNanos();
        List<Future<?>> workers = new ArrayList<>();
        for (WsTestClient c : clients) {
            workers.add(pool.submit(() -> {
                while (System.nanoTime() < deadline) {
                    long t0 = System.nanoTime();
                    JsonNode placed = c.request("call", "to", "fast", "sdp", offer);
                    if (!placed.path("type").asText().equals("result")) {
                        failures.incrementAndGet();
                        continue;
                    }
                    String id = placed.path("call").asText();
                    JsonNode outcome;
                    try {
                        outcome = c.await(Duration.ofSeconds(10), "connected or ended of " + id,
                                n -> n.path("type").asText().equals("event") && id.equals(n.path("call").asText())
                                        && (n.path("name").asText().equals("connected") || n.path("name").asText().equals("ended")));
                    } catch (AssertionError timeout) {
                        failures.incrementAndGet();
                        c.request("hangup", "call", id);
                        continue;
                    }
                    if (!outcome.path("name").asText().equals("connected")) {
                        failures.incrementAndGet();
                        continue;
                    }
                    latencies.add((System.nanoTime() - t0) / 1e6);
                    setups.incrementAndGet();
                    c.ok("hangup", "call", id);
                    c.await(Duration.ofSeconds(10), "ended of " + id, n -> n.path("type").asText().equals("event")
                            && n.path("name").asText().equals("ended") && id.equals(n.path("call").asText()));
                }
                return null;
            }));
        }
        for (Future<?> f : workers) {
            f.get();
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        for (WsTestClient c : clients) {
            c.request("bye");
            c.close();
        }
        return new Level(setups.get(), failures.get(), seconds, latencies);
    }

    // ---- figures ----------------------------------------------------------------------------------

    private static void row(StringBuilder table, StringBuilder csv, String figure, List<Double> values) {
        table.append(String.format("| %s | %.1f | %.1f | %.1f |%n", figure, percentile(values, 50), percentile(values, 99),
                Collections.max(values)));
        csv.append(String.format("\"%s\",%.2f,%.2f,%.2f%n", figure.trim(), percentile(values, 50),
                percentile(values, 99), Collections.max(values)));
    }
}
