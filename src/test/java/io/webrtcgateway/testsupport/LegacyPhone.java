package io.webrtcgateway.testsupport;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;

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
public final class LegacyPhone extends JsonLineHarness {

    public static final Path SCRIPT = Path.of("src/test/js/e2e/legacy-phone.mjs");
    private static final Duration COMMAND_TIMEOUT = Duration.ofSeconds(30);

    private final String origin;
    /** Guarded by the lines lock (touched only in await probes and linesReset): events already returned. */
    private final Set<Integer> consumed = new HashSet<>();

    private LegacyPhone(String name, Launch launch, Path logFile, String origin, Duration startTimeout) {
        super(name, launch.command(), launch.environment(), launch.workDir(), logFile, startTimeout, COMMAND_TIMEOUT);
        this.origin = origin;
    }

    public static Builder builder() {
        return new Builder();
    }

    /** "http://127.0.0.1:&lt;page port&gt;": put it in gateway.cors.allowed-origins. */
    public String origin() {
        return origin;
    }

    @Override
    protected void linesReset() {
        consumed.clear();
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
        return await(() -> {
            List<JsonNode> lines = lines();
            for (int i = 0; i < lines.size(); i++) {
                JsonNode line = lines.get(i);
                if (!consumed.contains(i) && name.equals(line.path("event").asText(null)) && matching.test(line)) {
                    consumed.add(i);
                    return line;
                }
            }
            return null;
        }, "event " + name, timeout);
    }

    /** Marks every event so far as consumed: later awaits see only what comes after (between tests). */
    public void discardEvents() {
        await(() -> {
            for (int i = 0; i < lines().size(); i++) {
                consumed.add(i);
            }
            return Boolean.TRUE;
        }, "discarding events", Duration.ZERO);
    }

    /** Every event {@code name} seen so far (consumed or not). */
    public List<JsonNode> events(String name) {
        return linesFrom(0, l -> name.equals(l.path("event").asText(null)));
    }

    /** Waits until the last iceconnectionstatechange reported is {@code state}. */
    public void awaitIceState(String state, Duration timeout) {
        awaitState("iceconnectionstatechange", state, timeout);
    }

    private JsonNode request(String command, JsonNode argument) {
        return sendOk(argument == null ? command : command + " " + argument);
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
            int port = pagePort != 0 ? pagePort : FreePorts.tcp();
            Launch launch = chromiumHarness(SCRIPT, List.of("--gateway", gateway, "--port", String.valueOf(port)));
            LegacyPhone phone = new LegacyPhone(name, launch, ItLogs.file(name, "log"), "http://127.0.0.1:" + port,
                    startTimeout);
            phone.launch();
            return phone;
        }
    }
}
