package io.webrtcgateway.testsupport;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
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
public final class BrowserPhone extends JsonLineHarness {

    public static final Path SCRIPT = Path.of("src/test/js/e2e/phone.mjs");
    private static final Duration START_TIMEOUT = Duration.ofSeconds(45);
    /** Longer than a SIP transaction (32 s) and the library's own request timeout would need. */
    private static final Duration COMMAND_TIMEOUT = Duration.ofSeconds(40);

    private BrowserPhone(String name, Launch launch, Path logFile) {
        super(name, launch.command(), launch.environment(), launch.workDir(), logFile, START_TIMEOUT, COMMAND_TIMEOUT);
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
        return start(gatewayUrl, name, cookie, List.of());
    }

    /**
     * As {@link #start(String, String, String)} for an {@code https://} gateway whose certificate chain holds one of
     * {@code trustedKeys} (base64 SHA-256 of a SubjectPublicKeyInfo, {@link TestCa#spkiSha256()}): Chromium trusts
     * those keys, and only those, as if they were roots.
     */
    public static BrowserPhone start(String gatewayUrl, String name, String cookie, List<String> trustedKeys) {
        List<String> arguments = cookie == null ? List.of(gatewayUrl) : List.of(gatewayUrl, cookie);
        BrowserPhone phone = new BrowserPhone(name, chromiumHarness(SCRIPT, arguments, trustedKeys),
                ItLogs.file(name, "log"));
        phone.launch();
        return phone;
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

    /**
     * Polls the current call's stats until its inbound packets exceed {@code packets} (and 50) and the decoded
     * audio energy grew past {@code energy}: received audio that was played, so heard.
     */
    public JsonNode awaitAudio(String what, long packets, double energy) {
        return Poll.until(Duration.ofSeconds(20), what, this::stats,
                s -> s.at("/inbound/packets").asLong() > Math.max(50, packets)
                        && s.at("/inbound/totalAudioEnergy").asDouble() > energy);
    }

    /** Sends a command line, waits for its answer and returns its value; fails if it failed. */
    public JsonNode command(String line) {
        return sendOk(line).path("value");
    }

    /** Sends a command that must fail; returns its error ({code, message, sipStatus, ...}). */
    public JsonNode commandError(String line) {
        JsonNode result = send(line);
        if (result.path("ok").asBoolean()) {
            throw new AssertionError(name() + ": " + line + " succeeded but should have failed: " + result + "\n" + tail());
        }
        return result.path("error");
    }

    // ---- events ---------------------------------------------------------------------------------

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
}
