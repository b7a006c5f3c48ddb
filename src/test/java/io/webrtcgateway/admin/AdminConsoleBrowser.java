package io.webrtcgateway.admin;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.webrtcgateway.testsupport.ItLogs;
import io.webrtcgateway.testsupport.JsonLineHarness;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.stream.Collectors;

/**
 * The admin console in headless Chromium, one step per call: {@code src/test/js/e2e/admin-console.mjs}
 * (its header documents the line protocol) on the gateway under test. Steps are Playwright actions on
 * the console's element ids; every step fails with an {@link AssertionError} naming Playwright's error
 * and the transcript's tail. Lines are copied to {@code target/it-logs/<test>-<name>.log}.
 */
final class AdminConsoleBrowser extends JsonLineHarness {

    static final Path SCRIPT = Path.of("src/test/js/e2e/admin-console.mjs");
    private static final Duration START_TIMEOUT = Duration.ofSeconds(45);
    /** Longer than the harness's own default wait (15 s), which answers first. */
    private static final Duration STEP_TIMEOUT = Duration.ofSeconds(60);

    private AdminConsoleBrowser(Launch launch) {
        super("console", launch.command(), launch.environment(), launch.workDir(), ItLogs.file("console", "log"),
                START_TIMEOUT, STEP_TIMEOUT);
    }

    /** Starts the harness for the gateway at {@code gatewayUrl}; screenshots go to {@code screenshotDir}. */
    static AdminConsoleBrowser open(String gatewayUrl, Path screenshotDir) {
        AdminConsoleBrowser browser = new AdminConsoleBrowser(chromiumHarness(SCRIPT,
                List.of(gatewayUrl, screenshotDir.toAbsolutePath().toString())));
        browser.launch();
        return browser;
    }

    // ---- steps ----------------------------------------------------------------------------------

    /** A fresh browser context: no cookie, so no admin session. */
    void reset() {
        step(op("reset"));
    }

    void open(String path) {
        step(op("goto").put("path", path));
    }

    void fill(String selector, String value) {
        step(op("fill").put("selector", selector).put("value", value));
    }

    void click(String selector) {
        step(op("click").put("selector", selector));
    }

    void press(String selector, String key) {
        step(op("press").put("selector", selector).put("key", key));
    }

    void awaitVisible(String selector) {
        step(op("waitFor").put("selector", selector).put("state", "visible"));
    }

    void awaitHidden(String selector) {
        step(op("waitFor").put("selector", selector).put("state", "hidden"));
    }

    /** Waits until the first match's text matches {@code regex} (a JS RegExp); returns the text. */
    String awaitText(String selector, String regex, Duration timeout) {
        return step(op("waitText").put("selector", selector).put("pattern", regex)
                .put("timeoutMs", timeout.toMillis())).asText();
    }

    /** The first match's textContent, or null when nothing matches. */
    String text(String selector) {
        JsonNode value = step(op("text").put("selector", selector));
        return value.isNull() ? null : value.asText();
    }

    String attribute(String selector, String name) {
        JsonNode value = step(op("attr").put("selector", selector).put("name", name));
        return value.isNull() ? null : value.asText();
    }

    int count(String selector) {
        return step(op("count").put("selector", selector)).asInt();
    }

    Path screenshot(String name) {
        return Path.of(step(op("screenshot").put("name", name)).asText());
    }

    void viewport(int width, int height) {
        step(op("viewport").put("width", width).put("height", height));
    }

    /** The page's /admin/api/ requests since the last {@link #open}: [{method, path, status}]. */
    JsonNode apiRequests() {
        return step(op("api"));
    }

    /** Uncaught errors of the page so far (the harness's "pageerror" events). */
    List<String> pageErrors() {
        return linesFrom(0, l -> "pageerror".equals(l.path("event").asText(null))).stream()
                .map(l -> l.path("message").asText()).collect(Collectors.toList());
    }

    /**
     * The page's console errors and warnings (CSP violations among them), without the browser's
     * "Failed to load resource" for answers the console expects (401 before login, 404 of an ended call).
     */
    List<String> consoleProblems() {
        return linesFrom(0, l -> "console".equals(l.path("event").asText(null))).stream()
                .map(l -> l.path("text").asText())
                .filter(text -> !text.startsWith("Failed to load resource"))
                .collect(Collectors.toList());
    }

    // ---- plumbing -------------------------------------------------------------------------------

    private static ObjectNode op(String name) {
        return JSON.createObjectNode().put("op", name);
    }

    private JsonNode step(ObjectNode command) {
        return sendOk(command.toString()).path("value");
    }
}
