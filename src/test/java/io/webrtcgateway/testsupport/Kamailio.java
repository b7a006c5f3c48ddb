package io.webrtcgateway.testsupport;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Stream;

/**
 * Kamailio 5.6 as a real registrar and proxy on 127.0.0.1 (UDP and TCP on one port, and optionally TLS on another:
 * {@link Builder#tls}): registrar + usrloc in
 * memory (db_mode 0), optionally digest authentication of REGISTERs with one password for every user;
 * OPTIONS to the server itself answered 200; any other request for a registered user relayed to its
 * contact ({@code lookup("location")} + {@code t_relay()}, dialogs record-routed, so BYE and re-INVITEs pass
 * through it too), 404 for an unknown user. Its bindings are read back through kamcmd ({@code ul.dump})
 * over a ctl socket in a private directory.
 *
 * <pre>
 * try (Kamailio registrar = Kamailio.builder().start()) {
 *     ... gateway.sip.servers = [registrar.serverEntry()] ...
 *     Poll.until(Duration.ofSeconds(10), "2 AoRs", () -&gt; registrar.contacts().size() == 2);
 * }
 * </pre>
 *
 * With {@code use_domain} off (the default) the AoR key is the user part: "1001", not "1001@host".
 */
public final class Kamailio extends PeerProcess {

    private final int port;
    /** 0: no TLS. */
    private final int tlsPort;
    private final Path configFile;
    private final Path runDir;
    private final Path ctlSocket;

    private Kamailio(String name, List<String> command, Path runDir, Path logFile, int port, int tlsPort,
            Path configFile, Path ctlSocket) {
        super(name, command, Map.of(), runDir, logFile);
        this.port = port;
        this.tlsPort = tlsPort;
        this.configFile = configFile;
        this.runDir = runDir;
        this.ctlSocket = ctlSocket;
    }

    public static Builder builder() {
        return new Builder();
    }

    public int port() {
        return port;
    }

    /** "127.0.0.1:port". */
    public String address() {
        return "127.0.0.1:" + port;
    }

    /** This registrar as an entry of gateway.sip.servers over UDP. */
    public String serverEntry() {
        return address();
    }

    /** This registrar as an entry of gateway.sip.servers over TCP. */
    public String tcpServerEntry() {
        return address() + ";transport=tcp";
    }

    /** The TLS port (0 without {@link Builder#tls}). */
    public int tlsPort() {
        return tlsPort;
    }

    /** This registrar over TLS as an entry of gateway.sip.servers, reached by {@code host} (its certificate's name). */
    public String tlsServerEntry(String host) {
        return host + ":" + tlsPort + ";transport=tls";
    }

    public Path configFile() {
        return configFile;
    }

    public Path ctlSocket() {
        return ctlSocket;
    }

    /** Output of {@code kamcmd -s <ctl socket> <command...>}; fails if kamcmd fails. */
    public String kamcmd(String... command) {
        List<String> args = new ArrayList<>(List.of(executable("kamcmd", "kamailio").toString(),
                "-s", "unix:" + ctlSocket));
        args.addAll(List.of(command));
        Process p;
        try {
            p = new ProcessBuilder(args).redirectErrorStream(true)
                    .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot run " + args, e);
        }
        CompletableFuture<String> output = CompletableFuture.supplyAsync(() -> readAll(p.getInputStream()));
        try {
            if (!p.waitFor(10, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IllegalStateException("kamcmd " + String.join(" ", command) + " hung for 10 s");
            }
            String text = output.get(5, TimeUnit.SECONDS);
            if (p.exitValue() != 0) {
                throw new IllegalStateException("kamcmd " + String.join(" ", command) + " exited with "
                        + p.exitValue() + ": " + text.strip());
            }
            return text;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted running kamcmd", e);
        } catch (ExecutionException | TimeoutException e) {
            throw new IllegalStateException("cannot read kamcmd output", e);
        }
    }

    /** Every binding: AoR -> contact addresses (sorted by AoR; contacts in kamailio's order). */
    public Map<String, List<String>> contacts() {
        return parseUlDump(kamcmd("ul.dump"));
    }

    /** The contact addresses bound to {@code aor} (the user part, e.g. "1001"); empty if none. */
    public List<String> contacts(String aor) {
        return contacts().getOrDefault(aor, List.of());
    }

    /** Parses kamcmd's text rendering of {@code ul.dump}: "AoR: x" starts a record, "Address: y" is a contact. */
    static Map<String, List<String>> parseUlDump(String dump) {
        Map<String, List<String>> bindings = new TreeMap<>();
        String aor = null;
        for (String raw : dump.split("\r?\n")) {
            String line = raw.strip();
            if (line.startsWith("AoR:")) {
                aor = line.substring("AoR:".length()).strip();
                bindings.putIfAbsent(aor, new ArrayList<>());
            } else if (line.startsWith("Address:") && aor != null) {
                bindings.get(aor).add(line.substring("Address:".length()).strip());
            }
        }
        bindings.replaceAll((k, v) -> List.copyOf(v));
        return bindings;
    }

    @Override
    public synchronized int stop() {
        int code = super.stop();
        deleteRunDir();
        return code;
    }

    @Override
    public synchronized int kill9() {
        int code = super.kill9();
        deleteRunDir();
        return code;
    }

    private void deleteRunDir() {
        try (Stream<Path> files = Files.walk(runDir)) {
            files.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
        } catch (IOException e) {
            // a leftover temp dir is harmless
        }
    }

    private void awaitReady(Duration timeout) {
        Poll.until(timeout, name() + " answering on its ctl socket and listening on " + address(), () -> {
            requireAlive("starting");
            if (!Files.exists(ctlSocket) || !FreePorts.udpBound(port) || !FreePorts.tcpListening(port)
                    || (tlsPort != 0 && !FreePorts.tcpListening(tlsPort))) {
                return false;
            }
            kamcmd("core.uptime");
            return true;
        });
    }

    private static String readAll(InputStream in) {
        try (in) {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            in.transferTo(out);
            return out.toString(StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The kamailio.cfg this wrapper runs (kamailio 5.6 syntax, checked with {@code kamailio -c}). */
    static String config(int port, Path ctlSocket, String password, int minExpires, int maxExpires) {
        return config(port, ctlSocket, password, minExpires, maxExpires, 0, null);
    }

    /**
     * With {@code tlsPort} and {@code tlsConfig}: also SIP over TLS on that port (module tls.so, Debian's
     * kamailio-tls-modules), its certificate and key named in the tls.cfg at {@code tlsConfig}.
     */
    static String config(int port, Path ctlSocket, String password, int minExpires, int maxExpires, int tlsPort,
            Path tlsConfig) {
        return config(port, ctlSocket, password, minExpires, maxExpires, tlsPort, tlsConfig, null);
    }

    /**
     * With {@code sipsUser}: requests for that user leave with a {@code sips:} Request-URI (its contact's, the
     * scheme changed and the parameters dropped), and every reply's status and Contact is logged.
     */
    static String config(int port, Path ctlSocket, String password, int minExpires, int maxExpires, int tlsPort,
            Path tlsConfig, String sipsUser) {
        return config(port, ctlSocket, password, minExpires, maxExpires, tlsPort, tlsConfig, sipsUser, null);
    }

    /**
     * With {@code callAuth}: INVITEs that open a dialog and BYEs from its users need Proxy-Authorization (realm
     * {@value #CALL_REALM}); each challenge and each accepted answer is logged ("challenged INVITE from 2001 Call-ID
     * ...", "authenticated ...").
     */
    static String config(int port, Path ctlSocket, String password, int minExpires, int maxExpires, int tlsPort,
            Path tlsConfig, String sipsUser, CallAuth callAuth) {
        String calls = callAuth == null ? "" : """
                    # A proxy that wants credentials on calls of these users (RFC 3261 §22.3): new INVITEs and BYEs.
                    if ($fU =~ "%1$s" && (is_method("BYE") || (is_method("INVITE") && !has_totag()))) {
                        if (!pv_proxy_authenticate("%2$s", "%3$s", "0")) {
                            xlog("L_INFO", "challenged $rm from $fU Call-ID $ci\\n");
                            proxy_challenge("%2$s", "1");
                            exit;
                        }
                        xlog("L_INFO", "authenticated $rm from $fU Call-ID $ci\\n");
                        consume_credentials();
                    }
                """.formatted(callAuth.usersRegex(), CALL_REALM,
                        callAuth.password().replace("\\", "\\\\").replace("\"", "\\\""));
        String sips = sipsUser == null ? "" : """
                    if ($rU == "%s") {
                        $ru = $(ru{re.subst,/^sip:([^;]*).*/sips:\\1/});
                    }
                """.formatted(sipsUser);
        String replies = sipsUser == null ? "" : """
                onreply_route {
                    xlog("L_INFO", "reply $rs to $rm Call-ID $ci Contact $ct\n");
                }
                """;
        String tls = tlsPort == 0 ? "" : """
                enable_tls=yes
                listen=tls:127.0.0.1:%1$d
                loadmodule "tls.so"
                modparam("tls", "config", "%2$s")
                """.formatted(tlsPort, tlsConfig);
        String register = password == null
                ? """
                        if (!save("location")) {
                            sl_reply_error();
                        }
                        exit;
                """
                : """
                        # one password for every user; realm = the To domain (RFC 3261 §22.4)
                        if (!pv_www_authenticate("$td", "%s", "0")) {
                            www_challenge("$td", "0");
                            exit;
                        }
                        consume_credentials();
                        if (!save("location")) {
                            sl_reply_error();
                        }
                        exit;
                """.formatted(password.replace("\\", "\\\\").replace("\"", "\\\""));
        return """
                #!KAMAILIO
                # Generated by io.webrtcgateway.testsupport.Kamailio for one test run.
                debug=2
                log_stderror=yes
                children=2
                tcp_children=2
                auto_aliases=no
                disable_sctp=yes
                listen=udp:127.0.0.1:%1$d
                listen=tcp:127.0.0.1:%1$d
                %6$s

                loadmodule "kex.so"
                loadmodule "textops.so"
                loadmodule "sl.so"
                loadmodule "pv.so"
                loadmodule "xlog.so"
                loadmodule "usrloc.so"
                loadmodule "registrar.so"
                loadmodule "ctl.so"
                loadmodule "auth.so"
                loadmodule "tm.so"
                loadmodule "rr.so"
                loadmodule "maxfwd.so"
                loadmodule "siputils.so"

                modparam("usrloc", "db_mode", 0)
                modparam("registrar", "min_expires", %3$d)
                modparam("registrar", "max_expires", %4$d)
                modparam("ctl", "binrpc", "unix:%2$s")

                request_route {
                    xlog("L_INFO", "$rm $ru from $si:$sp ($proto) Call-ID $ci\\n");
                    if (!mf_process_maxfwd_header("10")) {
                        sl_send_reply("483", "Too Many Hops");
                        exit;
                    }
                    if (is_method("OPTIONS") && $rU == $null) {
                        sl_send_reply("200", "OK");
                        exit;
                    }
                    if (is_method("REGISTER")) {
                %5$s    }
                %9$s
                    # Requests within a dialog follow its route set (RFC 3261 §16.12, loose routing).
                    if (has_totag()) {
                        if (loose_route()) {
                            if (!t_relay()) {
                                sl_reply_error();
                            }
                        } else if (is_method("ACK")) {
                            if (t_check_trans()) {
                                t_relay();
                            }
                        } else {
                            sl_send_reply("404", "Not Here");
                        }
                        exit;
                    }
                    if (is_method("CANCEL")) {
                        if (t_check_trans()) {
                            t_relay();
                        }
                        exit;
                    }
                    t_check_trans();
                    # A new dialog or a stand-alone request: to the registered contact of its user.
                    if (is_method("INVITE|SUBSCRIBE")) {
                        record_route();
                    }
                    if (!lookup("location")) {
                        sl_send_reply("404", "Not Found");
                        exit;
                    }
                %7$s
                    if (!t_relay()) {
                        sl_reply_error();
                    }
                }
                %8$s
                """.formatted(port, ctlSocket, minExpires, maxExpires, register, tls, sips, replies, calls);
    }

    /** The realm of {@link Builder#challengeCalls}'s challenges. */
    public static final String CALL_REALM = "kamailio.test";

    /** Users (their From user) whose calls must carry Proxy-Authorization with {@code password}. */
    record CallAuth(List<String> users, String password) {
        String usersRegex() {
            return "^(" + String.join("|", users.stream().map(u -> u.replaceAll("[^A-Za-z0-9]", "")).toList()) + ")$";
        }
    }

    /**
     * The log lines "{@code outcome} {@code method} from {@code user} Call-ID ..." so far, {@code outcome} being
     * "challenged" or "authenticated" ({@link Builder#challengeCalls}).
     */
    public List<String> callAuthLog(String outcome, String method, String user) {
        try {
            return Files.readAllLines(logFile(), StandardCharsets.UTF_8).stream()
                    .filter(l -> l.contains(outcome + " " + method + " from " + user + " Call-ID ")).toList();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + logFile(), e);
        }
    }

    public static final class Builder {
        private String name = "kamailio";
        private int port;
        private String password;
        private int minExpires = 0;
        private int maxExpires = 3600;
        private Duration startTimeout = Duration.ofSeconds(20);
        private int tlsPort;
        private Path certificate;
        private Path privateKey;
        private String sipsUser;
        private CallAuth callAuth;

        private Builder() {}

        /**
         * Acts as a proxy that authenticates calls (RFC 3261 §22.3): an INVITE that opens a dialog, or a BYE, whose
         * From user is one of {@code users} gets 407 with a challenge (realm {@value Kamailio#CALL_REALM}, qop=auth)
         * unless its Proxy-Authorization answers one with {@code password}. REGISTERs are not affected.
         */
        public Builder challengeCalls(String password, String... users) {
            this.callAuth = new CallAuth(List.of(users), password);
            return this;
        }

        /** Requests for {@code user} leave Kamailio with a sips: Request-URI; replies are logged with their Contact. */
        public Builder sipsTo(String user) {
            this.sipsUser = user;
            return this;
        }

        /**
         * Also SIP over TLS (TLS 1.2 and later), on a free port unless {@link #tlsPort} says which, with this
         * certificate (PEM: the server's certificate, then its CA) and key. It does not ask clients for
         * certificates and does not verify the servers it connects to (the gateway's TLS listening point).
         */
        public Builder tls(Path certificateChain, Path key) {
            this.certificate = certificateChain;
            this.privateKey = key;
            return this;
        }

        public Builder tlsPort(int port) {
            this.tlsPort = port;
            return this;
        }

        public Builder name(String name) {
            this.name = name;
            return this;
        }

        /** Port for UDP and TCP (default: a free one). */
        public Builder port(int port) {
            this.port = port;
            return this;
        }

        /** Require digest authentication with this password for every user (default: none). */
        public Builder password(String password) {
            this.password = password;
            return this;
        }

        /** Shortest expiry accepted (shorter gets 423); default 0: any. */
        public Builder minExpires(int seconds) {
            this.minExpires = seconds;
            return this;
        }

        /** Longest expiry granted (longer is cut down to it); default 3600. */
        public Builder maxExpires(int seconds) {
            this.maxExpires = seconds;
            return this;
        }

        public Builder startTimeout(Duration timeout) {
            this.startTimeout = timeout;
            return this;
        }

        /** Writes the config, starts kamailio in the foreground and waits until kamcmd gets answers. */
        public Kamailio start() {
            Path kamailio = executable("kamailio", "kamailio");
            executable("kamcmd", "kamailio");
            String test = ItLogs.testName();
            Path logFile = ItLogs.file(test, name, "log");
            Path configFile = logFile.resolveSibling(logFile.getFileName().toString().replaceFirst("\\.log$", ".cfg"));
            int sipPort = port != 0 ? port : FreePorts.udpAndTcp();
            int tls = certificate == null ? 0 : tlsPort != 0 ? tlsPort : FreePorts.tcp();
            Path runDir;
            try {
                // the ctl socket path must stay short (a unix socket name is at most 107 bytes)
                runDir = Files.createTempDirectory("kamailio-");
                Path tlsConfig = runDir.resolve("tls.cfg");
                if (tls != 0) {
                    Files.writeString(tlsConfig, """
                            [server:default]
                            method = TLSv1.2+
                            verify_certificate = no
                            require_certificate = no
                            certificate = %1$s
                            private_key = %2$s

                            [client:default]
                            method = TLSv1.2+
                            verify_certificate = no
                            require_certificate = no
                            """.formatted(certificate, privateKey));
                }
                Files.writeString(configFile, config(sipPort, runDir.resolve("ctl.sock"), password, minExpires,
                        maxExpires, tls, tlsConfig, sipsUser, callAuth));
            } catch (IOException e) {
                throw new UncheckedIOException("cannot write the kamailio config", e);
            }
            List<String> command = List.of(kamailio.toString(),
                    "-DD", "-E",                      // foreground (children forked), log to stderr
                    "-f", configFile.toString(),
                    "-w", runDir.toString(),
                    "-Y", runDir.toString(),
                    "-P", runDir.resolve("kamailio.pid").toString(),
                    "-m", "64", "-M", "8");
            Kamailio peer = new Kamailio(name, command, runDir, logFile, sipPort, tls, configFile,
                    runDir.resolve("ctl.sock"));
            peer.launch();
            try {
                peer.awaitReady(startTimeout);
            } catch (RuntimeException | Error e) {
                peer.kill9();
                throw e;
            }
            return peer;
        }
    }
}
