package io.webrtcgateway.bench.load;

import io.webrtcgateway.testsupport.PeerProcess;
import io.webrtcgateway.testsupport.Poll;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * Janus (Debian package {@code janus} 1.1.2) as the side-by-side peer: only the SIP plugin and the WebSocket
 * transport (their .so files linked into folders of their own, so no other plugin, transport, event handler or
 * logger loads), errors-only logging, no STUN/TURN/NAT mapping, WebSocket on 127.0.0.1, ICE only on the
 * interface {@code iceInterface} (Janus never gathers on loopback, STACK.md: the bench runs in a network
 * namespace where a veth pair carries private addresses). Config is generated under {@code dir}.
 */
public final class JanusProcess implements AutoCloseable {
    private static final Path LIBS = Path.of("/usr/lib/x86_64-linux-gnu/janus");
    private final PeerProcess process;
    private final int wsPort;

    private JanusProcess(PeerProcess process, int wsPort) {
        this.process = process;
        this.wsPort = wsPort;
    }

    /**
     * @param webrtcPorts e.g. "40000-44999": Janus's ICE ports
     * @param sipRtpPorts e.g. "45000-49999": its SIP plugin's plain RTP ports
     */
    public static JanusProcess start(Path dir, String iceInterface, int wsPort, String webrtcPorts, String sipRtpPorts) {
        PeerProcess.executable("janus", "janus");
        try {
            Path conf = Files.createDirectories(dir.resolve("conf"));
            for (String folder : List.of("plugins", "transports", "events", "loggers")) {
                Files.createDirectories(dir.resolve(folder));
            }
            link(dir.resolve("plugins/libjanus_sip.so"), LIBS.resolve("plugins/libjanus_sip.so"));
            link(dir.resolve("transports/libjanus_websockets.so"), LIBS.resolve("transports/libjanus_websockets.so"));
            Files.writeString(conf.resolve("janus.jcfg"), """
                    general: {
                        configs_folder = "%1$s/conf"
                        plugins_folder = "%1$s/plugins"
                        transports_folder = "%1$s/transports"
                        events_folder = "%1$s/events"
                        loggers_folder = "%1$s/loggers"
                                                server_name = "bench"
                        session_timeout = 0
                        admin_secret = "unused-admin-secret"
                    }
                    certificates: {
                    }
                    media: {
                        rtp_port_range = "%2$s"
                    }
                    nat: {
                        nice_debug = %4$s
                        full_trickle = false
                        ice_lite = false
                        ice_tcp = false
                        ice_enforce_list = "%3$s"
                        ignore_mdns = true
                    }
                    plugins: {
                    }
                    transports: {
                    }
                    events: {
                        broadcast = false
                    }
                    """.formatted(dir.toAbsolutePath(), webrtcPorts, iceInterface,
                    Boolean.getBoolean("bench.janus.nice-debug")));
            Files.writeString(conf.resolve("janus.transport.websockets.jcfg"), """
                    general: {
                        json = "compact"
                        ws = true
                        ws_port = %d
                        ws_ip = "127.0.0.1"
                        wss = false
                    }
                    admin: {
                        admin_ws = false
                        admin_wss = false
                    }
                    """.formatted(wsPort));
            Files.writeString(conf.resolve("janus.plugin.sip.jcfg"), """
                    general: {
                        local_ip = "127.0.0.1"
                        sdp_ip = "127.0.0.1"
                        keepalive_interval = 0
                        behind_nat = false
                        register_ttl = 3600
                        rtp_port_range = "%s"
                        sip_timer_t1x64 = 32000
                        events = false
                    }
                    """.formatted(sipRtpPorts));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write Janus config under " + dir, e);
        }
        PeerProcess process = PeerProcess.start("janus", List.of("janus", "-F", dir.resolve("conf").toString(),
                "-C", dir.resolve("conf/janus.jcfg").toString(), "-d", System.getProperty("bench.janus.debug-level", "1"), "-o"));
        JanusProcess janus = new JanusProcess(process, wsPort);
        try {
            Poll.until(Duration.ofSeconds(30), "Janus WebSocket on 127.0.0.1:" + wsPort, () -> {
                process.requireAlive("starting");
                try (Socket s = new Socket()) {
                    s.connect(new InetSocketAddress("127.0.0.1", wsPort), 500);
                    return true;
                } catch (IOException e) {
                    return false;
                }
            });
        } catch (RuntimeException | Error e) {
            janus.close();
            throw e;
        }
        return janus;
    }

    private static void link(Path link, Path target) throws IOException {
        if (!Files.exists(target)) {
            throw new IllegalStateException(target + " missing: install the Debian package janus (scripts/install-test-peers.sh)");
        }
        Files.deleteIfExists(link);
        Files.createSymbolicLink(link, target);
    }

    public String wsUrl() {
        return "ws://127.0.0.1:" + wsPort + "/";
    }

    public long pid() {
        return process.pid();
    }

    public PeerProcess process() {
        return process;
    }

    @Override
    public void close() {
        process.close();
    }
}
