package io.webrtcgateway.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.webrtcgateway.testsupport.TestCa;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code gateway.sip.tls}: off without a certificate, a TLS SIP Server refused at start without one (the key
 * named), the PEM/PKCS12 rules, the files read and checked at start, the trust bundle, and no transport the
 * gateway cannot speak.
 */
class SipTlsConfigTest {
    private static TestCa ca;
    private static TestCa.Issued gateway;

    @TempDir
    Path dir;

    @BeforeAll
    static void makeCa() {
        ca = TestCa.create("SipTlsConfigTest CA");
        gateway = ca.issue("gw.example.com", "127.0.0.1");
    }

    private static String message(String config) {
        return assertThrows(ConfigException.class, () -> ConfigLoader.parse(config)).getMessage();
    }

    private String pemFiles() {
        Path chain = dir.resolve("chain.pem");
        Path key = dir.resolve("key.pem");
        gateway.writePem(chain, key, TestCa.KeyFormat.PKCS8);
        return "gateway.sip.tls { certificate-chain = \"" + chain + "\", private-key = \"" + key + "\" }\n";
    }

    @Test
    void offWithoutACertificate() {
        GatewayConfig.Sip.Tls tls = ConfigLoader.parse("").sip().tls();
        assertFalse(tls.enabled());
        assertTrue(tls.verifyHostName());
        assertEquals(Duration.ofSeconds(10), tls.handshakeTimeout());
        assertEquals("", tls.trustedCertificates());
    }

    @Test
    void aTlsServerWithoutACertificateStopsTheGatewayWithTheKeyNamed() {
        String m = message("gateway.sip.servers = [\"sip1.example.com;transport=tls\"]");
        assertTrue(m.contains("gateway.sip.tls.certificate-chain"), m);
        assertTrue(m.contains("sip1.example.com:5061;transport=tls"), m);
    }

    @Test
    void aTransportTheGatewayCannotSpeakStopsItWithTheKeyNamed() {
        String m = message("gateway.sip.servers = [\"sip1.example.com;transport=sctp\"]");
        assertTrue(m.contains("gateway.sip.servers"), m);
        assertTrue(m.contains("sctp"), m);
    }

    @Test
    void pemFilesOpenTheTlsListeningPoint() {
        GatewayConfig.Sip sip = ConfigLoader.parse(pemFiles()
                + "gateway.sip.servers = [\"sip1.example.com;transport=tls\", \"sip2.example.com:5071;transport=tls\"]\n"
                + "gateway.auth.mode = none\n"
                + "gateway.sip.tls { port = 5063, verify-host-name = false, handshake-timeout = 2 s }").sip();
        assertTrue(sip.tls().enabled());
        assertEquals(5063, sip.tls().port());
        assertFalse(sip.tls().verifyHostName());
        assertEquals(Duration.ofSeconds(2), sip.tls().handshakeTimeout());
        assertEquals(5061, sip.servers().get(0).address().port(), "tls's default port");
        assertEquals(gateway.serial(), TlsIdentity.load(sip.tls().identity()).certificate().getSerialNumber());
    }

    @Test
    void aPkcs12Keystore() {
        Path store = dir.resolve("gw.p12");
        gateway.writePkcs12(store, "s3cret");
        GatewayConfig.Sip.Tls tls = ConfigLoader.parse("gateway.sip.tls { keystore = \"" + store
                + "\", keystore-password = \"s3cret\" }").sip().tls();
        assertTrue(tls.enabled());
        assertFalse(tls.toString().contains("s3cret"), "no password in toString: " + tls);
        String m = message("gateway.sip.tls { keystore = \"" + store + "\", keystore-password = \"wrong\" }");
        assertTrue(m.contains("gateway.sip.tls.keystore-password"), m);
    }

    @Test
    void halfAPemPairOrBothKindsAreRefused() {
        Path chain = dir.resolve("chain.pem");
        Path key = dir.resolve("key.pem");
        gateway.writePem(chain, key, TestCa.KeyFormat.PKCS8);
        String m = message("gateway.sip.tls.certificate-chain = \"" + chain + "\"");
        assertTrue(m.contains("gateway.sip.tls.private-key"), m);
        m = message(pemFiles() + "gateway.sip.tls.keystore = \"" + chain + "\"");
        assertTrue(m.contains("gateway.sip.tls.keystore") && m.contains("not both"), m);
        m = message(pemFiles() + "gateway.sip.tls.keystore-password = \"x\"");
        assertTrue(m.contains("gateway.sip.tls.keystore-password"), m);
    }

    @Test
    void filesThatCannotBeUsedNameTheirKey() throws Exception {
        Path chain = dir.resolve("chain.pem");
        Path key = dir.resolve("key.pem");
        gateway.writePem(chain, key, TestCa.KeyFormat.PKCS8);
        TestCa.Issued other = ca.issue("other.example.com");
        Path otherKey = dir.resolve("other-key.pem");
        Files.writeString(otherKey, other.keyPem(TestCa.KeyFormat.PKCS8));
        String m = message("gateway.sip.tls { certificate-chain = \"" + chain + "\", private-key = \"" + otherKey + "\" }");
        assertTrue(m.contains("gateway.sip.tls.private-key") && m.contains("does not match"), m);
        m = message("gateway.sip.tls { certificate-chain = \"" + dir.resolve("missing.pem") + "\", private-key = \""
                + key + "\" }");
        assertTrue(m.contains("gateway.sip.tls.certificate-chain") && m.contains("does not exist"), m);
        TestCa.Issued expired = ca.issue(TestCa.ec(), Instant.now().minus(Duration.ofDays(3)),
                Instant.now().minus(Duration.ofDays(1)), "gw.example.com");
        expired.writePem(chain, key, TestCa.KeyFormat.PKCS8);
        m = message("gateway.sip.tls { certificate-chain = \"" + chain + "\", private-key = \"" + key + "\" }");
        assertTrue(m.contains("gateway.sip.tls.certificate-chain") && m.contains("expired"), m);
    }

    @Test
    void theTrustBundleIsRead() throws Exception {
        Path bundle = dir.resolve("cas.pem");
        Files.writeString(bundle, TestCa.pem(ca.certificate()));
        assertEquals(bundle.toString(), ConfigLoader.parse(pemFiles() + "gateway.sip.tls.trusted-certificates = \""
                + bundle + "\"").sip().tls().trustedCertificates());
        Files.writeString(bundle, "not a certificate");
        String m = message(pemFiles() + "gateway.sip.tls.trusted-certificates = \"" + bundle + "\"");
        assertTrue(m.contains("gateway.sip.tls.trusted-certificates") && m.contains("no certificate"), m);
    }

    @Test
    void theTlsPortIsNotTheListenPort() {
        String m = message(pemFiles() + "gateway.sip.listen = \"0.0.0.0:5061\"");
        assertTrue(m.contains("gateway.sip.tls.port"), m);
    }
}
