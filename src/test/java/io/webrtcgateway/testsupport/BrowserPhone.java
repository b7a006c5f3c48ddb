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
import java.util.function.Predicate;
import java.util.stream.Collectors;

/**
 * A phone made of our JS client library in headless Chromium: {@code src/test/js/e2e/phone.mjs} (its
 * header documents the line protocol) on a page of the gateway under test. The fake microphone sends a
 * beep; received audio is played, so the library's {@code call.stats()} shows its energy.
 *
 * <pre>
 * try (BrowserPhone phone = BrowserPhone.start(gw.httpUrl(), "alice")) {
 *     phone.connect();
 *     BrowserPhone.Placed call = phone.call("5000");
 *     phone.awaitCallEvent(call.id(), "connected", Duration.ofSeconds(10));
 *     phone.hangup();
 * }
 * </pre>
 *
 * Commands act on the page's current call (the last placed or announced). Every command fails with an
 * {@link AssertionError} naming the library's error and the tail of the transcript, except
 * {@link #commandError}, which expects the failure. Lines are copied to the log
 * ({@code target/it-logs/<test>-<name>.log}, "&lt; " and "&gt; ") between the page's console output.
 * Closing stops the harness (SIGTERM: it closes Chromium).
 */
public final class BrowserPhone extends PeerProcess {

    public static final Path SCRIPT = Path.of("src/test/js/e2e/phone.mjs");
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration START_TIMEOUT = Duration.ofSeconds(45);
    /** Longer than a SIP transaction (32 s) and the library's own request timeout would need. */
    private static final Duration COMMAND_TIMEOUT = Duration.ofSeconds(40);

    private final Object linesLock = new Object();
    /** Guarded by linesLock: every stdout line of the current launch, parsed. */
    private final List<JsonNode> lines = new ArrayList<>();
    /** Guarded by linesLock. */
    private boolean ended;
    /** Guarded by linesLock: the message of the harness's "fatal" line, or null. */
    private String fatal;
    /** Guarded by linesLock. */
    private boolean ready;

    private final Object stdinLock = new Object();
    /** Guarded by stdinLock. */
    private Writer stdin;
    /** Guarded by stdinLock: command lines written (the harness's seq of the last one). */
    private int sent;

    private BrowserPhone(String name, List<String> command, Map<String, String> environment, Path workDir,
            Path logFile) {
        super(name, command, environment, workDir, logFile);
    }

    /**
     * Starts the harness for the gateway at {@code gatewayUrl} ("http://127.0.0.1:port") and returns at
     * once; the first command waits until the page is ready. Fails at once when node, Chromium or
     * playwright-core is missing.
     */
    public static BrowserPhone start(String gatewayUrl, String name) {
        return start(gatewayUrl, name, null);
    }

    /**
     * As {@link #start(String, String)}, with {@code cookie} ("name=value") already in the browser's jar for
     * the gateway's URL: a browser the load balancer has pinned (e.g. "GWINSTANCE=gw2").
     */
    public static BrowserPhone start(String gatewayUrl, String name, String cookie) {
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
        List<String> command = new ArrayList<>(List.of(executable("node", "nodejs").toString(), script.toString(),
                gatewayUrl));
        if (cookie != null) {
            command.add(cookie);
        }
        String buildDir = System.getProperty("it.buildDir");
        Path shimDir = (buildDir == null || buildDir.isBlank() ? projectDir.resolve("target") : Path.of(buildDir))
                .resolve("webrtc-peer").toAbsolutePath();
        BrowserPhone phone = new BrowserPhone(name, command,
                Map.of("CHROMIUM", chromium, "WEBRTC_PEER_BUILD_DIR", shimDir.toString()), projectDir,
                ItLogs.file(name, "log"));
        phone.launch();
        return phone;
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
            ready = false;
        }
        synchronized (stdinLock) {
            stdin = new OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8);
            sent = 0;
        }
        Thread reader = new Thread(() -> readStdout(process), name() + "-stdout");
        reader.setDaemon(true);
        reader.start();
    }

    // ---- commands -------------------------------------------------------------------------------

    /** An outgoing call: its id and the page's clock (epoch ms) before {@code client.call()} and once it resolved. */
    public record Placed(String id, double startedAt, double resolvedAt) {}

    public JsonNode connect() {
        return command("connect");
    }

    public JsonNode register(String dn) {
        return command("register " + dn);
    }

    /** {@code client.call(to, {audio: true})}: resolves once the gateway sent the INVITE. */
    public Placed call(String to) {
        JsonNode value = command("call " + to);
        return new Placed(value.path("call").asText(), value.path("startedAt").asDouble(),
                value.path("resolvedAt").asDouble());
    }

    public void answer() {
        command("answer");
    }

    public void reject(int status) {
        command("reject " + status);
    }

    public void hangup() {
        command("hangup");
    }

    public void hold() {
        command("hold");
    }

    public void resume() {
        command("resume");
    }

    /** {@code call.sendDtmf(tones)}: RFC 4733 from the browser's RTCDTMFSender (the library's choice). */
    public void dtmf(String tones) {
        command("dtmf " + tones);
    }

    public void info(String contentType, String body) {
        command("info " + contentType + " " + body);
    }

    /** {@code call.stats()}: {inbound: {packets, totalAudioEnergy, ...}, outbound, rtt, gateway, ...}. */
    public JsonNode stats() {
        return command("stats");
    }

    /** Sends a command line, waits for its answer and returns its value; fails if it failed. */
    public JsonNode command(String line) {
        JsonNode result = run(line);
        if (!result.path("ok").asBoolean()) {
            throw new AssertionError(name() + ": " + line + " failed: " + result.path("error") + "\n" + tail());
        }
        return result.path("value");
    }

    /** Sends a command that must fail; returns its error ({code, message, sipStatus, ...}). */
    public JsonNode commandError(String line) {
        JsonNode result = run(line);
        if (result.path("ok").asBoolean()) {
            throw new AssertionError(name() + ": " + line + " succeeded but should have failed: " + result + "\n" + tail());
        }
        return result.path("error");
    }

    // ---- events ---------------------------------------------------------------------------------

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

    /** Waits for a Client event ("registered", "incoming", ...) at or after line {@code from}; returns the line. */
    public JsonNode awaitEvent(String name, int from, Duration timeout) {
        return line(awaitLine(from, l -> name.equals(l.path("event").asText(null)), "event " + name, timeout));
    }

    /** Waits for a Call event of call {@code callId} ("ringing", "connected", "ended", ...); returns the line. */
    public JsonNode awaitCallEvent(String callId, String name, Duration timeout) {
        return line(awaitLine(0, l -> name.equals(l.path("event").asText(null)) && callId.equals(l.path("call").asText(null)),
                "call " + callId + " event " + name, timeout));
    }

    /** The names of call {@code callId}'s events so far, in order. */
    public List<String> callEvents(String callId) {
        return linesFrom(0, l -> l.has("event") && callId.equals(l.path("call").asText(null))).stream()
                .map(l -> l.path("event").asText()).collect(Collectors.toList());
    }

    /** The stdout lines, for failure messages. */
    public String transcript() {
        synchronized (linesLock) {
            return lines.stream().map(BrowserPhone::shorten).collect(Collectors.joining("\n"));
        }
    }

    // ---- plumbing -------------------------------------------------------------------------------

    private JsonNode run(String line) {
        if (line.contains("\n")) {
            throw new IllegalArgumentException("one line per command: " + line);
        }
        awaitReady();
        int seq;
        int from;
        synchronized (stdinLock) {
            from = lineCount();
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
        return line(awaitLine(from, l -> l.has("command") && l.path("seq").asInt(-1) == seq,
                line + " (seq " + seq + ")", COMMAND_TIMEOUT));
    }

    private void awaitReady() {
        synchronized (linesLock) {
            if (ready) {
                return;
            }
        }
        awaitLine(0, l -> "ready".equals(l.path("harness").asText(null)), "the page ready", START_TIMEOUT);
        synchronized (linesLock) {
            ready = true;
        }
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
            out = lines.subList(Math.max(0, lines.size() - 30), lines.size()).stream()
                    .map(BrowserPhone::shorten).collect(Collectors.joining("\n"));
        }
        return "--- " + name() + " stdout (last 30) ---\n" + out + "\n--- log " + logFile() + " ---\n" + logTail(20);
    }

    private static String shorten(JsonNode line) {
        String text = line.toString();
        return text.length() > 400 ? text.substring(0, 400) + "..." : text;
    }
}
