package io.webrtcgateway.edge.ws;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import io.webrtcgateway.testsupport.GatewayProcess;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * Headless Chromium runs /js/webrtc-gateway.js against a real gateway, which is restarted under it:
 * the page must notice, reconnect through the same URL and register its DN again by itself
 * (SPEC §3, failover). Chromium, node and playwright-core are required: without them this test fails.
 */
class BrowserReconnectIT {

    private static final Duration STEP = Duration.ofSeconds(60);
    private static final String DN = "1001";

    @Test
    void pageReRegistersAfterGatewayRestart() throws Exception {
        try (GatewayProcess gateway = GatewayProcess.builder().start();
             ChromiumHarness browser = ChromiumHarness.start(String.valueOf(gateway.httpUrl()), DN,
                     // Short delays so the test does not wait out the production backoff.
                     "--min-delay", "250", "--max-delay", "2000", "--max-attempts", "60")) {
            int registered = browser.awaitEvent("registered", 0, STEP);
            assertEquals(DN, browser.line(registered).at("/detail/dn").asText());
            browser.awaitCommand("register", registered, STEP);

            int beforeRestart = browser.lineCount();
            gateway.restart();

            int reconnecting = browser.awaitEvent("reconnecting", beforeRestart, STEP);
            int reconnected = browser.awaitEvent("reconnected", reconnecting, STEP);
            JsonNode detail = browser.line(reconnected).get("detail");
            // The restarted process has no sessions: the library signs in afresh and registers again.
            assertFalse(detail.get("resumed").asBoolean(), () -> "expected a fresh session: " + detail);
            assertTrue(detail.get("registered").asBoolean(), () -> "expected the DN registered: " + detail);
            assertEquals(DN, detail.get("dn").asText());
            int reRegistered = browser.awaitEvent("registered", reconnecting, STEP);
            assertEquals(DN, browser.line(reRegistered).at("/detail/dn").asText());

            browser.send("disconnect");
            int disconnected = browser.awaitEvent("disconnected", reconnected, STEP);
            assertEquals("client", browser.line(disconnected).at("/detail/reason").asText());
            browser.send("quit");
            assertEquals(0, browser.awaitExit(STEP), browser::transcript);
        }
    }

    /**
     * src/test/js/e2e/register-failover.mjs as a child process: JSON lines in from its stdout,
     * commands out to its stdin. Closing it quits the harness and kills whatever it left running.
     */
    static final class ChromiumHarness implements AutoCloseable {
        private static final ObjectMapper JSON = new ObjectMapper();

        private final Process process;
        private final Path stderr;
        private final Writer stdin;
        /** Guarded by {@code this}. */
        private final List<JsonNode> lines = new ArrayList<>();
        /** Guarded by {@code this}. */
        private boolean ended;

        private ChromiumHarness(Process process, Path stderr) {
            this.process = process;
            this.stderr = stderr;
            this.stdin = new OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8);
            Thread reader = new Thread(this::readStdout, "chromium-harness-stdout");
            reader.setDaemon(true);
            reader.start();
        }

        static ChromiumHarness start(String gatewayUrl, String dn, String... options) throws IOException {
            Path script = Path.of("src/test/js/e2e/register-failover.mjs").toAbsolutePath();
            if (!Files.isRegularFile(script)) {
                throw new IllegalStateException("harness not found: " + script + " (run from the project directory)");
            }
            Path logs = Path.of(System.getProperty("it.buildDir", "target"), "browser-it");
            Files.createDirectories(logs);
            Path stderr = Files.createTempFile(logs, "harness-", ".stderr");
            List<String> command = new ArrayList<>(List.of("node", script.toString(), gatewayUrl, dn));
            command.addAll(List.of(options));
            Process process = new ProcessBuilder(command)
                    .directory(script.getParent().toFile())
                    .redirectError(stderr.toFile())
                    .start();
            return new ChromiumHarness(process, stderr);
        }

        private void readStdout() {
            try (BufferedReader in = new BufferedReader(
                    new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                String text;
                while ((text = in.readLine()) != null) {
                    JsonNode line;
                    try {
                        line = JSON.readTree(text);
                    } catch (IOException notJson) {
                        line = JsonNodeFactory.instance.objectNode().put("text", text);
                    }
                    synchronized (this) {
                        lines.add(line);
                        notifyAll();
                    }
                }
            } catch (IOException e) {
                // The process went away; `ended` below tells the waiters.
            } finally {
                synchronized (this) {
                    ended = true;
                    notifyAll();
                }
            }
        }

        synchronized int lineCount() {
            return lines.size();
        }

        synchronized JsonNode line(int index) {
            return lines.get(index);
        }

        /** Index of the first event {@code name} at or after line {@code from}. */
        int awaitEvent(String name, int from, Duration timeout) throws InterruptedException {
            return await(line -> name.equals(line.path("event").asText(null)), "event " + name, from, timeout);
        }

        /** Index of the successful result of {@code command} at or after line {@code from}. */
        int awaitCommand(String command, int from, Duration timeout) throws InterruptedException {
            int index = await(line -> command.equals(line.path("command").asText(null)),
                    "command " + command, from, timeout);
            assertTrue(line(index).path("ok").asBoolean(), () -> command + " failed: " + line(index));
            return index;
        }

        private synchronized int await(Predicate<JsonNode> match, String what, int from, Duration timeout)
                throws InterruptedException {
            long deadline = System.nanoTime() + timeout.toNanos();
            for (int next = from; ; ) {
                for (; next < lines.size(); next++) {
                    JsonNode line = lines.get(next);
                    if (match.test(line)) {
                        return next;
                    }
                    if ("fatal".equals(line.path("harness").asText(null))) {
                        throw new AssertionError("harness failed while waiting for " + what + "\n" + transcript());
                    }
                }
                long left = deadline - System.nanoTime();
                if (ended || left <= 0) {
                    throw new AssertionError((ended ? "harness ended" : "timed out")
                            + " waiting for " + what + "\n" + transcript());
                }
                TimeUnit.NANOSECONDS.timedWait(this, left);
            }
        }

        void send(String command) throws IOException {
            stdin.write(command + "\n");
            stdin.flush();
        }

        int awaitExit(Duration timeout) throws InterruptedException {
            if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                throw new AssertionError("harness did not exit\n" + transcript());
            }
            return process.exitValue();
        }

        synchronized String transcript() {
            String out = lines.stream().map(JsonNode::toString).collect(Collectors.joining("\n"));
            String err;
            try {
                List<String> all = Files.readAllLines(stderr, StandardCharsets.UTF_8);
                err = String.join("\n", all.subList(Math.max(0, all.size() - 40), all.size()));
            } catch (IOException | UncheckedIOException e) {
                err = "(stderr unreadable: " + e + ")";
            }
            return "--- harness stdout ---\n" + out + "\n--- harness stderr (" + stderr + ") ---\n" + err;
        }

        @Override
        public void close() throws InterruptedException {
            // Chromium's processes are the harness's children; take the list before they are orphaned.
            List<ProcessHandle> descendants = process.descendants().toList();
            if (process.isAlive()) {
                try {
                    send("quit");
                } catch (IOException gone) {
                    // stdin already closed: the harness is exiting anyway
                }
                if (!process.waitFor(15, TimeUnit.SECONDS)) {
                    process.destroy();
                    if (!process.waitFor(5, TimeUnit.SECONDS)) {
                        process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
                    }
                }
            }
            descendants.stream().filter(ProcessHandle::isAlive).forEach(ProcessHandle::destroyForcibly);
        }
    }
}
