package io.webrtcgateway.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.jdi.Bootstrap;
import com.sun.jdi.ThreadReference;
import com.sun.jdi.VirtualMachine;
import com.sun.jdi.connect.AttachingConnector;
import com.sun.jdi.connect.Connector;
import io.webrtcgateway.testsupport.Closing;
import io.webrtcgateway.testsupport.FreePorts;
import io.webrtcgateway.testsupport.GatewayProcess;
import io.webrtcgateway.testsupport.Poll;
import io.webrtcgateway.testsupport.PrometheusText;
import io.webrtcgateway.testsupport.WsTestClient;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The executor watchdog on a real gateway whose pools are stuck for real: the test attaches to the
 * gateway's JVM as a debugger (JDWP on loopback, JDI) and suspends every gw-worker thread — then the
 * gw-timer thread — exactly as a deadlock or a blocking call would hold them, with no hook in the product.
 * /health/ready turns 503 naming the pool (so load balancers stop sending new users), /health/lb follows,
 * /health/live stays 200, a request that needs the pool waits; resumed, everything comes back.
 */
class StuckExecutorIT {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newHttpClient();
    private static final Duration STUCK_AFTER = Duration.ofSeconds(2);
    private static final Duration T = Duration.ofSeconds(15);

    private static GatewayProcess gw;
    private static VirtualMachine debugger;

    @BeforeAll
    static void start() throws Exception {
        int jdwp = FreePorts.tcp();
        gw = GatewayProcess.builder()
                .set("gateway.health.stuck-after", STUCK_AFTER.toMillis() + " ms")
                .jvmArgs("-agentlib:jdwp=transport=dt_socket,server=y,suspend=n,address=127.0.0.1:" + jdwp)
                .start();
        gw.awaitHttpStatus("/health/ready", 200, Duration.ofSeconds(30));
        AttachingConnector attach = Bootstrap.virtualMachineManager().attachingConnectors().stream()
                .filter(c -> c.name().equals("com.sun.jdi.SocketAttach")).findFirst().orElseThrow();
        Map<String, Connector.Argument> args = attach.defaultArguments();
        args.get("hostname").setValue("127.0.0.1");
        args.get("port").setValue(String.valueOf(jdwp));
        debugger = attach.attach(args);
    }

    @AfterAll
    static void stop() {
        if (debugger != null) {
            debugger.dispose(); // resumes whatever it suspended
        }
        Closing.all(gw);
    }

    @Test
    void aStuckWorkerPoolThenAStuckTimerMakeTheInstanceNotReadyUntilTheyMoveAgain() throws Exception {
        try (WsTestClient ws = WsTestClient.connect(gw.wsUrl())) {
            ws.ok("hello");

            List<ThreadReference> workers = threads("gw-worker-");
            assertFalse(workers.isEmpty());
            workers.forEach(ThreadReference::suspend);
            JsonNode notReady = awaitNotReady("executor-stuck:gw-worker");
            assertEquals(List.of("executor-stuck:gw-worker"), reasons(notReady), notReady.toString());
            assertEquals(200, gw.httpStatus("/health/live"), "alive: only new users are sent elsewhere");
            assertEquals(503, gw.httpStatus("/health/lb"), "the load balancer takes it out, as for any other reason");
            PrometheusText stuck = metrics();
            assertEquals(1, stuck.value("gateway_executor_stuck", "pool", "gw-worker"));
            assertEquals(0, stuck.value("gateway_executor_stuck", "pool", "gw-timer"));
            assertTrue(stuck.value("gateway_executor_delay_seconds", "pool", "gw-worker") >= STUCK_AFTER.toSeconds());
            assertEquals(0, stuck.value("gateway_ready"));
            // What the 503 says is true: a register, which runs on a registration actor on gw-worker, waits.
            ws.sendRaw("{\"type\":\"register\",\"id\":\"r1\",\"dn\":\"1001\"}");
            assertTrue(ws.seen().stream().noneMatch(m -> "r1".equals(m.path("id").asText())));

            workers.forEach(ThreadReference::resume);
            JsonNode registered = ws.await(T, "the register answered once gw-worker moves",
                    m -> "r1".equals(m.path("id").asText()));
            assertEquals("result", registered.path("type").asText(), registered.toString());
            gw.awaitHttpStatus("/health/ready", 200, T);
            assertEquals(200, gw.httpStatus("/health/lb"));

            List<ThreadReference> timer = threads("gw-timer-");
            assertEquals(1, timer.size());
            timer.forEach(ThreadReference::suspend);
            JsonNode timerStuck = awaitNotReady("executor-stuck:gw-timer");
            assertEquals(List.of("executor-stuck:gw-timer"), reasons(timerStuck), timerStuck.toString());
            timer.forEach(ThreadReference::resume);
            gw.awaitHttpStatus("/health/ready", 200, T);

            PrometheusText after = metrics();
            assertEquals(1, after.value("gateway_executor_stalls_total", "pool", "gw-worker"));
            assertEquals(1, after.value("gateway_executor_stalls_total", "pool", "gw-timer"));
            assertTrue(after.value("gateway_executor_delay_max_seconds", "pool", "gw-worker") >= STUCK_AFTER.toSeconds());
            assertEquals(1, after.value("gateway_ready"));
            String log = Files.readString(gw.logFile());
            assertTrue(log.contains("executor gw-worker is stuck") && log.contains("executor gw-timer is stuck"),
                    "logged with the threads' stacks");
            ws.ok("bye");
        }
    }

    private static List<ThreadReference> threads(String prefix) {
        return debugger.allThreads().stream().filter(t -> t.name().startsWith(prefix)).toList();
    }

    private static JsonNode awaitNotReady(String reason) {
        return Poll.until(T, "/health/ready 503 with " + reason, () -> {
            HttpResponse<String> r = get("/health/ready");
            try {
                return r.statusCode() == 503 ? JSON.readTree(r.body()) : null;
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
        }, body -> body != null && reasons(body).contains(reason));
    }

    private static List<String> reasons(JsonNode ready) {
        return JSON.convertValue(ready.path("reasons"), JSON.getTypeFactory().constructCollectionType(List.class, String.class));
    }

    private static PrometheusText metrics() {
        return PrometheusText.parse(get("/metrics").body());
    }

    private static HttpResponse<String> get(String path) {
        try {
            return HTTP.send(HttpRequest.newBuilder(URI.create(gw.httpUrl() + path)).timeout(Duration.ofSeconds(5)).build(),
                    HttpResponse.BodyHandlers.ofString());
        } catch (IOException | InterruptedException e) {
            throw new IllegalStateException(e);
        }
    }
}
