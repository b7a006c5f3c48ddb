package io.webrtcgateway.media.dtls;

import io.webrtcgateway.media.PacketSender;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Two transports back to back in memory, each made with the certificate its service had at that moment (or
 * one given): for tests where the certificates change, unlike {@link DtlsTransportTest.Pair}'s fixed two.
 */
final class DtlsWiring {
    static final Duration TIMEOUT = Duration.ofSeconds(5);

    final DtlsTransportTest.Outcome aOutcome = new DtlsTransportTest.Outcome();
    final DtlsTransportTest.Outcome bOutcome = new DtlsTransportTest.Outcome();
    final DtlsTransport a;
    final DtlsTransport b;

    private DtlsWiring(DtlsService aService, DtlsCertificate aCertificate, DtlsService bService) {
        AtomicReference<DtlsTransport> aRef = new AtomicReference<>();
        AtomicReference<DtlsTransport> bRef = new AtomicReference<>();
        PacketSender toB = (buf, off, len) -> bRef.get().receive(buf, off, len);
        PacketSender toA = (buf, off, len) -> aRef.get().receive(buf, off, len);
        a = aCertificate == null ? aService.newTransport(toB, aOutcome) : aService.newTransport(aCertificate, toB, aOutcome);
        b = bService.newTransport(toA, bOutcome);
        aRef.set(a);
        bRef.set(b);
    }

    /** Each side with its service's current certificate. */
    static DtlsWiring connect(DtlsService aService, DtlsService bService) {
        return new DtlsWiring(aService, null, bService);
    }

    /** Side a with {@code aCertificate}, whatever its service's is. */
    static DtlsWiring connect(DtlsService aService, DtlsCertificate aCertificate, DtlsService bService) {
        return new DtlsWiring(aService, aCertificate, bService);
    }

    /** a in {@code aRole} expecting {@code bFingerprints}; b in the other role expecting {@code aFingerprints}. */
    void start(DtlsRole aRole, List<DtlsFingerprint> bFingerprints, List<DtlsFingerprint> aFingerprints) {
        a.start(aRole, bFingerprints);
        b.start(aRole == DtlsRole.CLIENT ? DtlsRole.SERVER : DtlsRole.CLIENT, aFingerprints);
    }

    void close() {
        a.close();
        b.close();
    }
}
