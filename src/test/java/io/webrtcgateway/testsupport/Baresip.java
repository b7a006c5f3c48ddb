package io.webrtcgateway.testsupport;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * baresip 1.0 (Debian) as a desk phone on 127.0.0.1: one account registering with a registrar (Kamailio),
 * no sound device (its microphone is the {@code aufile} module playing a generated 8 kHz 440 Hz tone, the
 * only rate aufile accepts for G.711; nothing plays what it receives), G.711 only, driven through the
 * {@code ctrl_tcp} module (netstring-framed JSON commands; its events: CALL_INCOMING, CALL_ESTABLISHED,
 * CALL_RTPESTAB when the first RTP packet arrived, CALL_CLOSED...). The first REGISTER may happen before
 * the control connection is up: check registration at the registrar, not with a REGISTER_OK event.
 *
 * <pre>
 * try (Baresip phone = Baresip.builder().user("3001").registrar(kamailio.address()).start()) {
 *     Poll.until(Duration.ofSeconds(10), "registered", () -&gt; kamailio.contacts("3001").size() == 1);
 *     phone.dial("2001");
 *     phone.awaitEvent("CALL_ESTABLISHED", Duration.ofSeconds(10));
 *     Poll.until(..., phone::rtpPacketsReceived, n -&gt; n &gt; 50);
 * }
 * </pre>
 *
 * Its config directory is a temporary folder (deleted on stop); everything stays on loopback: SIP on
 * 127.0.0.1 and 127.0.0.1 in its SDP ({@code net_interface}; baresip 1.0 binds its RTP sockets to the
 * wildcard address, but sends only to the loopback peer of the SDP), and a DNS server on a closed loopback
 * port so no name lookup leaves the machine. Output goes to {@code target/it-logs/<test>-<name>.log}.
 */
public final class Baresip extends PeerProcess {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern RECEIVED = Pattern.compile("rcvd=(\\d+)");

    private final Path configDir;
    private final int sipPort;
    private final int ctrlPort;
    private final String user;
    private final Object lock = new Object();
    /** Guarded by lock: every event and response received, in order. */
    private final List<JsonNode> messages = new ArrayList<>();
    /** Guarded by lock: indexes of events already returned by awaitEvent. */
    private final Set<Integer> consumed = new HashSet<>();
    private final AtomicInteger tokens = new AtomicInteger();
    private Socket ctrl;

    private Baresip(String name, List<String> command, Path configDir, Path logFile, int sipPort, int ctrlPort,
            String user) {
        super(name, command, Map.of(), configDir, logFile);
        this.configDir = configDir;
        this.sipPort = sipPort;
        this.ctrlPort = ctrlPort;
        this.user = user;
    }

    public static Builder builder() {
        return new Builder();
    }

    public String user() {
        return user;
    }

    /** Its SIP port (UDP and TCP on 127.0.0.1). */
    public int sipPort() {
        return sipPort;
    }

    // ---- commands -------------------------------------------------------------------------------

    /** Calls {@code target}: a user of the account's domain ("2001") or a full SIP URI. */
    public JsonNode dial(String target) {
        return command("dial", target);
    }

    /** Answers the ringing incoming call. */
    public JsonNode accept() {
        return command("accept", "");
    }

    public JsonNode hangUp() {
        return command("hangup", "");
    }

    /** Puts the current call on hold (a re-INVITE with a=sendonly). */
    public JsonNode hold() {
        return command("hold", "");
    }

    /** Resumes the held call (a re-INVITE with a=sendrecv). */
    public JsonNode resume() {
        return command("resume", "");
    }

    /** The current call's audio debug text (codecs, ports, RTCP per member). */
    public String audioDebug() {
        return command("audio_debug", "").path("data").asText("");
    }

    /**
     * RTP packets received in the current call: the "rcvd=" counts of audio_debug's RTCP members (the far
     * end's stream; our own member counts 0). 0 without a call.
     */
    public long rtpPacketsReceived() {
        Matcher m = RECEIVED.matcher(audioDebug());
        long total = 0;
        while (m.find()) {
            total += Long.parseLong(m.group(1));
        }
        return total;
    }

    /** Sends a ctrl_tcp command and returns its response ({"response":true,"ok":..,"data":..}); fails if not ok. */
    public JsonNode command(String command, String params) {
        String token = "t" + tokens.incrementAndGet();
        ObjectNode request = JSON.createObjectNode().put("command", command).put("params", params).put("token", token);
        byte[] body = request.toString().getBytes(StandardCharsets.UTF_8);
        appendToLog("> " + request);
        try {
            OutputStream out = ctrl.getOutputStream();
            synchronized (out) {
                out.write((body.length + ":").getBytes(StandardCharsets.US_ASCII));
                out.write(body);
                out.write(',');
                out.flush();
            }
        } catch (IOException e) {
            requireAlive("sending " + command);
            throw new UncheckedIOException("ctrl_tcp send failed", e);
        }
        JsonNode response = await(m -> m.path("response").asBoolean() && token.equals(m.path("token").asText()),
                "response to " + command, Duration.ofSeconds(10), false);
        if (!response.path("ok").asBoolean()) {
            throw new AssertionError(name() + ": " + command + " " + params + " failed: " + response);
        }
        return response;
    }

    // ---- events ---------------------------------------------------------------------------------

    /** The oldest not yet returned event of {@code type} (e.g. "CALL_INCOMING"). */
    public JsonNode awaitEvent(String type, Duration timeout) {
        return await(m -> m.path("event").asBoolean() && type.equals(m.path("type").asText()), "event " + type,
                timeout, true);
    }

    /** The oldest not yet returned event of {@code type} whose text contains {@code containing} (a peer's DN). */
    public JsonNode awaitEvent(String type, String containing, Duration timeout) {
        return await(m -> m.path("event").asBoolean() && type.equals(m.path("type").asText())
                && m.toString().contains(containing), "event " + type + " with " + containing, timeout, true);
    }

    /** Every event of {@code type} so far, consumed or not. */
    public List<JsonNode> events(String type) {
        synchronized (lock) {
            return messages.stream().filter(m -> m.path("event").asBoolean() && type.equals(m.path("type").asText()))
                    .toList();
        }
    }

    private JsonNode await(Predicate<JsonNode> matching, String what, Duration timeout, boolean consume) {
        long deadline = System.nanoTime() + timeout.toNanos();
        synchronized (lock) {
            while (true) {
                for (int i = 0; i < messages.size(); i++) {
                    if (!consumed.contains(i) && matching.test(messages.get(i))) {
                        consumed.add(i);
                        return messages.get(i);
                    }
                }
                if (!isAlive()) {
                    throw new AssertionError(name() + " exited while waiting for " + what + "; log ends with:\n"
                            + logTail(40));
                }
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    throw new AssertionError(name() + ": no " + what + " within " + timeout + "; got " + messages
                            + "\nlog ends with:\n" + logTail(30));
                }
                try {
                    TimeUnit.NANOSECONDS.timedWait(lock, Math.min(left, TimeUnit.MILLISECONDS.toNanos(200)));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new AssertionError("interrupted", e);
                }
            }
        }
    }

    // ---- plumbing -------------------------------------------------------------------------------

    private void connectControl(Duration timeout) {
        Socket[] connected = new Socket[1];
        Poll.until(timeout, name() + " ctrl_tcp on 127.0.0.1:" + ctrlPort, () -> {
            requireAlive("starting");
            connected[0] = tryConnect();
            return connected[0] != null;
        });
        ctrl = connected[0];
        Thread reader = new Thread(this::readControl, name() + "-ctrl");
        reader.setDaemon(true);
        reader.start();
    }

    private Socket tryConnect() {
        Socket s = new Socket();
        try {
            s.connect(new InetSocketAddress(FreePorts.LOOPBACK, ctrlPort), 1000);
            return s;
        } catch (IOException e) {
            try {
                s.close();
            } catch (IOException ignored) {
                // not connected anyway
            }
            return null;
        }
    }

    private void readControl() {
        try (InputStream in = ctrl.getInputStream()) {
            while (true) {
                ByteArrayOutputStream length = new ByteArrayOutputStream();
                int b;
                while ((b = in.read()) != ':') {
                    if (b < 0) {
                        return;
                    }
                    length.write(b);
                }
                byte[] body = in.readNBytes(Integer.parseInt(length.toString(StandardCharsets.US_ASCII).trim()));
                if (in.read() != ',') {
                    return; // not a netstring: the stream is broken
                }
                String text = new String(body, StandardCharsets.UTF_8);
                appendToLog("< " + text);
                JsonNode message = JSON.readTree(text);
                synchronized (lock) {
                    messages.add(message);
                    lock.notifyAll();
                }
            }
        } catch (IOException | RuntimeException e) {
            // closed
        }
    }

    @Override
    public synchronized int stop() {
        try {
            if (ctrl != null) {
                ctrl.close();
            }
        } catch (IOException e) {
            // closing anyway
        }
        int code = super.stop();
        try (Stream<Path> files = Files.walk(configDir)) {
            files.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
        } catch (IOException e) {
            // a leftover temp dir is harmless
        }
        return code;
    }

    /** A mono 16-bit little-endian WAV of a 440 Hz tone at {@code rate} Hz (aufile needs the codec's rate). */
    static byte[] toneWav(int rate, Duration length) {
        int samples = (int) (rate * length.toMillis() / 1000);
        ByteBuffer wav = ByteBuffer.allocate(44 + samples * 2).order(ByteOrder.LITTLE_ENDIAN);
        wav.put("RIFF".getBytes(StandardCharsets.US_ASCII)).putInt(36 + samples * 2)
                .put("WAVE".getBytes(StandardCharsets.US_ASCII))
                .put("fmt ".getBytes(StandardCharsets.US_ASCII)).putInt(16).putShort((short) 1).putShort((short) 1)
                .putInt(rate).putInt(rate * 2).putShort((short) 2).putShort((short) 16)
                .put("data".getBytes(StandardCharsets.US_ASCII)).putInt(samples * 2);
        for (int i = 0; i < samples; i++) {
            wav.putShort((short) Math.round(8000 * Math.sin(2 * Math.PI * 440 * i / rate)));
        }
        return wav.array();
    }

    public static final class Builder {
        private String name;
        private String user = "3001";
        private String registrar;
        private String password;
        private String mediaEncryption;
        private Duration startTimeout = Duration.ofSeconds(15);
        private Path tlsCertificate;
        private Path tlsCa;

        private Builder() {}

        /**
         * Registers over TLS ({@code registrar} is then the registrar's TLS address) and listens for TLS (on its
         * SIP port + 1, baresip's rule) with {@code certificateAndKey} (one PEM file: certificate, CA, key), trusting
         * {@code caFile}.
         */
        public Builder tls(Path certificateAndKey, Path caFile) {
            this.tlsCertificate = certificateAndKey;
            this.tlsCa = caFile;
            return this;
        }

        public Builder name(String name) {
            this.name = name;
            return this;
        }

        /** The account's user (its DN), default "3001". */
        public Builder user(String user) {
            this.user = user;
            return this;
        }

        /** "127.0.0.1:port" of the registrar (and outgoing proxy): the account's domain. */
        public Builder registrar(String hostPort) {
            this.registrar = hostPort;
            return this;
        }

        public Builder password(String password) {
            this.password = password;
            return this;
        }

        /**
         * The account's media encryption, baresip's {@code mediaenc}: "srtp" (best effort: RTP/AVP with a=crypto),
         * "srtp-mand" (RTP/SAVP with a=crypto, plain RTP refused) or "srtp-mandf" (RTP/SAVPF); loads its srtp
         * module (SDES, RFC 4568). Default: none, plain RTP.
         */
        public Builder mediaEncryption(String menc) {
            this.mediaEncryption = menc;
            return this;
        }

        public Builder startTimeout(Duration timeout) {
            this.startTimeout = timeout;
            return this;
        }

        /** Writes the config, starts baresip and connects to its ctrl_tcp; registration follows by itself. */
        public Baresip start() {
            if (registrar == null) {
                throw new IllegalStateException("registrar(hostPort) is required");
            }
            Path binary = executable("baresip", "baresip");
            String logName = name != null ? name : "baresip-" + user;
            Path logFile = ItLogs.file(logName, "log");
            int sipPort = FreePorts.udpAndTcp();
            while (tlsCertificate != null && !FreePorts.tcpFree(sipPort + 1)) {
                sipPort = FreePorts.udpAndTcp(); // baresip listens for TLS on the next port
            }
            int ctrlPort = FreePorts.tcp();
            FreePorts.Range rtp = FreePorts.udpRange(20);
            Path dir;
            try {
                dir = Files.createTempDirectory("baresip-");
                Path wav = dir.resolve("tone-8k.wav");
                Files.write(wav, toneWav(8000, Duration.ofSeconds(60)));
                Files.writeString(dir.resolve("config"), String.join("\n",
                        "poll_method epoll",
                        "net_interface 127.0.0.1",
                        // No resolver traffic off the machine: a loopback port nobody listens on.
                        "dns_server 127.0.0.1:" + FreePorts.udp(),
                        "sip_listen 127.0.0.1:" + sipPort,
                        "rtp_ports " + rtp.low() + "-" + rtp.high(),
                        "audio_source aufile," + wav,
                        "audio_player aufile," + dir.resolve("unused.wav"),
                        "audio_alert aufile," + dir.resolve("unused.wav"),
                        "module_path /usr/lib/baresip/modules",
                        "module g711.so",
                        "module aufile.so",
                        mediaEncryption == null ? "" : "module srtp.so",
                        "module_app account.so",
                        "module_app menu.so",
                        "module_app ctrl_tcp.so",
                        "ctrl_tcp_listen 127.0.0.1:" + ctrlPort,
                        tlsCertificate == null ? "" : "sip_certificate " + tlsCertificate,
                        tlsCa == null ? "" : "sip_cafile " + tlsCa,
                        ""));
                String account = "<sip:" + user + "@" + registrar + (tlsCertificate == null ? "" : ";transport=tls")
                        + ">;regint=300" + (password == null ? "" : ";auth_pass=" + password)
                        + (mediaEncryption == null ? "" : ";mediaenc=" + mediaEncryption);
                Files.writeString(dir.resolve("accounts"), account + "\n");
                Files.writeString(dir.resolve("contacts"), "");
            } catch (IOException e) {
                throw new UncheckedIOException("cannot write the baresip config", e);
            }
            List<String> command = List.of(binary.toString(), "-f", dir.toString());
            Baresip phone = new Baresip(logName, command, dir, logFile, sipPort, ctrlPort, user);
            phone.launch();
            try {
                phone.connectControl(startTimeout);
            } catch (RuntimeException | Error e) {
                phone.kill9();
                throw e;
            }
            return phone;
        }
    }
}
