package io.webrtcgateway.sip.tcp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.webrtcgateway.config.GatewayConfig;
import io.webrtcgateway.testsupport.TestCa;
import java.nio.file.Files;
import java.nio.file.Path;
import javax.net.ssl.SSLException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The bench's in-memory handshake measures what it says: a full TLS 1.3 handshake of the gateway's engines on a
 * new host and port (the server's certificate sent), a resumed one on the same host and port (no certificate: far
 * fewer bytes), and the host-name check still applies.
 */
class InMemoryTlsHandshakeTest {
    @TempDir
    Path dir;

    @Test
    void fullThenResumedWithTheGatewaysEngines() throws Exception {
        TlsContexts contexts = contexts(TestCa.create("In-memory CA"));

        InMemoryTlsHandshake.Result full = InMemoryTlsHandshake.run(contexts, "localhost", 5061);
        InMemoryTlsHandshake.Result resumed = InMemoryTlsHandshake.run(contexts, "localhost", 5061);
        InMemoryTlsHandshake.Result otherPort = InMemoryTlsHandshake.run(contexts, "localhost", 5062);

        assertEquals("TLSv1.3", full.protocol());
        assertEquals("TLS_AES_128_GCM_SHA256", full.cipherSuite());
        assertTrue(full.clientCpuNanos() > 0 && full.serverCpuNanos() > 0, full.toString());
        // The server's flight carries the certificate chain (two certificates of a few hundred bytes each).
        assertTrue(full.serverBytes() > 800, full.toString());
        assertTrue(resumed.serverBytes() < full.serverBytes() - 500, resumed + " vs " + full);
        assertTrue(otherPort.serverBytes() > full.serverBytes() - 100, otherPort + " vs " + full);
        double exchange = InMemoryTlsHandshake.exchangeCpuNanos(contexts, "localhost", 5063, new byte[600],
                new byte[450], 200);
        assertTrue(exchange > 0, "CPU per exchange " + exchange);
    }

    @Test
    void aNameTheCertificateDoesNotHaveIsRefused() throws Exception {
        TlsContexts contexts = contexts(TestCa.create("In-memory CA"));

        assertThrows(SSLException.class, () -> InMemoryTlsHandshake.run(contexts, "sip.other.test", 5061));
    }

    private TlsContexts contexts(TestCa ca) throws Exception {
        Path chain = dir.resolve("gw.pem");
        Path key = dir.resolve("gw.key");
        Path trusted = dir.resolve("ca.pem");
        ca.issue("localhost", "127.0.0.1").writePem(chain, key, TestCa.KeyFormat.PKCS8);
        Files.writeString(trusted, TestCa.pem(ca.certificate()));
        return TlsContexts.create(new GatewayConfig.Sip.Tls(5061, chain.toString(), key.toString(), "", "",
                trusted.toString(), true, GatewayConfig.Sip.Tls.DEFAULT_HANDSHAKE_TIMEOUT));
    }
}
