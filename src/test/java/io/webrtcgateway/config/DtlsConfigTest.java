package io.webrtcgateway.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.webrtcgateway.testsupport.TestCa;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * {@code gateway.media.dtls}: generated when both keys are empty; PEM files read and checked at start with
 * DTLS-SRTP's rules (an ECDSA P-256 key matching the certificate; dates not checked), every refusal naming
 * its key.
 */
class DtlsConfigTest {
    private static TestCa.Issued selfSigned;

    @TempDir
    Path dir;

    @BeforeAll
    static void makeCertificate() {
        selfSigned = TestCa.selfSigned("WebRTC");
    }

    private static String message(String config) {
        return assertThrows(ConfigException.class, () -> ConfigLoader.parse(config)).getMessage();
    }

    private static String dtls(Path chain, Path key) {
        return "gateway.media.dtls { certificate-chain = \"" + chain + "\", private-key = \"" + key + "\" }\n";
    }

    /** Writes {@code issued} as chain.pem + key.pem and returns the config naming them. */
    private String files(TestCa.Issued issued, TestCa.KeyFormat format) {
        Path chain = dir.resolve("chain.pem");
        Path key = dir.resolve("key.pem");
        issued.writePem(chain, key, format);
        return dtls(chain, key);
    }

    @Test
    void generatedByDefault() {
        GatewayConfig.Media.Dtls dtls = ConfigLoader.parse("").media().dtls();
        assertEquals(GatewayConfig.Media.Dtls.GENERATED, dtls);
        assertFalse(dtls.configured());
    }

    @ParameterizedTest
    @EnumSource(value = TestCa.KeyFormat.class, names = {"PKCS8", "TRADITIONAL"})
    void aPemPairLoads(TestCa.KeyFormat format) {
        GatewayConfig.Media.Dtls dtls = ConfigLoader.parse(files(selfSigned, format)).media().dtls();
        assertTrue(dtls.configured());
        assertEquals(dir.resolve("chain.pem").toString(), dtls.certificateChain());
        TlsIdentity identity = TlsIdentity.load(dtls.identity());
        assertEquals(selfSigned.certificate(), identity.certificate());
        assertEquals(TlsIdentity.Use.DTLS_SRTP, dtls.identity().use());
    }

    @Test
    void oneFileHoldingBothLoads() throws Exception {
        Path both = dir.resolve("dtls.pem");
        Files.writeString(both, selfSigned.chainPem() + selfSigned.keyPem(TestCa.KeyFormat.PKCS8));
        GatewayConfig.Media.Dtls dtls = ConfigLoader.parse(dtls(both, both)).media().dtls();
        assertEquals(selfSigned.serial(), TlsIdentity.load(dtls.identity()).certificate().getSerialNumber());
        assertEquals(1, dtls.identity().files().size(), "one file to watch");
    }

    @Test
    void aCertificateIssuedByACaLoadsWithItsChain() {
        TestCa.Issued issued = TestCa.create("DtlsConfigTest CA").issue("gw.example.com");
        TlsIdentity identity = TlsIdentity.load(ConfigLoader.parse(files(issued, TestCa.KeyFormat.PKCS8)).media().dtls()
                .identity());
        assertEquals(issued.certificate(), identity.certificate());
        assertEquals(2, identity.chain().size());
    }

    @Test
    void onlyOneOfTheTwoKeysNamesTheMissingOne() {
        Path chain = dir.resolve("chain.pem");
        Path key = dir.resolve("key.pem");
        selfSigned.writePem(chain, key, TestCa.KeyFormat.PKCS8);
        String m = message("gateway.media.dtls.certificate-chain = \"" + chain + "\"");
        assertTrue(m.contains("'gateway.media.dtls.private-key'") && m.contains("missing"), m);
        m = message("gateway.media.dtls.private-key = \"" + key + "\"");
        assertTrue(m.contains("'gateway.media.dtls.certificate-chain'") && m.contains("missing"), m);
    }

    @Test
    void filesThatCannotBeReadNameTheirKey() throws Exception {
        Path chain = dir.resolve("chain.pem");
        Path key = dir.resolve("key.pem");
        selfSigned.writePem(chain, key, TestCa.KeyFormat.PKCS8);
        String m = message(dtls(dir.resolve("missing.pem"), key));
        assertTrue(m.contains("'gateway.media.dtls.certificate-chain'") && m.contains("does not exist"), m);
        m = message(dtls(chain, dir));
        assertTrue(m.contains("'gateway.media.dtls.private-key'") && m.contains("not a regular file"), m);
        Path garbage = dir.resolve("garbage.pem");
        Files.writeString(garbage, "not a certificate\n");
        m = message(dtls(garbage, key));
        assertTrue(m.contains("'gateway.media.dtls.certificate-chain'") && m.contains("no certificate"), m);
        m = message(dtls(chain, garbage));
        assertTrue(m.contains("'gateway.media.dtls.private-key'") && m.contains("no private key"), m);
    }

    @Test
    void aKeyThatIsNotTheCertificatesIsRefused() throws Exception {
        Path chain = dir.resolve("chain.pem");
        selfSigned.writePem(chain, dir.resolve("key.pem"), TestCa.KeyFormat.PKCS8);
        Path otherKey = dir.resolve("other-key.pem");
        Files.writeString(otherKey, TestCa.selfSigned("other").keyPem(TestCa.KeyFormat.PKCS8));
        String m = message(dtls(chain, otherKey));
        assertTrue(m.contains("'gateway.media.dtls.private-key'") && m.contains("does not match"), m);
    }

    @Test
    void anRsaKeyIsRefusedWithTheReason() {
        Instant now = Instant.now();
        TestCa.Issued rsa = TestCa.selfSigned("rsa", TestCa.rsa(2048), now, now.plus(Duration.ofDays(1)));
        String m = message(files(rsa, TestCa.KeyFormat.PKCS8));
        assertTrue(m.contains("'gateway.media.dtls.private-key'") && m.contains("RSA") && m.contains("ECDSA P-256"), m);
    }

    @Test
    void anEcKeyOnAnotherCurveIsRefused() throws Exception {
        KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
        generator.initialize(new ECGenParameterSpec("secp384r1"));
        KeyPair p384 = generator.generateKeyPair();
        Instant now = Instant.now();
        TestCa.Issued issued = TestCa.selfSigned("p384", p384, now, now.plus(Duration.ofDays(1)));
        String m = message(files(issued, TestCa.KeyFormat.PKCS8));
        assertTrue(m.contains("'gateway.media.dtls.private-key'") && m.contains("384-bit") && m.contains("P-256"), m);
    }

    @Test
    void anExpiredCertificateIsAllowedBrowsersIgnoreItsDates() {
        Instant now = Instant.now();
        TestCa.Issued expired = TestCa.selfSigned("expired", TestCa.ec(), now.minus(Duration.ofDays(3)),
                now.minus(Duration.ofDays(1)));
        GatewayConfig.Media.Dtls dtls = ConfigLoader.parse(files(expired, TestCa.KeyFormat.PKCS8)).media().dtls();
        TlsIdentity identity = TlsIdentity.load(dtls.identity());
        assertTrue(identity.validityProblem(now).orElse("").startsWith("expired on"), identity.describe());
        // the same files for HTTPS are refused: TLS clients check the dates
        String m = message("gateway.http.tls { port = 8443, certificate-chain = \"" + dtls.certificateChain()
                + "\", private-key = \"" + dtls.privateKey() + "\" }");
        assertTrue(m.contains("expired"), m);
    }

    @Test
    void anEncryptedKeyIsRefusedWithoutPointingAtAKeystore() {
        String m = message(files(selfSigned, TestCa.KeyFormat.ENCRYPTED_PKCS8));
        assertTrue(m.contains("'gateway.media.dtls.private-key'") && m.contains("encrypted"), m);
        assertFalse(m.contains("keystore"), "gateway.media.dtls has no keystore: " + m);
    }
}
