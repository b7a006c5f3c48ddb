package io.webrtcgateway.media.dtls;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.webrtcgateway.config.ConfigLoader;
import io.webrtcgateway.config.TlsIdentity;
import io.webrtcgateway.testsupport.TestCa;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A DTLS certificate made from configured files: the fingerprint browsers get, and handshakes with it. */
class DtlsCertificateTest {
    @TempDir
    Path dir;

    private TlsIdentity load(TestCa.Issued issued) {
        Path chain = dir.resolve("chain.pem");
        Path key = dir.resolve("key.pem");
        issued.writePem(chain, key, TestCa.KeyFormat.TRADITIONAL);
        return TlsIdentity.load(ConfigLoader.parse("gateway.media.dtls { certificate-chain = \"" + chain
                + "\", private-key = \"" + key + "\" }").media().dtls().identity());
    }

    /** What {@code openssl x509 -noout -fingerprint -sha256} prints after "sha256 Fingerprint=", over the DER. */
    private static String opensslStyleSha256(byte[] der) throws Exception {
        return HexFormat.ofDelimiter(":").withUpperCase().formatHex(MessageDigest.getInstance("SHA-256").digest(der));
    }

    @Test
    void theFingerprintIsTheSha256OfTheCertificatesDer() throws Exception {
        TestCa.Issued issued = TestCa.selfSigned("WebRTC");
        DtlsCertificate certificate = DtlsCertificate.of(load(issued));
        String expected = opensslStyleSha256(issued.certificate().getEncoded());
        assertEquals("sha-256 " + expected, certificate.fingerprint());
        assertEquals(95, expected.length(), "32 bytes as hex pairs: " + expected);
        assertArrayEquals(issued.certificate().getEncoded(), certificate.encoded());
    }

    @Test
    void onlyTheFirstCertificateOfAChainIsTheDtlsCertificate() throws Exception {
        TestCa.Issued issued = TestCa.create("DtlsCertificateTest CA").issue("gw.example.com");
        DtlsCertificate certificate = DtlsCertificate.of(load(issued));
        assertArrayEquals(issued.certificate().getEncoded(), certificate.encoded());
        assertEquals("sha-256 " + opensslStyleSha256(issued.certificate().getEncoded()), certificate.fingerprint());
    }

    /** The key converted for bctls signs: both roles complete against a generated certificate's peer. */
    @Test
    void handshakesWithAConfiguredCertificateInBothRoles() throws Exception {
        DtlsCertificate configured = DtlsCertificate.of(load(TestCa.selfSigned("WebRTC")));
        DtlsCertificate peer = DtlsCertificate.generate();
        try (DtlsService ours = new DtlsService(configured, 2, 4, DtlsWiring.TIMEOUT);
             DtlsService theirs = new DtlsService(peer, 2, 4, DtlsWiring.TIMEOUT)) {
            for (DtlsRole role : DtlsRole.values()) {
                DtlsWiring wiring = DtlsWiring.connect(ours, theirs);
                try {
                    wiring.start(role, List.of(peer.sha256Fingerprint()), List.of(configured.sha256Fingerprint()));
                    DtlsSrtpKeys theirKeys = wiring.bOutcome.awaitKeys();
                    wiring.aOutcome.awaitKeys();
                    assertEquals(configured.sha256Fingerprint(), theirKeys.peerFingerprint(), role.name());
                } finally {
                    wiring.close();
                }
            }
        }
        assertTrue(configured.toString().contains(configured.fingerprint()));
    }
}
