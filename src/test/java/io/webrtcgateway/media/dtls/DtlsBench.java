package io.webrtcgateway.media.dtls;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Cost of one DTLS-SRTP handshake (both ends in this JVM, in memory, so no network time): wall time from
 * start() to both keys, and process CPU per handshake pair. Sequential, after 50 warm-up handshakes.
 * Run: {@code mvn -B verify -Pbench -Dit.test=DtlsBench} (writes target/bench/dtls.md), or {@code main()}.
 * Not a test: it asserts nothing about speed.
 */
class DtlsBench {
    private static final int WARMUP = 50;
    private static final int HANDSHAKES = 200;

    @Test
    void handshakeCost() throws Exception {
        main(new String[0]);
    }

    public static void main(String[] args) throws Exception {
        long t0 = System.nanoTime();
        DtlsCertificate a = DtlsCertificate.generate();
        double certMs = (System.nanoTime() - t0) / 1e6;
        DtlsCertificate b = DtlsCertificate.generate();
        com.sun.management.OperatingSystemMXBean os =
                (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
        try (DtlsService sa = new DtlsService(a, 2, 8, Duration.ofSeconds(10));
             DtlsService sb = new DtlsService(b, 2, 8, Duration.ofSeconds(10))) {
            for (int i = 0; i < WARMUP; i++) {
                once(sa, sb, a, b);
            }
            double[] wall = new double[HANDSHAKES];
            long cpu0 = os.getProcessCpuTime();
            for (int i = 0; i < HANDSHAKES; i++) {
                wall[i] = once(sa, sb, a, b);
            }
            double cpuMs = (os.getProcessCpuTime() - cpu0) / 1e6 / HANDSHAKES;
            Arrays.sort(wall);
            String table = String.format("%n| DTLS 1.2 handshake, bctls 1.84 BcTlsCrypto, ECDSA P-256, in memory | value |%n"
                    + "|---|---|%n| wall time per handshake, median (p90) | %.1f ms (%.1f ms) |%n"
                    + "| process CPU per handshake (both ends) | %.1f ms |%n| certificate generation (first, cold) | %.0f ms |%n",
                    wall[HANDSHAKES / 2], wall[HANDSHAKES * 9 / 10], cpuMs, certMs);
            System.out.println(table);
            try {
                Files.createDirectories(Path.of("target", "bench"));
                Files.writeString(Path.of("target", "bench", "dtls.md"), table);
            } catch (IOException e) {
                System.out.println("could not write target/bench/dtls.md: " + e);
            }
        }
    }

    private static double once(DtlsService sa, DtlsService sb, DtlsCertificate a, DtlsCertificate b) throws Exception {
        DtlsTransportTest.Pair pair = new DtlsTransportTest.Pair(sa, sb, null, null);
        long t0 = System.nanoTime();
        pair.a.start(DtlsRole.CLIENT, List.of(b.sha256Fingerprint()));
        pair.b.start(DtlsRole.SERVER, List.of(a.sha256Fingerprint()));
        pair.aliceOutcome.awaitKeys();
        pair.bobOutcome.awaitKeys();
        double ms = (System.nanoTime() - t0) / 1e6;
        pair.close();
        return ms;
    }
}
