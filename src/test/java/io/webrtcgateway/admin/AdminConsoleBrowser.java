package io.webrtcgateway.admin;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.webrtcgateway.testsupport.ItLogs;
import io.webrtcgateway.testsupport.PeerProcess;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.stream.Collectors;

/**
 * The admin console in headless Chromium, one step per call: {@code src/test/js/e2e/admin-console.mjs}
 * (its header documents the line protocol) on the gateway under test. Steps are Playwright actions on
 * the console's element ids; every step fails with an {@link AssertionError} naming Playwright's error
 * and the transcript's tail. Lines are copied to {@code target/it-logs/<test>-<name>.log}.
 */
final class AdminConsoleBrowser extends PeerProcess {

    static final Path SCRIPT = Path.of("src/test/js/e2e/admin-console.mjs");
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration START_TIMEOUT = Duration.ofSeconds(45);
    /** Longer than the harness's own default wait (15 s), which answers first. */
    private static final Duration STEP_TIMEOUT = Duration.ofSeconds(60);

    private final Object linesLock = new Object();
    /** Guarded by linesLock: every stdout line of the current launch, parsed. */
    private final List<JsonNode> lines = new ArrayList<>();
    /** Guarded by linesLock. */
    private boolean ended;
    /** Guarded by linesLock: the message of the harness's "fatal" line, or null. */
    private String fatal;

    private final Object stdinLock = new Object();
    /** Guarded by stdinLock. */
    private Writer stdin;
    /** Guarded by stdinLock: command lines written (the harness's seq of the last one). */
    private int sent;

    private AdminConsoleBrowser(String name, List<String> command, Map<String, String> environment, Path workDir,
            Path logFile) {
        super(name, command, environment, workDir, logFile);
    }

    /** Starts the harness for the gateway at {@code gatewayUrl}; screenshots go to {@code screenshotDir}. */
    static AdminConsoleBrowser start(String gatewayUrl, Path screenshotDir) {
        Path script = SCRIPT.toAbsolutePath();
        if (!Files.isRegularFile(script)) {
            throw new IllegalStateException("harness not found: " + script + " (run from the project directory)");
        }
        Path projectDir = script.getParent().getParent().getParent().getParent().getParent();
        if (!Files.isDirectory(projectDir.resolve("node_modules/playwright-core"))) {
            throw new AssertionError("playwright-core not installed in " + projectDir.resolve("node_modules") + ": "
                    + INSTALL_HINT);
        }
        String chromium = System.getenv().getOrDefault("CHROMIUM", "/usr/bin/chromium");
        executable(chromium, "chromium");
        List<String> command = List.of(executable("node", "nodejs").toString(), script.toString(), gatewayUrl,
                screenshotDir.toAbsolutePath().toString());
        AdminConsoleBrowser browser = new AdminConsoleBrowser("console", command, Map.of("CHROMIUM", chromium),
                projectDir, ItLogs.file("console", "log"));
        browser.launch();
        return browser;
    }

    @Override
    protected boolean talksOverStdio() {
        return true;
    }

    @Override
    protected void launched(Process process) {
        synchronized (linesLock) {
            lines.clear();
            ended = false;
            fatal = null;
        }
        synchronized (stdinLock) {
            stdin = new OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8);
            sent = 0;
        }
        Thread reader = new Thread(() -> readStdout(process), name() + "-stdout");
        reader.setDaemon(true);
        reader.start();
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
        synchronized (linesLock) {
            return lines.stream().filter(l -> "pageerror".equals(l.path("event").asText(null)))
                    .map(l -> l.path("message").asText()).collect(Collectors.toList());
        }
    }

    /**
     * The page's console errors and warnings (CSP violations among them), without the browser's
     * "Failed to load resource" for answers the console expects (401 before login, 404 of an ended call).
     */
    List<String> consoleProblems() {
        synchronized (linesLock) {
            return lines.stream().filter(l -> "console".equals(l.path("event").asText(null)))
                    .map(l -> l.path("text").asText())
                    .filter(text -> !text.startsWith("Failed to load resource"))
                    .collect(Collectors.toList());
        }
    }

    // ---- plumbing -------------------------------------------------------------------------------

    private static ObjectNode op(String name) {
        return JSON.createObjectNode().put("op", name);
    }

    private JsonNode step(ObjectNode command) {
        String line = command.toString();
        awaitLine(0, l -> "ready".equals(l.path("harness").asText(null)), "the browser ready", START_TIMEOUT);
        int seq;
        int from;
        synchronized (stdinLock) {
            synchronized (linesLock) {
                from = lines.size();
            }
            try {
                stdin.write(line + "\n");
                stdin.flush();
            } catch (IOException e) {
                requireAlive("sending " + line);
                throw new AssertionError(name() + ": cannot send " + line + ": " + e, e);
            }
            seq = ++sent;
        }
        appendToLog("> " + line);
        JsonNode result;
        int at = awaitLine(from, l -> l.path("seq").asInt(-1) == seq, line, STEP_TIMEOUT);
        synchronized (linesLock) {
            result = lines.get(at);
        }
        if (!result.path("ok").asBoolean()) {
            throw new AssertionError("console step " + line + " failed: " + result.path("error").asText() + "\n" + tail());
        }
        return result.path("value");
    }

    private int awaitLine(int from, Predicate<JsonNode> match, String what, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        synchronized (linesLock) {
            for (int next = from; ; ) {
                for (; next < lines.size(); next++) {
                    if (match.test(lines.get(next))) {
                        return next;
                    }
                }
                if (fatal != null) {
                    throw new AssertionError(name() + " failed while waiting for " + what + ": " + fatal + "\n" + tail());
                }
                if (ended) {
                    throw new AssertionError(name() + " ended while waiting for " + what + "\n" + tail());
                }
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    throw new AssertionError(name() + ": timed out after " + timeout + " waiting for " + what + "\n"
                            + tail());
                }
                try {
                    TimeUnit.NANOSECONDS.timedWait(linesLock, left);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new AssertionError(name() + ": interrupted", e);
                }
            }
        }
    }

    private void readStdout(Process process) {
        try (BufferedReader in = new BufferedReader(
                new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
            String text;
            while ((text = in.readLine()) != null) {
                JsonNode line;
                try {
                    line = JSON.readTree(text);
                } catch (JsonProcessingException notJson) {
                    line = JsonNodeFactory.instance.objectNode().put("text", text);
                }
                appendToLog("< " + text);
                synchronized (linesLock) {
                    lines.add(line);
                    if ("fatal".equals(line.path("harness").asText(null))) {
                        fatal = line.path("message").asText();
                    }
                    linesLock.notifyAll();
                }
            }
        } catch (IOException e) {
            // the process went away; `ended` tells the waiters
        } finally {
            synchronized (linesLock) {
                ended = true;
                linesLock.notifyAll();
            }
        }
    }

    private String tail() {
        String out;
        synchronized (linesLock) {
            out = lines.subList(Math.max(0, lines.size() - 25), lines.size()).stream()
                    .map(l -> {
                        String text = l.toString();
                        return text.length() > 400 ? text.substring(0, 400) + "..." : text;
                    })
                    .collect(Collectors.joining("\n"));
        }
        return "--- " + name() + " stdout (last 25) ---\n" + out + "\n--- log " + logFile() + " ---\n" + logTail(15);
    }
}
