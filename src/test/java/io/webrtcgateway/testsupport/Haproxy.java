package io.webrtcgateway.testsupport;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * HAProxy running the shipped {@code deploy/haproxy/haproxy.cfg}, rendered for loopback the way
 * {@code deploy/cluster/cluster.sh} renders it: its "bind" line on a free port, its runtime socket in a
 * private directory, and one server line per gateway between the "# BEGIN servers" / "# END servers"
 * markers. Everything else (affinity, health checks, timeouts, redispatch) is the file as shipped.
 *
 * <pre>
 * try (Haproxy lb = Haproxy.start(List.of(gw1, gw2, gw3))) {
 *     ... lb.httpUrl() ... lb.serverStates() ...
 * }
 * </pre>
 */
public final class Haproxy extends PeerProcess {
    public static final Path SHIPPED_CONFIG = Path.of("deploy", "haproxy", "haproxy.cfg");
    private static final Pattern BIND = Pattern.compile("(?m)^(\\s*)bind \\S+.*$");
    private static final Pattern STATS_SOCKET = Pattern.compile("stats socket \\S+");
    private static final Pattern SERVERS = Pattern.compile("(?ms)^(\\s*# BEGIN servers[^\\n]*\\n).*?^(\\s*# END servers)");

    private final int port;
    private final Path runDir;
    private final Path socket;

    private Haproxy(List<String> command, Path logFile, int port, Path runDir, Path socket) {
        super("haproxy", command, Map.of(), null, logFile);
        this.port = port;
        this.runDir = runDir;
        this.socket = socket;
    }

    /** Starts HAProxy in front of {@code gateways} (server name and cookie = instance id); waits until it listens. */
    public static Haproxy start(List<GatewayProcess> gateways) {
        Map<String, Integer> servers = new LinkedHashMap<>();
        gateways.forEach(g -> servers.put(g.instanceId(), g.httpPort()));
        return start(servers);
    }

    /** Starts HAProxy in front of the given instance id -> HTTP port. */
    public static Haproxy start(Map<String, Integer> servers) {
        Path haproxy = executable("haproxy", "haproxy");
        int port = FreePorts.tcp();
        Path runDir;
        Path logFile = ItLogs.file(ItLogs.testName(), "haproxy", "log");
        Path config = logFile.resolveSibling(logFile.getFileName().toString().replaceFirst("\\.log$", ".cfg"));
        try {
            runDir = Files.createTempDirectory("haproxy-"); // the socket path must stay short
            Files.writeString(config, render(Files.readString(SHIPPED_CONFIG), port, runDir.resolve("admin.sock"),
                    servers));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot render " + SHIPPED_CONFIG.toAbsolutePath()
                    + " (run the test from the project directory)", e);
        }
        Haproxy lb = new Haproxy(List.of(haproxy.toString(), "-db", "-f", config.toString()), logFile, port,
                runDir, runDir.resolve("admin.sock"));
        lb.launch();
        try {
            Poll.until(Duration.ofSeconds(10), "haproxy listening on 127.0.0.1:" + port, () -> {
                lb.requireAlive("starting");
                return FreePorts.tcpListening(port) && Files.exists(lb.socket);
            });
        } catch (RuntimeException | Error e) {
            lb.kill9();
            throw e;
        }
        return lb;
    }

    /** The shipped config with this run's bind address, runtime socket and servers. */
    static String render(String shipped, int port, Path socket, Map<String, Integer> servers) {
        StringBuilder lines = new StringBuilder();
        servers.forEach((id, httpPort) -> lines.append("    server ").append(id).append(" 127.0.0.1:")
                .append(httpPort).append(" cookie ").append(id).append('\n'));
        String out = BIND.matcher(shipped).replaceFirst("$1bind 127.0.0.1:" + port);
        out = STATS_SOCKET.matcher(out).replaceFirst("stats socket " + socket);
        var m = SERVERS.matcher(out);
        if (!m.find()) {
            throw new IllegalStateException(SHIPPED_CONFIG + " lost its '# BEGIN servers' / '# END servers' markers");
        }
        return out.substring(0, m.start()) + m.group(1) + lines + m.group(2) + out.substring(m.end());
    }

    public int port() {
        return port;
    }

    /** "http://127.0.0.1:port" (no trailing slash). */
    public String httpUrl() {
        return "http://127.0.0.1:" + port;
    }

    public String wsUrl() {
        return "ws://127.0.0.1:" + port + "/ws";
    }

    /** A command on HAProxy's runtime API (stats socket), e.g. "show stat"; returns the answer. */
    public String runtime(String command) {
        try (SocketChannel channel = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            channel.connect(UnixDomainSocketAddress.of(socket));
            channel.write(ByteBuffer.wrap((command + "\n").getBytes(StandardCharsets.US_ASCII)));
            ByteBuffer buffer = ByteBuffer.allocate(1 << 16);
            StringBuilder out = new StringBuilder();
            while (channel.read(buffer) >= 0) {
                buffer.flip();
                out.append(StandardCharsets.US_ASCII.decode(buffer));
                buffer.clear();
            }
            return out.toString();
        } catch (IOException e) {
            throw new UncheckedIOException("haproxy runtime API: " + command, e);
        }
    }

    /** Server name -> HAProxy's status of it in backend "gateways" ("UP", "DOWN", "NOLB", "UP 1/2", ...). */
    public Map<String, String> serverStates() {
        Map<String, String> states = new LinkedHashMap<>();
        String[] lines = runtime("show stat").split("\n");
        if (lines.length == 0 || !lines[0].startsWith("# ")) {
            throw new IllegalStateException("unexpected 'show stat' answer: " + String.join("\n", lines));
        }
        List<String> header = List.of(lines[0].substring(2).split(","));
        int px = header.indexOf("pxname");
        int sv = header.indexOf("svname");
        int status = header.indexOf("status");
        for (int i = 1; i < lines.length; i++) {
            String[] f = lines[i].split(",", -1);
            if (f.length > status && f[px].equals("gateways") && !f[sv].equals("BACKEND")) {
                states.put(f[sv], f[status]);
            }
        }
        return states;
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
            List<Path> all = new ArrayList<>(files.toList());
            all.sort(Comparator.reverseOrder());
            all.forEach(f -> f.toFile().delete());
        } catch (IOException e) {
            // a leftover temp dir is harmless
        }
    }
}
