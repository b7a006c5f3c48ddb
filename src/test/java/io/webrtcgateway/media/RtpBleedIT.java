package io.webrtcgateway.media;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.webrtcgateway.testsupport.BrowserPhone;
import io.webrtcgateway.testsupport.Closing;
import io.webrtcgateway.testsupport.FreePorts;
import io.webrtcgateway.testsupport.GatewayProcess;
import io.webrtcgateway.testsupport.Poll;
import io.webrtcgateway.testsupport.ProcessResources;
import io.webrtcgateway.testsupport.SipMessage;
import io.webrtcgateway.testsupport.Sipp;
import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketException;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * RTP bleed (issue 13): a host that sends RTP first to a call's SIP-side port used to be latched by the
 * default source policy, and the SIP peer's packets were then dropped as foreign. Our JS library in Chromium
 * calls SIPp (uas-calls.xml, RTP echo) through a real gateway while a stranger on 127.0.0.2 streams RTP in
 * sequence, 20 ms apart (a real stream, the hardest case for the policy), to every port of the gateway's small
 * RTP range from before the INVITE goes out (ports are drawn at random now: it cannot aim at one).
 */
class RtpBleedIT {
    private static final Duration STEP = Duration.ofSeconds(15);
    /** The SIP-side port pair, the ICE port and a few more: a range the stranger can cover every 20 ms. */
    private static final int RANGE = 40;

    /** What uas-calls.xml's "dtmf" answer names: a SIP peer's private address behind NAT, which never sends. */
    private static DatagramSocket privateAddress;
    private static Sipp sipp;
    private static GatewayProcess gw;
    /** gateway.media.sip-source-policy = latching, for theOldLatchingPolicyHandsTheCallToTheStranger. */
    private static GatewayProcess latching;
    private static BrowserPhone phone;
    /** UDP sockets before any call; threads after a first one (ice4j's and the DTLS pools' exist then, idle). */
    private static int baselineUdpSockets;
    private static int baselineThreads;

    @BeforeAll
    static void start() throws IOException {
        privateAddress = new DatagramSocket(new InetSocketAddress(FreePorts.LOOPBACK, 0));
        sipp = Sipp.scenario("uas-calls.xml")
                .key("peer_rtp_port", String.valueOf(privateAddress.getLocalPort()))
                .args("-mi", "127.0.0.1", "-mp", String.valueOf(FreePorts.sippMedia()), "-rtp_echo")
                .start();
        // The latching instance of theOldLatchingPolicyHandsTheCallToTheStranger starts alongside.
        List<GatewayProcess> both = GatewayProcess.startAll(GatewayProcess.builder().sipServers(sipp.serverEntry())
                .set("gateway.media.ice-addresses", List.of("127.0.0.1"))
                .rtpPortCount(RANGE), // default gateway.media.sip-source-policy: learning
                GatewayProcess.builder().sipServers(sipp.serverEntry())
                .set("gateway.media.ice-addresses", List.of("127.0.0.1"))
                .set("gateway.media.sip-source-policy", "latching")
                .rtpPortCount(RANGE));
        gw = both.get(0);
        latching = both.get(1);
        phone = BrowserPhone.start(gw.httpUrl(), "phone");
        phone.connect();
        phone.register("1001");
        baselineUdpSockets = ProcessResources.udpSocketCount(gw.pid());
        BrowserPhone.Placed warmUp = phone.call("5000");
        phone.awaitCallEvent(warmUp.id(), "connected", STEP);
        phone.awaitAudio("warm-up call's audio", 20, 0);
        phone.hangup();
        phone.awaitCallEvent(warmUp.id(), "ended", STEP);
        Poll.until(STEP, "the warm-up call's sockets closed",
                () -> ProcessResources.udpSocketCount(gw.pid()), n -> n <= baselineUdpSockets);
        baselineThreads = ProcessResources.threads(gw.pid());
    }

    @AfterAll
    static void stop() {
        Closing.all(phone, GatewayProcess.together(latching, gw), sipp, privateAddress);
    }

    @Test
    void aStrangerStreamingToEveryPortGetsNothingAndTheCallKeepsItsAudio() throws Exception {
        try (Stream stranger = Stream.toEveryPort(InetAddress.getByName("127.0.0.2"), gw.rtpPorts())) {
            Poll.until(STEP, "the stranger streaming", stranger::sent, n -> n > 5L * RANGE);
            BrowserPhone.Placed call = phone.call("5000");
            phone.awaitCallEvent(call.id(), "connected", STEP);
            int sipPort = sipSidePort(lastInviteTo("5000"));
            // SIPp echoes the browser's audio: packets in and decoded energy rising prove the SIP peer's packets
            // are the ones forwarded, all through the attack.
            JsonNode first = phone.awaitAudio("echoed audio during the attack", 50, 0);
            JsonNode later = phone.awaitAudio("more echoed audio during the attack", first.at("/inbound/packets").asLong() + 100,
                    first.at("/inbound/totalAudioEnergy").asDouble());
            long dropped = later.at("/gateway/streams/0/sipToBrowser/drops/foreignSource").asLong();
            long toThatPort = stranger.sentTo(sipPort);
            assertTrue(dropped >= 100 && toThatPort >= 100,
                    "the stranger's packets to port " + sipPort + " (" + toThatPort + " sent) counted as foreign: " + later);
            assertEquals(0, stranger.received(), "the stranger received nothing from the gateway");
            assertEquals(200, gw.httpStatus("/health/ready"));
            phone.hangup();
            phone.awaitCallEvent(call.id(), "ended", STEP);
            assertEquals(0, stranger.received(), "the stranger received nothing from the gateway");
        }
        Poll.until(STEP, "the gateway's UDP sockets back to the " + baselineUdpSockets + " between calls",
                () -> ProcessResources.udpSocketCount(gw.pid()), n -> n <= baselineUdpSockets);
        Poll.until(Duration.ofSeconds(20), "threads back near the " + baselineThreads + " between calls",
                () -> ProcessResources.threads(gw.pid()), n -> n <= baselineThreads + 8);
    }

    /**
     * The same stranger against gateway.media.sip-source-policy = latching (the default before): it is latched
     * as soon as the SIP side answers and takes the browser's audio. This is what the test above would show if
     * the default policy were still open to it.
     */
    @Test
    void theOldLatchingPolicyHandsTheCallToTheStranger() throws Exception {
        try (BrowserPhone victim = BrowserPhone.start(latching.httpUrl(), "victim");
             Stream stranger = Stream.toEveryPort(InetAddress.getByName("127.0.0.2"), latching.rtpPorts())) {
            victim.connect();
            victim.register("1002");
            Poll.until(STEP, "the stranger streaming", stranger::sent, n -> n > 5L * RANGE);
            BrowserPhone.Placed call = victim.call("5000");
            victim.awaitCallEvent(call.id(), "connected", STEP);
            Poll.until(STEP, "the browser's audio at the stranger", stranger::received, n -> n > 50);
            victim.hangup();
            victim.awaitCallEvent(call.id(), "ended", STEP);
        }
    }

    /**
     * A SIP peer behind NAT: its SDP names 127.0.0.1:&lt;private port&gt;, which never sends; its stream comes from
     * 127.0.0.3 (its "public" address). The gateway sends to the SDP's address at first, then learns the stream
     * and both directions flow.
     */
    @Test
    void aSipPeerBehindNatIsLearnt() throws Exception {
        BrowserPhone.Placed call = phone.call("dtmf");
        int sipPort = sipSidePort(lastInviteTo("dtmf"));
        try (Stream natted = Stream.toOnePort(InetAddress.getByName("127.0.0.3"), sipPort)) {
            phone.awaitCallEvent(call.id(), "connected", STEP);
            Poll.until(STEP, "the browser's audio at the peer's public address", natted::received, n -> n > 50);
            JsonNode stats = phone.awaitAudio("the peer's audio in the browser", 50, 0);
            long dropped = stats.at("/gateway/streams/0/sipToBrowser/drops/foreignSource").asLong();
            assertTrue(dropped >= 4, "its first packets were held back while it was learnt: " + stats);
            assertTrue(received(privateAddress) > 0, "before, the gateway sent where the SDP said");
            phone.hangup();
            phone.awaitCallEvent(call.id(), "ended", STEP);
        }
    }

    // ---- helpers ------------------------------------------------------------------------------------


    private static SipMessage lastInviteTo(String user) {
        List<SipMessage> invites = sipp.awaitReceived(m -> m.isRequest() && m.method().equals("INVITE")
                && m.requestUri().startsWith("sip:" + user + "@") && !m.header("To").orElse("").contains("tag="),
                1, STEP, "INVITE to " + user);
        return invites.get(invites.size() - 1);
    }

    private static int sipSidePort(SipMessage invite) {
        Matcher m = Pattern.compile("m=audio (\\d+) ").matcher(invite.body());
        assertTrue(m.find(), invite.body());
        return Integer.parseInt(m.group(1));
    }

    /** Datagrams waiting on a socket nobody reads (drained, not waited for). */
    private static int received(DatagramSocket s) throws IOException {
        s.setSoTimeout(1);
        int n = 0;
        try {
            while (true) {
                s.receive(new DatagramPacket(new byte[2048], 2048));
                n++;
            }
        } catch (java.net.SocketTimeoutException drained) {
            return n;
        }
    }

    /**
     * A sender on its own address streaming PCMU-looking RTP (noise, so a browser decodes energy) every 20 ms:
     * one stream (SSRC, sequence numbers) per destination port. Counts what it sends and what it receives.
     */
    static final class Stream implements AutoCloseable {
        private final DatagramSocket socket;
        private final ScheduledExecutorService pacer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "rtp-stream-pacer");
            t.setDaemon(true);
            return t;
        });
        private final Thread reader;
        private final int low;
        private final int[] sequence;
        private final AtomicLong[] sentTo;
        private final AtomicLong sent = new AtomicLong();
        private final AtomicLong received = new AtomicLong();

        private Stream(InetAddress from, int low, int high) throws SocketException {
            this.socket = new DatagramSocket(new InetSocketAddress(from, 0));
            this.low = low;
            this.sequence = new int[high - low + 1];
            this.sentTo = new AtomicLong[high - low + 1];
            for (int i = 0; i < sentTo.length; i++) {
                sentTo[i] = new AtomicLong();
            }
            Random random = new Random(low);
            byte[] packet = new byte[172];
            this.reader = new Thread(() -> {
                byte[] in = new byte[2048];
                while (!socket.isClosed()) {
                    try {
                        socket.receive(new DatagramPacket(in, in.length));
                        received.incrementAndGet();
                    } catch (IOException closed) {
                        return;
                    }
                }
            }, "rtp-stream-reader");
            reader.setDaemon(true);
            reader.start();
            pacer.scheduleAtFixedRate(() -> {
                for (int i = 0; i < sequence.length; i++) {
                    random.nextBytes(packet);
                    packet[0] = (byte) 0x80; // V=2
                    packet[1] = 0;           // PCMU
                    int seq = sequence[i]++;
                    packet[2] = (byte) (seq >>> 8);
                    packet[3] = (byte) seq;
                    long ts = 160L * seq;
                    packet[4] = (byte) (ts >>> 24);
                    packet[5] = (byte) (ts >>> 16);
                    packet[6] = (byte) (ts >>> 8);
                    packet[7] = (byte) ts;
                    packet[8] = 0x5A;        // one SSRC per destination port
                    packet[9] = 0x5A;
                    packet[10] = (byte) (i >>> 8);
                    packet[11] = (byte) i;
                    try {
                        socket.send(new DatagramPacket(packet, packet.length, FreePorts.LOOPBACK, low + i));
                        sentTo[i].incrementAndGet();
                        sent.incrementAndGet();
                    } catch (IOException e) {
                        return; // closed
                    }
                }
            }, 0, 20, TimeUnit.MILLISECONDS);
        }

        static Stream toEveryPort(InetAddress from, FreePorts.Range range) throws SocketException {
            return new Stream(from, range.low(), range.high());
        }

        static Stream toOnePort(InetAddress from, int port) throws SocketException {
            return new Stream(from, port, port);
        }

        long sent() {
            return sent.get();
        }

        long sentTo(int port) {
            return sentTo[port - low].get();
        }

        long received() {
            return received.get();
        }

        @Override
        public void close() throws InterruptedException {
            pacer.shutdownNow();
            pacer.awaitTermination(5, TimeUnit.SECONDS);
            socket.close();
            reader.join(5000);
        }
    }
}
