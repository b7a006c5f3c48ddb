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
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.stream.Collectors;

/**
 * A real WebRTC peer: headless Chromium with its fake microphone (and camera), one RTCPeerConnection
 * at a time, driven through {@code src/test/js/e2e/webrtc-peer.mjs} (its header documents the line
 * protocol). ICE stays on loopback (see the harness); tests hand SDP and candidates across themselves.
 *
 * <pre>
 * try (ChromiumPeer browser = ChromiumPeer.builder().name("alice").start()) {
 *     String answer = bridge.answer(browser.createOffer());
 *     browser.setAnswer(answer);
 *     browser.awaitIceState("connected", Duration.ofSeconds(10));
 *     Poll.until(Duration.ofSeconds(10), "audio in", browser::stats, s -&gt; s.packetsReceived() &gt; 0);
 * }
 * </pre>
 *
 * {@link #start} returns as soon as the harness runs; the first command waits until Chromium is ready
 * (so two peers start in parallel). Every command fails with an {@link AssertionError} naming the
 * harness's error and the tail of its transcript. Stdout lines and commands are copied to the log
 * ({@code target/it-logs/<test>-<name>.log}, "&lt; " and "&gt; "), between the page's console output.
 * Closing stops the harness (SIGTERM: it closes Chromium) and kills whatever Chromium left running.
 */
public final class ChromiumPeer extends PeerProcess {

    public static final Path SCRIPT = Path.of("src/test/js/e2e/webrtc-peer.mjs");
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration COMMAND_TIMEOUT = Duration.ofSeconds(30);

    private final Duration startTimeout;
    private final Object linesLock = new Object();
    /** Guarded by linesLock: every stdout line of the current launch, parsed. */
    private final List<JsonNode> lines = new ArrayList<>();
    /** Guarded by linesLock: stdout reached its end. */
    private boolean ended;
    /** Guarded by linesLock: the message of the harness's "fatal" line, or null. */
    private String fatal;
    /** Guarded by linesLock: index of the line "ready", or -1. */
    private int readyAt = -1;

    private final Object stdinLock = new Object();
    /** Guarded by stdinLock. */
    private Writer stdin;
    /** Guarded by stdinLock: command lines written, the harness's "seq" of the last one. */
    private int sent;
    /** Guarded by stdinLock: line count when the last SDP-producing command was sent. */
    private int lastDescriptionAt;

    private ChromiumPeer(String name, List<String> command, Map<String, String> environment, Path workDir,
            Path logFile, Duration startTimeout) {
        super(name, command, environment, workDir, logFile);
        this.startTimeout = startTimeout;
    }

    public static Builder builder() {
        return new Builder();
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
            readyAt = -1;
        }
        synchronized (stdinLock) {
            stdin = new OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8);
            sent = 0;
            lastDescriptionAt = 0;
        }
        Thread reader = new Thread(() -> readStdout(process), name() + "-stdout");
        reader.setDaemon(true);
        reader.start();
    }

    // ---- commands -------------------------------------------------------------------------------

    /** An offer with all candidates (without --trickle), else at once; candidates then via {@link #awaitCandidates}. */
    public String createOffer() {
        return request("create-offer", null, true).path("offer").asText();
    }

    public void setAnswer(String sdp) {
        request("set-answer", json(sdp), false);
    }

    /** Applies the far end's offer and returns this peer's answer. */
    public String setOffer(String sdp) {
        return request("set-offer", json(sdp), true).path("answer").asText();
    }

    /** A candidate as the far end trickled it: "candidate:..." (sdpMLineIndex 0, all bundled). */
    public void addCandidate(String candidate) {
        request("add-candidate", json(candidate), false);
    }

    /** An RTCIceCandidateInit, e.g. one of another ChromiumPeer's {@link #awaitCandidates}. */
    public void addCandidate(JsonNode candidateInit) {
        request("add-candidate", candidateInit.toString(), false);
    }

    public void endOfCandidates() {
        request("end-of-candidates", null, false);
    }

    /** ICE restart (RFC 8445 §9): a new offer from createOffer({iceRestart: true}); apply the answer with {@link #setAnswer}. */
    public String restartIce() {
        return request("restart-ice", null, true).path("offer").asText();
    }

    /** RFC 4733 events through RTCDTMFSender (100 ms tones, 70 ms gaps); "tonechange" events follow. */
    public void dtmf(String tones) {
        if (!tones.matches("[0-9A-Da-d#*,]+")) {
            throw new IllegalArgumentException("DTMF tones are 0-9, A-D, #, * and ',' (a pause): " + tones);
        }
        request("dtmf", tones, false);
    }

    /** Closes the RTCPeerConnection (a hang-up); the browser stays, the next offer/answer opens a new one. */
    public void hangUp() {
        request("close", null, false);
    }

    public Stats stats() {
        return Stats.of(request("stats", null, false).path("stats"));
    }

    /**
     * With --trickle: waits until gathering for the last offer/answer/restart is complete and returns the
     * candidates printed since it was asked for, in order.
     */
    public List<JsonNode> awaitCandidates(Duration timeout) {
        int from;
        synchronized (stdinLock) {
            from = lastDescriptionAt;
        }
        int done = awaitLine(from, line -> "icegatheringstatechange".equals(line.path("event").asText(null))
                && "complete".equals(line.path("state").asText(null)), "ICE gathering complete", timeout);
        synchronized (linesLock) {
            return lines.subList(from, done).stream().filter(line -> line.has("candidate"))
                    .map(line -> line.get("candidate")).collect(Collectors.toList());
        }
    }

    /** Waits until the last reported iceConnectionState is {@code state} ("connected", "disconnected", ...). */
    public void awaitIceState(String state, Duration timeout) {
        awaitState("iceconnectionstatechange", state, timeout);
    }

    /** Waits until the last reported connectionState (ICE and DTLS together) is {@code state}. */
    public void awaitConnectionState(String state, Duration timeout) {
        awaitState("connectionstatechange", state, timeout);
    }

    /** The last iceconnectionstatechange reported, or "new". */
    public String iceState() {
        return lastState("iceconnectionstatechange");
    }

    /** Index of the first stdout line at or after {@code from} with {"event": name}. */
    public int awaitEvent(String name, int from, Duration timeout) {
        return awaitLine(from, line -> name.equals(line.path("event").asText(null)), "event " + name, timeout);
    }

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

    /** Waits for the harness's "ready" line (Chromium up); commands do it by themselves. */
    public void awaitReady() {
        synchronized (linesLock) {
            if (readyAt >= 0) {
                return;
            }
        }
        int at = awaitLine(0, line -> "ready".equals(line.path("harness").asText(null)), "Chromium ready", startTimeout);
        synchronized (linesLock) {
            readyAt = at;
        }
    }

    /** The stdout lines, for failure messages. */
    public String transcript() {
        synchronized (linesLock) {
            return lines.stream().map(ChromiumPeer::shorten).collect(Collectors.joining("\n"));
        }
    }

    // ---- plumbing -------------------------------------------------------------------------------

    private static String json(String text) {
        return JSON.getNodeFactory().textNode(text).toString();
    }

    /**
     * Sends "command argument" and waits for its answer (matched by the harness's seq).
     * {@code description}: the command produces an SDP, candidates gathered for it follow.
     */
    private JsonNode request(String command, String argument, boolean description) {
        awaitReady();
        int seq;
        int from;
        String text = argument == null ? command : command + " " + argument;
        synchronized (stdinLock) {
            from = lineCount();
            try {
                stdin.write(text + "\n");
                stdin.flush();
            } catch (IOException e) {
                requireAlive("sending " + command);
                throw new AssertionError(name() + ": cannot send " + command + ": " + e, e);
            }
            seq = ++sent;
            if (description) {
                lastDescriptionAt = from;
            }
        }
        appendToLog("> " + text);
        int at = awaitLine(from, line -> line.path("seq").asInt(-1) == seq, command + " (seq " + seq + ")",
                COMMAND_TIMEOUT);
        JsonNode result = line(at);
        if (!result.path("ok").asBoolean()) {
            throw new AssertionError(name() + ": " + command + " failed: " + result.path("error") + "\n" + tail());
        }
        return result;
    }

    private void awaitState(String event, String state, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        synchronized (linesLock) {
            while (!state.equals(lastState(event))) {
                long left = deadline - System.nanoTime();
                failIfGone(event + " " + state);
                if (left <= 0) {
                    throw new AssertionError(name() + ": timed out after " + timeout + " waiting for " + event + " "
                            + state + " (now " + lastState(event) + ")\n" + tail());
                }
                waitOn(left);
            }
        }
    }

    private String lastState(String event) {
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

    private int awaitLine(int from, Predicate<JsonNode> match, String what, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        synchronized (linesLock) {
            for (int next = from; ; ) {
                for (; next < lines.size(); next++) {
                    if (match.test(lines.get(next))) {
                        return next;
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

    /** Under linesLock: fails when the harness said "fatal" or its stdout ended. */
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
                    .map(ChromiumPeer::shorten).collect(Collectors.joining("\n"));
        }
        return "--- " + name() + " stdout (last 30) ---\n" + out + "\n--- log " + logFile() + " ---\n" + logTail(20);
    }

    private static String shorten(JsonNode line) {
        String text = line.toString();
        return text.length() > 400 ? text.substring(0, 400) + "..." : text;
    }

    /**
     * What the harness's "stats" reports, the fields tests check most; {@link #json} has all of it.
     * Missing parts (no pair selected yet, no audio received) are null.
     */
    public record Stats(String iceState, String connectionState, String dtlsState, SelectedPair selectedPair,
            Inbound inbound, Outbound outbound, JsonNode json) {

        static Stats of(JsonNode s) {
            JsonNode pair = s.path("selectedPair");
            JsonNode in = s.path("inbound");
            JsonNode out = s.path("outbound");
            return new Stats(text(s, "iceState"), text(s, "connectionState"), text(s, "dtlsState"),
                    pair.isObject() ? new SelectedPair(text(pair, "localType"), text(pair, "localAddress"),
                            pair.path("localPort").asInt(), text(pair, "localProtocol"), text(pair, "remoteType"),
                            text(pair, "remoteAddress"), pair.path("remotePort").asInt()) : null,
                    in.isObject() ? new Inbound(text(in, "codec"), in.path("packetsReceived").asLong(),
                            in.path("bytesReceived").asLong(), in.path("packetsLost").asLong(),
                            in.path("jitter").asDouble(), in.path("audioLevel").asDouble(),
                            in.path("totalAudioEnergy").asDouble(), in.path("totalSamplesReceived").asLong()) : null,
                    out.isObject() ? new Outbound(text(out, "codec"), out.path("packetsSent").asLong(),
                            out.path("bytesSent").asLong()) : null,
                    s);
        }

        /** Audio RTP packets received (and authenticated: SRTP failures never reach this counter). */
        public long packetsReceived() {
            return inbound == null ? 0 : inbound.packetsReceived();
        }

        public long packetsSent() {
            return outbound == null ? 0 : outbound.packetsSent();
        }

        /** Decoded audio energy so far (0 until something audible was received and played out). */
        public double totalAudioEnergy() {
            return inbound == null ? 0 : inbound.totalAudioEnergy();
        }

        private static String text(JsonNode node, String field) {
            JsonNode value = node.path(field);
            return value.isTextual() ? value.asText() : null;
        }

        @Override
        public String toString() {
            return json.toString();
        }
    }

    /** The ICE candidate pair in use; types are "host", "srflx", "prflx", "relay". */
    public record SelectedPair(String localType, String localAddress, int localPort, String protocol,
            String remoteType, String remoteAddress, int remotePort) {}

    /** Received audio; codec as "opus/48000/2", "PCMU/8000". Jitter in seconds. */
    public record Inbound(String codec, long packetsReceived, long bytesReceived, long packetsLost, double jitter,
            double audioLevel, double totalAudioEnergy, long totalSamplesReceived) {}

    public record Outbound(String codec, long packetsSent, long bytesSent) {}

    public static final class Builder {
        private String name = "chromium";
        private String iceServers;
        private boolean relayOnly;
        private boolean video;
        private boolean trickle;
        private List<String> audioCodecs = List.of();
        private Duration gatherTimeout;
        private boolean allInterfaces;
        private Duration startTimeout = Duration.ofSeconds(45);

        private Builder() {}

        /** For the log file name and messages ("alice", "bob"). */
        public Builder name(String name) {
            this.name = name;
            return this;
        }

        /** An RTCIceServer JSON array, e.g. {@link Coturn#iceServersJson()}; URLs must be on loopback. */
        public Builder iceServers(String json) {
            this.iceServers = json;
            return this;
        }

        /** iceTransportPolicy "relay": only TURN-relayed candidates. */
        public Builder relayOnly() {
            this.relayOnly = true;
            return this;
        }

        /** Also send the fake camera. */
        public Builder video() {
            this.video = true;
            return this;
        }

        /** SDP at once, candidates one by one ({@link #awaitCandidates}), instead of SDP after gathering. */
        public Builder trickle() {
            this.trickle = true;
            return this;
        }

        /** Audio codec preference order by mime subtype: "PCMU", "PCMA", "opus", "telephone-event". */
        public Builder audioCodecs(String... codecs) {
            this.audioCodecs = List.of(codecs);
            return this;
        }

        public Builder gatherTimeout(Duration timeout) {
            this.gatherTimeout = timeout;
            return this;
        }

        /** Gather on every interface, not just loopback: only inside a network namespace a test made. */
        public Builder allInterfaces() {
            this.allInterfaces = true;
            return this;
        }

        public Builder startTimeout(Duration timeout) {
            this.startTimeout = timeout;
            return this;
        }

        /**
         * Starts the harness and returns at once; commands wait for Chromium. Fails at once when node,
         * Chromium or playwright-core is missing.
         */
        public ChromiumPeer start() {
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
            List<String> command = new ArrayList<>(List.of(executable("node", "nodejs").toString(), script.toString()));
            if (iceServers != null) {
                command.addAll(List.of("--ice-servers", iceServers));
            }
            if (relayOnly) {
                command.add("--relay-only");
            }
            if (video) {
                command.add("--video");
            }
            if (trickle) {
                command.add("--trickle");
            }
            if (!audioCodecs.isEmpty()) {
                command.addAll(List.of("--audio-codecs", String.join(",", audioCodecs)));
            }
            if (gatherTimeout != null) {
                command.addAll(List.of("--gather-timeout", String.valueOf(gatherTimeout.toMillis())));
            }
            if (allInterfaces) {
                command.add("--all-interfaces");
            }
            String buildDir = System.getProperty("it.buildDir");
            Path shimDir = (buildDir == null || buildDir.isBlank() ? projectDir.resolve("target") : Path.of(buildDir))
                    .resolve("webrtc-peer").toAbsolutePath();
            ChromiumPeer peer = new ChromiumPeer(name, command,
                    Map.of("CHROMIUM", chromium, "WEBRTC_PEER_BUILD_DIR", shimDir.toString()),
                    projectDir, ItLogs.file(name, "log"), startTimeout);
            peer.launch();
            return peer;
        }
    }

    /** An RTCIceCandidateInit for {@link #addCandidate(JsonNode)}. */
    public static JsonNode candidateInit(String candidate, String sdpMid, int sdpMLineIndex) {
        ObjectNode init = JSON.createObjectNode();
        init.put("candidate", candidate);
        init.put("sdpMid", sdpMid);
        init.put("sdpMLineIndex", sdpMLineIndex);
        return init;
    }
}
