package io.webrtcgateway.media.dtls;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.security.MessageDigest;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.interfaces.ECPublicKey;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class DtlsFingerprintTest {
    private static final DtlsCertificate CERT = DtlsCertificate.generate();

    @Test
    void certificateIsSelfSignedEcdsaP256WithAnSdpFingerprint() throws Exception {
        X509Certificate x509 = (X509Certificate) CertificateFactory.getInstance("X.509")
                .generateCertificate(new ByteArrayInputStream(CERT.encoded()));
        x509.verify(x509.getPublicKey()); // self-signed, signature valid
        assertEquals("SHA256withECDSA", x509.getSigAlgName());
        assertEquals(256, ((ECPublicKey) x509.getPublicKey()).getParams().getCurve().getField().getFieldSize());
        assertTrue(x509.getPublicKey().getEncoded().length < 100, "named curve, not explicit parameters");
        x509.checkValidity();

        String fp = CERT.fingerprint();
        assertTrue(fp.matches("sha-256 ([0-9A-F]{2}:){31}[0-9A-F]{2}"), fp);
        String expected = HexFormat.ofDelimiter(":").withUpperCase()
                .formatHex(MessageDigest.getInstance("SHA-256").digest(CERT.encoded()));
        assertEquals("sha-256 " + expected, fp);
    }

    @Test
    void generatingIsFastEnoughForStartup() {
        long t0 = System.nanoTime();
        for (int i = 0; i < 5; i++) {
            DtlsCertificate.generate();
        }
        Duration each = Duration.ofNanos((System.nanoTime() - t0) / 5);
        assertTrue(each.toMillis() < 500, "one certificate took " + each.toMillis() + " ms");
    }

    @Test
    void parsesAndMatches() {
        DtlsFingerprint fp = DtlsFingerprint.parse("a=fingerprint:" + CERT.fingerprint().toLowerCase());
        assertEquals(CERT.sha256Fingerprint(), fp);
        assertEquals(CERT.fingerprint(), fp.toSdp());
        assertTrue(fp.matches(CERT.encoded()));
        assertFalse(fp.matches(DtlsCertificate.generate().encoded()));

        DtlsFingerprint sha1 = DtlsFingerprint.parse("SHA-1 " + DtlsFingerprint.of("sha-1", CERT.encoded()).toSdp().substring(6));
        assertEquals("sha-1", sha1.algorithm());
        assertTrue(sha1.matches(CERT.encoded()));
        assertTrue(DtlsFingerprint.of("sha-512", CERT.encoded()).matches(CERT.encoded()));
    }

    @Test
    void strongestHashDecides() {
        DtlsFingerprint goodSha1 = DtlsFingerprint.of("sha-1", CERT.encoded());
        DtlsFingerprint otherSha256 = DtlsCertificate.generate().sha256Fingerprint();
        // RFC 8122 §5: with a sha-256 listed, the sha-1 one is not consulted
        assertFalse(DtlsFingerprint.anyMatches(List.of(goodSha1, otherSha256), CERT.encoded()));
        assertTrue(DtlsFingerprint.anyMatches(List.of(goodSha1), CERT.encoded()));
        assertTrue(DtlsFingerprint.anyMatches(List.of(otherSha256, CERT.sha256Fingerprint()), CERT.encoded()));
        assertFalse(DtlsFingerprint.anyMatches(List.of(), CERT.encoded()));
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "", "sha-256", "md5 00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF", "sha-256 00:11",
        "sha-1 00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:3G",
        "sha-1 00-11-22-33-44-55-66-77-88-99-AA-BB-CC-DD-EE-FF-00-11-22-33", "sha-1 a b"})
    void refusesBadFingerprints(String bad) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> DtlsFingerprint.parse(bad));
        assertTrue(e.getMessage().contains("fingerprint"), e.getMessage());
    }
}
