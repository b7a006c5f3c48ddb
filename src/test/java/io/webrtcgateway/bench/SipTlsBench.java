package io.webrtcgateway.bench;

import io.webrtcgateway.config.GatewayConfig;
import io.webrtcgateway.sip.tcp.InMemoryTlsHandshake;
import io.webrtcgateway.sip.tcp.TlsContexts;
import io.webrtcgateway.testsupport.GatewayProcess;
import io.webrtcgateway.testsupport.Kamailio;
import io.webrtcgateway.testsupport.TestCa;
import io.webrtcgateway.testsupport.WsTestClient;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.ToDoubleFunction;
import org.junit.jupiter.api.Test;

/**
 * SIP over TLS (issue 14 item 2, docs/sip.md "Cost of TLS"), two figures measured in one run.
 * Run: {@code mvn -B -o verify -Pbench -Dit.test=SipTlsBench} (table on stdout and in target/bench/sip-tls.md,
 * figures in target/bench/sip-tls.csv).
 *
 * <ul>
 *   <li><b>Handshake cost</b>, in this JVM: a client engine of the gateway's own {@link TlsContexts} against a
 *   server engine of the same, in memory on one thread ({@link InMemoryTlsHandshake}; no sockets), TLS 1.3. The
 *   gateway's certificate ECDSA P-256 (EC CA) against RSA-2048 (RSA CA), alternating rounds. Each side's thread CPU
 *   time: the client's is what the gateway pays per connection it opens to a SIP Server (with that server's
 *   certificate type), the server's what it pays per connection a SIP Server opens to it. Full handshakes (a new
 *   host:port each time, so nothing to resume) and resumed ones (the same host:port again: TLS 1.3 PSK with
 *   ECDHE, no certificate), as the gateway's reconnection to the same server is. Also what TLS adds per
 *   registration on an open connection: the client's CPU to seal a REGISTER and open its 200 OK;</li>
 *   <li><b>Registrations per second</b> through the WebSocket API to one Kamailio, side by side: a gateway with
 *   Kamailio's UDP entry, one with its TCP entry and one with its TLS entry (TCP tells TLS's own share apart from
 *   the stream transport's), alternating rounds of the same size, sessions opened before the clock starts (as
 *   {@link RegistrationBench}); plus each gateway's CPU per registration (its process's user + system time over
 *   the round, /proc, 10 ms ticks). The gateway keeps one connection to a SIP Server and sends every REGISTER
 *   over it: the handshake is paid once, before the rounds, not per registration.</li>
 * </ul>
 * Not a test: it asserts nothing about speed. Medians are reported, with every round and the load average.
 */
class SipTlsBench {
    private static final int SESSIONS = Integer.getInteger("bench.sessions", 600);
    private static final int CONCURRENCY = Integer.getInteger("bench.concurrency", 64);
    private static final int ROUNDS = Integer.getInteger("bench.rounds", 7);
    /** Full handshakes per certificate type and round, each followed by a resumed one. */
    private static final int HANDSHAKES = Integer.getInteger("bench.handshakes", 200);
    private static final int WARM_UP_HANDSHAKES = 1000;
    /** Untimed rounds of {@link #SESSIONS} per transport first: on a busy machine the gateways' JIT settles slowly. */
    private static final int WARM_UP_ROUNDS = 2;
    private static final Duration START = Duration.ofSeconds(180);
    private static final long CLOCK_TICKS_PER_SECOND = 100;

    /** Per-round medians and every sample of one handshake kind. */
    private record HandshakeKind(String name, TlsContexts contexts, List<InMemoryTlsHandshake.Result> full,
            List<InMemoryTlsHandshake.Result> resumed, List<Double> fullRoundCpu) {}

    /** One transport's registration rounds. */
    private record Variant(String name, GatewayProcess gateway, int firstDn, List<Double> rates,
            List<Double> cpuMicrosPerRegistration) {}

    /** A REGISTER's and its 200 OK's size, about (TlsSession): what each registration puts through TLS. */
    private static final byte[] REGISTER = new byte[600];
    private static final byte[] OK = new byte[450];
    private static final int EXCHANGES = 20_000;

    private final List<Double> loadAverages = new ArrayList<>();
    /** Per round: the gateway's TLS CPU (µs) to seal a REGISTER and open its 200 OK on an open connection. */
    private final List<Double> exchangeCpu = new ArrayList<>();
    private int nextPort = 10_000;

    @Test
    void handshakeCostAndRegistrationRate() throws Exception {
        Path dir = Files.createTempDirectory("sip-tls-bench-");
        sampleLoad();
        List<HandshakeKind> kinds = List.of(
                new HandshakeKind("ECDSA P-256", contexts(dir, "ec", TestCa.ec(), TestCa.ec()), new ArrayList<>(),
                        new ArrayList<>(), new ArrayList<>()),
                new HandshakeKind("RSA-2048", contexts(dir, "rsa", TestCa.rsa(2048), TestCa.rsa(2048)),
                        new ArrayList<>(), new ArrayList<>(), new ArrayList<>()));
        measureHandshakes(kinds);
        sampleLoad();
        List<Variant> variants = measureRegistrations(dir);

        String table = table(kinds, variants);
        System.out.println(table);
        Path out = Path.of(System.getProperty("it.buildDir", "target"), "bench");
        Files.createDirectories(out);
        Files.writeString(out.resolve("sip-tls.md"), table);
        Files.writeString(out.resolve("sip-tls.csv"), csv(kinds, variants));
    }

    // ---- handshakes ----

    /** A gateway identity issued by a CA of the same key type, trusted by the same contexts. */
    private static TlsContexts contexts(Path dir, String prefix, KeyPair caKeys, KeyPair keys) throws IOException {
        TestCa ca = TestCa.create("SipTlsBench " + prefix + " CA", caKeys);
        Instant now = Instant.now();
        Path chain = dir.resolve(prefix + "-gw.pem");
        Path key = dir.resolve(prefix + "-gw.key");
        Path trusted = dir.resolve(prefix + "-ca.pem");
        ca.issue(keys, now.minus(Duration.ofHours(1)), now.plus(Duration.ofDays(30)), "localhost", "127.0.0.1")
                .writePem(chain, key, TestCa.KeyFormat.PKCS8);
        Files.writeString(trusted, TestCa.pem(ca.certificate()));
        return TlsContexts.create(new GatewayConfig.Sip.Tls(5061, chain.toString(), key.toString(), "", "",
                trusted.toString(), true, GatewayConfig.Sip.Tls.DEFAULT_HANDSHAKE_TIMEOUT));
    }

    private void measureHandshakes(List<HandshakeKind> kinds) throws Exception {
        for (int i = 0; i < WARM_UP_HANDSHAKES; i++) {
            for (HandshakeKind k : kinds) {
                pair(k, null, null);
            }
        }
        InMemoryTlsHandshake.exchangeCpuNanos(kinds.get(0).contexts(), "localhost", nextPort++, REGISTER, OK,
                5 * EXCHANGES);
        for (int r = 0; r < ROUNDS; r++) {
            for (HandshakeKind k : kinds) {
                List<InMemoryTlsHandshake.Result> full = new ArrayList<>();
                for (int i = 0; i < HANDSHAKES; i++) {
                    pair(k, full, k.resumed());
                }
                k.full().addAll(full);
                k.fullRoundCpu().add(median(full, h -> h.clientCpuNanos() + h.serverCpuNanos()) / 1000);
                System.out.printf("SipTlsBench: handshake round %d %s: full, client + server CPU %.0f µs (median)%n",
                        r + 1, k.name(), k.fullRoundCpu().get(r));
            }
            double exchange = InMemoryTlsHandshake.exchangeCpuNanos(kinds.get(0).contexts(), "localhost", nextPort++,
                    REGISTER, OK, EXCHANGES) / 1000;
            exchangeCpu.add(exchange);
            System.out.printf("SipTlsBench: round %d: REGISTER + 200 OK through TLS records, client CPU %.2f µs%n",
                    r + 1, exchange);
            sampleLoad();
        }
    }

    /** A full handshake on a host:port never used before, then a resumed one on the same. */
    private void pair(HandshakeKind k, List<InMemoryTlsHandshake.Result> full,
            List<InMemoryTlsHandshake.Result> resumed) throws Exception {
        int port = nextPort++;
        InMemoryTlsHandshake.Result f = InMemoryTlsHandshake.run(k.contexts(), "localhost", port);
        InMemoryTlsHandshake.Result r = InMemoryTlsHandshake.run(k.contexts(), "localhost", port);
        if (!f.protocol().equals("TLSv1.3") || r.serverBytes() >= f.serverBytes()) {
            throw new IllegalStateException("not a TLS 1.3 full handshake then a resumed one: " + f + ", " + r);
        }
        if (full != null) {
            full.add(f);
            resumed.add(r);
        }
    }

    // ---- registrations ----

    private List<Variant> measureRegistrations(Path dir) throws Exception {
        TestCa ca = TestCa.create("SipTlsBench CA");
        Path caFile = dir.resolve("ca.pem");
        Files.writeString(caFile, TestCa.pem(ca.certificate()));
        Path kamailioChain = dir.resolve("kamailio.pem");
        Path kamailioKey = dir.resolve("kamailio.key");
        ca.issue("localhost", "127.0.0.1").writePem(kamailioChain, kamailioKey, TestCa.KeyFormat.TRADITIONAL);
        Path gwChain = dir.resolve("gw.pem");
        Path gwKey = dir.resolve("gw.key");
        ca.issue("localhost", "127.0.0.1").writePem(gwChain, gwKey, TestCa.KeyFormat.PKCS8);

        ExecutorService pool = Executors.newFixedThreadPool(CONCURRENCY);
        try (Kamailio kamailio = Kamailio.builder().tls(kamailioChain, kamailioKey).startTimeout(START).start()) {
            List<GatewayProcess> gateways = GatewayProcess.startAll(
                    gateway("gw-udp").sipServers(kamailio.serverEntry()),
                    gateway("gw-tcp").sipServers(kamailio.tcpServerEntry()),
                    gateway("gw-tls").sipServers(kamailio.tlsServerEntry("localhost")).sipTls(gwChain, gwKey, caFile));
            try (AutoCloseable stop = GatewayProcess.together(gateways.toArray(GatewayProcess[]::new))) {
                List<Variant> variants = List.of(
                        new Variant("UDP", gateways.get(0), 200_000, new ArrayList<>(), new ArrayList<>()),
                        new Variant("TCP", gateways.get(1), 400_000, new ArrayList<>(), new ArrayList<>()),
                        new Variant("TLS", gateways.get(2), 600_000, new ArrayList<>(), new ArrayList<>()));
                for (int r = 0; r < WARM_UP_ROUNDS; r++) { // JIT, pools, the connection to Kamailio
                    for (Variant v : variants) {
                        round(v, pool, v.firstDn() + r * SESSIONS, SESSIONS);
                    }
                }
                for (int r = 1; r <= ROUNDS; r++) {
                    for (int i = 0; i < variants.size(); i++) { // each round begins with the next transport
                        Variant v = variants.get((r + i) % variants.size());
                        int firstDn = v.firstDn() + (WARM_UP_ROUNDS + r) * SESSIONS;
                        double[] rateAndCpu = round(v, pool, firstDn, SESSIONS);
                        v.rates().add(rateAndCpu[0]);
                        v.cpuMicrosPerRegistration().add(rateAndCpu[1]);
                        System.out.printf("SipTlsBench: round %d %s: %.0f registrations/s, %.0f µs gateway CPU each%n",
                                r, v.name(), rateAndCpu[0], rateAndCpu[1]);
                    }
                    sampleLoad();
                }
                try {
                    System.out.println("Kamailio tls.info after the rounds (one connection from the TLS gateway):\n"
                            + kamailio.kamcmd("tls.info"));
                } catch (RuntimeException e) {
                    System.out.println("kamcmd tls.info failed: " + e.getMessage());
                }
                return variants;
            }
        } finally {
            pool.shutdownNow();
        }
    }

    private static GatewayProcess.Builder gateway(String name) {
        return ClientLimitsOff.on(GatewayProcess.builder()).name(name).startTimeout(START);
    }

    /**
     * Opens {@code n} sessions, then times registering them all (each answered by Kamailio); signs them out after.
     * Returns registrations per second and the gateway's CPU microseconds per registration.
     */
    private static double[] round(Variant v, ExecutorService pool, int firstDn, int n) throws Exception {
        String ws = v.gateway().wsUrl();
        List<Future<WsTestClient>> opened = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            opened.add(pool.submit(() -> open(ws)));
        }
        List<WsTestClient> clients = new ArrayList<>();
        for (Future<WsTestClient> f : opened) {
            clients.add(f.get());
        }
        long cpu0 = cpuTicks(v.gateway().pid());
        long t0 = System.nanoTime();
        List<Future<?>> regs = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            WsTestClient c = clients.get(i);
            String dn = String.valueOf(firstDn + i);
            regs.add(pool.submit(() -> c.ok("register", "dn", dn)));
        }
        for (Future<?> f : regs) {
            f.get();
        }
        double seconds = (System.nanoTime() - t0) / 1e9;
        long cpu = cpuTicks(v.gateway().pid()) - cpu0;
        List<Future<?>> byes = new ArrayList<>();
        for (WsTestClient c : clients) {
            byes.add(pool.submit(() -> {
                c.ok("bye");
                c.close();
            }));
        }
        for (Future<?> f : byes) {
            f.get();
        }
        return new double[] {n / seconds, cpu * 1e6 / CLOCK_TICKS_PER_SECOND / n};
    }

    /**
     * A signed-in session. Up to three tries: on a machine this loaded a WebSocket connect may miss the client's
     * 10 s timeout; the clock is not running yet.
     */
    private static WsTestClient open(String ws) {
        for (int attempt = 1; ; attempt++) {
            try {
                WsTestClient c = WsTestClient.connect(ws);
                c.ok("hello");
                return c;
            } catch (RuntimeException e) {
                if (attempt == 3) {
                    throw e;
                }
                System.out.println("SipTlsBench: session not opened (" + e + "), trying again");
            }
        }
    }

    /** User + system time of process {@code pid}, all its threads (ended ones too), in clock ticks. */
    private static long cpuTicks(long pid) throws IOException {
        String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
        String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" "); // fields[0] is field 3, "state"
        return Long.parseLong(fields[11]) + Long.parseLong(fields[12]);      // utime (14), stime (15)
    }

    // ---- output ----

    private String table(List<HandshakeKind> kinds, List<Variant> variants) {
        StringBuilder t = new StringBuilder(String.format("%nSipTlsBench: %d cores, load average (1 min) %s during the"
                + " run%n%nTLS 1.3 handshake with the gateway's TlsContexts, client and server engines in memory on one"
                + " thread, medians of %d x %d per kind (alternating rounds, after %d warm-up)%n%n"
                + "| certificate | handshake | client CPU µs | server CPU µs | wall µs | bytes client -> server |"
                + " bytes server -> client | rounds: median client+server CPU µs |%n"
                + "|---|---|---|---|---|---|---|---|%n",
                Runtime.getRuntime().availableProcessors(), range(loadAverages), ROUNDS, HANDSHAKES,
                WARM_UP_HANDSHAKES));
        for (HandshakeKind k : kinds) {
            t.append(handshakeRow(k.name(), "full", k.full(), fmt(k.fullRoundCpu())));
            t.append(handshakeRow(k.name(), "resumed", k.resumed(), ""));
        }
        t.append(String.format("%nOn an open connection (%s): sealing a %d-byte REGISTER and opening a %d-byte"
                + " 200 OK cost the gateway %.2f µs CPU (median of %d rounds of %d: %s)%n",
                "TLS_AES_128_GCM_SHA256", REGISTER.length, OK.length, median(exchangeCpu), ROUNDS, EXCHANGES,
                fmt2(exchangeCpu)));
        t.append(String.format("%nRegistrations through the WebSocket API to one Kamailio (children=2, tcp_children=2),"
                + " medians of %d alternating rounds (each begun by the next transport, after %d untimed) of %d DNs, %d"
                + " concurrent clients; one connection per stream gateway, its handshake before the rounds%n%n"
                + "| SIP transport | registrations/s | / UDP | / UDP, median of the rounds' ratios |"
                + " gateway CPU µs per registration | rounds/s |%n"
                + "|---|---|---|---|---|---|%n", ROUNDS, WARM_UP_ROUNDS, SESSIONS, CONCURRENCY));
        double udp = median(variants.get(0).rates());
        for (Variant v : variants) {
            double rate = median(v.rates());
            t.append(String.format("| %s | %.0f | %.2f | %.2f | %.0f | %s |%n", v.name(), rate, rate / udp,
                    pairedRatio(v, variants.get(0)), median(v.cpuMicrosPerRegistration()), fmt(v.rates())));
        }
        return t.toString();
    }

    private static String handshakeRow(String kind, String type, List<InMemoryTlsHandshake.Result> samples,
            String rounds) {
        return String.format("| %s | %s | %.0f | %.0f | %.0f | %.0f | %.0f | %s |%n", kind, type,
                median(samples, h -> h.clientCpuNanos()) / 1000, median(samples, h -> h.serverCpuNanos()) / 1000,
                median(samples, h -> h.wallNanos()) / 1000, median(samples, h -> h.clientBytes()),
                median(samples, h -> h.serverBytes()), rounds);
    }

    private String csv(List<HandshakeKind> kinds, List<Variant> variants) {
        Map<String, Double> rows = new LinkedHashMap<>();
        for (HandshakeKind k : kinds) {
            String ks = k.name().toLowerCase().replaceAll("[^a-z0-9]+", "_");
            for (String type : List.of("full", "resumed")) {
                List<InMemoryTlsHandshake.Result> s = type.equals("full") ? k.full() : k.resumed();
                String p = "handshake_" + ks + "_" + type + "_";
                rows.put(p + "client_cpu_us_median", median(s, h -> h.clientCpuNanos()) / 1000);
                rows.put(p + "server_cpu_us_median", median(s, h -> h.serverCpuNanos()) / 1000);
                rows.put(p + "wall_us_median", median(s, h -> h.wallNanos()) / 1000);
                rows.put(p + "bytes_client_to_server", median(s, h -> h.clientBytes()));
                rows.put(p + "bytes_server_to_client", median(s, h -> h.serverBytes()));
            }
        }
        rows.put("tls_records_register_and_200_ok_client_cpu_us_median", median(exchangeCpu));
        double udp = median(variants.get(0).rates());
        for (Variant v : variants) {
            String p = "registrations_" + v.name().toLowerCase() + "_";
            rows.put(p + "per_s_median", median(v.rates()));
            rows.put(p + "ratio_to_udp", median(v.rates()) / udp);
            rows.put(p + "ratio_to_udp_median_of_rounds", pairedRatio(v, variants.get(0)));
            rows.put(p + "gateway_cpu_us_per_registration_median", median(v.cpuMicrosPerRegistration()));
        }
        rows.put("load_average_1min_min", loadAverages.stream().mapToDouble(Double::doubleValue).min().orElse(-1));
        rows.put("load_average_1min_max", loadAverages.stream().mapToDouble(Double::doubleValue).max().orElse(-1));
        StringBuilder out = new StringBuilder("figure,value\n");
        rows.forEach((k, v) -> out.append(k).append(',').append(String.format("%.2f", v)).append('\n'));
        return out.toString();
    }

    /** The median of {@code v}'s rate over {@code base}'s in the same round: less moved by the load's drift. */
    private static double pairedRatio(Variant v, Variant base) {
        List<Double> ratios = new ArrayList<>();
        for (int r = 0; r < v.rates().size(); r++) {
            ratios.add(v.rates().get(r) / base.rates().get(r));
        }
        return median(ratios);
    }

    private void sampleLoad() {
        try {
            loadAverages.add(Double.parseDouble(Files.readString(Path.of("/proc/loadavg")).split(" ")[0]));
        } catch (IOException | NumberFormatException e) {
            // no figure then
        }
    }

    private static <T> double median(List<T> samples, ToDoubleFunction<T> value) {
        return median(samples.stream().map(value::applyAsDouble).toList());
    }

    private static double median(List<Double> values) {
        return NearestRank.percentile(values, 50);
    }

    private static String fmt(List<Double> values) {
        return String.join(", ", values.stream().map(v -> String.format("%.0f", v)).toList());
    }

    private static String fmt2(List<Double> values) {
        return String.join(", ", values.stream().map(v -> String.format("%.2f", v)).toList());
    }

    private static String range(List<Double> values) {
        return String.format("%.1f-%.1f", values.stream().mapToDouble(Double::doubleValue).min().orElse(0),
                values.stream().mapToDouble(Double::doubleValue).max().orElse(0));
    }
}
