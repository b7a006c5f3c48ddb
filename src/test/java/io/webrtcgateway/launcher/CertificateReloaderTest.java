package io.webrtcgateway.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.webrtcgateway.config.ConfigException;
import io.webrtcgateway.config.GatewayConfig;
import io.webrtcgateway.testsupport.FreePorts;
import io.webrtcgateway.testsupport.TestCa;
import io.webrtcgateway.testsupport.TlsProbe;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.ssl.SslContextFactory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The HTTPS certificate replaced while Jetty runs: new connections get the new one once the files have
 * stayed put for one look, connections open before keep theirs, and files that cannot be used leave the one
 * in use in place. {@link CertificateReloader#check} is called by the test (the reloader's own timer waits an
 * hour here), so every look is deterministic.
 */
class CertificateReloaderTest {
    private static TestCa ca;

    @TempDir
    Path dir;

    private Server server;
    private CertificateReloader reloader;
    private int port;

    @BeforeAll
    static void makeCa() {
        ca = TestCa.create("CertificateReloaderTest CA");
    }

    @AfterEach
    void stop() throws Exception {
        if (server != null) {
            server.stop();
        }
    }

    private void start(GatewayConfig.Http.Tls tls) throws Exception {
        server = new Server();
        SslContextFactory.Server ssl = HttpsConnector.sslContextFactory();
        reloader = new CertificateReloader(tls, ssl, Duration.ofHours(1));
        server.addBean(reloader);
        server.addConnector(HttpsConnector.create(server, new HttpConfiguration(),
                new GatewayConfig.Http("127.0.0.1", 1, List.of(), List.of(), tls), ssl));
        server.setHandler(new Handler.Abstract() {
            @Override
            public boolean handle(Request request, Response response, Callback callback) {
                response.setStatus(200);
                Content.Sink.write(response, true, "ok", callback);
                return true;
            }
        });
        server.start();
    }

    private GatewayConfig.Http.Tls pem(Path chain, Path key) {
        port = FreePorts.tcp();
        return new GatewayConfig.Http.Tls(port, chain.toString(), key.toString(), "", "", false, Duration.ZERO);
    }

    private BigInteger served() {
        return TlsProbe.certificate(port).getSerialNumber();
    }

    /** Two looks: the first sees the change, the second finds it has stayed put and loads it. */
    private void twoLooks() {
        reloader.check();
        reloader.check();
    }

    @Test
    void newConnectionsGetTheNewCertificateAndOpenOnesKeepTheirs() throws Exception {
        Path chain = dir.resolve("chain.pem");
        Path key = dir.resolve("key.pem");
        TestCa.Issued first = ca.issue("127.0.0.1");
        first.writePem(chain, key, TestCa.KeyFormat.PKCS8);
        start(pem(chain, key));
        assertEquals(first.serial(), served());

        try (TlsProbe.Connection open = TlsProbe.connect(port)) {
            assertEquals(200, open.get("/").status());
            TestCa.Issued second = ca.issue("127.0.0.1");
            second.writePem(chain, key, TestCa.KeyFormat.TRADITIONAL);
            reloader.check();
            assertEquals(first.serial(), served(), "a change is loaded once it has stayed put for one look");
            reloader.check();
            assertEquals(second.serial(), served());
            assertEquals(second.serial(), reloader.current().certificate().getSerialNumber());
            // The connection made before goes on, with its certificate.
            assertEquals(200, open.get("/").status());
            assertEquals(first.serial(), open.certificate().getSerialNumber());
        }
    }

    @Test
    void filesThatCannotBeUsedLeaveTheCertificateInUse() throws Exception {
        Path chain = dir.resolve("chain.pem");
        Path key = dir.resolve("key.pem");
        TestCa.Issued first = ca.issue("127.0.0.1");
        first.writePem(chain, key, TestCa.KeyFormat.PKCS8);
        start(pem(chain, key));

        // Half written.
        String pem = first.chainPem();
        TestCa.replace(chain, pem.substring(0, pem.length() / 3).getBytes(StandardCharsets.US_ASCII));
        twoLooks();
        assertEquals(first.serial(), served());
        // A new certificate whose key has not arrived yet.
        TestCa.Issued second = ca.issue("127.0.0.1");
        TestCa.replace(chain, second.chainPem().getBytes(StandardCharsets.US_ASCII));
        twoLooks();
        assertEquals(first.serial(), served());
        // Gone.
        Files.delete(chain);
        twoLooks();
        assertEquals(first.serial(), served());
        // Then the key and the certificate together: loaded.
        second.writePem(chain, key, TestCa.KeyFormat.PKCS8);
        twoLooks();
        assertEquals(second.serial(), served());
    }

    @Test
    void aPkcs12KeystoreIsWatchedToo() throws Exception {
        Path p12 = dir.resolve("gw.p12");
        TestCa.Issued first = ca.issue("127.0.0.1");
        first.writePkcs12(p12, "changeit");
        port = FreePorts.tcp();
        start(new GatewayConfig.Http.Tls(port, "", "", p12.toString(), "changeit", false, Duration.ZERO));
        assertEquals(first.serial(), served());
        TestCa.Issued second = ca.issue("127.0.0.1");
        second.writePkcs12(dir.resolve("wrong.p12"), "another");
        Files.move(dir.resolve("wrong.p12"), p12, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        twoLooks();
        assertEquals(first.serial(), served(), "a keystore with another password is refused");
        second.writePkcs12(dir.resolve("next.p12"), "changeit");
        Files.move(dir.resolve("next.p12"), p12, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        twoLooks();
        assertEquals(second.serial(), served());
    }

    @Test
    void filesThatCannotBeUsedAtStartStopIt() {
        Path chain = dir.resolve("chain.pem");
        Path key = dir.resolve("key.pem");
        ca.issue("127.0.0.1").writePem(chain, key, TestCa.KeyFormat.PKCS8);
        ca.issue("127.0.0.1").writePem(dir.resolve("other.pem"), key, TestCa.KeyFormat.PKCS8);
        ConfigException e = assertThrows(ConfigException.class,
                () -> new CertificateReloader(pem(chain, key), HttpsConnector.sslContextFactory(), Duration.ofHours(1)));
        assertTrue(e.getMessage().contains("'gateway.http.tls.private-key'"), e.getMessage());
    }
}
