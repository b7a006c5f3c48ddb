package io.webrtcgateway.testsupport;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
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
public final class ChromiumPeer extends JsonLineHarness {

    public static final Path SCRIPT = Path.of("src/test/js/e2e/webrtc-peer.mjs");
    private static final Duration COMMAND_TIMEOUT = Duration.ofSeconds(30);

    /** Line count when the last SDP-producing command was sent: the candidates gathered for it follow. */
    private volatile int lastDescriptionAt;

    private ChromiumPeer(String name, Launch launch, Path logFile, Duration startTimeout) {
        super(name, launch.command(), launch.environment(), launch.workDir(), logFile, startTimeout, COMMAND_TIMEOUT);
    }

    public static Builder builder() {
        return new Builder();
    }

    @Override
    protected void linesReset() {
        lastDescriptionAt = 0;
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
        int from = lastDescriptionAt;
        int done = awaitLine(from, line -> "icegatheringstatechange".equals(line.path("event").asText(null))
                && "complete".equals(line.path("state").asText(null)), "ICE gathering complete", timeout);
        return linesFrom(from, line -> true).subList(0, done - from).stream().filter(line -> line.has("candidate"))
                .map(line -> line.get("candidate")).collect(Collectors.toList());
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

    /**
     * Sends "command argument" and waits for its answer. {@code description}: the command produces an
     * SDP, candidates gathered for it follow.
     */
    private JsonNode request(String command, String argument, boolean description) {
        String text = argument == null ? command : command + " " + argument;
        JsonNode answer = send(text, from -> {
            if (description) {
                lastDescriptionAt = from;
            }
        });
        requireOk(text, answer);
        return answer;
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

        /** Received video (with {@link Builder#video()}), null before any video arrived. */
        public Video videoInbound() {
            return Video.of(json.path("video").path("inbound"));
        }

        /** Sent video (with {@link Builder#video()}), null before the camera's track is sent. */
        public Video videoOutbound() {
            return Video.of(json.path("video").path("outbound"));
        }

        /** Video frames decoded so far (0 without video or before the first keyframe). */
        public long videoFramesDecoded() {
            Video v = videoInbound();
            return v == null ? 0 : v.frames();
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

    /**
     * One video RTP stream: codec as "VP8/90000"; packets received or sent (SRTP-authenticated ones when
     * received); frames decoded (inbound) or encoded (outbound).
     */
    public record Video(String codec, long packets, long bytes, long frames) {
        static Video of(JsonNode v) {
            if (!v.isObject()) {
                return null;
            }
            boolean inbound = v.has("packetsReceived");
            return new Video(v.path("codec").isTextual() ? v.path("codec").asText() : null,
                    v.path(inbound ? "packetsReceived" : "packetsSent").asLong(),
                    v.path(inbound ? "bytesReceived" : "bytesSent").asLong(),
                    v.path(inbound ? "framesDecoded" : "framesEncoded").asLong());
        }
    }

    public static final class Builder {
        private String name = "chromium";
        private String iceServers;
        private boolean relayOnly;
        private boolean video;
        private boolean trickle;
        private List<String> audioCodecs = List.of();
        private List<String> videoCodecs = List.of();
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

        /**
         * Video codec preference order by mime subtype ("VP8", "H264", "VP9", "AV1"); only these are offered or
         * answered. Every variant of a name is kept (H264: each packetization-mode and profile), rtx/red/ulpfec
         * are not. Needs {@link #video()}.
         */
        public Builder videoCodecs(String... codecs) {
            this.videoCodecs = List.of(codecs);
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
            List<String> command = new ArrayList<>();
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
            if (!videoCodecs.isEmpty()) {
                if (!video) {
                    throw new IllegalStateException("videoCodecs needs video()");
                }
                command.addAll(List.of("--video-codecs", String.join(",", videoCodecs)));
            }
            if (gatherTimeout != null) {
                command.addAll(List.of("--gather-timeout", String.valueOf(gatherTimeout.toMillis())));
            }
            if (allInterfaces) {
                command.add("--all-interfaces");
            }
            ChromiumPeer peer = new ChromiumPeer(name, chromiumHarness(SCRIPT, command), ItLogs.file(name, "log"),
                    startTimeout);
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
