package io.webrtcgateway.testsupport;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
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
import java.util.function.IntConsumer;
import java.util.function.Predicate;
import java.util.function.Supplier;
import java.util.stream.Collectors;

/**
 * The driver side of the Chromium harnesses in {@code src/test/js/e2e/} (their scaffold, harness.mjs,
 * documents the line protocol): commands go to the harness's stdin one per line; every stdout line is
 * parsed as JSON and kept, and a command's answer is the line carrying its {@code "seq"} (the count of
 * command lines sent in this launch).
 *
 * <p>Subclasses add the commands and events of their harness. Every wait fails with an
 * {@link AssertionError} naming what was awaited, the harness's "fatal" message if it had one, and the
 * tail of its transcript. Lines and commands are copied to the log ("&lt; " and "&gt; ").
 */
public abstract class JsonLineHarness extends PeerProcess {

    protected static final ObjectMapper JSON = new ObjectMapper();

    private final Duration startTimeout;
    private final Duration commandTimeout;

    private final Object linesLock = new Object();
    /** Guarded by linesLock: every stdout line of the current launch, parsed. */
    private final List<JsonNode> lines = new ArrayList<>();
    /** Guarded by linesLock: stdout reached its end. */
    private boolean ended;
    /** Guarded by linesLock: the message of the harness's "fatal" line, or null. */
    private String fatal;
    /** Guarded by linesLock. */
    private boolean ready;

    private final Object stdinLock = new Object();
    /** Guarded by stdinLock. */
    private Writer stdin;
    /** Guarded by stdinLock: command lines written in this launch (the harness's seq of the last one). */
    private int sent;

    protected JsonLineHarness(String name, List<String> command, Map<String, String> environment, Path workDir,
            Path logFile, Duration startTimeout, Duration commandTimeout) {
        super(name, command, environment, workDir, logFile);
        this.startTimeout = startTimeout;
        this.commandTimeout = commandTimeout;
    }

    /**
     * The command line and environment to run {@code script} (a harness under src/test/js/e2e) with
     * node against Debian's Chromium; fails at once when node, Chromium or playwright-core is missing.
     */
    protected static Launch chromiumHarness(Path script, List<String> arguments) {
        return chromiumHarness(script, arguments, List.of());
    }

    /**
     * As {@link #chromiumHarness(Path, List)}, with a Chromium that accepts HTTPS servers whose chain holds one of
     * {@code trustedKeys} (base64 SHA-256 of a SubjectPublicKeyInfo, e.g. a test CA's: {@link TestCa#spkiSha256()}),
     * as if that key were a trusted root: chromium.mjs passes them as --ignore-certificate-errors-spki-list.
     */
    protected static Launch chromiumHarness(Path script, List<String> arguments, List<String> trustedKeys) {
        Path absolute = script.toAbsolutePath();
        if (!Files.isRegularFile(absolute)) {
            throw new IllegalStateException("harness not found: " + absolute + " (run from the project directory)");
        }
        // src/test/js/e2e/x.mjs → the project directory
        Path projectDir = absolute.getParent().getParent().getParent().getParent().getParent();
        if (!Files.isDirectory(projectDir.resolve("node_modules/playwright-core"))) {
            throw new AssertionError("playwright-core not installed in " + projectDir.resolve("node_modules") + ": "
                    + INSTALL_HINT);
        }
        String chromium = System.getenv().getOrDefault("CHROMIUM", "/usr/bin/chromium");
        executable(chromium, "chromium");
        List<String> command = new ArrayList<>(List.of(executable("node", "nodejs").toString(), absolute.toString()));
        command.addAll(arguments);
        String buildDir = System.getProperty("it.buildDir");
        Path shimDir = (buildDir == null || buildDir.isBlank() ? projectDir.resolve("target") : Path.of(buildDir))
                .resolve("webrtc-peer").toAbsolutePath();
        Map<String, String> environment = new java.util.HashMap<>(Map.of("CHROMIUM", chromium,
                "WEBRTC_PEER_BUILD_DIR", shimDir.toString()));
        if (!trustedKeys.isEmpty()) {
            environment.put("CHROMIUM_TRUSTED_SPKI", String.join(",", trustedKeys));
        }
        return new Launch(command, Map.copyOf(environment), projectDir);
    }

    protected record Launch(List<String> command, Map<String, String> environment, Path workDir) {}

    @Override
    protected final boolean talksOverStdio() {
        return true;
    }

    @Override
    protected void launched(Process process) {
        synchronized (linesLock) {
            lines.clear();
            ended = false;
            fatal = null;
            ready = false;
            linesReset();
        }
        synchronized (stdinLock) {
            stdin = new OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8);
            sent = 0;
        }
        Thread reader = new Thread(() -> readStdout(process), name() + "-stdout");
        reader.setDaemon(true);
        reader.start();
    }

    /** Called under the lines lock when a new launch starts: forget per-launch state kept beside the lines. */
    protected void linesReset() {}

    // ---- lines ----------------------------------------------------------------------------------

    /** Lines read so far; pass it as {@code from} to wait only for what comes after now. */
    public int lineCount() {
        synchronized (linesLock) {
            return lines.size();
        }
    }

    public JsonNode line(int index) {
        synchronized (linesLock) {
            return lines.get(index);
        }
    }

    /** Lines from {@code from} on that match. */
    public List<JsonNode> linesFrom(int from, Predicate<JsonNode> matching) {
        synchronized (linesLock) {
            return lines.subList(from, lines.size()).stream().filter(matching).collect(Collectors.toList());
        }
    }

    /** Index of the first line at or after {@code from} that matches. */
    public int awaitLine(int from, Predicate<JsonNode> match, String what, Duration timeout) {
        int[] next = {from};
        return await(() -> {
            for (; next[0] < lines.size(); next[0]++) {
                if (match.test(lines.get(next[0]))) {
                    return next[0];
                }
            }
            return null;
        }, what, timeout);
    }

    /**
     * Waits until {@code probe}, run under the lines lock with the lines as they are, returns non-null.
     * For subclasses that keep their own state about lines (which events were consumed, ...).
     */
    protected final <T> T await(Supplier<T> probe, String what, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        synchronized (linesLock) {
            while (true) {
                T found = probe.get();
                if (found != null) {
                    return found;
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

    /** The {@code list} under the lines lock, for probes of {@link #await}. */
    protected final List<JsonNode> lines() {
        if (!Thread.holdsLock(linesLock)) {
            throw new IllegalStateException("lines() only inside an await probe");
        }
        return lines;
    }

    /** The "state" of the last line {"event": event}, or "new". */
    public String lastState(String event) {
        synchronized (linesLock) {
            for (int i = lines.size() - 1; i >= 0; i--) {
                JsonNode line = lines.get(i);
                if (event.equals(line.path("event").asText(null))) {
                    return line.path("state").asText();
                }
            }
            return "new";
        }
    }

    /** Waits until the last {"event": event} line says {@code state}. */
    public void awaitState(String event, String state, Duration timeout) {
        await(() -> state.equals(lastState(event)) ? Boolean.TRUE : null, event + " " + state, timeout);
    }

    /** Waits for the harness's "ready" line (Chromium up, page installed); commands do it by themselves. */
    public void awaitReady() {
        synchronized (linesLock) {
            if (ready) {
                return;
            }
        }
        awaitLine(0, line -> "ready".equals(line.path("harness").asText(null)), name() + " ready", startTimeout);
        synchronized (linesLock) {
            ready = true;
        }
    }

    // ---- commands -------------------------------------------------------------------------------

    /** Sends one command line and returns its answer line, ok or not. */
    protected final JsonNode send(String text) {
        return send(text, from -> {});
    }

    /**
     * Sends one command line and returns its answer line, ok or not. {@code sentAt} gets the line count
     * at the moment of sending (under the stdin lock, so in the order commands are sent).
     */
    protected final JsonNode send(String text, IntConsumer sentAt) {
        if (text.contains("\n")) {
            throw new IllegalArgumentException("one line per command: " + text);
        }
        awaitReady();
        int seq;
        int from;
        synchronized (stdinLock) {
            from = lineCount();
            try {
                stdin.write(text + "\n");
                stdin.flush();
            } catch (IOException e) {
                requireAlive("sending " + text);
                throw new AssertionError(name() + ": cannot send " + text + ": " + e, e);
            }
            seq = ++sent;
            sentAt.accept(from);
        }
        appendToLog("> " + text);
        String command = text.split(" ", 2)[0];
        return line(awaitLine(from, l -> l.has("command") && l.path("seq").asInt(-1) == seq,
                command + " (seq " + seq + ")", commandTimeout));
    }

    /** Asks the harness to quit (it answers nothing; see {@link #waitForExit}); stdin already closed is fine. */
    public void quit() {
        synchronized (stdinLock) {
            try {
                stdin.write("quit\n");
                stdin.flush();
            } catch (IOException gone) {
                // the harness is exiting anyway
            }
        }
        appendToLog("> quit");
    }

    /** {@link #send} that fails unless the answer is ok. */
    protected final JsonNode sendOk(String text) {
        JsonNode answer = send(text);
        requireOk(text, answer);
        return answer;
    }

    protected final void requireOk(String text, JsonNode answer) {
        if (!answer.path("ok").asBoolean()) {
            throw new AssertionError(name() + ": " + text.split(" ", 2)[0] + " failed: " + answer.path("error") + "\n"
                    + tail());
        }
    }

    /** A JSON string literal, for commands whose argument is one JSON value. */
    protected static String json(String text) {
        return JSON.getNodeFactory().textNode(text).toString();
    }

    // ---- transcript -----------------------------------------------------------------------------

    /** The stdout lines, for failure messages. */
    public String transcript() {
        synchronized (linesLock) {
            return lines.stream().map(JsonLineHarness::shorten).collect(Collectors.joining("\n"));
        }
    }

    protected final String tail() {
        String out;
        synchronized (linesLock) {
            out = lines.subList(Math.max(0, lines.size() - 30), lines.size()).stream()
                    .map(JsonLineHarness::shorten).collect(Collectors.joining("\n"));
        }
        return "--- " + name() + " stdout (last 30) ---\n" + out + "\n--- log " + logFile() + " ---\n" + logTail(20);
    }

    private static String shorten(JsonNode line) {
        String text = line.toString();
        return text.length() > 400 ? text.substring(0, 400) + "..." : text;
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
}
