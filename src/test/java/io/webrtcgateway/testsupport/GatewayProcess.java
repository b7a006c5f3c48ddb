package io.webrtcgateway.testsupport;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Pattern;

/**
 * The gateway's standalone jar run as {@code java -jar} in its own JVM, configured by a generated HOCON
 * file passed in {@code GATEWAY_CONFIG}, on ports chosen at run time.
 *
 * <pre>
 * try (Sipp registrar = Sipp.scenario("registrar-ok.xml").start();
 *      GatewayProcess gw = GatewayProcess.builder().sipServers(registrar.serverEntry()).start()) {
 *     ... connect to gw.wsUrl() ...
 * }
 * </pre>
 *
 * The jar is the one failsafe names in the system property {@code it.standaloneJar}
 * ({@code target/webrtc-gateway-standalone.jar} from {@code mvn package}). The config file is kept
 * next to the log as {@code target/it-logs/<test>-<name>.conf}.
 */
public final class GatewayProcess extends PeerProcess {

    public static final String JAR_PROPERTY = "it.standaloneJar";
    /** Blank-separated JVM options every gateway gets after -Xmx512m -XX:+UseSerialGC (the pom sets them for the ITs). */
    public static final String JVM_ARGS_PROPERTY = "it.gatewayJvmArgs";

    private static final AtomicInteger INSTANCE_NUMBERS = new AtomicInteger();

    /** A thread per task: a starting or stopping gateway is waited for, not computed (and the common pool may be one thread). */
    private static final Executor OWN_THREAD = task -> new Thread(task, "gateway-start-stop").start();

    private static final Pattern KEY = Pattern.compile("[A-Za-z0-9_-]+(\\.[A-Za-z0-9_-]+)*");

    /** reference.conf's gateway.media.ice-remote-deny without loopback and own-addresses (see Settings#hocon). */
    public static final List<String> TEST_ICE_REMOTE_DENY = List.of("169.254.0.0/16", "fe80::/10", "fd00:ec2::254",
            "0.0.0.0/8", "::", "224.0.0.0/4", "255.255.255.255", "ff00::/8");

    private final String instanceId;
    private final int httpPort;
    /** gateway.http.tls.port; 0: HTTPS off. */
    private final int httpsPort;
    private final int sipPort;
    private final int sipTlsPort;
    private final int sandboxPort;
    private final FreePorts.Range rtpPorts;
    /** The RTP range was picked for this gateway (not given by the test): handed back on close. */
    private final boolean ownsRtpPorts;
    private final Path configFile;
    private final Duration startTimeout;
    private final Duration stopTimeout;
    /** Plain HTTP/1.1: no h2c upgrade attempt in the health probes. */
    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5)).build();

    private GatewayProcess(String name, List<String> command, Map<String, String> environment, Path logFile,
            Settings settings, Path configFile, Duration startTimeout, Duration stopTimeout) {
        super(name, command, environment, null, logFile);
        this.instanceId = settings.instanceId;
        this.httpPort = settings.httpPort;
        this.httpsPort = settings.httpsPort;
        this.sipPort = settings.sipPort;
        this.sipTlsPort = settings.sipTlsPort;
        this.sandboxPort = settings.sandboxPort;
        this.rtpPorts = settings.rtpPorts;
        this.ownsRtpPorts = settings.rtpPortsPicked;
        this.configFile = configFile;
        this.startTimeout = startTimeout;
        this.stopTimeout = stopTimeout;
    }

    public static Builder builder() {
        return new Builder();
    }

    /**
     * Starts the gateways side by side (a JVM's start is mostly one thread's work, on a 2-core machine two
     * overlap well) and returns them in the builders' order once each answers GET /health/live. If one fails to
     * start, the others are stopped and that failure is thrown.
     */
    public static List<GatewayProcess> startAll(Builder... builders) {
        String test = ItLogs.testName(); // the pool's threads have no test on their stack
        List<CompletableFuture<GatewayProcess>> starts = new ArrayList<>();
        for (Builder b : builders) {
            b.test = test;
            starts.add(CompletableFuture.supplyAsync(b::start, OWN_THREAD));
        }
        List<GatewayProcess> started = new ArrayList<>();
        Throwable failure = null;
        for (CompletableFuture<GatewayProcess> start : starts) {
            try {
                started.add(start.join());
            } catch (CompletionException e) {
                failure = failure != null ? failure : e.getCause();
            }
        }
        if (failure != null) {
            started.forEach(GatewayProcess::close);
            if (failure instanceof Error error) {
                throw error;
            }
            throw failure instanceof RuntimeException runtime ? runtime : new IllegalStateException(failure);
        }
        return started;
    }

    /**
     * One resource that closes all of {@code gateways} (null ones skipped) side by side, for
     * {@link Closing#all}: a gateway's stop is mostly waiting (JAIN-SIP's stop alone sleeps a second).
     */
    public static AutoCloseable together(GatewayProcess... gateways) {
        return () -> {
            List<CompletableFuture<Void>> stops = new ArrayList<>();
            for (GatewayProcess g : gateways) {
                if (g != null) {
                    stops.add(CompletableFuture.runAsync(g::close, OWN_THREAD));
                }
            }
            CompletableFuture.allOf(stops.toArray(CompletableFuture[]::new)).join();
        };
    }

    /** "http://127.0.0.1:&lt;port&gt;" (no trailing slash). */
    public String httpUrl() {
        return "http://127.0.0.1:" + httpPort;
    }

    /** "ws://127.0.0.1:&lt;port&gt;/ws", the WebSocket endpoint (docs/protocol.md). */
    public String wsUrl() {
        return "ws://127.0.0.1:" + httpPort + "/ws";
    }

    public int httpPort() {
        return httpPort;
    }

    /** "https://127.0.0.1:&lt;port&gt;" of the HTTPS listener (see {@link Builder#https}). */
    public String httpsUrl() {
        requireHttps();
        return "https://127.0.0.1:" + httpsPort;
    }

    /** "wss://127.0.0.1:&lt;port&gt;/ws". */
    public String wssUrl() {
        requireHttps();
        return "wss://127.0.0.1:" + httpsPort + "/ws";
    }

    /** gateway.http.tls.port. */
    public int httpsPort() {
        requireHttps();
        return httpsPort;
    }

    private void requireHttps() {
        if (httpsPort == 0) {
            throw new IllegalStateException(name() + " has no HTTPS listener: start it with Builder.https(...)");
        }
    }

    /** The gateway's own SIP port (gateway.sip.listen, UDP and TCP on 127.0.0.1). */
    public int sipPort() {
        return sipPort;
    }

    /** The gateway's SIP over TLS port (gateway.sip.tls.port); 0 without {@link Builder#sipTls}. */
    public int sipTlsPort() {
        return sipTlsPort;
    }

    /** The built-in sandbox SIP server's port (used when gateway.sip.servers contains "sandbox"). */
    public int sandboxPort() {
        return sandboxPort;
    }

    public FreePorts.Range rtpPorts() {
        return rtpPorts;
    }

    public String instanceId() {
        return instanceId;
    }

    public Path configFile() {
        return configFile;
    }

    @Override
    protected Duration stopTimeout() {
        return stopTimeout;
    }

    /**
     * SIGTERM and waits for the JVM to exit (its graceful shutdown un-registers every DN); SIGKILL only
     * if it is still running after the stop timeout (default 30 s). Returns the exit code.
     */
    @Override
    public int stop() {
        return super.stop();
    }

    /**
     * Stops it for good and hands its RTP range back to {@link FreePorts}: a test JVM starts a hundred
     * gateways, and 200 ports each would exhaust the 20000-29999 pool otherwise.
     */
    @Override
    public void close() {
        try {
            super.close();
        } finally {
            if (ownsRtpPorts) {
                FreePorts.release(rtpPorts);
            }
        }
    }

    /** Stops it and starts it again with the same config and ports; waits until it is live again. */
    public void restart() {
        stop();
        launchAndAwaitLive();
    }

    /** Starts it again after {@link #stop()} or {@link #kill9()}, with the same config and ports. */
    public void startAgain() {
        launchAndAwaitLive();
    }

    /** HTTP status of GET {@code path} (e.g. "/health/ready"), or -1 if nothing answers. */
    public int httpStatus(String path) {
        try {
            return get(path, Duration.ofSeconds(5)).statusCode();
        } catch (IOException e) {
            return -1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return -1;
        }
    }

    /** Waits until GET {@code path} answers {@code status}, failing early with the log tail if the JVM exits. */
    public void awaitHttpStatus(String path, int status, Duration timeout) {
        Poll.until(timeout, "GET " + httpUrl() + path + " -> " + status + " (" + name() + ")", () -> {
            requireAlive("waiting for GET " + path + " -> " + status);
            return httpStatus(path);
        }, s -> s == status);
    }

    private void launchAndAwaitLive() {
        launch();
        try {
            awaitHttpStatus("/health/live", 200, startTimeout);
        } catch (AssertionError e) {
            boolean died = !isAlive(); // then requireAlive's message already carries the log tail
            kill9();
            if (died) {
                throw e;
            }
            throw new AssertionError(e.getMessage() + "\nlog " + logFile() + " ends with:\n" + logTail(60), e);
        }
    }

    private HttpResponse<String> get(String path, Duration timeout) throws IOException, InterruptedException {
        HttpRequest request = HttpRequest.newBuilder(URI.create(httpUrl() + path)).timeout(timeout).GET().build();
        return http.send(request, HttpResponse.BodyHandlers.ofString());
    }

    /** What one gateway instance is configured with; {@link #hocon()} renders it. */
    static final class Settings {
        String instanceId;
        int httpPort;
        int httpsPort;
        int sipPort;
        int sipTlsPort;
        int sandboxPort;
        FreePorts.Range rtpPorts;
        boolean rtpPortsPicked;
        List<String> sipServers = List.of("sandbox");
        /** Extra keys, each already rendered as a HOCON value. */
        final Map<String, String> extra = new LinkedHashMap<>();

        String hocon() {
            StringBuilder out = new StringBuilder("# Generated by io.webrtcgateway.testsupport.GatewayProcess\n");
            line(out, "gateway.instance-id", quote(instanceId));
            line(out, "gateway.http.host", quote("127.0.0.1"));
            line(out, "gateway.http.port", String.valueOf(httpPort));
            if (httpsPort != 0) {
                line(out, "gateway.http.tls.port", String.valueOf(httpsPort));
            }
            line(out, "gateway.sip.listen", quote("127.0.0.1:" + sipPort));
            line(out, "gateway.sip.servers", list(sipServers));
            if (sipTlsPort != 0) {
                line(out, "gateway.sip.tls.port", String.valueOf(sipTlsPort));
            }
            line(out, "gateway.sip.sandbox.listen", quote("127.0.0.1:" + sandboxPort));
            line(out, "gateway.media.rtp-port-range", quote(rtpPorts.toString()));
            // The default gateway.media.ice-remote-deny refuses loopback and this machine's own addresses as ICE
            // targets (docs/media.md, "ICE targets"), and every test's browser runs on this machine, on loopback
            // (its checks come from 127.0.0.1, its candidates name eth0's address): keep the rest of the default
            // (link-local, metadata, unspecified, multicast), allow those two. IceRemoteDenyIT sets its own.
            line(out, "gateway.media.ice-remote-deny", list(TEST_ICE_REMOTE_DENY));
            // Tests use SIPp and Kamailio as SIP Server; the ones about tokens set gateway.auth.* themselves.
            line(out, "gateway.auth.mode", quote("none"));
            // Most tests are about calls and media, not who may place them: sessions call without registering
            // a DN. The tests of the dial plan (TokenAuthIT, WebSocketProtocolIT) set their own.
            line(out, "gateway.calls.anonymous-dial-plan", list(List.of("*")));
            // Later lines win in HOCON, so set(...) overrides any of the above.
            extra.forEach((key, value) -> line(out, key, value));
            return out.toString();
        }

        private static void line(StringBuilder out, String key, String value) {
            out.append(key).append(" = ").append(value).append('\n');
        }
    }

    /** A HOCON (JSON) string literal. */
    static String quote(String value) {
        StringBuilder out = new StringBuilder("\"");
        for (char c : value.toCharArray()) {
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                default -> {
                    if (c < 0x20) {
                        out.append(String.format("\\u%04x", (int) c));
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        return out.append('"').toString();
    }

    static String list(List<String> values) {
        List<String> quoted = new ArrayList<>();
        values.forEach(v -> quoted.add(quote(v)));
        return "[" + String.join(", ", quoted) + "]";
    }

    public static final class Builder {
        private final Settings settings = new Settings();
        private String name;
        /** The test named in the log's file name; null: the one on the starting thread's stack. */
        private String test;
        private Path jar;
        private final List<String> jvmArgs = defaultJvmArgs();
        private final Map<String, String> environment = new LinkedHashMap<>();
        private Duration startTimeout = Duration.ofSeconds(60);
        private Duration stopTimeout = Duration.ofSeconds(30);
        private int rtpPortCount = 200;

        private Builder() {}

        /** gateway.sip.servers, primary first (default: ["sandbox"]). */
        public Builder sipServers(String... servers) {
            settings.sipServers = List.of(servers);
            return this;
        }

        /** Any config key with a string value, written as a quoted HOCON string ("5 s", "true", "42" all work). */
        public Builder set(String key, String value) {
            return setHocon(key, quote(value));
        }

        /** Any config key with a list of strings (e.g. gateway.cors.allowed-origins). */
        public Builder set(String key, List<String> values) {
            return setHocon(key, list(values));
        }

        /** Any config key with a value written as raw HOCON (a number, an object, a list...). */
        public Builder setHocon(String key, String hoconValue) {
            if (!KEY.matcher(key).matches()) {
                throw new IllegalArgumentException("not a plain config path: " + key);
            }
            settings.extra.put(key, hoconValue);
            return this;
        }

        /** gateway.instance-id, also the log name (default "gw" plus a number unique in this JVM). */
        public Builder instanceId(String id) {
            settings.instanceId = id;
            return this;
        }

        /** Log name (default: the instance id). */
        public Builder name(String name) {
            this.name = name;
            return this;
        }

        public Builder httpPort(int port) {
            settings.httpPort = port;
            return this;
        }

        /**
         * HTTPS on a port chosen at run time, with the certificate from PEM files ({@code gateway.http.tls.certificate-chain}
         * and {@code private-key}); the plain-HTTP port stays (health probes). Other gateway.http.tls keys with {@link #set}.
         */
        public Builder https(Path certificateChain, Path privateKey) {
            settings.httpsPort = FreePorts.tcp();
            set("gateway.http.tls.certificate-chain", certificateChain.toAbsolutePath().toString());
            return set("gateway.http.tls.private-key", privateKey.toAbsolutePath().toString());
        }

        /**
         * SIP over TLS on a port chosen at run time, with the gateway's certificate from PEM files and the CAs it
         * trusts for SIP Servers' certificates ({@code gateway.sip.tls.*}; others with {@link #set}).
         */
        public Builder sipTls(Path certificateChain, Path privateKey, Path trustedCertificates) {
            settings.sipTlsPort = FreePorts.tcp();
            set("gateway.sip.tls.certificate-chain", certificateChain.toAbsolutePath().toString());
            set("gateway.sip.tls.private-key", privateKey.toAbsolutePath().toString());
            return set("gateway.sip.tls.trusted-certificates", trustedCertificates.toAbsolutePath().toString());
        }

        public Builder sipPort(int port) {
            settings.sipPort = port;
            return this;
        }

        public Builder rtpPortCount(int count) {
            this.rtpPortCount = count;
            return this;
        }

        /** The jar to run (default: system property it.standaloneJar, else target/webrtc-gateway-standalone.jar). */
        public Builder jar(Path jar) {
            this.jar = jar;
            return this;
        }

        /**
         * -Xmx512m -XX:+UseSerialGC, then the options in the system property {@value #JVM_ARGS_PROPERTY} (blank
         * separated; the pom gives the ITs -XX:TieredStopAtLevel=1, the benches none).
         */
        private static List<String> defaultJvmArgs() {
            List<String> args = new ArrayList<>(List.of("-Xmx512m", "-XX:+UseSerialGC"));
            String extra = System.getProperty(JVM_ARGS_PROPERTY, "").trim();
            if (!extra.isEmpty()) {
                args.addAll(List.of(extra.split("\\s+")));
            }
            return args;
        }

        /** Extra JVM options after the defaults ({@link #defaultJvmArgs}); a later -Xmx wins. */
        public Builder jvmArgs(String... args) {
            jvmArgs.addAll(List.of(args));
            return this;
        }

        public Builder env(String name, String value) {
            environment.put(name, value);
            return this;
        }

        public Builder startTimeout(Duration timeout) {
            this.startTimeout = timeout;
            return this;
        }

        public Builder stopTimeout(Duration timeout) {
            this.stopTimeout = timeout;
            return this;
        }

        /** Picks the unset ports, fills in defaults; does not write or start anything. */
        Settings settings() {
            if (settings.instanceId == null) {
                settings.instanceId = "gw" + INSTANCE_NUMBERS.incrementAndGet();
            }
            if (settings.httpPort == 0) {
                settings.httpPort = FreePorts.tcp();
            }
            if (settings.sipPort == 0) {
                settings.sipPort = FreePorts.udpAndTcp();
            }
            if (settings.sandboxPort == 0) {
                settings.sandboxPort = FreePorts.udpAndTcp();
            }
            if (settings.rtpPorts == null) {
                settings.rtpPorts = FreePorts.udpRange(rtpPortCount);
                settings.rtpPortsPicked = true;
            }
            return settings;
        }

        /** Writes the config and starts the jar; waits until GET /health/live answers 200 (default 60 s). */
        public GatewayProcess start() {
            Path jarFile = jar != null ? jar : defaultJar();
            if (!Files.isRegularFile(jarFile)) {
                throw new AssertionError("gateway jar " + jarFile + " does not exist: run `mvn package` first"
                        + " (failsafe passes it as -D" + JAR_PROPERTY + ")");
            }
            Settings s = settings();
            String logName = name != null ? name : s.instanceId;
            Path logFile = ItLogs.file(test != null ? test : ItLogs.testName(), logName, "log");
            Path configFile = logFile.resolveSibling(logFile.getFileName().toString().replaceFirst("\\.log$", ".conf"));
            try {
                Files.writeString(configFile, s.hocon());
            } catch (IOException e) {
                throw new UncheckedIOException("cannot write " + configFile, e);
            }
            Path java = Path.of(System.getProperty("java.home"), "bin", "java");
            List<String> command = new ArrayList<>();
            command.add(java.toString());
            command.addAll(jvmArgs);
            command.addAll(List.of("-jar", jarFile.toAbsolutePath().toString()));
            Map<String, String> env = new LinkedHashMap<>(environment);
            env.put("GATEWAY_CONFIG", configFile.toString());
            GatewayProcess gateway = new GatewayProcess(logName, command, env, logFile, s, configFile,
                    startTimeout, stopTimeout);
            gateway.launchAndAwaitLive();
            return gateway;
        }

        private static Path defaultJar() {
            String property = System.getProperty(JAR_PROPERTY);
            return property != null && !property.isBlank()
                    ? Path.of(property)
                    : Path.of("target", "webrtc-gateway-standalone.jar").toAbsolutePath();
        }
    }
}
