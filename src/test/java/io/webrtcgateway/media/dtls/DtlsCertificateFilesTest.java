package io.webrtcgateway.media.dtls;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.webrtcgateway.config.ConfigException;
import io.webrtcgateway.config.GatewayConfig;
import io.webrtcgateway.testsupport.TestCa;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Rotation of gateway.media.dtls's certificate: a transport made before the files changed keeps the old
 * certificate (its handshake shows it), one made after gets the new one; files that cannot be used leave the
 * certificate in use and are counted once. The watch's looks are made by the test ({@code check()}), not by
 * its timer.
 */
class DtlsCertificateFilesTest {
    /** Longer than any test: the watch's own thread never looks while a test does. */
    private static final Duration NEVER = Duration.ofHours(1);

    @TempDir
    Path dir;
    private Path chain;
    private Path key;
    private DtlsCertificateFiles files;
    private DtlsService service;
    private DtlsService peer;

    @BeforeEach
    void start() {
        chain = dir.resolve("chain.pem");
        key = dir.resolve("key.pem");
        TestCa.selfSigned("first").writePem(chain, key, TestCa.KeyFormat.PKCS8);
        files = new DtlsCertificateFiles(new GatewayConfig.Media.Dtls(chain.toString(), key.toString()), NEVER);
        service = new DtlsService(files.first(), 2, 8, DtlsWiring.TIMEOUT);
        files.start(service);
        peer = new DtlsService(DtlsCertificate.generate(), 2, 8, DtlsWiring.TIMEOUT);
    }

    @AfterEach
    void stop() {
        files.close();
        service.close();
        peer.close();
    }

    /** Two looks: the change is seen, then taken once it stayed put. */
    private void twoLooks() {
        files.check();
        files.check();
    }

    /** A handshake of {@code ours} (made by the test's service) with a browser-like peer expecting {@code announced}. */
    private DtlsFingerprint handshake(DtlsWiring wiring, DtlsCertificate announced) throws Exception {
        wiring.start(DtlsRole.CLIENT, List.of(peer.certificate().sha256Fingerprint()), List.of(announced.sha256Fingerprint()));
        wiring.aOutcome.awaitKeys();
        return wiring.bOutcome.awaitKeys().peerFingerprint();
    }

    @Test
    void aTransportMadeBeforeTheChangeKeepsTheOldCertificateOneMadeAfterGetsTheNew() throws Exception {
        DtlsCertificate first = service.certificate();
        assertSame(files.first(), first);
        DtlsWiring before = DtlsWiring.connect(service, peer);

        TestCa.Issued second = TestCa.create("DtlsCertificateFilesTest CA").issue("gw.example.com");
        second.writePem(chain, key, TestCa.KeyFormat.PKCS8);
        files.check();
        assertSame(first, service.certificate(), "a change is taken only once it stayed put for a look");
        files.check();

        DtlsCertificate now = service.certificate();
        assertEquals(DtlsCertificate.of(io.webrtcgateway.config.TlsIdentity.load(
                new GatewayConfig.Media.Dtls(chain.toString(), key.toString()).identity())).fingerprint(), now.fingerprint());
        assertTrue(!now.fingerprint().equals(first.fingerprint()), now.fingerprint());
        assertEquals(1, files.reloadsApplied());
        assertEquals(0, files.reloadsRefused());

        DtlsWiring after = DtlsWiring.connect(service, peer);
        try {
            assertSame(first, before.a.certificate());
            assertSame(now, after.a.certificate());
            // what the browser sees in each handshake is what each call announced in its SDP
            assertEquals(first.sha256Fingerprint(), handshake(before, first));
            assertEquals(now.sha256Fingerprint(), handshake(after, now));
        } finally {
            before.close();
            after.close();
        }
    }

    @Test
    void aTransportGivenTheCallsCertificateShowsItAfterARotation() throws Exception {
        DtlsCertificate callsCertificate = service.certificate();
        TestCa.selfSigned("second").writePem(chain, key, TestCa.KeyFormat.PKCS8);
        twoLooks();
        assertTrue(service.certificate() != callsCertificate);
        // BridgedCallMedia makes its transport late (when ICE starts) with the certificate the call began with
        DtlsWiring late = DtlsWiring.connect(service, callsCertificate, peer);
        try {
            assertEquals(callsCertificate.sha256Fingerprint(), handshake(late, callsCertificate));
        } finally {
            late.close();
        }
    }

    @Test
    void filesThatCannotBeUsedAreRefusedOnceAndTheCertificateStays() {
        DtlsCertificate first = service.certificate();
        TestCa.replace(chain, "not a certificate\n".getBytes(StandardCharsets.US_ASCII));
        twoLooks();
        files.check();
        assertSame(first, service.certificate());
        assertEquals(1, files.reloadsRefused(), "one version of the files, one refusal");
        assertEquals(0, files.reloadsApplied());

        Instant now = Instant.now();
        TestCa.selfSigned("rsa", TestCa.rsa(2048), now, now.plus(Duration.ofDays(1))).writePem(chain, key,
                TestCa.KeyFormat.PKCS8);
        twoLooks();
        assertSame(first, service.certificate(), "an RSA key is refused");
        assertEquals(2, files.reloadsRefused());

        TestCa.Issued good = TestCa.selfSigned("third");
        good.writePem(chain, key, TestCa.KeyFormat.PKCS8);
        twoLooks();
        assertEquals(1, files.reloadsApplied());
        assertTrue(service.certificate() != first);
    }

    @Test
    void anExpiredCertificateIsTaken() {
        Instant now = Instant.now();
        TestCa.selfSigned("expired", TestCa.ec(), now.minus(Duration.ofDays(2)), now.minus(Duration.ofDays(1)))
                .writePem(chain, key, TestCa.KeyFormat.PKCS8);
        DtlsCertificate first = service.certificate();
        twoLooks();
        assertEquals(1, files.reloadsApplied());
        assertTrue(service.certificate() != first);
    }

    @Test
    void filesThatCannotBeUsedAtStartStopIt() {
        TestCa.replace(key, "garbage".getBytes(StandardCharsets.US_ASCII));
        ConfigException e = assertThrows(ConfigException.class, () -> new DtlsCertificateFiles(
                new GatewayConfig.Media.Dtls(chain.toString(), key.toString()), NEVER));
        assertTrue(e.getMessage().contains("'gateway.media.dtls.private-key'"), e.getMessage());
    }
}
