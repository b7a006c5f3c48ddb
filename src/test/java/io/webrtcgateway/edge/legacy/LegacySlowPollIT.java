package io.webrtcgateway.edge.legacy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.webrtcgateway.testsupport.CannedOffers;
import io.webrtcgateway.testsupport.Closing;
import io.webrtcgateway.testsupport.FreePorts;
import io.webrtcgateway.testsupport.GatewayProcess;
import io.webrtcgateway.testsupport.Poll;
import io.webrtcgateway.testsupport.ProcessResources;
import io.webrtcgateway.testsupport.PrometheusText;
import io.webrtcgateway.testsupport.Sipp;
import io.webrtcgateway.testsupport.ThreadDump;
import io.webrtcgateway.testsupport.WsTestClient;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Issue 13, "No shared thread ever waits on one client", legacy edge: a grtc.js session whose long-poll
 * answers are never read. On one raw socket with a 4 KB receive buffer it pipelines {@code GET /wait}
 * after {@code GET /wait} and never reads, while {@code GET-STATS} for its call makes the gateway answer
 * those polls from the call's actor (gw-worker), and empty poll timeouts come from gw-timer. Before, the
 * answer that found the socket full blocked the thread writing it. Now answers are written by the
 * container without blocking: with the gateway's send queue to the attacker stuck, no gw-* thread is in a
 * write, the executors are never late, a legacy bystander's polls and a WebSocket bystander's register
 * are answered, and /health/ready says 200. The attacker loses the answer it did not read when the HTTP
 * server's idle timeout closes its connection; its session stays (its next poll gets its next message).
 */
class LegacySlowPollIT {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private static final Duration STEP = Duration.ofSeconds(5);
    private static final Duration IDLE_TIMEOUT = Duration.ofSeconds(15);

    private static Sipp sipp;
    private static GatewayProcess gw;
    private static String base;

    @BeforeAll
    static void start() {
        sipp = Sipp.scenario("uas-calls.xml")
                .key("peer_rtp_port", "9") // no test here calls "dtmf"
                .args("-mi", "127.0.0.1", "-mp", String.valueOf(FreePorts.sippMedia()), "-rtp_echo")
                .start();
        gw = GatewayProcess.builder().sipServers(sipp.serverEntry())
                .set("gateway.media.ice-addresses", List.of("127.0.0.1"))
                .set("gateway.legacy.poll-timeout", "1 s")
                // The attacker's connection is closed this long after its answers stopped going out (Jetty's
                // default is 30 s): long enough for the checks made while it is stuck (a few seconds on a loaded
                // machine; the test prints how long), short enough not to wait for the default.
                .set("gateway.http.idle-timeout", IDLE_TIMEOUT.toSeconds() + " s")
                .set("gateway.calls.media-setup-timeout", "5 m")
                // The attacker fills its own socket with PUT-STATS answers to a GET-STATS flood: over the session's
                // request rate it would get 429s instead (ClientLimitsIT), and this test is about not reading.
                .set("gateway.limits.requests-per-session-per-second", "0")
                .start();
        base = gw.httpUrl();
        gw.awaitHttpStatus("/health/ready", 200, Duration.ofSeconds(30));
    }

    @AfterAll
    static void stop() {
        Closing.all(gw, sipp);
    }

    @Test
    void pollAnswersNeverReadHoldNoSharedThread() throws Exception {
        // A first legacy call (signed out again), so that the media pools a first call starts are in the baseline.
        String warmUp = anonymousSignIn("0");
        placeCall(warmUp);
        get("/sign_out?id=" + warmUp);
        int baselineThreads = ProcessResources.threads(gw.pid());

        String attacker = anonymousSignIn("1");
        placeCall(attacker);
        String bystander = anonymousSignIn("2");

        ExecutorService flood = Executors.newFixedThreadPool(4);
        AtomicBoolean stopped = new AtomicBoolean();
        try (Socket raw = new Socket();
             WsTestClient ws = WsTestClient.connect(gw.wsUrl())) {
            ws.ok("hello");
            raw.setReceiveBufferSize(4096);
            raw.connect(new InetSocketAddress(FreePorts.LOOPBACK, gw.httpPort()), 5_000);
            Thread pipeline = new Thread(() -> pipelinePolls(raw, attacker, stopped), "attacker-polls");
            pipeline.setDaemon(true);
            pipeline.start();
            // gw-timer answers the attacker's unread polls (poll timeout, empty) ...
            double empties = metrics().valueOrZero("gateway_legacy_polls_total", "outcome", "empty");
            Poll.until(Duration.ofSeconds(10), "two of the attacker's polls timed out",
                    () -> metrics().valueOrZero("gateway_legacy_polls_total", "outcome", "empty") >= empties + 2);

            // ... and its call's actor answers them with PUT-STATS, until the socket takes nothing more.
            AtomicLong stats = new AtomicLong();
            for (int i = 0; i < 4; i++) {
                flood.execute(() -> {
                    while (!stopped.get()) {
                        try {
                            post("/message?from=" + attacker + "&to=5000", "GET-STATS");
                            stats.incrementAndGet();
                        } catch (RuntimeException e) {
                            return;
                        }
                    }
                });
            }
            int attackerPort = raw.getLocalPort();
            Poll.until(Duration.ofSeconds(60), "the gateway holding unsent bytes for the attacker",
                    () -> ProcessResources.tcpSendQueue(gw.pid(), gw.httpPort(), attackerPort), q -> q >= 1000);
            long stuckAt = System.nanoTime();
            long statsWhenStuck = stats.get();
            Poll.until(Duration.ofSeconds(10), "more GET-STATS while it is stuck", () -> stats.get() >= statsWhenStuck + 200);

            // While the attacker does not read: nothing shared waits for it.
            for (int i = 0; i < 3; i++) {
                List<ThreadDump.JavaThread> writing = ThreadDump.inABlockingWrite(gw.pid(), "gw-");
                assertTrue(writing.isEmpty(), () -> "a shared thread waits for the attacker: " + writing);
                long t0 = System.nanoTime();
                HttpResponse<String> poll = get("/wait?id=" + bystander);
                assertEquals(200, poll.statusCode(), poll.body());
                Duration took = Duration.ofNanos(System.nanoTime() - t0);
                assertTrue(took.compareTo(STEP) < 0, "the bystander's poll (1 s timeout) took " + took);
            }
            long t0 = System.nanoTime();
            ws.ok("register", "dn", "1001");
            Duration register = Duration.ofNanos(System.nanoTime() - t0);
            assertTrue(register.compareTo(STEP) < 0, "register took " + register);
            ws.ok("unregister");
            assertEquals(200, gw.httpStatus("/health/ready"));
            assertTrue(ProcessResources.tcpSendQueue(gw.pid(), gw.httpPort(), attackerPort) > 0, "still not read");
            long checkedMillis = (System.nanoTime() - stuckAt) / 1_000_000;
            stopped.set(true);
            flood.shutdown();
            assertTrue(flood.awaitTermination(20, TimeUnit.SECONDS));
            PrometheusText during = metrics();
            for (String pool : List.of("gw-worker", "gw-timer", "call", "registration")) {
                double late = during.value("gateway_executor_delay_max_seconds", "pool", pool);
                assertTrue(late < 5, pool + " was " + late + " s late");
            }
            System.out.printf("legacy attacker: %d GET-STATS; gateway send queue to it %d bytes; bystander register %d ms%n",
                    stats.get(), ProcessResources.tcpSendQueue(gw.pid(), gw.httpPort(), attackerPort), register.toMillis());

            // Its session stays: a poll from elsewhere gets its next message at once.
            HttpResponse<String> next = get("/wait?id=" + attacker);
            assertEquals(200, next.statusCode());
            // Queued for it: a PUT-STATS, or the RATE_LIMITED error of a GET-STATS the call's full queue refused
            // (legacy errors also go through the poll, docs/legacy-protocol.md); which comes first is the flood's timing.
            assertTrue(next.body().startsWith("PUT-STATS ") || next.body().startsWith("RSMP {\"messageType\":\"ERROR\","
                    + "\"errorType\":\"RATE_LIMITED\""), next.body());

            // The answer it did not read is dropped when the HTTP server's idle timeout closes its connection.
            // (Reading would make it a client that reads: watch the server's side of the connection go instead.)
            Poll.until(IDLE_TIMEOUT.plusSeconds(30), "the server's end of the attacker's connection closed",
                    () -> ProcessResources.tcpSendQueue(gw.pid(), gw.httpPort(), attackerPort) < 0);
            System.out.printf("attacker's connection: checks done %d ms, closed %d ms after it was seen stuck"
                    + " (idle timeout %d s)%n", checkedMillis, (System.nanoTime() - stuckAt) / 1_000_000,
                    IDLE_TIMEOUT.toSeconds());
            Poll.until(Duration.ofSeconds(10), "the unread answer counted",
                    () -> metrics().valueOrZero("gateway_legacy_answers_unwritten_total") >= 1);
            pipeline.join(10_000);
            ws.ok("bye");
        } finally {
            stopped.set(true);
            flood.shutdownNow();
        }
        get("/sign_out?id=" + attacker);
        get("/sign_out?id=" + bystander);
        assertEquals(200, gw.httpStatus("/health/ready"));
        int threads = Poll.until(Duration.ofSeconds(90), "threads back near " + baselineThreads,
                () -> ProcessResources.threads(gw.pid()), n -> n <= baselineThreads + 8);
        System.out.printf("gateway threads: %d before, %d after%n", baselineThreads, threads);
    }

    /** Sends GET /wait for {@code session} again and again on {@code raw}, never reading, until it fails. */
    private static void pipelinePolls(Socket raw, String session, AtomicBoolean stopped) {
        byte[] request = ("GET /wait?id=" + session + " HTTP/1.1\r\nHost: 127.0.0.1:" + gw.httpPort() + "\r\n\r\n")
                .getBytes(StandardCharsets.US_ASCII);
        try {
            OutputStream out = raw.getOutputStream();
            while (!stopped.get()) {
                out.write(request);
            }
        } catch (IOException e) {
            // the server closed the connection
        }
    }

    /** An anonymous grtc.js sign-in (GET /sign_in?anon&lt;32 hex&gt;); returns the session id. */
    private static String anonymousSignIn(String suffix) {
        String id = "anon" + "0123456789abcdef0123456789abcde" + suffix;
        String body = get("/sign_in?" + id).body();
        return body.split("\n", 2)[0].substring(body.indexOf('=') + 1);
    }

    /** Places a call to 5000 with an offer whose media never connects, and reads its ANSWER from the poll. */
    private static void placeCall(String session) throws IOException {
        String offer = "RSMP " + JSON.writeValueAsString(Map.of("messageType", "OFFER",
                "sdp", CannedOffers.audioWithoutUsableCandidates(), "seq", 1, "tiebreaker", 42,
                "Candidates", List.of()));
        HttpResponse<String> sent = post("/message?from=" + session + "&to=5000", offer);
        assertEquals(200, sent.statusCode(), sent.body());
        Poll.until(Duration.ofSeconds(15), "the ANSWER in the poll", () -> get("/wait?id=" + session).body(),
                b -> b.contains("\"messageType\":\"ANSWER\""));
    }

    private static PrometheusText metrics() {
        return PrometheusText.parse(get("/metrics").body());
    }

    private static HttpResponse<String> get(String path) {
        return send(HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(20)).GET().build());
    }

    private static HttpResponse<String> post(String path, String body) {
        return send(HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(20))
                .header("Content-Type", "text/plain;charset=UTF-8").POST(HttpRequest.BodyPublishers.ofString(body)).build());
    }

    private static HttpResponse<String> send(HttpRequest request) {
        try {
            return HTTP.send(request, HttpResponse.BodyHandlers.ofString());
        } catch (IOException | InterruptedException e) {
            throw new IllegalStateException(request.uri() + ": " + e, e);
        }
    }
}
