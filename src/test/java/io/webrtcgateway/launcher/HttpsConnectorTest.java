package io.webrtcgateway.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.webrtcgateway.config.GatewayConfig;
import io.webrtcgateway.edge.http.AllowedHosts;
import io.webrtcgateway.testsupport.FreePorts;
import io.webrtcgateway.testsupport.RawHttp;
import io.webrtcgateway.testsupport.TestCa;
import io.webrtcgateway.testsupport.TlsProbe;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import javax.net.ssl.SSLHandshakeException;
import org.eclipse.jetty.http.HttpURI;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.ssl.SslContextFactory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The launcher's HTTPS listener on an embedded Jetty (a stand-in handler instead of the webapp): what TLS it
 * speaks, that a certificate for names serves a client that comes by IP address, HSTS, and the plain port's
 * redirect with its exceptions. CertificateReloaderTest covers the reload.
 */
class HttpsConnectorTest {
    private static TestCa ca;
    /** A certificate for a name only: browsers coming by IP address get it too. */
    private static TestCa.Issued namesOnly;

    @TempDir
    Path dir;

    private Server server;
    private int httpPort;
    private int httpsPort;
    private SslContextFactory.Server ssl;

    @BeforeAll
    static void makeCa() {
        ca = TestCa.create("HttpsConnectorTest CA");
        namesOnly = ca.issue("gw.example.com");
    }

    @AfterEach
    void stop() throws Exception {
        if (server != null) {
            server.stop();
        }
    }

    /** Starts Jetty as the launcher would: a plain and an HTTPS connector in front of {@link Echo}. */
    private void start(boolean redirect, Duration hsts) throws Exception {
        Path chain = dir.resolve("chain.pem");
        Path key = dir.resolve("key.pem");
        namesOnly.writePem(chain, key, TestCa.KeyFormat.PKCS8);
        httpPort = FreePorts.tcp();
        httpsPort = FreePorts.tcp();
        var tls = new GatewayConfig.Http.Tls(httpsPort, chain.toString(), key.toString(), "", "", redirect, hsts);
        var http = new GatewayConfig.Http("127.0.0.1", httpPort, List.of(), List.of("gw.example.com"), tls);
        server = new Server();
        HttpConfiguration config = new HttpConfiguration();
        ServerConnector plain = new ServerConnector(server, new HttpConnectionFactory(config));
        plain.setHost("127.0.0.1");
        plain.setPort(httpPort);
        server.addConnector(plain);
        ssl = HttpsConnector.sslContextFactory();
        server.addBean(new CertificateReloader(tls, ssl, Duration.ofHours(1)));
        server.addConnector(HttpsConnector.create(server, config, http, ssl));
        Handler echo = new Echo();
        server.setHandler(redirect ? new HttpsRedirect(echo, plain, httpsPort, new AllowedHosts(http.allowedHosts())) : echo);
        server.start();
    }

    @Test
    void tls13And12OnlyWithForwardSecretAeadSuites() throws Exception {
        start(false, Duration.ZERO);
        assertEquals(List.of("TLSv1.3", "TLSv1.2"), List.of(ssl.getSelectedProtocols()));
        assertTrue(Set.of(io.webrtcgateway.config.TlsPolicy.CIPHER_SUITES).containsAll(List.of(ssl.getSelectedCipherSuites())),
                List.of(ssl.getSelectedCipherSuites()).toString());
        assertTrue(ssl.getSelectedCipherSuites().length >= 6, List.of(ssl.getSelectedCipherSuites()).toString());

        try (TlsProbe.Connection c = TlsProbe.connect(httpsPort)) {
            assertEquals("TLSv1.3", c.protocol());
        }
        try (TlsProbe.Connection c = TlsProbe.connect(httpsPort, null, new String[] {"TLSv1.2"}, null)) {
            assertEquals("TLSv1.2", c.protocol());
            assertTrue(c.cipherSuite().startsWith("TLS_ECDHE_ECDSA_WITH_") && c.cipherSuite().contains("_GCM_"),
                    c.cipherSuite());
        }
        // A client offering only CBC (or static RSA) suites finds nothing in common.
        for (String suite : List.of("TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256", "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA",
                "TLS_RSA_WITH_AES_128_GCM_SHA256")) {
            assertThrows(SSLHandshakeException.class,
                    () -> TlsProbe.connect(httpsPort, null, new String[] {"TLSv1.2"}, new String[] {suite}).close(), suite);
        }
    }

    @Test
    void aCertificateForNamesServesClientsThatComeByIpAddressOrAnotherName() throws Exception {
        start(false, Duration.ZERO);
        // No SNI (a browser going to https://127.0.0.1/): the one certificate, and Jetty's SNI host check does
        // not refuse the request for a Host the certificate does not name.
        try (TlsProbe.Connection c = TlsProbe.connect(httpsPort)) {
            assertEquals(namesOnly.serial(), c.certificate().getSerialNumber());
            RawHttp.Response r = c.get("/demo/");
            assertEquals(200, r.status(), r.head());
            assertEquals("secure=true", r.body());
        }
        try (TlsProbe.Connection c = TlsProbe.connect(httpsPort, "other.example.net", null, null)) {
            assertEquals(namesOnly.serial(), c.certificate().getSerialNumber());
            assertEquals(200, c.request("GET / HTTP/1.1\r\nHost: other.example.net\r\n\r\n").status());
        }
        // The server sends its chain: the leaf, then the CA (which lets a client pin the CA's key).
        try (TlsProbe.Connection c = TlsProbe.connect(httpsPort, "gw.example.com", null, null)) {
            assertEquals(namesOnly.chain(), c.chain());
        }
    }

    @Test
    void hstsOnHttpsAnswersWhenConfigured() throws Exception {
        start(false, Duration.ofDays(365));
        try (TlsProbe.Connection c = TlsProbe.connect(httpsPort)) {
            assertEquals("max-age=31536000", c.get("/").header("Strict-Transport-Security"));
        }
        // Never over plain HTTP (RFC 6797 §7.2).
        assertNull(RawHttp.send("http://127.0.0.1:" + httpPort, null,
                "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n").header("Strict-Transport-Security"));
    }

    @Test
    void noHstsByDefault() throws Exception {
        start(false, Duration.ZERO);
        try (TlsProbe.Connection c = TlsProbe.connect(httpsPort)) {
            assertNull(c.get("/").header("Strict-Transport-Security"));
        }
    }

    @Test
    void thePlainPortRedirectsEverythingButHealthProbes() throws Exception {
        start(true, Duration.ZERO);
        RawHttp.Response page = plain("GET /demo/?dn=1001 HTTP/1.1\r\nHost: 127.0.0.1:" + httpPort + "\r\n");
        assertEquals(308, page.status(), page.head());
        assertEquals("https://127.0.0.1:" + httpsPort + "/demo/?dn=1001", page.header("Location"));
        RawHttp.Response post = plain("POST /api/v1/sessions HTTP/1.1\r\nHost: gw.example.com\r\nContent-Length: 2\r\n"
                + "Content-Type: application/json\r\n", "{}");
        assertEquals(308, post.status(), post.head());
        assertEquals("https://gw.example.com:" + httpsPort + "/api/v1/sessions", post.header("Location"));
        RawHttp.Response upgrade = plain("GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\n" + RawHttp.UPGRADE_HEADERS);
        assertEquals(308, upgrade.status(), upgrade.head());

        for (String probe : List.of("/health/live", "/health/ready", "/health/lb", "/%68ealth/live")) {
            RawHttp.Response health = plain("GET " + probe + " HTTP/1.1\r\nHost: 127.0.0.1\r\n");
            assertEquals(200, health.status(), probe + ": " + health.head());
            assertEquals("secure=false", health.body());
        }
        // A host the gateway does not serve is left to the webapp (which answers 421): no Location names it.
        RawHttp.Response foreign = plain("GET /demo/ HTTP/1.1\r\nHost: attacker.example\r\n");
        assertEquals(200, foreign.status(), foreign.head());
        // HTTPS itself is not redirected.
        try (TlsProbe.Connection c = TlsProbe.connect(httpsPort)) {
            assertEquals(200, c.get("/demo/").status());
        }
    }

    @Test
    void redirectLocations() {
        HttpURI uri = HttpURI.from("/a%20b/c?x=1&y=%2F");
        assertEquals("https://gw.example.com:8443/a%20b/c?x=1&y=%2F", HttpsRedirect.location("gw.example.com:8086", uri, 8443));
        assertEquals("https://[::1]:8443/a%20b/c?x=1&y=%2F", HttpsRedirect.location("[::1]:8086", uri, 8443));
        assertEquals("https://10.0.0.1/a%20b/c?x=1&y=%2F", HttpsRedirect.location("10.0.0.1", uri, 443));
    }

    private RawHttp.Response plain(String head) throws IOException {
        return plain(head, "");
    }

    private RawHttp.Response plain(String head, String body) throws IOException {
        return RawHttp.send("http://127.0.0.1:" + httpPort, null, head + "Connection: close\r\n\r\n" + body);
    }

    /** Answers 200 "secure=&lt;whether the request came over TLS&gt;". */
    private static final class Echo extends Handler.Abstract {
        @Override
        public boolean handle(Request request, Response response, Callback callback) {
            response.setStatus(200);
            response.getHeaders().put("Content-Type", "text/plain");
            Content.Sink.write(response, true, "secure=" + request.isSecure(), callback);
            return true;
        }
    }
}
