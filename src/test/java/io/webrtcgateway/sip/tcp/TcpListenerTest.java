package io.webrtcgateway.sip.tcp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.webrtcgateway.config.GatewayConfig;
import io.webrtcgateway.config.HostPort;
import io.webrtcgateway.config.SipServerAddress;
import io.webrtcgateway.sip.ClientTransactionHandler;
import io.webrtcgateway.sip.SipEndpoint;
import io.webrtcgateway.testsupport.FreePorts;
import io.webrtcgateway.testsupport.Poll;
import io.webrtcgateway.testsupport.SipMessage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import javax.sip.ResponseEvent;
import javax.sip.address.SipURI;
import javax.sip.header.CallIdHeader;
import javax.sip.header.ViaHeader;
import javax.sip.message.Request;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The gateway's SIP endpoint listening on TCP through {@link SipTcpTransport}, with SIP Server on 127.0.0.1 and
 * raw sockets from other loopback addresses: the connection caps refuse at once and never keep SIP Server out,
 * silent and half-written connections are closed on the read timeout and idle ones on the idle timeout, a
 * Content-Length the parser would allocate is refused, and a request to a peer that closed its connection goes
 * out whole on a new one (the NIO processor's own path loses it: jain-sip #188).
 */
class TcpListenerTest {
    private static final Duration T = Duration.ofSeconds(10);

    private SipEndpoint sip;
    private SimpleMeterRegistry meters;
    private int port;
    private final List<Socket> sockets = new ArrayList<>();

    private void start(GatewayConfig.Sip.Tcp tcp) throws Exception {
        SipServerAddress server = new SipServerAddress(new HostPort("127.0.0.1", 9), "udp", false);
        port = FreePorts.udpAndTcp();
        GatewayConfig.Sip config = new GatewayConfig.Sip(new HostPort("127.0.0.1", port), "", List.of(server), "",
                Duration.ofMinutes(10), Duration.ofSeconds(30), 3, Duration.ofSeconds(5), "test-gateway",
                new HostPort("127.0.0.1", 0), true, List.of(), GatewayConfig.Sip.Untrusted.REJECT, tcp, 0);
        meters = new SimpleMeterRegistry();
        sip = new SipEndpoint(config, "test", meters);
        sip.start(server);
        sip.onRequest("OPTIONS", e -> sip.reply(e, 200));
    }

    @AfterEach
    void stop() {
        for (Socket s : sockets) {
            try {
                s.close();
            } catch (IOException ignored) {
                // closing anyway
            }
        }
        if (sip != null) {
            sip.close();
        }
    }

    private Socket connect(String from) throws IOException {
        Socket s = new Socket();
        sockets.add(s);
        s.bind(new InetSocketAddress(from, 0));
        s.connect(new InetSocketAddress("127.0.0.1", port), 5000);
        return s;
    }

    private static String options(Socket s, String from) {
        return "OPTIONS sip:gateway@127.0.0.1 SIP/2.0\r\n"
                + "Via: SIP/2.0/TCP " + from + ":" + s.getLocalPort() + ";branch=z9hG4bK"
                + Long.toHexString(ThreadLocalRandom.current().nextLong()) + "\r\n"
                + "Max-Forwards: 70\r\nFrom: <sip:probe@" + from + ">;tag=1\r\nTo: <sip:gateway@127.0.0.1>\r\n"
                + "Call-ID: " + Long.toHexString(ThreadLocalRandom.current().nextLong()) + "\r\nCSeq: 1 OPTIONS\r\n"
                + "Content-Length: 0\r\n\r\n";
    }

    /** Sends an OPTIONS on {@code s} and returns the status of the answer that comes back on it. */
    private static int exchange(Socket s, String from) throws IOException {
        write(s, options(s, from));
        s.setSoTimeout((int) T.toMillis());
        InputStream in = s.getInputStream();
        ByteArrayOutputStream got = new ByteArrayOutputStream();
        while (!got.toString(StandardCharsets.UTF_8).contains("\r\n\r\n")) {
            int b = in.read();
            if (b < 0) {
                throw new AssertionError("closed before an answer: " + got);
            }
            got.write(b);
        }
        return new SipMessage(got.toString(StandardCharsets.UTF_8)).status();
    }

    private static void write(Socket s, String text) throws IOException {
        OutputStream out = s.getOutputStream();
        out.write(text.getBytes(StandardCharsets.UTF_8));
        out.flush();
    }

    /** Whether the gateway closes {@code s} within {@code within} (reads until end of stream). */
    private static boolean closedWithin(Socket s, Duration within) throws IOException {
        long deadline = System.nanoTime() + within.toNanos();
        InputStream in = s.getInputStream();
        while (true) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                return false;
            }
            s.setSoTimeout((int) Math.max(1, TimeUnit.NANOSECONDS.toMillis(left)));
            try {
                if (in.read() < 0) {
                    return true;
                }
            } catch (SocketTimeoutException e) {
                return false;
            } catch (IOException reset) {
                return true;
            }
        }
    }

    private double closed(String reason) {
        Counter c = meters.find("gateway.sip.tcp.connections.closed").tag("reason", reason).counter();
        return c == null ? -1 : c.count();
    }

    private double open() {
        Gauge g = meters.find("gateway.sip.tcp.connections").gauge();
        return g == null ? -1 : g.value();
    }

    @Test
    void capsRefuseAtOnceAndNeverKeepSipServerOut() throws Exception {
        start(new GatewayConfig.Sip.Tcp(3, 2, Duration.ofSeconds(60), Duration.ofSeconds(30)));
        Socket a1 = connect("127.0.0.2");
        Socket a2 = connect("127.0.0.2");
        Socket a3 = connect("127.0.0.2");
        assertTrue(closedWithin(a3, T), "a third connection from one source is closed at once");
        assertEquals(403, exchange(a1, "127.0.0.2"), "the two within the cap are served (a stranger's 403)");
        assertEquals(403, exchange(a2, "127.0.0.2"));
        Socket b1 = connect("127.0.0.3");
        Socket b2 = connect("127.0.0.3");
        assertTrue(closedWithin(b2, T), "strangers together hold at most max-connections = 3");
        assertEquals(403, exchange(b1, "127.0.0.3"));

        // SIP Server (127.0.0.1) is held to its per-source cap only.
        Socket s1 = connect("127.0.0.1");
        Socket s2 = connect("127.0.0.1");
        assertEquals(200, exchange(s1, "127.0.0.1"));
        assertEquals(200, exchange(s2, "127.0.0.1"));
        assertTrue(closedWithin(connect("127.0.0.1"), T), "but to that");

        assertEquals(2, closed("max-connections-per-source"), "one from 127.0.0.2, one from SIP Server");
        assertEquals(1, closed("max-connections"));
        assertEquals(5, open());
        a1.close();
        b1.close();
        Poll.until(T, "two places given back", () -> open() == 3);
        assertEquals(403, exchange(connect("127.0.0.4"), "127.0.0.4"), "a stranger gets a freed place");
    }

    @Test
    void silentHalfWrittenAndIdleConnectionsAreClosed() throws Exception {
        Duration read = Duration.ofSeconds(1);
        Duration idle = Duration.ofSeconds(3);
        start(new GatewayConfig.Sip.Tcp(100, 100, idle, read));
        long started = System.nanoTime();
        Socket silent = connect("127.0.0.2");
        Socket half = connect("127.0.0.2");
        Socket served = connect("127.0.0.1");
        // Taken before the request goes out: the listener counts idleness from when the message arrived, which is
        // after this but before the answer is back here (taken after the answer, a close right on time could look
        // early by the round trip).
        long servedAt = System.nanoTime();
        assertEquals(200, exchange(served, "127.0.0.1"));
        // Half a message, then a byte now and then: the message must still be whole within the read timeout.
        String request = options(half, "127.0.0.2");
        write(half, request.substring(0, 40));
        boolean halfClosed = false;
        for (int i = 40; i < request.length() - 4 && !halfClosed; i++) {
            try {
                write(half, request.substring(i, i + 1));
            } catch (IOException closedMeanwhile) {
                halfClosed = true;
                break;
            }
            halfClosed = closedWithin(half, Duration.ofMillis(200));
        }
        assertTrue(halfClosed || closedWithin(half, T), "the half-written connection is closed");
        assertTrue(closedWithin(silent, T), "the silent one too");
        assertTrue(System.nanoTime() - started >= read.toNanos(), "not before the read timeout");
        assertEquals(2, closed("read-timeout"));

        assertTrue(closedWithin(served, T), "the served one once it was idle");
        assertTrue(System.nanoTime() - servedAt >= idle.toNanos(), "not before the idle timeout");
        assertEquals(1, closed("idle-timeout"));
        Poll.until(T, "no connection held", () -> open() == 0);
    }

    @Test
    void aContentLengthTheParserWouldAllocateClosesThatConnectionOnly() throws Exception {
        start(GatewayConfig.Sip.Tcp.DEFAULTS);
        Socket attacker = connect("127.0.0.1");
        write(attacker, "INVITE sip:1001@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1:5;branch=z9hG4bK1\r\n"
                + "Call-ID: big\r\nCSeq: 1 INVITE\r\nContent-Length: 2000000000\r\n\r\nv=0\r\n");
        assertTrue(closedWithin(attacker, T));
        assertEquals(1, closed("message-too-large"));
        assertEquals(200, exchange(connect("127.0.0.1"), "127.0.0.1"), "the listener still serves");
    }

    @Test
    void aRequestToAPeerThatClosedItsConnectionGoesOutWholeOnANewOne() throws Exception {
        start(GatewayConfig.Sip.Tcp.DEFAULTS);
        try (ServerSocket peer = new ServerSocket()) {
            peer.bind(new InetSocketAddress("127.0.0.1", 0));
            peer.setSoTimeout((int) T.toMillis());
            for (int i = 1; i <= 10; i++) {
                CompletableFuture<Integer> answered = new CompletableFuture<>();
                sip.send(optionsTo(peer.getLocalPort(), i), "tcp", new ClientTransactionHandler() {
                    @Override
                    public void onResponse(ResponseEvent event) {
                        answered.complete(event.getResponse().getStatusCode());
                    }

                    @Override
                    public void onFailure(String why) {
                        answered.completeExceptionally(new AssertionError(why));
                    }
                });
                // Each time a new connection: the peer closed the last one after answering.
                try (Socket c = peer.accept()) {
                    SipMessage request = readMessage(c);
                    assertEquals("OPTIONS", request.method(), "request " + i + " arrived whole: " + request.text());
                    write(c, "SIP/2.0 200 OK\r\nVia: " + request.header("Via").orElseThrow() + "\r\nFrom: "
                            + request.header("From").orElseThrow() + "\r\nTo: " + request.header("To").orElseThrow()
                            + ";tag=p\r\nCall-ID: " + request.callId() + "\r\nCSeq: " + request.header("CSeq").orElseThrow()
                            + "\r\nContent-Length: 0\r\n\r\n");
                    assertEquals(200, answered.get(T.toSeconds(), TimeUnit.SECONDS));
                    // The peer closes; once the gateway has closed its end too, the next request must open anew.
                    // (A request sent in the instant before the gateway reads the peer's FIN is lost in any
                    // stack: TCP accepts the write and the peer resets it.)
                    c.shutdownOutput();
                    assertTrue(closedWithin(c, T), "the gateway closes its end of a connection the peer closed");
                }
            }
        }
    }

    private Request optionsTo(int peerPort, int cseq) throws Exception {
        SipURI target = sip.addresses().createSipURI(null, "127.0.0.1:" + peerPort);
        target.setTransportParam("tcp");
        CallIdHeader callId = sip.headers().createCallIdHeader(sip.newCallId());
        ViaHeader via = sip.headers().createViaHeader(sip.advertisedHost(), sip.advertisedPort(), "tcp", null);
        var from = sip.headers().createFromHeader(sip.addresses().createAddress("sip:gw@127.0.0.1"), "f" + cseq);
        var to = sip.headers().createToHeader(sip.addresses().createAddress(target), null);
        return sip.messages().createRequest(target, Request.OPTIONS, callId,
                sip.headers().createCSeqHeader((long) cseq, Request.OPTIONS), from, to, List.of(via),
                sip.headers().createMaxForwardsHeader(70));
    }

    private static SipMessage readMessage(Socket c) throws IOException {
        c.setSoTimeout((int) T.toMillis());
        InputStream in = c.getInputStream();
        ByteArrayOutputStream got = new ByteArrayOutputStream();
        while (!got.toString(StandardCharsets.UTF_8).contains("\r\n\r\n")) {
            int b = in.read();
            if (b < 0) {
                throw new AssertionError("connection closed after: " + got);
            }
            got.write(b);
        }
        return new SipMessage(got.toString(StandardCharsets.UTF_8));
    }
}
