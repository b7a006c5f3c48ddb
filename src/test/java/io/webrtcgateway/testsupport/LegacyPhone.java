package io.webrtcgateway.testsupport;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
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
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.stream.Collectors;

/**
 * A grtc.js-style legacy client in headless Chromium: its page speaks the hanging-GET protocol with fetch()
 * and a raw RTCPeerConnection as the deployed Genesys library does (UDP/TLS/ stripped from offers,
 * non-trickle candidates in {@code Candidates}, form-encoded POSTs, cross-origin with credentials). Driven
 * through {@code src/test/js/e2e/legacy-phone.mjs}, whose header documents what the page does and the line
 * protocol.
 *
 * <pre>
 * LegacyPhone phone = LegacyPhone.builder().gateway(gw.httpUrl()).pagePort(port).start();
 * // gateway config: gateway.cors.allowed-origins = [phone's origin, "http://127.0.0.1:" + port]
 * phone.signIn("1001", null);
 * phone.call("5000");
 * phone.awaitEvent("answer-received", Duration.ofSeconds(10));
 * </pre>
 *
 * Events are consumed: {@link #awaitEvent} returns the oldest matching event not returned before, so a test
 * can wait for a second "bye" after the first. Logs go to {@code target/it-logs/<test>-<name>.log}.
 */
public final class LegacyPhone extends PeerProcess {

    public static final Path SCRIPT = Path.of("src/test/js/e2e/legacy-phone.mjs");
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration COMMAND_TIMEOUT = Duration.ofSeconds(30);

    private final String origin;
    private final Duration startTimeout;
    private final Object linesLock = new Object();
    /** Guarded by linesLock. */
    private final List<JsonNode> lines = new ArrayList<>();
    /** Guarded by linesLock: indexes of events already returned by awaitEvent. */
    private final Set<Integer> consumed = new HashSet<>();
    /** Guarded by linesLock. */
    private boolean ended;
    /** Guarded by linesLock. */
    private String fatal;
    /** Guarded by linesLock. */
    private boolean ready;

    private final Object stdinLock = new Object();
    /** Guarded by stdinLock. */
    private Writer stdin;
    /** Guarded by stdinLock. */
    private int sent;

    private LegacyPhone(String name, List<String> command, Map<String, String> environment, Path workDir,
            Path logFile, String origin, Duration startTimeout) {
        super(name, command, environment, workDir, logFile);
        this.origin = origin;
        this.startTimeout = startTimeout;
    }

    public static Builder builder() {
        return new Builder();
    }

    /** "http://127.0.0.1:&lt;page port&gt;": put it in gateway.cors.allowed-origins. */
    public String origin() {
        return origin;
    }

    @Override
    protected boolean talksOverStdio() {
        return true;
    }

    @Override
    protected void launched(Process process) {
        synchronized (linesLock) {
            lines.clear();
            consumed.clear();
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

    /** Signs in (GET /sign_in?dn, or POST "dn:password"; dn null: anonymous); returns the command's answer. */
    public JsonNode signIn(String dn, String password) {
        ObjectNode arg = JSON.createObjectNode();
        arg.put("dn", dn);
        arg.put("password", password);
        return request("sign-in", arg);
    }

    /** Places a call: the OFFER is posted once ICE gathering ended; returns with the POST's answer. */
    public JsonNode call(String to) {
        return request("call", JSON.createObjectNode().put("to", to));
    }

    /** A re-offer putting the call on hold: "inactive" (what grtc.js sends) or "sendonly". */
    public JsonNode hold(String direction) {
        return request("hold", JSON.createObjectNode().put("direction", direction));
    }

    public JsonNode resume() {
        return request("resume", null);
    }

    /** Answers the pending incoming call (an "incoming" event came before). */
    public JsonNode answer() {
        return request("answer", null);
    }

    /** BYE to the peer, and the RTCPeerConnection closed. */
    public JsonNode hangUp() {
        return request("hangup", null);
    }

    public JsonNode infoMap(Map<String, String> data) {
        return request("info-map", JSON.valueToTree(data));
    }

    public JsonNode getServerStats() {
        return request("get-stats", null);
    }

    /** POST /message?from=ssid&to={@code to} with any body; the answer has "status" and "answer" (its body). */
    public JsonNode post(String to, String body) {
        ObjectNode arg = JSON.createObjectNode();
        arg.put("to", to);
        arg.put("body", body);
        return request("post", arg);
    }

    public JsonNode signOut() {
        return request("sign-out", null);
    }

    /** The page's getStats(), in ChromiumPeer's terms (inbound/outbound audio, ICE and DTLS states). */
    public ChromiumPeer.Stats stats() {
        return ChromiumPeer.Stats.of(request("stats", null).path("stats"));
    }

    // ---- events ---------------------------------------------------------------------------------

    /** The oldest not yet returned event {@code name}; fails after {@code timeout} with the transcript tail. */
    public JsonNode awaitEvent(String name, Duration timeout) {
        return awaitEvent(name, e -> true, timeout);
    }

    public JsonNode awaitEvent(String name, Predicate<JsonNode> matching, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        synchronized (linesLock) {
            while (true) {
                for (int i = 0; i < lines.size(); i++) {
                    JsonNode line = lines.get(i);
                    if (!consumed.contains(i) && name.equals(line.path("event").asText(null)) && matching.test(line)) {
                        consumed.add(i);
                        return line;
                    }
                }
                failIfGone("event " + name);
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    throw new AssertionError(name() + ": no event " + name + " within " + timeout + "\n" + tail());
                }
                waitOn(left);
            }
        }
    }

    /** Marks every event so far as consumed: later awaits see only what comes after (between tests). */
    public void discardEvents() {
        synchronized (linesLock) {
            for (int i = 0; i < lines.size(); i++) {
                consumed.add(i);
            }
        }
    }

    /** Every event {@code name} seen so far (consumed or not). */
    public List<JsonNode> events(String name) {
        synchronized (linesLock) {
            return lines.stream().filter(l -> name.equals(l.path("event").asText(null))).toList();
        }
    }

    /** Waits until the last iceconnectionstatechange reported is {@code state}. */
    public void awaitIceState(String state, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        synchronized (linesLock) {
            while (!state.equals(lastState("iceconnectionstatechange"))) {
                failIfGone("ICE " + state);
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    throw new AssertionError(name() + ": ICE not " + state + " within " + timeout + "\n" + tail());
                }
                waitOn(left);
            }
        }
    }

    private String lastState(String event) {
        for (int i = lines.size() - 1; i >= 0; i--) {
            if (event.equals(lines.get(i).path("event").asText(null))) {
                return lines.get(i).path("state").asText();
            }
        }
        return "new";
    }

    // ---- plumbing -------------------------------------------------------------------------------

    private JsonNode request(String command, JsonNode argument) {
        awaitReady();
        String text = argument == null ? command : command + " " + argument;
        int seq;
        int from;
        synchronized (stdinLock) {
            synchronized (linesLock) {
                from = lines.size();
            }
            try {
                stdin.write(text + "\n");
                stdin.flush();
            } catch (IOException e) {
                requireAlive("sending " + command);
                throw new AssertionError(name() + ": cannot send " + command + ": " + e, e);
            }
            seq = ++sent;
        }
        appendToLog("> " + text);
        JsonNode result = awaitLine(from, l -> l.path("seq").asInt(-1) == seq, command + " (seq " + seq + ")",
                COMMAND_TIMEOUT);
        if (!result.path("ok").asBoolean()) {
            throw new AssertionError(name() + ": " + command + " failed: " + result.path("error") + "\n" + tail());
        }
        return result;
    }

    private void awaitReady() {
        synchronized (linesLock) {
            if (ready) {
                return;
            }
        }
        awaitLine(0, l -> "ready".equals(l.path("harness").asText(null)), "Chromium ready", startTimeout);
        synchronized (linesLock) {
            ready = true;
        }
    }

    private JsonNode awaitLine(int from, Predicate<JsonNode> match, String what, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        synchronized (linesLock) {
            for (int next = from; ; ) {
                for (; next < lines.size(); next++) {
                    if (match.test(lines.get(next))) {
                        return lines.get(next);
                    }
                }
                failIfGone(what);
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    throw new AssertionError(name() + ": timed out after " + timeout + " waiting for " + what
                            + "\n" + tail());
                }
                waitOn(left);
            }
        }
    }

    /** Under linesLock. */
    private void failIfGone(String what) {
        if (fatal != null) {
            throw new AssertionError(name() + " failed while waiting for " + what + ": " + fatal + "\n" + tail());
        }
        if (ended) {
            throw new AssertionError(name() + " ended while waiting for " + what + "\n" + tail());
        }
    }

    private void waitOn(long nanos) {
        try {
            TimeUnit.NANOSECONDS.timedWait(linesLock, nanos);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(name() + ": interrupted", e);
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
                    .map(l -> {
                        String s = l.toString();
                        return s.length() > 500 ? s.substring(0, 500) + "..." : s;
                    }).collect(Collectors.joining("\n"));
        }
        return "--- " + name() + " stdout (last 30) ---\n" + out + "\n--- log " + logFile() + " ---\n" + logTail(20);
    }

    public static final class Builder {
        private String name = "legacy-phone";
        private String gateway;
        private int pagePort;
        private Duration startTimeout = Duration.ofSeconds(45);

        private Builder() {}

        public Builder name(String name) {
            this.name = name;
            return this;
        }

        /** The gateway's base URL, e.g. {@link GatewayProcess#httpUrl()}. */
        public Builder gateway(String url) {
            this.gateway = url;
            return this;
        }

        /** The port the page is served from (its origin); default: a free one. */
        public Builder pagePort(int port) {
            this.pagePort = port;
            return this;
        }

        public Builder startTimeout(Duration timeout) {
            this.startTimeout = timeout;
            return this;
        }

        /** Starts the harness and returns at once; the first command waits until Chromium is up. */
        public LegacyPhone start() {
            if (gateway == null) {
                throw new IllegalStateException("gateway(url) is required");
            }
            Path script = SCRIPT.toAbsolutePath();
            if (!Files.isRegularFile(script)) {
                throw new IllegalStateException("harness not found: " + script + " (run from the project directory)");
            }
            Path projectDir = script.getParent().getParent().getParent().getParent().getParent();
            if (!Files.isDirectory(projectDir.resolve("node_modules/playwright-core"))) {
                throw new AssertionError("playwright-core not installed in " + projectDir.resolve("node_modules")
                        + ": " + INSTALL_HINT);
            }
            String chromium = System.getenv().getOrDefault("CHROMIUM", "/usr/bin/chromium");
            executable(chromium, "chromium");
            int port = pagePort != 0 ? pagePort : FreePorts.tcp();
            List<String> command = List.of(executable("node", "nodejs").toString(), script.toString(),
                    "--gateway", gateway, "--port", String.valueOf(port));
            String buildDir = System.getProperty("it.buildDir");
            Path shimDir = (buildDir == null || buildDir.isBlank() ? projectDir.resolve("target") : Path.of(buildDir))
                    .resolve("webrtc-peer").toAbsolutePath();
            LegacyPhone phone = new LegacyPhone(name, command,
                    Map.of("CHROMIUM", chromium, "WEBRTC_PEER_BUILD_DIR", shimDir.toString()),
                    projectDir, ItLogs.file(name, "log"), "http://127.0.0.1:" + port, startTimeout);
            phone.launch();
            return phone;
        }
    }
}
