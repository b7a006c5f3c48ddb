package io.webrtcgateway.sip;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.webrtcgateway.concurrent.SerialExecutor;
import io.webrtcgateway.config.Cidr;
import io.webrtcgateway.config.GatewayConfig;
import io.webrtcgateway.config.HostPort;
import io.webrtcgateway.config.SipServerAddress;
import io.webrtcgateway.testsupport.FreePorts;
import io.webrtcgateway.testsupport.RawSipClient;
import io.webrtcgateway.testsupport.SipMessage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import javax.sip.RequestEvent;
import javax.sip.ResponseEvent;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The gateway's SIP endpoint with SIP Server on 127.0.0.1 and hand-written requests from other loopback
 * addresses (127.0.0.2: a stranger; 127.0.0.3/.4: a dialog's peer): who gets through, what the others get,
 * and that a refused request leaves nothing in the stack or in the dialog it names.
 */
class SipSourceFilterTest {
    private static final Duration T = Duration.ofSeconds(5);
    /** How long "no answer" is watched for: loopback answers in well under a millisecond. */
    private static final Duration QUIET = Duration.ofMillis(700);
    private static final String SDP = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
            + "m=audio 9 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n";

    private SipEndpoint sip;
    private SimpleMeterRegistry meters;
    private GatewayConfig.Sip config;
    private final BlockingQueue<RequestEvent> invites = new LinkedBlockingQueue<>();
    private final List<Peer> peers = new java.util.ArrayList<>();
    private ExecutorService pool;
    private ScheduledExecutorService timers;

    private void start(GatewayConfig.Sip.Untrusted action, String... trusted) throws Exception {
        start(action, 500, trusted);
    }

    private void start(GatewayConfig.Sip.Untrusted action, int requestsPerSecond, String... trusted) throws Exception {
        SipServerAddress server = new SipServerAddress(new HostPort("127.0.0.1", 9), "udp", false);
        config = new GatewayConfig.Sip(new HostPort("127.0.0.1", FreePorts.udpAndTcp()), "", List.of(server), "",
                Duration.ofMinutes(10), Duration.ofSeconds(30), 3, Duration.ofSeconds(5), "test-gateway",
                new HostPort("127.0.0.1", 0), true, java.util.Arrays.stream(trusted).map(Cidr::parse).toList(), action,
                GatewayConfig.Sip.Tcp.DEFAULTS, requestsPerSecond);
        meters = new SimpleMeterRegistry();
        sip = new SipEndpoint(config, "test", meters);
        sip.start(server);
        sip.onRequest("OPTIONS", e -> sip.reply(e, 200));
        sip.onRequest("INVITE", e -> {
            invites.add(e);
            sip.reply(e, 480);
        });
    }

    @AfterEach
    void stop() {
        peers.forEach(Peer::close);
        if (sip != null) {
            sip.close();
        }
        if (pool != null) {
            pool.shutdownNow();
        }
        if (timers != null) {
            timers.shutdownNow();
        }
    }

    private Peer udp(String address) {
        Peer p = Peer.udp(address, config.listen().port());
        peers.add(p);
        return p;
    }

    private double refused(String method, String action) {
        Counter c = meters.find("gateway.sip.untrusted.requests").tag("method", method).tag("action", action).counter();
        return c == null ? 0 : c.count();
    }

    @Test
    void sipServerGetsItsAnswersAStrangerA403AndNothingStays() throws Exception {
        start(GatewayConfig.Sip.Untrusted.REJECT);
        Peer server = udp("127.0.0.1");
        assertEquals(200, server.exchange(server.request("OPTIONS", "gateway", "opt-1", null, 1, "", null)).status());
        assertEquals(480, server.exchange(server.request("INVITE", "7001", "inv-1", null, 1, "", SDP)).status());
        assertEquals(1, invites.size(), "SIP Server's INVITE reached the call handler");
        invites.clear();

        int transactionsBefore = sip.jainSipStack().getServerTransactionTableSize();
        int dialogsBefore = sip.jainSipStack().getDialogs().size();
        Peer stranger = udp("127.0.0.2");
        SipMessage options = stranger.exchange(stranger.request("OPTIONS", "gateway", "opt-2", null, 1, "", null));
        assertEquals(403, options.status());
        assertEquals("opt-2", options.callId());
        assertTrue(options.header("To").orElse("").contains(";tag="), "a To tag (RFC 3261 §8.2.6.2): " + options);
        assertEquals("test-gateway", options.header("User-Agent").orElse(""));

        SipMessage invite = stranger.exchange(stranger.request("INVITE", "7001", "inv-2", null, 1,
                "X-Genesys-case: 666\r\n", SDP));
        assertEquals(403, invite.status());
        assertTrue(invite.header("X-Genesys-case").isEmpty(), "nothing of the request is echoed but the dialog ids");
        stranger.send(stranger.request("ACK", "7001", "inv-2", tagOf(invite.header("To").orElseThrow()), 1, "", null));
        stranger.expectNothing(QUIET);
        assertTrue(invites.isEmpty(), "the stranger's INVITE reached nobody");
        assertEquals(transactionsBefore, sip.jainSipStack().getServerTransactionTableSize(),
                "no server transaction left");
        assertEquals(dialogsBefore, sip.jainSipStack().getDialogs().size(), "no dialog left");
        assertEquals(1, refused("INVITE", "reject"));
        assertEquals(1, refused("OPTIONS", "reject"));
        assertEquals(1, refused("ACK", "drop"), "an ACK is never answered");
    }

    /**
     * SIP Server's own requests are held to gateway.sip.max-headers fields and max-header-bytes per field: 513
     * before any transaction; a Via list counts a field per hop; one field less, or one byte less, goes through.
     */
    @Test
    void tooManyOrTooLongHeaderFieldsGet513AndReachNobody() throws Exception {
        start(GatewayConfig.Sip.Untrusted.REJECT);
        int bound = GatewayConfig.Sip.Headers.DEFAULTS.maxHeaders();
        Peer server = udp("127.0.0.1");
        int transactionsBefore = sip.jainSipStack().getServerTransactionTableSize();
        // The request's own fields: Via, Max-Forwards, From, To, Call-ID, CSeq, Contact, Content-Type, Content-Length.
        int own = 9;
        SipMessage many = server.exchange(server.request("INVITE", "7001", "inv-many", null, 1,
                fillers(bound - own + 1), SDP));
        assertEquals(513, many.status(), many.text());
        SipMessage longOne = server.exchange(server.request("INVITE", "7001", "inv-long", null, 1,
                "X-Genesys-note: " + "n".repeat(GatewayConfig.Sip.Headers.DEFAULTS.maxHeaderBytes()) + "\r\n", SDP));
        assertEquals(513, longOne.status());
        SipMessage manyVias = server.exchange(server.request("OPTIONS", "gateway", "opt-vias", null, 1,
                "Via: " + String.join(", ", java.util.Collections.nCopies(bound,
                        "SIP/2.0/UDP 10.0.0.9:5060;branch=z9hG4bK-hop")) + "\r\n", null));
        assertEquals(513, manyVias.status(), "each Via hop counts");
        server.send(server.request("ACK", "7001", "inv-many", tagOf(many.header("To").orElseThrow()), 1,
                fillers(bound), null));
        server.expectNothing(QUIET);
        assertTrue(invites.isEmpty(), "no oversized INVITE reached the call handler");
        assertEquals(transactionsBefore, sip.jainSipStack().getServerTransactionTableSize(), "no transaction left");
        Counter oversized = meters.find("gateway.sip.oversized.requests").tag("method", "INVITE").counter();
        assertEquals(2, oversized == null ? 0 : oversized.count());

        assertEquals(480, server.exchange(server.request("INVITE", "7001", "inv-fits", null, 1,
                fillers(bound - own), SDP)).status(), "at the bound it goes through");
        assertEquals(1, invites.size());
    }

    /** A dialog's owner that answers every request 200, notes its method, and takes requests from {@code peer}. */
    private SipRequestHandler answering200(BlockingQueue<String> heard, String peer) {
        return new SipRequestHandler() {
            @Override
            public void onRequest(RequestEvent event) {
                heard.add(event.getRequest().getMethod());
                sip.reply(event, 200);
            }

            @Override
            public void onStrayResponse(ResponseEvent event) {}

            @Override
            public List<String> peerHosts() {
                return List.of(peer);
            }
        };
    }

    private static String fillers(int n) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < n; i++) {
            b.append("X-Filler-").append(i).append(": ").append(i).append("\r\n");
        }
        return b.toString();
    }

    @Test
    void overTcpThe403ComesBackOnTheConnection() throws Exception {
        start(GatewayConfig.Sip.Untrusted.REJECT);
        Peer stranger = Peer.tcp("127.0.0.2", config.listen().port());
        peers.add(stranger);
        SipMessage answer = stranger.exchange(stranger.request("OPTIONS", "gateway", "opt-tcp", null, 1, "", null));
        assertEquals(403, answer.status());
    }

    @Test
    void aTrustedSourceIsLetIn() throws Exception {
        start(GatewayConfig.Sip.Untrusted.REJECT, "127.0.0.2/31");
        Peer proxy = udp("127.0.0.2");
        assertEquals(200, proxy.exchange(proxy.request("OPTIONS", "gateway", "opt-3", null, 1, "", null)).status());
        assertEquals(480, proxy.exchange(proxy.request("INVITE", "7001", "inv-3", null, 1, "", SDP)).status());
        assertEquals(1, invites.size());
        Peer other = udp("127.0.0.4");
        assertEquals(403, other.exchange(other.request("OPTIONS", "gateway", "opt-4", null, 1, "", null)).status());
    }

    @Test
    void dropModeAnswersStrangersNothing() throws Exception {
        start(GatewayConfig.Sip.Untrusted.DROP);
        Peer stranger = udp("127.0.0.2");
        stranger.send(stranger.request("OPTIONS", "gateway", "opt-5", null, 1, "", null));
        stranger.send(stranger.request("INVITE", "7001", "inv-5", null, 1, "", SDP));
        stranger.expectNothing(QUIET);
        assertTrue(invites.isEmpty());
        assertEquals(1, refused("OPTIONS", "drop"));
        assertEquals(1, refused("INVITE", "drop"));
        Peer server = udp("127.0.0.1");
        assertEquals(200, server.exchange(server.request("OPTIONS", "gateway", "opt-6", null, 1, "", null)).status());
    }

    @Test
    void aDialogsPeerMaySendInItAStrangerMayNot() throws Exception {
        start(GatewayConfig.Sip.Untrusted.REJECT);
        BlockingQueue<String> heard = new LinkedBlockingQueue<>();
        sip.registerOwner("dlg-1", answering200(heard, "127.0.0.3"));
        Peer peer = udp("127.0.0.3");
        assertEquals(200, peer.exchange(peer.request("INFO", "7001", "dlg-1", "abc", 2, "", null)).status());
        assertEquals("INFO", heard.poll());
        Peer stranger = udp("127.0.0.2");
        assertEquals(403, stranger.exchange(stranger.request("INFO", "7001", "dlg-1", "abc", 3, "", null)).status());
        assertEquals(403, peer.exchange(peer.request("OPTIONS", "gateway", "other", null, 1, "", null)).status(),
                "the peer of one dialog is a stranger outside it");
        assertEquals(403, stranger.exchange(stranger.request("BYE", "7001", "no-such-dialog", "abc", 2, "", null))
                .status(), "a stranger learns nothing about which dialogs exist (no 481)");
        assertNull(heard.poll());
    }

    /**
     * Over its source's rate, SIP Server's OPTIONS is dropped, but a BYE in a dialog the gateway knows still
     * reaches its call (over TCP nothing would ever resend it); a BYE for no known dialog is dropped like the rest.
     */
    @Test
    void overTheRateAByeInAKnownDialogStillEndsItsCall() throws Exception {
        start(GatewayConfig.Sip.Untrusted.REJECT, 1);
        BlockingQueue<String> heard = new LinkedBlockingQueue<>();
        sip.registerOwner("dlg-busy", answering200(heard, "127.0.0.1"));
        Peer server = Peer.tcp("127.0.0.1", config.listen().port());
        peers.add(server);
        assertEquals(200, server.exchange(server.request("OPTIONS", "gateway", "opt-r1", null, 1, "", null)).status());
        server.send(server.request("OPTIONS", "gateway", "opt-r2", null, 1, "", null)); // over 1/s: dropped
        server.send(server.request("BYE", "7001", "no-such-dialog", "abc", 2, "", null)); // dropped too
        assertEquals(200, server.exchange(server.request("BYE", "7001", "dlg-busy", "abc", 2, "", null)).status(),
                "the BYE of a known dialog got through at once (within the same second)");
        assertEquals("BYE", heard.poll());
        Counter limited = meters.find("gateway.sip.rate.limited.requests").tag("method", "OPTIONS").counter();
        assertEquals(1, limited == null ? 0 : limited.count());
        Counter byes = meters.find("gateway.sip.rate.limited.requests").tag("method", "BYE").counter();
        assertEquals(1, byes == null ? 0 : byes.count(), "the BYE for no dialog was dropped");
    }

    @Test
    void aStrangerCannotRetargetADialogNorReachItsCall() throws Exception {
        start(GatewayConfig.Sip.Untrusted.REJECT);
        pool = Executors.newCachedThreadPool();
        timers = Executors.newSingleThreadScheduledExecutor();
        CallSignaling signaling = new CallSignaling(sip, config, null, timers);
        BlockingQueue<SipLeg> legs = new LinkedBlockingQueue<>();
        BlockingQueue<String> events = new LinkedBlockingQueue<>();
        SerialExecutor executor = new SerialExecutor(pool);
        signaling.onInvite(event -> {
            try {
                legs.add(SipLeg.incoming(signaling, event, executor, new Recording(events)));
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });

        // SIP Server (127.0.0.1) offers a call from a phone at 127.0.0.3, record-routed through 127.0.0.4.
        Peer server = udp("127.0.0.1");
        Peer proxy = udp("127.0.0.4");
        Peer phone = udp("127.0.0.3");
        Peer stranger = udp("127.0.0.2");
        proxy.fromTag = server.fromTag;
        phone.fromTag = server.fromTag;
        stranger.fromTag = server.fromTag; // it knows every id of the dialog
        String callId = "call-" + ThreadLocalRandom.current().nextInt(1_000_000);
        server.send(server.request("INVITE", "7001", callId, null, 1,
                "Contact: <sip:5000@127.0.0.3:" + phone.port() + ">\r\n"
                        + "Record-Route: <sip:127.0.0.4:" + proxy.port() + ";lr>\r\n", SDP));
        SipLeg leg = legs.poll(5, TimeUnit.SECONDS);
        assertNotNull(leg, "the INVITE reached the call handler");
        assertEquals(List.of("127.0.0.4", "127.0.0.3"), leg.peerHosts(), "first route hop, remote target");
        executor.execute(() -> {
            try {
                leg.answer(SDP);
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        SipMessage ok = server.receive(T, m -> m.status() == 200);
        String toTag = tagOf(ok.header("To").orElseThrow());
        server.send(server.request("ACK", "7001", callId, toTag, 1, "", null));
        assertEquals("ack", events.poll(5, TimeUnit.SECONDS));

        // A stranger who learnt the dialog's ids tries to move it to itself (a target refresh, RFC 3261 §12.2.2).
        SipMessage refused = stranger.exchange(stranger.request("INVITE", "7001", callId, toTag, 2,
                "Contact: <sip:evil@127.0.0.2:" + stranger.port() + ">\r\n", SDP));
        assertEquals(403, refused.status());
        assertEquals(403, stranger.exchange(stranger.request("NOTIFY", "7001", callId, toTag, 3,
                "Event: talk\r\n", null)).status());
        assertEquals(List.of("127.0.0.4", "127.0.0.3"), leg.peerHosts(), "the remote target did not move");

        // The dialog's peer still gets through, via the proxy or directly; CSeq 2 is in order only because the
        // stranger's CSeq 2 and 3 never reached the dialog.
        assertEquals(200, proxy.exchange(proxy.request("INFO", "7001", callId, toTag, 2, "", null)).status());
        assertEquals("info  null", events.poll(5, TimeUnit.SECONDS));
        assertEquals(200, phone.exchange(phone.request("BYE", "7001", callId, toTag, 3, "", null)).status());
        assertEquals("bye", events.poll(5, TimeUnit.SECONDS));
        assertNull(events.poll(), "nothing of the stranger's reached the call: " + events);
    }

    private static String tagOf(String header) {
        int at = header.indexOf(";tag=");
        return at < 0 ? null : header.substring(at + 5).split("[;>\\s]")[0];
    }

    /** What the leg tells its call, as strings. */
    private record Recording(BlockingQueue<String> events) implements SipLeg.Listener {
        @Override
        public void onProvisional(int status, String reason, String sdp) {
            events.add("provisional " + status);
        }

        @Override
        public void onAnswered(String sdp) {
            events.add("answered");
        }

        @Override
        public void onRejected(int status, String reason) {
            events.add("rejected " + status);
        }

        @Override
        public void onRemoteBye() {
            events.add("bye");
        }

        @Override
        public void onRemoteCancel() {
            events.add("cancel");
        }

        @Override
        public void onRemoteReinvite(String sdp, SipLeg.ReinviteReply reply) {
            events.add("reinvite");
        }

        @Override
        public void onReinviteResult(int status, String reason, String sdp) {
            events.add("reinvite-result " + status);
        }

        @Override
        public void onAck(String sdp) {
            events.add("ack");
        }

        @Override
        public boolean onInfo(String contentType, String body) {
            events.add("info " + contentType + " " + body);
            return true;
        }

        @Override
        public void onNotify(String event, String contentType, String body) {
            events.add("notify " + event);
        }

        @Override
        public void onDialogGone(String reason, Integer sipStatus, String sipReason) {
            events.add("gone " + reason);
        }
    }

    /** A SIP peer on one loopback address, writing its requests by hand: no stack, no retransmissions. */
    private static final class Peer implements AutoCloseable {
        private final String address;
        private final int gatewayPort;
        private final DatagramSocket udp;
        private final Socket tcp;
        /** The From tag of every request; peers of one dialog share the caller's. */
        String fromTag = Long.toHexString(ThreadLocalRandom.current().nextLong());

        private Peer(String address, int gatewayPort, DatagramSocket udp, Socket tcp) {
            this.address = address;
            this.gatewayPort = gatewayPort;
            this.udp = udp;
            this.tcp = tcp;
        }

        static Peer udp(String address, int gatewayPort) {
            try {
                return new Peer(address, gatewayPort, new DatagramSocket(new InetSocketAddress(address, 0)), null);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        static Peer tcp(String address, int gatewayPort) {
            try {
                Socket s = new Socket();
                s.bind(new InetSocketAddress(address, 0));
                s.connect(new InetSocketAddress("127.0.0.1", gatewayPort), 5000);
                return new Peer(address, gatewayPort, null, s);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        int port() {
            return udp != null ? udp.getLocalPort() : tcp.getLocalPort();
        }

        /** A request to {@code user} at the gateway; {@code toTag} null: outside any dialog. */
        String request(String method, String user, String callId, String toTag, long cseq, String extra, String body) {
            String transport = udp != null ? "UDP" : "TCP";
            String branch = "z9hG4bK" + Long.toHexString(ThreadLocalRandom.current().nextLong());
            String content = body == null ? "" : body;
            return method + " sip:" + user + "@127.0.0.1:" + gatewayPort + " SIP/2.0\r\n"
                    + "Via: SIP/2.0/" + transport + " " + address + ":" + port() + ";branch=" + branch + "\r\n"
                    + "Max-Forwards: 70\r\n"
                    + "From: \"Customer\" <sip:5000@" + address + ">;tag=" + fromTag + "\r\n"
                    + "To: <sip:" + user + "@127.0.0.1>" + (toTag == null ? "" : ";tag=" + toTag) + "\r\n"
                    + "Call-ID: " + callId + "\r\n"
                    + "CSeq: " + cseq + " " + method + "\r\n"
                    + (method.equals("INVITE") && !extra.contains("Contact:")
                            ? "Contact: <sip:5000@" + address + ":" + port() + ">\r\n" : "")
                    + extra
                    + (body == null ? "" : "Content-Type: application/sdp\r\n")
                    + "Content-Length: " + content.getBytes(StandardCharsets.UTF_8).length + "\r\n\r\n"
                    + content;
        }

        void send(String message) throws IOException {
            byte[] bytes = message.getBytes(StandardCharsets.UTF_8);
            if (udp != null) {
                udp.send(new DatagramPacket(bytes, bytes.length, new InetSocketAddress("127.0.0.1", gatewayPort)));
            } else {
                tcp.getOutputStream().write(bytes);
                tcp.getOutputStream().flush();
            }
        }

        /** Sends {@code request} and returns the first final response to it. */
        SipMessage exchange(String request) throws IOException {
            String cseq = new SipMessage(request).header("CSeq").orElseThrow();
            send(request);
            return receive(T, m -> !m.isRequest() && m.status() >= 200 && m.header("CSeq").orElse("").equals(cseq));
        }

        SipMessage receive(Duration timeout, java.util.function.Predicate<SipMessage> wanted) throws IOException {
            long deadline = System.nanoTime() + timeout.toNanos();
            while (true) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    throw new AssertionError("no matching message at " + address + " within " + timeout);
                }
                SipMessage m = next(Duration.ofNanos(left));
                if (m != null && wanted.test(m)) {
                    return m;
                }
            }
        }

        /** Watches for {@code quiet}: nothing may arrive (an absence has no event to wait for). */
        void expectNothing(Duration quiet) throws IOException {
            long deadline = System.nanoTime() + quiet.toNanos();
            while (true) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    return;
                }
                SipMessage m = next(Duration.ofNanos(left));
                if (m != null) {
                    throw new AssertionError("expected no answer at " + address + ", got:\n" + m.text());
                }
            }
        }

        /** The next message within {@code timeout}, or null. */
        private SipMessage next(Duration timeout) throws IOException {
            int ms = (int) Math.max(1, timeout.toMillis());
            try {
                if (udp != null) {
                    byte[] buffer = new byte[65535];
                    DatagramPacket packet = new DatagramPacket(buffer, buffer.length);
                    udp.setSoTimeout(ms);
                    udp.receive(packet);
                    return new SipMessage(new String(packet.getData(), 0, packet.getLength(), StandardCharsets.UTF_8));
                }
                tcp.setSoTimeout(ms);
                return RawSipClient.readTcpMessage(tcp.getInputStream());
            } catch (SocketTimeoutException e) {
                return null;
            }
        }

        @Override
        public void close() {
            try {
                if (udp != null) {
                    udp.close();
                }
                if (tcp != null) {
                    tcp.close();
                }
            } catch (IOException ignored) {
                // closing
            }
        }
    }
}
