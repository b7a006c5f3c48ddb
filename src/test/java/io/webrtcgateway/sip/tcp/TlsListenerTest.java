package io.webrtcgateway.sip.tcp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.webrtcgateway.config.GatewayConfig;
import io.webrtcgateway.config.HostPort;
import io.webrtcgateway.config.SipServerAddress;
import io.webrtcgateway.sip.ClientTransactionHandler;
import io.webrtcgateway.sip.SipEndpoint;
import io.webrtcgateway.testsupport.FreePorts;
import io.webrtcgateway.testsupport.Poll;
import io.webrtcgateway.testsupport.SipMessage;
import io.webrtcgateway.testsupport.TestCa;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;
import javax.sip.ResponseEvent;
import javax.sip.address.SipURI;
import javax.sip.header.CallIdHeader;
import javax.sip.header.ViaHeader;
import javax.sip.message.Request;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The gateway's SIP endpoint with a TLS listening point ({@link SipTcpTransport} with {@link TlsContexts}), against
 * JDK TLS sockets on loopback: requests answered over TLS; what is not TLS (plain SIP, a client that never ends
 * its handshake, an oversized record, an oversized message) closed, while another TLS client goes on; and the
 * gateway's own connections check the server's certificate against the name it was reached by and its CA, the
 * reason kept for health.
 */
class TlsListenerTest {
    private static final Duration T = Duration.ofSeconds(10);

    @TempDir
    Path dir;

    private final TestCa ca = TestCa.create("SIP test CA");
    private SipEndpoint sip;
    private SimpleMeterRegistry meters;
    private int tlsPort;
    private final List<Socket> sockets = new ArrayList<>();

    private void start(Duration handshakeTimeout) throws Exception {
        Path chain = dir.resolve("gw.pem");
        Path key = dir.resolve("gw.key");
        ca.issue("localhost", "127.0.0.1").writePem(chain, key, TestCa.KeyFormat.PKCS8);
        Path trusted = dir.resolve("ca.pem");
        Files.writeString(trusted, TestCa.pem(ca.certificate()));
        SipServerAddress server = new SipServerAddress(new HostPort("127.0.0.1", 9), "udp", false);
        int port = FreePorts.udpAndTcp();
        tlsPort = FreePorts.tcp();
        var tls = new GatewayConfig.Sip.Tls(tlsPort, chain.toString(), key.toString(), "", "", trusted.toString(), true,
                handshakeTimeout);
        GatewayConfig.Sip config = new GatewayConfig.Sip(new HostPort("127.0.0.1", port), "", List.of(server), "",
                Duration.ofMinutes(10), Duration.ofSeconds(30), 3, Duration.ofSeconds(5), "test-gateway",
                new HostPort("127.0.0.1", 0), true, List.of(), GatewayConfig.Sip.Untrusted.REJECT,
                GatewayConfig.Sip.Tcp.DEFAULTS, 0, GatewayConfig.Sip.Headers.DEFAULTS, tls);
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

    private double closed(String reason) {
        Counter c = meters.find("gateway.sip.tcp.connections.closed").tag("reason", reason).counter();
        return c == null ? 0 : c.count();
    }

    private static SSLContext context(TestCa trusted, TestCa.Issued identity) throws Exception {
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        KeyStore trust = KeyStore.getInstance("PKCS12");
        trust.load(null, null);
        trust.setCertificateEntry("ca", trusted.certificate());
        tmf.init(trust);
        KeyManagerFactory kmf = null;
        if (identity != null) {
            KeyStore keys = KeyStore.getInstance("PKCS12");
            keys.load(null, null);
            keys.setKeyEntry("server", identity.keys().getPrivate(), "pw".toCharArray(),
                    identity.chain().toArray(new java.security.cert.X509Certificate[0]));
            kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            kmf.init(keys, "pw".toCharArray());
        }
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(kmf == null ? null : kmf.getKeyManagers(), tmf.getTrustManagers(), null);
        return context;
    }

    private SSLSocket tlsClient() throws Exception {
        SSLSocket s = (SSLSocket) context(ca, null).getSocketFactory().createSocket();
        sockets.add(s);
        s.connect(new InetSocketAddress("127.0.0.1", tlsPort), 5000);
        s.setSoTimeout((int) T.toMillis());
        s.startHandshake();
        return s;
    }

    private Socket plainClient() throws IOException {
        Socket s = new Socket();
        sockets.add(s);
        s.connect(new InetSocketAddress("127.0.0.1", tlsPort), 5000);
        return s;
    }

    private static String options(Socket s) {
        return "OPTIONS sip:gateway@127.0.0.1 SIP/2.0\r\n"
                + "Via: SIP/2.0/TLS 127.0.0.1:" + s.getLocalPort() + ";branch=z9hG4bK"
                + Long.toHexString(ThreadLocalRandom.current().nextLong()) + "\r\n"
                + "Max-Forwards: 70\r\nFrom: <sip:probe@127.0.0.1>;tag=1\r\nTo: <sip:gateway@127.0.0.1>\r\n"
                + "Call-ID: " + Long.toHexString(ThreadLocalRandom.current().nextLong()) + "\r\nCSeq: 1 OPTIONS\r\n"
                + "Content-Length: 0\r\n\r\n";
    }

    private static SipMessage exchange(Socket s) throws IOException {
        write(s, options(s));
        return readMessage(s);
    }

    private static void write(Socket s, String text) throws IOException {
        write(s, text.getBytes(StandardCharsets.UTF_8));
    }

    private static void write(Socket s, byte[] bytes) throws IOException {
        OutputStream out = s.getOutputStream();
        out.write(bytes);
        out.flush();
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

    /** Whether the gateway closes {@code s} within {@code within} (reads until end of stream or reset). */
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

    @Test
    void aTlsClientsRequestIsAnsweredOverTls() throws Exception {
        start(Duration.ofSeconds(10));
        SSLSocket client = tlsClient();
        assertTrue(List.of("TLSv1.3", "TLSv1.2").contains(client.getSession().getProtocol()));
        assertEquals(200, exchange(client).status());
        assertEquals(200, exchange(client).status(), "the connection stays for the next request");
    }

    @Test
    void plainSipOnTheTlsPortIsClosedAndCounted() throws Exception {
        start(Duration.ofSeconds(10));
        Socket plain = plainClient();
        write(plain, options(plain));
        assertTrue(closedWithin(plain, T), "plain SIP on the TLS port: connection closed");
        Poll.until(T, "counted as tls-failed", () -> closed("tls-failed") >= 1);
        assertEquals(200, exchange(tlsClient()).status(), "TLS clients still served");
    }

    @Test
    void aClientThatNeverEndsItsHandshakeIsClosedAtTheHandshakeTimeoutWhileAnotherGoesOn() throws Exception {
        start(Duration.ofMillis(800));
        Socket silent = plainClient();
        Socket halfHello = plainClient();
        write(halfHello, new byte[] {0x16, 0x03, 0x01, 0x02, 0x00, 0x01}); // a ClientHello's first bytes, no more
        SSLSocket bystander = tlsClient();
        long start = System.nanoTime();
        assertTrue(closedWithin(silent, T), "a silent connection is closed");
        assertTrue(closedWithin(halfHello, T), "a half handshake is closed");
        long tookMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        assertTrue(tookMillis < 5000, "closed by the 0.8 s handshake timeout, before the 10 s read timeout: " + tookMillis);
        Poll.until(T, "counted as tls-handshake-timeout", () -> closed("tls-handshake-timeout") >= 2);
        assertEquals(0, closed("tls-failed"), "counted once, as timeouts");
        assertEquals(200, exchange(bystander).status(), "the bystander's connection still works");
    }

    @Test
    void anOversizedRecordOrMessageClosesThatConnectionOnly() throws Exception {
        start(Duration.ofSeconds(10));
        SSLSocket bystander = tlsClient();
        Socket big = plainClient();
        byte[] record = new byte[5 + 4096];
        record[0] = 0x16; // handshake
        record[1] = 0x03;
        record[2] = 0x03;
        record[3] = (byte) 0xff; // length 65535: over TLS's 2^14 + 2048 (RFC 8446 §5.2)
        record[4] = (byte) 0xff;
        write(big, record);
        assertTrue(closedWithin(big, T), "a record over TLS's size closes the connection");

        SSLSocket huge = tlsClient();
        String body = "x".repeat(70_000);
        try {
            write(huge, options(huge).replace("Content-Length: 0\r\n", "Content-Length: " + body.length() + "\r\n") + body);
        } catch (SocketException e) {
            // The gateway closed the connection past 64 KiB, before the client had written the rest (broken pipe).
        }
        assertTrue(closedWithin(huge, T), "a SIP message over 64 KiB inside TLS closes the connection");
        Poll.until(T, "counted as message-too-large", () -> closed("message-too-large") >= 1);
        assertEquals(200, exchange(bystander).status(), "the bystander's connection still works");
    }

    @Test
    void theServersCertificateMustNameTheHostAndChainToATrustedCa() throws Exception {
        start(Duration.ofSeconds(10));
        // The right name: the request goes out over TLS with the TLS port in its Via.
        try (SSLServerSocket server = serverSocket(context(ca, ca.issue("localhost")))) {
            CompletableFuture<Integer> answered = new CompletableFuture<>();
            sip.send(optionsTo("localhost", server.getLocalPort()), "tls", handler(answered));
            try (SSLSocket c = (SSLSocket) server.accept()) {
                SipMessage request = readMessage(c);
                assertEquals("OPTIONS", request.method());
                assertTrue(request.header("Via").orElseThrow().startsWith("SIP/2.0/TLS 127.0.0.1:" + tlsPort),
                        request.header("Via").orElseThrow());
                write(c, "SIP/2.0 200 OK\r\nVia: " + request.header("Via").orElseThrow() + "\r\nFrom: "
                        + request.header("From").orElseThrow() + "\r\nTo: " + request.header("To").orElseThrow()
                        + ";tag=p\r\nCall-ID: " + request.callId() + "\r\nCSeq: " + request.header("CSeq").orElseThrow()
                        + "\r\nContent-Length: 0\r\n\r\n");
                assertEquals(200, answered.get(T.toSeconds(), TimeUnit.SECONDS));
                assertEquals(null, sip.tlsProblem(tlsServer(server.getLocalPort())));
            }
        }
        // A certificate for another name.
        try (SSLServerSocket server = serverSocket(context(ca, ca.issue("sip.other.test")))) {
            acceptAndHandshakeInBackground(server);
            sip.send(optionsTo("localhost", server.getLocalPort()), "tls", handler(new CompletableFuture<>()));
            String problem = Poll.until(T, "the host-name failure kept for health",
                    () -> sip.tlsProblem(tlsServer(server.getLocalPort())), p -> p != null);
            assertTrue(problem.contains("not for the host name"), problem);
        }
        // The right name from a CA the gateway does not trust.
        TestCa stranger = TestCa.create("Stranger CA");
        try (SSLServerSocket server = serverSocket(context(stranger, stranger.issue("localhost")))) {
            acceptAndHandshakeInBackground(server);
            sip.send(optionsTo("localhost", server.getLocalPort()), "tls", handler(new CompletableFuture<>()));
            String problem = Poll.until(T, "the untrusted-CA failure kept for health",
                    () -> sip.tlsProblem(tlsServer(server.getLocalPort())), p -> p != null);
            assertTrue(problem.contains("trusted CA"), problem);
        }
        // The right name and CA, but expired.
        TestCa.Issued expired = ca.issue(TestCa.ec(), java.time.Instant.now().minus(Duration.ofDays(3)),
                java.time.Instant.now().minus(Duration.ofDays(1)), "localhost");
        try (SSLServerSocket server = serverSocket(context(ca, expired))) {
            acceptAndHandshakeInBackground(server);
            sip.send(optionsTo("localhost", server.getLocalPort()), "tls", handler(new CompletableFuture<>()));
            String problem = Poll.until(T, "the expiry kept for health",
                    () -> sip.tlsProblem(tlsServer(server.getLocalPort())), p -> p != null);
            assertTrue(problem.contains("expired"), problem);
        }
        assertFalse(closed("tls-failed") < 3, "the three refusals counted");
    }

    @Test
    void aDoubleCrlfKeepaliveIsAnsweredOverTls() throws Exception {
        start(Duration.ofSeconds(10));
        SSLSocket client = tlsClient();
        write(client, "\r\n\r\n"); // RFC 5626 §4.4.1 ping
        byte[] pong = client.getInputStream().readNBytes(2);
        assertEquals("\r\n", new String(pong, StandardCharsets.US_ASCII), "the pong");
        assertEquals(200, exchange(client).status(), "the connection goes on");
    }

    @Test
    void newConnectionsGetTheCertificateFromReplacedFiles() throws Exception {
        start(Duration.ofSeconds(10));
        java.math.BigInteger before = ((java.security.cert.X509Certificate) tlsClient().getSession()
                .getPeerCertificates()[0]).getSerialNumber();
        SSLSocket open = tlsClient();
        TestCa.Issued next = ca.issue("localhost", "127.0.0.1");
        next.writePem(dir.resolve("gw.pem"), dir.resolve("gw.key"), TestCa.KeyFormat.PKCS8);
        Poll.until(T, "a new connection gets the new certificate", () -> {
            try {
                SSLSocket s = tlsClient();
                return ((java.security.cert.X509Certificate) s.getSession().getPeerCertificates()[0]).getSerialNumber();
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }, serial -> serial.equals(next.serial()));
        assertFalse(before.equals(next.serial()));
        assertEquals(200, exchange(open).status(), "a connection open before keeps working");
    }

    private static SipServerAddress tlsServer(int port) {
        return new SipServerAddress(new HostPort("localhost", port), "tls", false);
    }

    private static SSLServerSocket serverSocket(SSLContext context) throws IOException {
        SSLServerSocket server = (SSLServerSocket) context.getServerSocketFactory().createServerSocket();
        server.bind(new InetSocketAddress("127.0.0.1", 0));
        server.setSoTimeout((int) T.toMillis());
        return server;
    }

    /** The server's side of a handshake that the gateway will refuse. */
    private static void acceptAndHandshakeInBackground(SSLServerSocket server) {
        Thread t = new Thread(() -> {
            try (SSLSocket c = (SSLSocket) server.accept()) {
                c.setSoTimeout((int) T.toMillis());
                c.startHandshake();
                c.getInputStream().read();
            } catch (IOException expected) {
                // the gateway refuses the certificate
            }
        }, "tls-test-server");
        t.setDaemon(true);
        t.start();
    }

    private static ClientTransactionHandler handler(CompletableFuture<Integer> answered) {
        return new ClientTransactionHandler() {
            @Override
            public void onResponse(ResponseEvent event) {
                answered.complete(event.getResponse().getStatusCode());
            }

            @Override
            public void onFailure(String why) {
                answered.completeExceptionally(new AssertionError(why));
            }
        };
    }

    private Request optionsTo(String host, int peerPort) throws Exception {
        SipURI target = sip.addresses().createSipURI(null, host);
        target.setPort(peerPort);
        target.setTransportParam("tls");
        CallIdHeader callId = sip.headers().createCallIdHeader(sip.newCallId());
        ViaHeader via = sip.headers().createViaHeader(sip.advertisedHost(), sip.advertisedPort("tls"), "tls", null);
        var from = sip.headers().createFromHeader(sip.addresses().createAddress("sip:gw@127.0.0.1"), "f1");
        var to = sip.headers().createToHeader(sip.addresses().createAddress(target), null);
        return sip.messages().createRequest(target, Request.OPTIONS, callId,
                sip.headers().createCSeqHeader(1L, Request.OPTIONS), from, to, List.of(via),
                sip.headers().createMaxForwardsHeader(70));
    }
}
