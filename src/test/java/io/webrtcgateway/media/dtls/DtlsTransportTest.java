package io.webrtcgateway.media.dtls;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.webrtcgateway.media.PacketSender;
import io.webrtcgateway.media.srtp.SrtpProfile;
import io.webrtcgateway.media.srtp.SrtpSession;
import io.webrtcgateway.testsupport.Poll;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Two real bctls stacks back to back in memory: each side's sender calls the other side's receive(). */
class DtlsTransportTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(5);

    private static DtlsCertificate alice;
    private static DtlsCertificate bob;
    private static DtlsService aliceService;
    private static DtlsService bobService;

    @BeforeAll
    static void services() {
        alice = DtlsCertificate.generate();
        bob = DtlsCertificate.generate();
        aliceService = new DtlsService(alice, 4, 16, TIMEOUT);
        bobService = new DtlsService(bob, 4, 16, TIMEOUT);
    }

    @AfterAll
    static void stop() {
        aliceService.close();
        bobService.close();
    }

    /** Records the one outcome of a transport. */
    static final class Outcome implements DtlsListener {
        final CompletableFuture<DtlsSrtpKeys> keys = new CompletableFuture<>();
        final CompletableFuture<DtlsFailure> failure = new CompletableFuture<>();
        final AtomicInteger calls = new AtomicInteger();
        final CompletableFuture<Void> peerClosed = new CompletableFuture<>();

        @Override
        public void onHandshakeComplete(DtlsSrtpKeys k) {
            calls.incrementAndGet();
            keys.complete(k);
        }

        @Override
        public void onHandshakeFailed(DtlsFailure f) {
            calls.incrementAndGet();
            failure.complete(f);
        }

        @Override
        public void onPeerClosed() {
            peerClosed.complete(null);
        }

        DtlsSrtpKeys awaitKeys() throws Exception {
            CompletableFuture.anyOf(keys, failure).get(10, TimeUnit.SECONDS);
            if (failure.isDone()) {
                throw new AssertionError("handshake failed: " + failure.get());
            }
            return keys.get();
        }

        DtlsFailure awaitFailure() throws Exception {
            CompletableFuture.anyOf(keys, failure).get(10, TimeUnit.SECONDS);
            if (keys.isDone()) {
                throw new AssertionError("handshake completed, failure expected");
            }
            return failure.get();
        }
    }

    /** A pair of transports wired to each other; {@code filter} may drop datagrams from alice to bob. */
    static final class Pair {
        final Outcome aliceOutcome = new Outcome();
        final Outcome bobOutcome = new Outcome();
        final DtlsTransport a;
        final DtlsTransport b;

        Pair(DtlsService aliceSvc, DtlsService bobSvc, PacketSender aliceToBobFilter, PacketSender bobToAliceFilter) {
            AtomicReference<DtlsTransport> aRef = new AtomicReference<>();
            AtomicReference<DtlsTransport> bRef = new AtomicReference<>();
            PacketSender toBob = (buf, off, len) -> bRef.get().receive(buf, off, len);
            PacketSender toAlice = (buf, off, len) -> aRef.get().receive(buf, off, len);
            a = aliceSvc.newTransport(aliceToBobFilter != null ? aliceToBobFilter : toBob, aliceOutcome);
            b = bobSvc.newTransport(bobToAliceFilter != null ? bobToAliceFilter : toAlice, bobOutcome);
            aRef.set(a);
            bRef.set(b);
        }

        Pair() {
            this(aliceService, bobService, null, null);
        }

        void start(DtlsRole aliceRole, DtlsRole bobRole) {
            a.start(aliceRole, List.of(bob.sha256Fingerprint()));
            b.start(bobRole, List.of(alice.sha256Fingerprint()));
        }

        void close() {
            a.close();
            b.close();
        }
    }

    private static void assertKeysMirror(DtlsSrtpKeys k1, DtlsSrtpKeys k2) {
        assertEquals(k1.profile(), k2.profile());
        assertEquals(k1.local(), k2.remote());
        assertEquals(k1.remote(), k2.local());
        assertNotEquals(k1.local(), k1.remote());
    }

    /** SRTP keyed from both ends of the handshake carries a packet each way. */
    private static void assertSrtpWorks(DtlsSrtpKeys k1, DtlsSrtpKeys k2) {
        SrtpSession s1 = k1.newSrtpSession();
        SrtpSession s2 = k2.newSrtpSession();
        for (SrtpSession[] dir : new SrtpSession[][] {{s1, s2}, {s2, s1}}) {
            byte[] p = new byte[200];
            ByteBuffer.wrap(p).put((byte) 0x80).put((byte) 0).putShort((short) 1).putInt(0).putInt(7);
            Arrays.fill(p, 12, 172, (byte) 3);
            byte[] plain = Arrays.copyOf(p, 172);
            assertEquals(172, dir[1].unprotectRtp(p, 0, dir[0].protectRtp(p, 0, 172)));
            assertArrayEquals(plain, Arrays.copyOf(p, 172));
        }
    }

    @ParameterizedTest(name = "offer {0}, answer {1}")
    @CsvSource({"actpass, active", "actpass, passive", "active, passive", "passive, active"})
    void setupRolesFromSdpCompleteTheHandshake(String offered, String answered) throws Exception {
        DtlsSetup offer = DtlsSetup.parse(offered);
        DtlsSetup answer = DtlsSetup.answerTo(offer);
        if (offer == DtlsSetup.ACTPASS) {
            answer = DtlsSetup.parse(answered); // a browser answering us may pick either
        }
        assertEquals(answered, answer.sdpValue());
        DtlsRole offererRole = offer == DtlsSetup.ACTPASS ? DtlsSetup.offererRole(answer) : offer.localRole();
        DtlsRole answererRole = answer.localRole();
        assertNotEquals(offererRole, answererRole);

        Pair pair = new Pair();
        try {
            pair.start(offererRole, answererRole);
            DtlsSrtpKeys k1 = pair.aliceOutcome.awaitKeys();
            DtlsSrtpKeys k2 = pair.bobOutcome.awaitKeys();
            assertEquals(offererRole, k1.role());
            assertEquals(answererRole, k2.role());
            assertEquals(SrtpProfile.AES_CM_128_HMAC_SHA1_80, k1.profile());
            assertKeysMirror(k1, k2);
            assertEquals(bob.sha256Fingerprint(), k1.peerFingerprint());
            assertEquals(alice.sha256Fingerprint(), k2.peerFingerprint());
            assertSrtpWorks(k1, k2);
            assertEquals(DtlsTransport.State.CONNECTED, pair.a.state());
            assertEquals(DtlsTransport.State.CONNECTED, pair.b.state());

            // the closing side sends close_notify; the other side reports it
            pair.a.close();
            pair.bobOutcome.peerClosed.get(5, TimeUnit.SECONDS);
            assertEquals(DtlsTransport.State.CLOSED, pair.b.state());
        } finally {
            pair.close();
        }
        assertEquals(1, pair.aliceOutcome.calls.get());
        assertEquals(1, pair.bobOutcome.calls.get());
    }

    @ParameterizedTest(name = "client offers {0}, server accepts {1} -> {2}")
    @CsvSource({
        "AES_CM_128_HMAC_SHA1_32, AES_CM_128_HMAC_SHA1_80 AES_CM_128_HMAC_SHA1_32, AES_CM_128_HMAC_SHA1_32",
        "AES_CM_128_HMAC_SHA1_80 AES_CM_128_HMAC_SHA1_32, AES_CM_128_HMAC_SHA1_32 AES_CM_128_HMAC_SHA1_80, AES_CM_128_HMAC_SHA1_32",
        "AES_CM_128_HMAC_SHA1_32 AES_CM_128_HMAC_SHA1_80, AES_CM_128_HMAC_SHA1_80, AES_CM_128_HMAC_SHA1_80",
    })
    void negotiatesProfiles(String clientOffers, String serverAccepts, SrtpProfile expected) throws Exception {
        try (DtlsService client = new DtlsService(alice, 2, 4, TIMEOUT, profiles(clientOffers));
             DtlsService server = new DtlsService(bob, 2, 4, TIMEOUT, profiles(serverAccepts))) {
            Pair pair = new Pair(client, server, null, null);
            try {
                pair.start(DtlsRole.CLIENT, DtlsRole.SERVER);
                DtlsSrtpKeys k1 = pair.aliceOutcome.awaitKeys();
                DtlsSrtpKeys k2 = pair.bobOutcome.awaitKeys();
                assertEquals(expected, k1.profile());
                assertKeysMirror(k1, k2);
                assertSrtpWorks(k1, k2);
            } finally {
                pair.close();
            }
        }
    }

    private static List<SrtpProfile> profiles(String names) {
        return Arrays.stream(names.trim().split(" +")).map(SrtpProfile::valueOf).toList();
    }

    @Test
    void noCommonProfileFailsBothSides() throws Exception {
        try (DtlsService client = new DtlsService(alice, 2, 4, TIMEOUT, List.of(SrtpProfile.AES_CM_128_HMAC_SHA1_32));
             DtlsService server = new DtlsService(bob, 2, 4, TIMEOUT, List.of(SrtpProfile.AES_CM_128_HMAC_SHA1_80))) {
            Pair pair = new Pair(client, server, null, null);
            try {
                pair.start(DtlsRole.CLIENT, DtlsRole.SERVER);
                DtlsFailure serverFailure = pair.bobOutcome.awaitFailure();
                assertEquals(DtlsFailure.Reason.NO_SRTP_PROFILE, serverFailure.reason());
                DtlsFailure clientFailure = pair.aliceOutcome.awaitFailure();
                assertEquals(DtlsFailure.Reason.ALERT_RECEIVED, clientFailure.reason());
                assertEquals(1, server.counters().failures(DtlsFailure.Reason.NO_SRTP_PROFILE));
            } finally {
                pair.close();
            }
        }
    }

    @ParameterizedTest(name = "the {0} has the wrong fingerprint")
    @CsvSource({"CLIENT", "SERVER"})
    void fingerprintMismatchIsRefusedAndCounted(DtlsRole checkingRole) throws Exception {
        try (DtlsService checking = new DtlsService(alice, 2, 4, TIMEOUT);
             DtlsService other = new DtlsService(bob, 2, 4, TIMEOUT)) {
            Pair pair = new Pair(checking, other, null, null);
            DtlsFingerprint wrong = DtlsCertificate.generate().sha256Fingerprint();
            try {
                DtlsRole otherRole = checkingRole == DtlsRole.CLIENT ? DtlsRole.SERVER : DtlsRole.CLIENT;
                pair.b.start(otherRole, List.of(alice.sha256Fingerprint()));
                pair.a.start(checkingRole, List.of(wrong));

                DtlsFailure refused = pair.aliceOutcome.awaitFailure();
                assertEquals(DtlsFailure.Reason.FINGERPRINT_MISMATCH, refused.reason());
                assertTrue(refused.message().contains("fingerprint " + bob.fingerprint()), refused.message());
                assertTrue(refused.message().contains("does not match a=fingerprint " + wrong.toSdp()), refused.message());
                assertEquals(1, checking.counters().fingerprintMismatches());

                DtlsFailure told = pair.bobOutcome.awaitFailure();
                assertEquals(DtlsFailure.Reason.ALERT_RECEIVED, told.reason());
                assertTrue(told.message().contains("bad_certificate"), told.message());
                assertEquals(DtlsTransport.State.FAILED, pair.a.state());
                assertEquals(DtlsTransport.State.FAILED, pair.b.state());
            } finally {
                pair.close();
            }
        }
    }

    @Test
    void anyOfSeveralFingerprintsWithTheStrongestHashMayMatch() throws Exception {
        Pair pair = new Pair();
        try {
            DtlsFingerprint other = DtlsCertificate.generate().sha256Fingerprint();
            DtlsFingerprint sha1 = DtlsFingerprint.of("sha-1", bob.encoded());
            pair.a.start(DtlsRole.CLIENT, List.of(sha1, other, bob.sha256Fingerprint()));
            pair.b.start(DtlsRole.SERVER, List.of(DtlsFingerprint.of("sha-1", alice.encoded())));
            assertKeysMirror(pair.aliceOutcome.awaitKeys(), pair.bobOutcome.awaitKeys());
        } finally {
            pair.close();
        }
    }

    @Test
    void datagramsBeforeStartWaitForIt() throws Exception {
        Pair pair = new Pair();
        try {
            pair.a.start(DtlsRole.CLIENT, List.of(bob.sha256Fingerprint()));
            // the ClientHello reaches bob before bob knows the answer SDP
            poll(() -> aliceService.counters().handshakesStarted() > 0, "alice started");
            pair.b.start(DtlsRole.SERVER, List.of(alice.sha256Fingerprint()));
            assertKeysMirror(pair.aliceOutcome.awaitKeys(), pair.bobOutcome.awaitKeys());
        } finally {
            pair.close();
        }
    }

    /**
     * The server's final flight is lost: the client resends its last flight (after 1 s) and the completed
     * server, which holds no thread any more, must answer it again (RFC 6347 §4.2.4).
     */
    @Test
    void completedServerResendsItsLastFlightWhenItWasLost() throws Exception {
        AtomicReference<DtlsTransport> aliceRef = new AtomicReference<>();
        AtomicInteger dropped = new AtomicInteger();
        PacketSender lossyBobToAlice = (buf, off, len) -> {
            boolean changeCipherSpec = buf[off] == 20;
            boolean epochOne = len > 4 && buf[off + 3] == 0 && buf[off + 4] == 1;
            if ((changeCipherSpec || epochOne) && dropped.get() < 2) {
                dropped.incrementAndGet();
                return;
            }
            aliceRef.get().receive(buf, off, len);
        };
        Pair pair = new Pair(aliceService, bobService, null, lossyBobToAlice);
        aliceRef.set(pair.a);
        try {
            pair.start(DtlsRole.CLIENT, DtlsRole.SERVER);
            DtlsSrtpKeys serverKeys = pair.bobOutcome.awaitKeys();
            assertEquals(2, dropped.get());
            assertFalse(pair.aliceOutcome.keys.isDone(), "client cannot finish without the server's Finished");
            DtlsSrtpKeys clientKeys = pair.aliceOutcome.awaitKeys();
            assertKeysMirror(clientKeys, serverKeys);
        } finally {
            pair.close();
        }
    }

    @ParameterizedTest
    @CsvSource({"CLIENT", "SERVER"})
    void silentPeerTimesOut(DtlsRole role) throws Exception {
        try (DtlsService svc = new DtlsService(alice, 2, 4, Duration.ofMillis(300))) {
            Outcome outcome = new Outcome();
            AtomicInteger sent = new AtomicInteger();
            DtlsTransport t = svc.newTransport((buf, off, len) -> sent.incrementAndGet(), outcome);
            t.start(role, List.of(bob.sha256Fingerprint()));
            DtlsFailure f = outcome.awaitFailure();
            assertEquals(DtlsFailure.Reason.TIMEOUT, f.reason());
            assertEquals(1, svc.counters().failures(DtlsFailure.Reason.TIMEOUT));
            assertEquals(role == DtlsRole.CLIENT, sent.get() > 0, "only a client speaks first");
            ThreadPoolExecutor pool = (ThreadPoolExecutor) svc.handshakePool();
            poll(() -> pool.getActiveCount() == 0, "handshake thread released");
            t.close();
            assertEquals(1, outcome.calls.get());
        }
    }

    @Test
    void closeDuringHandshakeReleasesTheThreadAndCallsNoListener() throws Exception {
        try (DtlsService svc = new DtlsService(alice, 1, 4, TIMEOUT)) {
            Outcome outcome = new Outcome();
            DtlsTransport t = svc.newTransport((buf, off, len) -> { }, outcome);
            t.start(DtlsRole.SERVER, List.of(bob.sha256Fingerprint()));
            ThreadPoolExecutor pool = (ThreadPoolExecutor) svc.handshakePool();
            poll(() -> pool.getActiveCount() == 1, "handshake running");
            t.close();
            poll(() -> pool.getActiveCount() == 0, "handshake thread released");
            assertEquals(DtlsTransport.State.CLOSED, t.state());
            assertEquals(0, outcome.calls.get());
            t.start(DtlsRole.SERVER, List.of(bob.sha256Fingerprint())); // after close: a no-op
        }
    }

    @Test
    void startingTwiceOrWithoutFingerprintsIsRefused() {
        DtlsTransport t = aliceService.newTransport((buf, off, len) -> { }, new Outcome());
        try {
            assertThrows(IllegalArgumentException.class, () -> t.start(DtlsRole.CLIENT, List.of()));
            t.start(DtlsRole.SERVER, List.of(bob.sha256Fingerprint()));
            assertThrows(IllegalStateException.class, () -> t.start(DtlsRole.SERVER, List.of(bob.sha256Fingerprint())));
        } finally {
            t.close();
        }
    }

    @Test
    void garbageIntoReceiveNeverThrowsAndLeavesAnEstablishedAssociationAlone() throws Exception {
        Random r = new Random(11);
        AtomicReference<Pair> ref = new AtomicReference<>();
        AtomicInteger alertsAfterConnect = new AtomicInteger();
        PacketSender bobToAlice = (buf, off, len) -> {
            if (ref.get().b.state() == DtlsTransport.State.CONNECTED && buf[off] == 21) {
                alertsAfterConnect.incrementAndGet();
            }
            ref.get().a.receive(buf, off, len);
        };
        PacketSender aliceToBob = (buf, off, len) -> {
            if (ref.get().a.state() == DtlsTransport.State.CONNECTED && buf[off] == 21) {
                alertsAfterConnect.incrementAndGet();
            }
            ref.get().b.receive(buf, off, len);
        };
        Pair pair = new Pair(aliceService, bobService, aliceToBob, bobToAlice);
        ref.set(pair);
        try {
            // before start (fewer than the queue holds, so the ClientHello still fits), and with silly offsets
            for (int i = 0; i < 10; i++) {
                byte[] junk = new byte[r.nextInt(100)];
                r.nextBytes(junk);
                pair.b.receive(junk, 0, junk.length);
            }
            pair.b.receive(null, 0, 10);
            pair.b.receive(new byte[10], 8, 5);
            pair.b.receive(new byte[10], -1, 5);
            pair.b.receive(new byte[5000], 0, 5000);
            pair.start(DtlsRole.CLIENT, DtlsRole.SERVER);
            DtlsSrtpKeys k1;
            DtlsSrtpKeys k2;
            try {
                k1 = pair.aliceOutcome.awaitKeys();
                k2 = pair.bobOutcome.awaitKeys();
            } catch (AssertionError e) {
                // queued junk may legitimately spoil this handshake attempt; it must fail cleanly then
                assertTrue(pair.bobOutcome.failure.isDone() || pair.aliceOutcome.failure.isDone());
                return;
            }
            for (int i = 0; i < 2000; i++) {
                byte[] junk = new byte[1 + r.nextInt(300)];
                r.nextBytes(junk);
                junk[0] = (byte) (20 + r.nextInt(44)); // in the DTLS range (RFC 7983)
                if (i % 3 == 0) {
                    // a well-formed DTLS 1.2 record header, epoch 1, whose body is too short to decrypt:
                    // bctls treats that as fatal (decode_error), unlike a bad MAC
                    junk = Arrays.copyOf(junk, 13 + 5);
                    junk[0] = (byte) (i % 2 == 0 ? 23 : 21);
                    junk[1] = (byte) 0xfe;
                    junk[2] = (byte) 0xfd;
                    junk[3] = 0;
                    junk[4] = 1;
                    junk[11] = 0;
                    junk[12] = 5;
                }
                pair.b.receive(junk, 0, junk.length);
                pair.a.receive(junk, 0, junk.length);
            }
            assertEquals(DtlsTransport.State.CONNECTED, pair.a.state());
            assertEquals(DtlsTransport.State.CONNECTED, pair.b.state());
            assertEquals(0, alertsAfterConnect.get(), "no alert answered the garbage (a browser would hang up)");
            assertFalse(pair.aliceOutcome.peerClosed.isDone());
            assertFalse(pair.bobOutcome.peerClosed.isDone());
            assertSrtpWorks(k1, k2);
            assertEquals(1, pair.aliceOutcome.calls.get());
            assertEquals(1, pair.bobOutcome.calls.get());
        } finally {
            pair.close();
        }
    }

    static void poll(BooleanSupplier condition, String what) {
        Poll.until(Duration.ofSeconds(5), what, condition);
    }
}
