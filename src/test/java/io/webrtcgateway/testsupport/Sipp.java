package io.webrtcgateway.testsupport;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

/**
 * SIPp (Debian sip-tester, 3.6.1) running one scenario from {@code src/test/resources/sipp/} on
 * 127.0.0.1 (or another loopback address, {@link Builder#localAddress}), usually as the SIP Server the
 * gateway registers with.
 *
 * <pre>
 * try (Sipp registrar = Sipp.scenario("registrar-ok.xml").start()) {
 *     ... gateway.sip.servers = [registrar.serverEntry()] ...
 *     registrar.awaitRequests("REGISTER", 1, Duration.ofSeconds(10));
 * }
 * </pre>
 *
 * Every message SIPp sends or receives is traced ({@code -trace_msg}) to
 * {@code target/it-logs/<test>-<name>-messages.log}, which {@link #received()} and friends read; unexpected
 * messages and scenario warnings go to {@code ...-errors.log}, statistics to {@code ...-stats.csv}.
 * The SIPp process runs without its interactive screen ({@code -nostdin}); its periodic screen output
 * lands in the main log.
 */
public final class Sipp extends PeerProcess {

    public enum Transport {
        UDP("u1", "udp"), TCP("t1", "tcp");

        private final String sippMode;
        private final String uriParam;

        Transport(String sippMode, String uriParam) {
            this.sippMode = sippMode;
            this.uriParam = uriParam;
        }
    }

    private final String localAddress;
    private final int port;
    private final Transport transport;
    private final Path scenario;
    private final SippMessageLog messages;
    private final Path errorLog;
    private final Duration startTimeout;

    private Sipp(String name, List<String> command, Path workDir, Path logFile, String localAddress, int port,
            Transport transport, Path scenario, Path messageLog, Path errorLog, Duration startTimeout) {
        // SIPp draws its screen with curses; without TERM it may refuse to start.
        super(name, command, Map.of("TERM", "dumb"), workDir, logFile);
        this.localAddress = localAddress;
        this.port = port;
        this.transport = transport;
        this.scenario = scenario;
        this.messages = new SippMessageLog(messageLog);
        this.errorLog = errorLog;
        this.startTimeout = startTimeout;
    }

    /**
     * A scenario: a file name from {@code src/test/resources/sipp/} (found on the test class path, e.g.
     * "registrar-ok.xml") or a path to any scenario file.
     */
    public static Builder scenario(String scenario) {
        return new Builder(resolveScenario(scenario));
    }

    public int port() {
        return port;
    }

    public Transport transport() {
        return transport;
    }

    public Path scenarioFile() {
        return scenario;
    }

    /** "127.0.0.1:port" (the local address it was started on). */
    public String address() {
        return localAddress + ":" + port;
    }

    /** This SIPp as an entry of gateway.sip.servers: "127.0.0.1:port", plus ";transport=tcp" over TCP. */
    public String serverEntry() {
        return transport == Transport.UDP ? address() : address() + ";transport=" + transport.uriParam;
    }

    public Path messageLog() {
        return messages.file();
    }

    public Path errorLog() {
        return errorLog;
    }

    /** The statistics CSV ({@code -trace_stat}: a line every second and a last one at exit). */
    public Path statsFile() {
        return logFile().resolveSibling(logFile().getFileName().toString().replaceFirst("\\.log$", "") + "-stats.csv");
    }

    /** Every message SIPp sent or received so far with its time, oldest first (for timing: {@code Entry.instant()}). */
    public List<SippMessageLog.Entry> messageEntries() {
        return messages.entries();
    }

    /** Every message SIPp received so far, oldest first. */
    public List<SipMessage> received() {
        return messages.received();
    }

    /** Every message SIPp sent so far (its responses), oldest first. */
    public List<SipMessage> sent() {
        return messages.sent();
    }

    /** Received requests of {@code method} ("REGISTER", "OPTIONS", ...). */
    public List<SipMessage> receivedRequests(String method) {
        return received().stream().filter(m -> m.isRequest() && m.method().equals(method)).toList();
    }

    /** The text of every request received, oldest first (for assertion messages and logs). */
    public List<String> receivedRequestTexts() {
        return received().stream().filter(SipMessage::isRequest).map(SipMessage::text).toList();
    }

    /** REGISTERs that remove their binding (Expires: 0 or ;expires=0). */
    public List<SipMessage> unregisters() {
        return received().stream().filter(SipMessage::isUnregister).toList();
    }

    /** Responses SIPp sent with {@code status}, e.g. 401 challenges or 403 refusals. */
    public List<SipMessage> sentResponses(int status) {
        return sent().stream().filter(m -> m.status() == status).toList();
    }

    /** Waits until at least {@code count} requests of {@code method} were received; returns them all. */
    public List<SipMessage> awaitRequests(String method, int count, Duration timeout) {
        return awaitReceived(m -> m.isRequest() && m.method().equals(method), count, timeout,
                count + " " + method + " request(s) at " + name());
    }

    /** Waits until at least {@code count} received messages match; returns the matching ones. */
    public List<SipMessage> awaitReceived(Predicate<SipMessage> matching, int count, Duration timeout, String what) {
        List<SipMessage> found = Poll.until(timeout, what, () -> {
            List<SipMessage> matches = received().stream().filter(matching).toList();
            if (matches.size() < count) {
                requireAlive("waiting for " + what);
            }
            return matches;
        }, matches -> matches.size() >= count);
        return found;
    }

    /** Waits for an un-REGISTER (Expires 0) of {@code user} (the user part of its To URI). */
    public SipMessage awaitUnregister(String user, Duration timeout) {
        return awaitReceived(m -> m.isUnregister() && m.toUser().equals(user), 1, timeout,
                "un-REGISTER of " + user + " at " + name()).get(0);
    }

    /**
     * What SIPp wrote to its error log: unexpected messages, aborted calls, scenario warnings. Note that
     * registrar-digest.xml logs "verifyAuthHeader: authentication must be digest" for every REGISTER
     * without credentials (that is how it decides to challenge).
     */
    public String errors() {
        try {
            return Files.readString(errorLog, StandardCharsets.ISO_8859_1);
        } catch (NoSuchFileException e) {
            return "";
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + errorLog, e);
        }
    }

    /** The count of unexpected messages SIPp reported (an "Aborting call on unexpected message" each). */
    public long unexpectedMessageCount() {
        return errors().lines().filter(l -> l.contains("unexpected message")).count();
    }

    /**
     * Stops SIPp and starts it again on the same port with the same scenario, as a SIP Server that
     * restarts would; the logs continue (what it saw before stays in {@link #received()}). Its calls
     * (registration state per Call-ID) start over.
     */
    public void restart() {
        stop();
        launchAndAwaitListening();
    }

    /** Starts it again after {@link #stop()} or {@link #kill9()}, on the same port (e.g. "primary is back"). */
    public void startAgain() {
        launchAndAwaitListening();
    }

    private void launchAndAwaitListening() {
        launch();
        try {
            Poll.until(startTimeout, name() + " listening on " + transport + " " + address(), () -> {
                requireAlive("starting");
                return transport == Transport.UDP ? FreePorts.udpBound(port) : FreePorts.tcpListening(port);
            });
        } catch (RuntimeException | Error e) {
            kill9();
            throw e;
        }
    }

    private static Path resolveScenario(String scenario) {
        Path direct = Path.of(scenario);
        if (Files.isRegularFile(direct)) {
            return direct.toAbsolutePath();
        }
        URL url = Sipp.class.getClassLoader().getResource("sipp/" + scenario);
        if (url == null) {
            throw new IllegalArgumentException("no SIPp scenario " + scenario
                    + " (neither a file nor src/test/resources/sipp/" + scenario + ")");
        }
        try {
            return Path.of(url.toURI());
        } catch (URISyntaxException | IllegalArgumentException e) {
            throw new IllegalArgumentException("scenario " + url + " is not a plain file", e);
        }
    }

    public static final class Builder {
        private final Path scenario;
        private String name;
        private String localAddress = "127.0.0.1";
        private int port;
        private Transport transport = Transport.UDP;
        private String remote;
        private Integer maxCalls;
        private final Map<String, String> keys = new LinkedHashMap<>();
        private final List<String> extraArgs = new ArrayList<>();
        private Duration startTimeout = Duration.ofSeconds(10);
        private boolean traceMessages = true;

        private Builder(Path scenario) {
            this.scenario = scenario;
            String file = scenario.getFileName().toString();
            this.name = "sipp-" + (file.endsWith(".xml") ? file.substring(0, file.length() - 4) : file);
        }

        /** Log name (default "sipp-&lt;scenario&gt;"); use e.g. "primary" and "backup" for two registrars. */
        public Builder name(String name) {
            this.name = name;
            return this;
        }

        /**
         * {@code -i}: the local address SIPp binds and sends from (default 127.0.0.1), e.g. "127.0.0.2" for a
         * peer the gateway does not know as its SIP Server.
         */
        public Builder localAddress(String address) {
            this.localAddress = address;
            return this;
        }

        /** Local port (default: one free for both UDP and TCP). */
        public Builder port(int port) {
            this.port = port;
            return this;
        }

        public Builder transport(Transport transport) {
            this.transport = transport;
            return this;
        }

        /** Remote "host:port" for client (UAC) scenarios; a registrar needs none. */
        public Builder remote(String hostPort) {
            this.remote = hostPort;
            return this;
        }

        /** {@code -m}: stop after this many calls (SIPp calls = Call-IDs); the registrar scenarios loop forever. */
        public Builder maxCalls(int calls) {
            this.maxCalls = calls;
            return this;
        }

        /** {@code -key name value}: the scenario's {@code [name]} keyword. */
        public Builder key(String name, String value) {
            keys.put(name, value);
            return this;
        }

        /** The password registrar-digest.xml accepts for every user ({@code -key password ...}). */
        public Builder password(String password) {
            return key("password", password);
        }

        /** Any further SIPp options, e.g. "-buff_size", "4194304". */
        public Builder args(String... args) {
            extraArgs.addAll(List.of(args));
            return this;
        }

        public Builder startTimeout(Duration timeout) {
            this.startTimeout = timeout;
            return this;
        }

        /**
         * Whether every message is written to the message log (default true). Off only for load
         * measurements: {@link #received()} and the await methods then see nothing.
         */
        public Builder traceMessages(boolean trace) {
            this.traceMessages = trace;
            return this;
        }

        /** Starts SIPp and waits until it listens on its port; fails if sipp is missing or exits. */
        public Sipp start() {
            Path sipp = executable("sipp", "sip-tester");
            String test = ItLogs.testName();
            Path logFile = ItLogs.file(test, name, "log");
            String base = logFile.getFileName().toString().replaceFirst("\\.log$", "");
            Path messageLog = logFile.resolveSibling(base + "-messages.log");
            Path errorLog = logFile.resolveSibling(base + "-errors.log");
            Path statFile = logFile.resolveSibling(base + "-stats.csv");
            try {
                // logs of an earlier build; this run appends to them across restarts
                for (Path old : List.of(messageLog, errorLog, statFile)) {
                    Files.deleteIfExists(old);
                }
            } catch (IOException e) {
                throw new UncheckedIOException("cannot delete old SIPp logs", e);
            }
            int localPort = port != 0 ? port : FreePorts.udpAndTcp();

            List<String> command = new ArrayList<>(List.of(sipp.toString(),
                    "-sf", scenario.toString(),
                    "-i", localAddress,
                    "-p", String.valueOf(localPort),
                    "-t", transport.sippMode,
                    "-nostdin",
                    // SIPp's UDP control socket otherwise hunts upwards from 8888; parallel SIPps then race.
                    "-cp", String.valueOf(FreePorts.udp()),
                    "-trace_err", "-error_file", errorLog.toString(), "-error_overwrite", "false",
                    "-trace_stat", "-stf", statFile.toString(), "-fd", "1"));
            if (traceMessages) {
                // appended, not overwritten, so a restarted SIPp keeps what it saw before
                command.addAll(List.of("-trace_msg", "-message_file", messageLog.toString(),
                        "-message_overwrite", "false"));
            }
            if (maxCalls != null) {
                command.addAll(List.of("-m", String.valueOf(maxCalls)));
            }
            keys.forEach((k, v) -> command.addAll(List.of("-key", k, v)));
            command.addAll(extraArgs);
            if (remote != null) {
                command.add(remote);
            }
            Sipp peer = new Sipp(name, command, ItLogs.dir(), logFile, localAddress, localPort, transport, scenario,
                    messageLog, errorLog, startTimeout);
            peer.launchAndAwaitListening();
            return peer;
        }
    }
}
