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
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** {@code gateway.http.tls}: the keys, and the certificate files read and checked at start (TlsIdentity). */
class TlsConfigTest {
    private static TestCa ca;
    private static TestCa.Issued server;

    @TempDir
    Path dir;

    @BeforeAll
    static void makeCa() {
        ca = TestCa.create("TlsConfigTest CA");
        server = ca.issue("gw.example.com", "127.0.0.1");
    }

    @Test
    void offByDefault() {
        GatewayConfig.Http http = ConfigLoader.parse("").http();
        assertFalse(http.tls().enabled());
        assertEquals(GatewayConfig.Http.Tls.OFF, http.tls());
        assertEquals(8086, http.port());
    }

    @ParameterizedTest
    @EnumSource(value = TestCa.KeyFormat.class, names = {"PKCS8", "TRADITIONAL"})
    void pemFilesWithAnEcKey(TestCa.KeyFormat format) {
        Path chain = dir.resolve("chain.pem");
        Path key = dir.resolve("key.pem");
        server.writePem(chain, key, format);
        GatewayConfig.Http.Tls tls = ConfigLoader.parse(pem(8443, chain, key)
                + "gateway.http.tls { redirect-http = true, hsts-max-age = 365 d }").http().tls();
        assertTrue(tls.enabled() && tls.pem());
        assertEquals(8443, tls.port());
        assertTrue(tls.redirectHttp());
        assertEquals(Duration.ofDays(365), tls.hstsMaxAge());
        TlsIdentity identity = TlsIdentity.load(tls);
        assertEquals(server.serial(), identity.certificate().getSerialNumber());
        assertEquals(server.chain(), identity.chain());
    }

    @ParameterizedTest
    @EnumSource(value = TestCa.KeyFormat.class, names = {"PKCS8", "TRADITIONAL"})
    void pemFilesWithAnRsaKey(TestCa.KeyFormat format) throws Exception {
        TestCa.Issued rsa = ca.issue(TestCa.rsa(2048), Instant.now().minusSeconds(60), Instant.now().plusSeconds(3600),
                "gw.example.com");
        Path chain = dir.resolve("chain.pem");
        Path key = dir.resolve("key.pem");
        rsa.writePem(chain, key, format);
        assertTrue(Files.readString(key).contains(format == TestCa.KeyFormat.PKCS8 ? "BEGIN PRIVATE KEY"
                : "BEGIN RSA PRIVATE KEY"));
        assertEquals(rsa.serial(), TlsIdentity.load(ConfigLoader.parse(pem(8443, chain, key)).http().tls())
                .certificate().getSerialNumber());
    }

    @Test
    void oneFileHoldingChainAndKey() throws Exception {
        Path both = dir.resolve("both.pem");
        Files.writeString(both, server.chainPem() + server.keyPem(TestCa.KeyFormat.TRADITIONAL));
        assertEquals(server.serial(), TlsIdentity.load(ConfigLoader.parse(pem(8443, both, both)).http().tls())
                .certificate().getSerialNumber());
    }

    @Test
    void pkcs12Keystore() {
        Path p12 = dir.resolve("gw.p12");
        server.writePkcs12(p12, "changeit");
        GatewayConfig.Http.Tls tls = ConfigLoader.parse(keystore(8443, p12, "changeit")).http().tls();
        assertFalse(tls.pem());
        assertEquals(server.chain(), TlsIdentity.load(tls).chain());
        assertFalse(tls.toString().contains("changeit"), "the password never reaches a log: " + tls);
    }

    @Test
    void noPlainHttpListenerOnlyWithHttps() {
        Path chain = dir.resolve("chain.pem");
        Path key = dir.resolve("key.pem");
        server.writePem(chain, key, TestCa.KeyFormat.PKCS8);
        assertEquals(0, ConfigLoader.parse(pem(8443, chain, key) + "gateway.http.port = 0").http().port());
        assertError("gateway.http.port", "needs HTTPS", "gateway.http.port = 0");
        assertError("gateway.http.tls.redirect-http", "no plain-HTTP listener",
                pem(8443, chain, key) + "gateway.http.port = 0\ngateway.http.tls.redirect-http = true");
    }

    // ---- the keys' combinations ----------------------------------------------------------------

    @Test
    void aPortWithoutACertificate() {
        assertError("gateway.http.tls.port", "needs a certificate", "gateway.http.tls.port = 8443");
    }

    @Test
    void pemFilesComeInPairs() {
        Path chain = dir.resolve("chain.pem");
        Path key = dir.resolve("key.pem");
        server.writePem(chain, key, TestCa.KeyFormat.PKCS8);
        assertError("gateway.http.tls.private-key", "missing", "gateway.http.tls { port = 8443, certificate-chain = "
                + quote(chain) + " }");
        assertError("gateway.http.tls.certificate-chain", "missing", "gateway.http.tls { port = 8443, private-key = "
                + quote(key) + " }");
    }

    @Test
    void pemAndKeystoreTogether() {
        Path chain = dir.resolve("chain.pem");
        Path key = dir.resolve("key.pem");
        Path p12 = dir.resolve("gw.p12");
        server.writePem(chain, key, TestCa.KeyFormat.PKCS8);
        server.writePkcs12(p12, "changeit");
        assertError("gateway.http.tls.keystore", "not both", pem(8443, chain, key)
                + "gateway.http.tls { keystore = " + quote(p12) + ", keystore-password = changeit }");
        assertError("gateway.http.tls.keystore-password", "PKCS12", pem(8443, chain, key)
                + "gateway.http.tls.keystore-password = changeit");
    }

    @Test
    void filesWhileHttpsIsOff() {
        Path chain = dir.resolve("chain.pem");
        Path key = dir.resolve("key.pem");
        server.writePem(chain, key, TestCa.KeyFormat.PKCS8);
        assertError("gateway.http.tls.port", "certificate-chain is set but HTTPS is off", pem(0, chain, key));
        assertError("gateway.http.tls.port", "redirect-http is set", "gateway.http.tls.redirect-http = true");
        assertError("gateway.http.tls.port", "hsts-max-age is set", "gateway.http.tls.hsts-max-age = 1 d");
    }

    @Test
    void portsCollide() {
        Path chain = dir.resolve("chain.pem");
        Path key = dir.resolve("key.pem");
        server.writePem(chain, key, TestCa.KeyFormat.PKCS8);
        assertError("gateway.http.tls.port", "also gateway.http.port", pem(8086, chain, key));
        assertError("gateway.admin.port", "also gateway.http.tls.port", pem(8443, chain, key)
                + "gateway.admin.port = 8443");
        assertError("gateway.http.tls.port", "not a port", pem(70000, chain, key));
        assertError("gateway.http.tls.hsts-max-age", "out of range", pem(8443, chain, key)
                + "gateway.http.tls.hsts-max-age = 1000 d");
    }

    // ---- the files -----------------------------------------------------------------------------

    @Test
    void missingAndUnreadableFiles() throws Exception {
        Path chain = dir.resolve("chain.pem");
        Path key = dir.resolve("key.pem");
        server.writePem(chain, key, TestCa.KeyFormat.PKCS8);
        assertError("gateway.http.tls.certificate-chain", "does not exist", pem(8443, dir.resolve("nope.pem"), key));
        assertError("gateway.http.tls.private-key", "does not exist", pem(8443, chain, dir.resolve("nope.pem")));
        assertError("gateway.http.tls.private-key", "is not a regular file", pem(8443, chain, dir));
        Path big = dir.resolve("big.pem");
        Files.write(big, new byte[2 * 1024 * 1024]);
        assertError("gateway.http.tls.certificate-chain", "bytes: not a certificate", pem(8443, big, key));
        assertError("gateway.http.tls.keystore", "does not exist", keystore(8443, dir.resolve("nope.p12"), "x"));
    }

    @Test
    void aChainFileWithoutCertificates() throws Exception {
        Path key = dir.resolve("key.pem");
        Path der = dir.resolve("chain.der");
        server.writePem(dir.resolve("chain.pem"), key, TestCa.KeyFormat.PKCS8);
        Files.write(der, server.certificate().getEncoded());
        assertError("gateway.http.tls.certificate-chain", "holds no certificate", pem(8443, der, key));
        assertError("gateway.http.tls.certificate-chain", "holds no certificate", pem(8443, key, key));
    }

    @Test
    void aKeyFileWithoutAKey() {
        Path chain = dir.resolve("chain.pem");
        server.writePem(chain, dir.resolve("key.pem"), TestCa.KeyFormat.PKCS8);
        assertError("gateway.http.tls.private-key", "holds no private key", pem(8443, chain, chain));
    }

    @Test
    void anEncryptedKey() {
        Path chain = dir.resolve("chain.pem");
        Path key = dir.resolve("key.pem");
        server.writePem(chain, key, TestCa.KeyFormat.ENCRYPTED_PKCS8);
        assertError("gateway.http.tls.private-key", "encrypted", pem(8443, chain, key));
    }

    @Test
    void aKeyThatDoesNotMatchTheCertificate() {
        Path chain = dir.resolve("chain.pem");
        Path key = dir.resolve("key.pem");
        server.writePem(chain, key, TestCa.KeyFormat.PKCS8);
        ca.issue("other.example.com").writePem(dir.resolve("other.pem"), key, TestCa.KeyFormat.PKCS8);
        assertError("gateway.http.tls.private-key", "does not match the certificate", pem(8443, chain, key));
        // An RSA key with an EC certificate
        TestCa.Issued rsa = ca.issue(TestCa.rsa(2048), Instant.now().minusSeconds(60), Instant.now().plusSeconds(3600),
                "gw.example.com");
        rsa.writePem(dir.resolve("rsa-chain.pem"), key, TestCa.KeyFormat.PKCS8);
        assertError("gateway.http.tls.private-key", "does not match the certificate", pem(8443, chain, key));
    }

    @Test
    void aChainInTheWrongOrder() throws Exception {
        Path chain = dir.resolve("chain.pem");
        Path key = dir.resolve("key.pem");
        server.writePem(chain, key, TestCa.KeyFormat.PKCS8);
        Files.writeString(chain, TestCa.pem(ca.certificate()) + TestCa.pem(server.certificate()));
        assertError("gateway.http.tls.certificate-chain", "did not issue certificate 1", pem(8443, chain, key));
    }

    @Test
    void anExpiredOrNotYetValidCertificate() {
        Path chain = dir.resolve("chain.pem");
        Path key = dir.resolve("key.pem");
        Instant now = Instant.now();
        ca.issue(TestCa.ec(), now.minus(Duration.ofDays(30)), now.minus(Duration.ofDays(1)), "gw.example.com")
                .writePem(chain, key, TestCa.KeyFormat.PKCS8);
        assertError("gateway.http.tls.certificate-chain", "expired on", pem(8443, chain, key));
        ca.issue(TestCa.ec(), now.plus(Duration.ofDays(1)), now.plus(Duration.ofDays(30)), "gw.example.com")
                .writePem(chain, key, TestCa.KeyFormat.PKCS8);
        assertError("gateway.http.tls.certificate-chain", "not valid before", pem(8443, chain, key));
    }

    @Test
    void aShortRsaKey() {
        Path chain = dir.resolve("chain.pem");
        Path key = dir.resolve("key.pem");
        ca.issue(TestCa.rsa(1024), Instant.now().minusSeconds(60), Instant.now().plusSeconds(3600), "gw.example.com")
                .writePem(chain, key, TestCa.KeyFormat.TRADITIONAL);
        assertError("gateway.http.tls.private-key", "too short", pem(8443, chain, key));
    }

    @Test
    void aWrongKeystorePassword() {
        Path p12 = dir.resolve("gw.p12");
        server.writePkcs12(p12, "changeit");
        assertError("gateway.http.tls.keystore-password", "wrong password", keystore(8443, p12, "wrong"));
    }

    @Test
    void aKeystoreThatIsNotOne() throws Exception {
        Path chain = dir.resolve("chain.pem");
        server.writePem(chain, dir.resolve("key.pem"), TestCa.KeyFormat.PKCS8);
        assertError("gateway.http.tls.keystore", "PKCS12", keystore(8443, chain, "changeit"));
    }

    @Test
    void aKeystoreWithoutAKeyOrWithTwo() throws Exception {
        java.security.KeyStore store = java.security.KeyStore.getInstance("PKCS12");
        store.load(null, null);
        store.setCertificateEntry("ca", ca.certificate());
        Path p12 = dir.resolve("certs.p12");
        try (var out = Files.newOutputStream(p12)) {
            store.store(out, "changeit".toCharArray());
        }
        assertError("gateway.http.tls.keystore", "holds no private key", keystore(8443, p12, "changeit"));
        TestCa.Issued other = ca.issue("other.example.com");
        store.setKeyEntry("a", server.keys().getPrivate(), "changeit".toCharArray(),
                server.chain().toArray(new java.security.cert.X509Certificate[0]));
        store.setKeyEntry("b", other.keys().getPrivate(), "changeit".toCharArray(),
                other.chain().toArray(new java.security.cert.X509Certificate[0]));
        try (var out = Files.newOutputStream(p12)) {
            store.store(out, "changeit".toCharArray());
        }
        assertError("gateway.http.tls.keystore", "2 private keys", keystore(8443, p12, "changeit"));
    }

    // ---- helpers -------------------------------------------------------------------------------

    private static String pem(int port, Path chain, Path key) {
        return "gateway.http.tls { port = " + port + ", certificate-chain = " + quote(chain) + ", private-key = "
                + quote(key) + " }\n";
    }

    private static String keystore(int port, Path p12, String password) {
        return "gateway.http.tls { port = " + port + ", keystore = " + quote(p12) + ", keystore-password = "
                + quote(password) + " }\n";
    }

    private static String quote(Object value) {
        return "\"" + value.toString().replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
    }

    private static void assertError(String key, String fragment, String hocon) {
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.parse(hocon), hocon);
        assertTrue(e.getMessage().startsWith("invalid config key '" + key + "'") && e.getMessage().contains(fragment),
                () -> "expected '" + key + "' ... " + fragment + ", got: " + e.getMessage());
    }
}
