package io.webrtcgateway.edge.ws;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.webrtcgateway.testsupport.GatewayProcess;
import io.webrtcgateway.testsupport.ItLogs;
import io.webrtcgateway.testsupport.JsonLineHarness;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
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
             ReconnectingPage browser = ReconnectingPage.start(String.valueOf(gateway.httpUrl()), DN,
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

            browser.command("disconnect");
            int disconnected = browser.awaitEvent("disconnected", reconnected, STEP);
            assertEquals("client", browser.line(disconnected).at("/detail/reason").asText());
            browser.quit();
            assertEquals(0, browser.waitForExit(STEP), browser::transcript);
        }
    }

    /** src/test/js/e2e/register-failover.mjs: the library in a page, connecting and registering by itself. */
    static final class ReconnectingPage extends JsonLineHarness {

        private ReconnectingPage(Launch launch) {
            super("register-failover", launch.command(), launch.environment(), launch.workDir(),
                    ItLogs.file("register-failover", "log"), STEP, STEP);
        }

        static ReconnectingPage start(String gatewayUrl, String dn, String... options) {
            List<String> arguments = new ArrayList<>(List.of(gatewayUrl, dn));
            arguments.addAll(List.of(options));
            ReconnectingPage page = new ReconnectingPage(
                    chromiumHarness(Path.of("src/test/js/e2e/register-failover.mjs"), arguments));
            page.launch();
            return page;
        }

        /** Index of the first event {@code name} at or after line {@code from}. */
        int awaitEvent(String name, int from, Duration timeout) {
            return awaitLine(from, line -> name.equals(line.path("event").asText(null)), "event " + name, timeout);
        }

        /** Index of the successful result of {@code command} (sent or run by the page itself) at or after {@code from}. */
        int awaitCommand(String command, int from, Duration timeout) {
            int index = awaitLine(from, line -> command.equals(line.path("command").asText(null)),
                    "command " + command, timeout);
            assertTrue(line(index).path("ok").asBoolean(), () -> command + " failed: " + line(index));
            return index;
        }

        JsonNode command(String text) {
            return sendOk(text);
        }
    }
}
