package io.webrtcgateway.media;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.webrtcgateway.testsupport.ChromiumPeer;
import io.webrtcgateway.testsupport.Closing;
import io.webrtcgateway.testsupport.FreePorts;
import io.webrtcgateway.testsupport.GatewayProcess;
import io.webrtcgateway.testsupport.Poll;
import io.webrtcgateway.testsupport.ProcessResources;
import io.webrtcgateway.testsupport.PrometheusText;
import io.webrtcgateway.testsupport.Sipp;
import io.webrtcgateway.testsupport.WsTestClient;
import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * ICE targets (issue 13): a browser names its candidates itself, and the gateway sends connectivity checks to
 * them. A client offers, then trickles, candidates on 127.0.0.5 (a denied block in this test's
 * gateway.media.ice-remote-deny), 169.254.169.254 (the cloud metadata service) and the gateway's own address
 * (127.0.0.1: its own ICE port, its SIP port, a port a test socket listens on). Raw sockets listen where they
 * point: nothing arrives, each is counted in /metrics, and a bystander's call from Chromium completes ICE and
 * carries audio meanwhile (its checks come from loopback, allowed here, and are answered).
 */
class IceRemoteDenyIT {
    private static final Duration STEP = Duration.ofSeconds(15);
    private static final HttpClient HTTP = HttpClient.newHttpClient();

    private static Sipp sipp;
    private static GatewayProcess gw;
    private static ChromiumPeer bystander;

    @BeforeAll
    static void start() {
        // Chromium starts (start() returns at once) while the gateway does.
        bystander = ChromiumPeer.builder().name("bystander").audioCodecs("PCMU", "telephone-event").start();
        sipp = Sipp.scenario("uas-echo.xml")
                .args("-mp", String.valueOf(FreePorts.sippMedia()), "-mi", "127.0.0.1", "-rtp_echo").start();
        gw = GatewayProcess.builder().sipServers(sipp.serverEntry())
                .set("gateway.media.ice-addresses", List.of("127.0.0.1"))
                // 127.0.0.5 stands for a block of the operator's network no browser comes from; loopback as such
                // stays allowed (the bystander's browser is on it), own-addresses covers 127.0.0.1 as a target.
                .set("gateway.media.ice-remote-deny", List.of("127.0.0.5/32", "169.254.0.0/16", "own-addresses"))
                .start();
    }

    @AfterAll
    static void stop() {
        Closing.all(bystander, gw, sipp);
    }

    @Test
    void candidatesOnDeniedAndOwnAddressesAreNeverCheckedWhileABystanderConnects() throws Exception {
        int udpSockets = ProcessResources.udpSocketCount(gw.pid());
        try (Watch deniedBlock = new Watch("127.0.0.5");
             Watch ownAddress = new Watch("127.0.0.1");
             WsTestClient attacker = WsTestClient.connect(gw.wsUrl());
             WsTestClient ws = WsTestClient.connect(gw.wsUrl())) {
            // The attacker's offer: a real browser offer whose candidates are replaced by its own choice.
            String real = bystander.createOffer();
            bystander.hangUp();
            String hostile = real.replaceAll("(?m)^a=candidate:.*\r\n", "").replace("a=mid:0\r\n", "a=mid:0\r\n"
                    + "a=candidate:1 1 udp 2122260223 127.0.0.5 " + deniedBlock.port() + " typ host\r\n"
                    + "a=candidate:2 1 udp 2122260223 169.254.169.254 80 typ host\r\n"
                    + "a=candidate:3 1 udp 2122260223 127.0.0.1 " + ownAddress.port() + " typ host\r\n");
            assertTrue(hostile.contains("127.0.0.5") && !hostile.contains(" typ srflx"), hostile);
            attacker.ok("hello");
            attacker.startKeepalive(Duration.ofSeconds(5));
            String attackCall = attacker.ok("call", "to", "5000", "sdp", hostile).path("call").asText();
            JsonNode answered = attacker.awaitEvent("connected", STEP);
            int gatewayIcePort = port(answered.path("sdp").asText(), "a=candidate:\\S+ 1 udp \\d+ 127\\.0\\.0\\.1 (\\d+) typ host");
            for (String c : List.of(
                    "candidate:4 1 udp 2122260223 127.0.0.5 " + (deniedBlock.port() + 1) + " typ host",
                    "candidate:5 1 udp 1686052607 169.254.169.254 53 typ srflx raddr 0.0.0.0 rport 0",
                    "candidate:6 1 udp 2122260223 127.0.0.1 " + gatewayIcePort + " typ host",   // the gateway itself
                    "candidate:7 1 udp 2122260223 127.0.0.1 " + gw.sipPort() + " typ host")) {  // its SIP port
                attacker.ok("candidate", "call", attackCall, "candidate",
                        Map.of("candidate", c, "sdpMid", "0", "sdpMLineIndex", 0));
            }

            // The bystander's call, meanwhile: ICE, DTLS, audio echoed through SIPp.
            ws.ok("hello");
            ws.startKeepalive(Duration.ofSeconds(5));
            String call = ws.ok("call", "to", "5000", "sdp", bystander.createOffer()).path("call").asText();
            JsonNode connected = ws.awaitEvent("connected", STEP);
            bystander.setAnswer(connected.path("sdp").asText());
            bystander.awaitIceState("connected", STEP);
            Poll.until(Duration.ofSeconds(20), "the bystander's echoed audio", bystander::stats,
                    s -> s.packetsReceived() > 50 && s.totalAudioEnergy() > 0);
            assertEquals(200, gw.httpStatus("/health/ready"));

            assertEquals(0, deniedBlock.received(), "a datagram reached 127.0.0.5");
            assertEquals(0, ownAddress.received(), "a datagram reached the own-address socket");
            PrometheusText metrics = metrics();
            // 127.0.0.5 twice, 169.254.169.254 twice; own addresses: the three named, plus the bystander's
            // candidates (Chromium names this machine's interface addresses; its checks come from loopback).
            assertEquals(4, metrics.value("gateway_ice_remote_candidates_refused_total", "reason", "deny-list"),
                    metrics.find("gateway_ice_remote_candidates_refused_total", Map.of()).toString());
            assertTrue(metrics.value("gateway_ice_remote_candidates_refused_total", "reason", "own-address") >= 3,
                    metrics.find("gateway_ice_remote_candidates_refused_total", Map.of()).toString());
            assertEquals(0, metrics.value("gateway_ice_stun_refused_total", "direction", "out"),
                    "nothing had to be stopped at the socket");
            JsonNode attackStats = attacker.ok("stats", "call", attackCall).path("stats");
            assertEquals("CHECKING", attackStats.at("/ice/state").asText(), "no pair to check: " + attackStats);

            ws.ok("hangup", "call", call);
            ws.awaitEvent("ended", STEP);
            attacker.ok("hangup", "call", attackCall);
            attacker.awaitEvent("ended", STEP);
            bystander.hangUp();
            assertEquals(0, deniedBlock.received());
            assertEquals(0, ownAddress.received());
        }
        Poll.until(STEP, "the gateway's UDP sockets back to the " + udpSockets + " before the calls",
                () -> ProcessResources.udpSocketCount(gw.pid()), n -> n <= udpSockets);
    }

    private static PrometheusText metrics() throws Exception {
        HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(gw.httpUrl() + "/metrics"))
                .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode());
        return PrometheusText.parse(r.body());
    }

    private static int port(String sdp, String regex) {
        Matcher m = Pattern.compile(regex).matcher(sdp);
        assertTrue(m.find(), "no match for " + regex + " in " + sdp);
        return Integer.parseInt(m.group(1));
    }

    /** A UDP socket where a refused candidate points, counting whatever arrives. */
    private static final class Watch implements AutoCloseable {
        private final DatagramSocket socket;
        private final AtomicLong received = new AtomicLong();
        private final Thread reader;

        Watch(String address) throws IOException {
            socket = new DatagramSocket(new InetSocketAddress(InetAddress.getByName(address), 0));
            reader = new Thread(() -> {
                byte[] b = new byte[2048];
                while (!socket.isClosed()) {
                    try {
                        socket.receive(new DatagramPacket(b, b.length));
                        received.incrementAndGet();
                    } catch (IOException closed) {
                        return;
                    }
                }
            }, "watch-" + address);
            reader.setDaemon(true);
            reader.start();
        }

        int port() {
            return socket.getLocalPort();
        }

        long received() {
            return received.get();
        }

        @Override
        public void close() throws InterruptedException {
            socket.close();
            reader.join(5000);
        }
    }
}
