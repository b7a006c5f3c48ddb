package io.webrtcgateway.testsupport;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;

/**
 * coturn 4.6 as a TURN relay on 127.0.0.1 for tests that force a browser to relay-only ICE.
 *
 * <pre>
 * try (Coturn turn = Coturn.start();
 *      ChromiumPeer browser = ChromiumPeer.builder().iceServers(turn.iceServersJson()).relayOnly().start()) {
 *     ...
 * }
 * </pre>
 *
 * One static long-term credential (RFC 8489 §9.2), UDP and TCP on one free port, relay ports from a free
 * range, all on loopback; {@code --allow-loopback-peers}, or coturn refuses to relay to 127.0.0.1 peers
 * (its default guards against relaying into the server's own host). No TLS/DTLS listeners, no CLI, no
 * configuration file; its own sqlite database and pid file live in a private directory. The log
 * (verbose: allocations, permissions, channel binds) is {@code target/it-logs/<test>-coturn.log}.
 * {@link #start()} returns once the server answers a STUN Binding request.
 */
public final class Coturn extends PeerProcess {

    public static final String REALM = "webrtc-gateway.test";
    private static final Duration START_TIMEOUT = Duration.ofSeconds(15);

    private final Path runDir;
    private final int port;
    private final FreePorts.Range relayPorts;
    private final String username;
    private final String password;

    private Coturn(List<String> command, Path runDir, Path logFile, int port, FreePorts.Range relayPorts,
            String username, String password) {
        super("coturn", command, Map.of(), runDir, logFile);
        this.runDir = runDir;
        this.port = port;
        this.relayPorts = relayPorts;
        this.username = username;
        this.password = password;
    }

    /** Starts turnserver and waits until it answers STUN; fails (never skips) when coturn is missing. */
    public static Coturn start() {
        Path binary;
        try {
            binary = executable("turnserver", "coturn");
        } catch (AssertionError missing) {
            throw new AssertionError("coturn not installed (no turnserver binary): " + INSTALL_HINT, missing);
        }
        int port = FreePorts.udpAndTcp();
        FreePorts.Range relayPorts = FreePorts.udpRange(100);
        String username = "it-user";
        String password = Long.toHexString(ThreadLocalRandom.current().nextLong());
        Path runDir;
        try {
            runDir = Files.createTempDirectory("gw-coturn-");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create a directory for coturn", e);
        }
        List<String> command = List.of(binary.toString(),
                "-n", // no turnserver.conf
                "--listening-ip", "127.0.0.1",
                "--relay-ip", "127.0.0.1",
                "--listening-port", String.valueOf(port),
                "--min-port", String.valueOf(relayPorts.low()),
                "--max-port", String.valueOf(relayPorts.high()),
                "--lt-cred-mech",
                "--user", username + ":" + password,
                "--realm", REALM,
                "--fingerprint",
                "--allow-loopback-peers",
                "--no-multicast-peers",
                "--no-tls", "--no-dtls", "--no-cli",
                "--userdb", runDir.resolve("turndb").toString(),
                "--pidfile", runDir.resolve("turnserver.pid").toString(),
                "--log-file", "stdout",
                "--verbose");
        Coturn coturn = new Coturn(command, runDir, ItLogs.file("coturn", "log"), port, relayPorts, username, password);
        coturn.launch();
        try {
            coturn.awaitStunAnswer();
        } catch (RuntimeException | AssertionError e) {
            coturn.stop();
            throw e;
        }
        return coturn;
    }

    public int port() {
        return port;
    }

    public FreePorts.Range relayPorts() {
        return relayPorts;
    }

    public String username() {
        return username;
    }

    public String password() {
        return password;
    }

    /** "turn:127.0.0.1:&lt;port&gt;?transport=udp". */
    public String turnUri() {
        return "turn:127.0.0.1:" + port + "?transport=udp";
    }

    /** The RTCIceServer list for a browser (ChromiumPeer.Builder#iceServers). */
    public String iceServersJson() {
        return "[{\"urls\":[\"" + turnUri() + "\"],\"username\":\"" + username + "\",\"credential\":\"" + password
                + "\"}]";
    }

    @Override
    public synchronized int stop() {
        int code = super.stop();
        try (var files = Files.list(runDir)) {
            for (Path file : files.toList()) {
                Files.deleteIfExists(file);
            }
            Files.deleteIfExists(runDir);
        } catch (IOException e) {
            // a temp directory left behind is harmless
        }
        return code;
    }

    /**
     * Polls with STUN Binding requests (RFC 8489 §6: no credentials needed) until one is answered, each
     * from a new port: coturn keeps a session per client address, and one created while it was still
     * starting could stay unanswered for good (1 start in 6 here when probing from one port).
     */
    private void awaitStunAnswer() {
        InetSocketAddress server = new InetSocketAddress(FreePorts.LOOPBACK, port);
        Poll.until(START_TIMEOUT, "coturn answering STUN on " + server, () -> {
            requireAlive("starting");
            return bindingAnswered(server);
        });
    }

    private static boolean bindingAnswered(InetSocketAddress server) {
        byte[] transaction = new byte[12];
        ThreadLocalRandom.current().nextBytes(transaction);
        ByteBuffer request = ByteBuffer.allocate(20)
                .putShort((short) 0x0001) // Binding request
                .putShort((short) 0) // no attributes
                .putInt(0x2112A442) // magic cookie
                .put(transaction);
        byte[] answer = new byte[1500];
        try (DatagramSocket socket = new DatagramSocket(new InetSocketAddress(FreePorts.LOOPBACK, 0))) {
            socket.setSoTimeout(200);
            socket.send(new DatagramPacket(request.array(), 20, server));
            DatagramPacket response = new DatagramPacket(answer, answer.length);
            socket.receive(response);
            return response.getLength() >= 20 && ByteBuffer.wrap(answer).getShort(0) == 0x0101
                    && ByteBuffer.wrap(answer, 8, 12).equals(ByteBuffer.wrap(transaction));
        } catch (SocketTimeoutException notYet) {
            return false;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
