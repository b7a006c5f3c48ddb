package io.webrtcgateway.bench;

import static io.webrtcgateway.bench.NearestRank.percentile;

import io.webrtcgateway.bench.load.GatewayPhone;
import io.webrtcgateway.bench.load.JanusPhone;
import io.webrtcgateway.bench.load.JanusProcess;
import io.webrtcgateway.bench.load.LoadMedia;
import io.webrtcgateway.bench.load.MediaLeg;
import io.webrtcgateway.bench.load.Phone;
import io.webrtcgateway.bench.load.ProcessStats;
import io.webrtcgateway.testsupport.FreePorts;
import io.webrtcgateway.testsupport.GatewayProcess;
import io.webrtcgateway.testsupport.PrometheusText;
import io.webrtcgateway.testsupport.Sipp;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

/**
 * Issue 7: the gateway and Janus 1.1.2's SIP plugin under the same load, in the same run, alternating, with
 * ratios us/Janus (docs/performance.md). Run through {@code bench/run.sh} (a private network namespace:
 * Janus gathers no ICE candidate on loopback), which runs
 * {@code mvn -Pbench ... -Dit.test=GatewayVsJanusBench}.
 *
 * <p>Both gateways face one SIPp ({@code uas-calls.xml}: registrar, and callee {@code fast} answering at once
 * with {@code -rtp_echo}) and one load client ({@link LoadMedia} + {@link Phone}s): fake browsers that do ICE,
 * DTLS-SRTP and send PCMU 20 ms both ways with the send time in the payload. Scenarios
 * ({@code -Dbench.scenarios=slice,setup,capacity,percall,idle}):
 * <ul>
 *   <li>{@code slice}: one call through each, loss and round trip;</li>
 *   <li>{@code setup}: pre-registered phones place calls back to back (call, connected, DTLS up, hang up) at
 *       increasing concurrency; the highest calls/s with no failure and p99 setup &lt; 1 s;</li>
 *   <li>{@code capacity}: concurrent calls ramped until loss &gt; 0.1 % or p99 one-way (round trip / 2)
 *       &gt; 20 ms; gateway CPU, RSS, heap per step;</li>
 *   <li>{@code percall}: CPU-ms per call-second and bytes per call at 200 calls, against the same phones
 *       registered without calls;</li>
 *   <li>{@code idle}: memory per registered idle session;</li>
 *   <li>{@code incoming}: a SIPp caller ({@code uac-incoming.xml}) calls K registered phones at a fixed rate,
 *       each answers, media both ways for a hold time, SIPp hangs up: INVITE -> 200 OK and INVITE -> media
 *       flowing at the phone.</li>
 * </ul>
 * Tables on stdout and in target/bench/gateway-vs-janus.md, CSV in target/bench/gateway-vs-janus-*.csv. Every
 * {@code bench.*} property is listed in docs/performance.md ({@code bench.gateway.jfr=name.jfr} records a JFR
 * profile of our JVM).
 * Not a test of speed: it asserts only that the harness worked.
 */
class GatewayVsJanusBench {
    private static final List<String> SCENARIOS = List.of(System.getProperty("bench.scenarios",
            "slice,setup,incoming,capacity,percall,idle").split(","));
    private static final List<String> SIDES = List.of(System.getProperty("bench.sides", "gateway,janus").split(","));
    private static final int ROUNDS = Integer.getInteger("bench.rounds", 3);
    private static final Duration WINDOW = Duration.ofSeconds(Integer.getInteger("bench.window", 10));
    private static final Duration GRACE = Duration.ofMillis(2000);
    private static final Duration STEP = Duration.ofSeconds(15);
    private static final int PHONES_PER_WORKER = 4;
    private static final Duration COOLDOWN = Duration.ofMillis(Integer.getInteger("bench.setup.cooldown-ms", 500));
    private static final Path OUT = Path.of(System.getProperty("it.buildDir", "target"), "bench");

    private final StringBuilder report = new StringBuilder();
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private final java.util.concurrent.ScheduledExecutorService keepalives = Executors.newScheduledThreadPool(1, r -> {
        Thread t = new Thread(r, "bench-keepalive");
        t.setDaemon(true);
        return t;
    });

    /**
     * One side of the comparison. {@code callees}: phones for calls from SIP (scenario incoming), and
     * {@code sipAddress}: where the SIP Server sends the INVITE for one of them ("host:port").
     */
    private record Side(String name, Phone.Factory phones, Phone.Factory callees, Function<String, String> sipAddress,
            long pid, String metricsUrl, BooleanSupplier alive) {
        /** Fails the scenario step with a clear message when the gateway process is gone (Janus crashed here). */
        void requireAlive() {
            if (!alive.getAsBoolean()) {
                throw new IllegalStateException(name + " process " + pid + " died: see target/it-logs");
            }
        }
    }

    @Test
    void gatewayVsJanus() throws Exception {
        InetAddress gatewayAddress = address("bench0");
        InetAddress clientAddress = address("bench1");
        Files.createDirectories(OUT);
        header(gatewayAddress, clientAddress);
        try (Sipp sipp = Sipp.scenario("uas-calls.xml").name("sipp-bench").key("peer_rtp_port", "9").traceMessages(false)
                     .args("-mi", "127.0.0.1", "-mp", String.valueOf(FreePorts.udpAndTcp()), "-rtp_echo",
                             "-buff_size", "4194304").start();
             // The namespace is ours alone (bench/run.sh), so fixed, wide RTP ranges cannot collide.
             GatewayProcess gw = ClientLimitsOff.on(GatewayProcess.builder()).sipServers(sipp.serverEntry()).instanceId("bench-gw")
                     .jvmArgs("-Xmx1g", "-XX:AutoBoxCacheMax=65536")
                     .jvmArgs(System.getProperty("bench.gateway.jfr") == null ? new String[0] : new String[] {
                             "-XX:StartFlightRecording=settings=profile,filename="
                                     + OUT.resolve(System.getProperty("bench.gateway.jfr")).toAbsolutePath()})
                     .set("gateway.media.ice-addresses", List.of(gatewayAddress.getHostAddress()))
                     .set("gateway.media.rtp-port-range", "20000-39999")
                     .set("gateway.limits.max-calls", "10000").set("gateway.limits.max-sessions", "20000")
                     // Capacity is measured here: no flood limits on SIPp's calls (Janus has none either).
                     .set("gateway.limits.max-incoming-calls-per-second", "0")
                     .set("gateway.sip.max-requests-per-second", "0").start();
             JanusProcess janus = JanusProcess.start(OUT.resolve("janus"), "bench0", FreePorts.tcp(),
                     "40000-49999", "50000-59999");
             // Janus's SIP plugin listens on a port of its own per session: the Contact of its REGISTER says which,
             // so the phones of the incoming scenario register here, where messages are traced.
             Sipp calleeRegistrar = Sipp.scenario("registrar-ok.xml").name("sipp-bench-callees").start();
             LoadMedia media = new LoadMedia(new InetSocketAddress(clientAddress, 0))) {
            String sippAddress = sipp.address();
            Phone.Factory gatewayPhones = GatewayPhone.factory(http, gw.wsUrl(), "fast", keepalives);
            List<Side> sides = List.of(
                    new Side("gateway", gatewayPhones, gatewayPhones, user -> "127.0.0.1:" + gw.sipPort(), gw.pid(),
                            gw.httpUrl() + "/metrics", gw::isAlive),
                    new Side("janus", JanusPhone.factory(http, janus.wsUrl(), sippAddress, "sip:fast@" + sippAddress,
                            keepalives),
                            JanusPhone.factory(http, janus.wsUrl(), calleeRegistrar.address(), null, keepalives),
                            user -> contactAddress(calleeRegistrar, user), janus.pid(), null, janus.process()::isAlive))
                    .stream().filter(s -> SIDES.contains(s.name())).toList();
            for (String scenario : SCENARIOS) {
                switch (scenario.trim()) {
                    case "slice" -> slice(sides, media);
                    case "setup" -> setupRate(sides, media);
                    case "capacity" -> capacity(sides, media);
                    case "percall" -> perCall(sides, media);
                    case "idle" -> idle(sides);
                    case "incoming" -> incoming(sides, media);
                    default -> throw new IllegalArgumentException("unknown scenario " + scenario);
                }
                Files.writeString(OUT.resolve("gateway-vs-janus.md"), report);
            }
        }
        keepalives.shutdownNow();
        System.out.println(report);
    }

    // ---- scenarios --------------------------------------------------------------------------------

    /** One call through each gateway, media both ways for a window: the harness works end to end. */
    private void slice(List<Side> sides, LoadMedia media) throws Exception {
        Table t = new Table("slice", "One call through each gateway (PCMU 20 ms both ways, " + WINDOW.toSeconds()
                + " s window)", "side", "setup_ms", "sent", "echoed", "loss_pct", "rtt_p50_ms", "rtt_p99_ms", "load1");
        for (Side side : sides) {
            try (Phone phone = side.phones().connect()) {
                phone.register("slice-" + side.name(), STEP);
                MediaLeg leg = media.newLeg();
                try {
                    long t0 = System.nanoTime();
                    leg.answer(phone.call(side.phones().echoTarget(), leg.offer(), STEP));
                    try {
                        leg.mediaUp().get(STEP.toSeconds(), TimeUnit.SECONDS);
                    } catch (java.util.concurrent.TimeoutException e) {
                        throw new AssertionError(side.name() + ": no media in " + STEP + ": " + leg + " " + media, e);
                    }
                    double setupMs = (System.nanoTime() - t0) / 1e6;
                    // Not the first packets: a relay may drop a new source's first packet or two (RTP probation).
                    awaitQuiet(Duration.ofSeconds(2));
                    LoadMedia.Window w = measure(media);
                    t.row(side.name(), f1(setupMs), w.sent(), w.echoed(), f3(w.lossPercent()), f2(w.roundTripMs(50)),
                            f2(w.roundTripMs(99)), f2(ProcessStats.loadAverage()));
                    phone.hangup(STEP);
                } finally {
                    leg.close();
                }
            }
        }
        t.finish();
    }

    /** Closed loop: each of c phones places the next call as soon as the last one is up and hung up. */
    private void setupRate(List<Side> sides, LoadMedia media) throws Exception {
        int[] levels = ints("bench.setup.concurrency", "4,8,16,32,64");
        Duration length = Duration.ofSeconds(Integer.getInteger("bench.setup.seconds", 15));
        int maxC = Arrays.stream(levels).max().orElse(1);
        Table t = new Table("setup", "Call setup rate (pre-registered phones, each: call -> connected -> DTLS up ->"
                + " hang up -> next; " + length.toSeconds() + " s per level)", "round", "side", "concurrency", "setups",
                "failures", "setups_per_s", "setup_p50_ms", "setup_p99_ms", "cpu_ms_per_setup", "load1");
        Map<String, List<Double>> best = new LinkedHashMap<>();
        Map<String, List<Double>> bestTolerant = new LinkedHashMap<>();
        Map<String, List<Phone>> phones = new LinkedHashMap<>();
        for (Side side : sides) {
            phones.put(side.name(), registerPhones(side, "setup-" + side.name() + "-", maxC * PHONES_PER_WORKER));
            best.put(side.name(), new ArrayList<>());
            bestTolerant.put(side.name(), new ArrayList<>());
        }
        ExecutorService pool = Executors.newFixedThreadPool(maxC);
        try {
            for (Side side : sides) { // warm-up, not recorded: JIT, pools, Janus's first calls
                List<Phone> p = phones.get(side.name());
                setupLevel(side, p.subList(0, Math.min(4, maxC) * PHONES_PER_WORKER), media, Duration.ofSeconds(5), pool);
            }
            for (int round = 1; round <= ROUNDS; round++) {
                for (Side side : sides) {
                    double bestRate = 0;
                    double bestTolerantRate = 0;
                    for (int c : levels) {
                        if (!side.alive().getAsBoolean()) {
                            t.note(side.name() + " died before round " + round + " concurrency " + c + ": see target/it-logs");
                            break;
                        }
                        ProcessStats before = ProcessStats.of(side.pid());
                        SetupLevel r = setupLevel(side, phones.get(side.name()).subList(0, c * PHONES_PER_WORKER), media, length,
                                pool);
                        if (!side.alive().getAsBoolean()) {
                            t.note(side.name() + " died during round " + round + " concurrency " + c + " ("
                                    + r.setups() + " setups, " + r.failures() + " failures): see target/it-logs");
                            break;
                        }
                        ProcessStats after = ProcessStats.of(side.pid());
                        double rate = r.setups() / r.seconds();
                        double p99 = percentile(r.latencies(), 99);
                        t.row(round, side.name(), c, r.setups(), r.failures(), f1(rate), f1(percentile(r.latencies(), 50)),
                                f1(p99), f2(r.setups() == 0 ? Double.NaN
                                        : (after.cpuSeconds() - before.cpuSeconds()) * 1000 / r.setups()),
                                f2(ProcessStats.loadAverage()));
                        if (r.failures() == 0 && p99 < 1000) {
                            bestRate = Math.max(bestRate, rate);
                        }
                        if (r.failures() <= 0.01 * (r.setups() + r.failures()) && p99 < 1000) {
                            bestTolerantRate = Math.max(bestTolerantRate, rate);
                        }
                    }
                    best.get(side.name()).add(bestRate);
                    bestTolerant.get(side.name()).add(bestTolerantRate);
                }
            }
        } finally {
            pool.shutdownNow();
            phones.values().forEach(list -> list.forEach(Phone::close));
        }
        t.note(ratioLine("highest setups/s with no failure and p99 < 1 s", best));
        t.note(ratioLine("highest setups/s with failures <= 1 % and p99 < 1 s", bestTolerant));
        t.finish();
    }

    private record SetupLevel(int setups, int failures, double seconds, List<Double> latencies) {}

    private SetupLevel setupLevel(Side side, List<Phone> phones, LoadMedia media, Duration length, ExecutorService pool)
            throws Exception {
        AtomicInteger setups = new AtomicInteger();
        AtomicInteger failures = new AtomicInteger();
        List<Double> latencies = Collections.synchronizedList(new ArrayList<>());
        long start = System.nanoTime();
        long deadline = start + length.toNanos();
        List<Future<?>> workers = new ArrayList<>();
        for (int w = 0; w < phones.size() / PHONES_PER_WORKER; w++) {
            List<Phone> own = phones.subList(w * PHONES_PER_WORKER, (w + 1) * PHONES_PER_WORKER);
            workers.add(pool.submit(() -> {
                long[] idleSince = new long[own.size()];
                for (int i = 0; System.nanoTime() < deadline; i++) {
                    // Janus needs its handle's old PeerConnection gone before the next offer on it (it crashed
                    // in libnice otherwise, docs/performance.md); nothing tells when, so each phone rests
                    // COOLDOWN between its calls, as a person would, and the worker rotates over its phones.
                    Phone phone = own.get(i % own.size());
                    long rested = System.nanoTime() - idleSince[i % own.size()];
                    if (idleSince[i % own.size()] != 0 && rested < COOLDOWN.toNanos()) {
                        awaitQuiet(Duration.ofNanos(COOLDOWN.toNanos() - rested));
                    }
                    MediaLeg leg = media.newLeg();
                    try {
                        long t0 = System.nanoTime();
                        leg.answer(phone.call(side.phones().echoTarget(), leg.offer(), Duration.ofSeconds(10)));
                        leg.mediaUp().get(10, TimeUnit.SECONDS);
                        latencies.add((System.nanoTime() - t0) / 1e6);
                        setups.incrementAndGet();
                    } catch (Exception e) {
                        failures.incrementAndGet();
                        if (failures.get() <= 3) {
                            System.err.println(side.name() + " setup failure: " + e + " " + leg);
                        }
                    } finally {
                        try {
                            phone.hangup(Duration.ofSeconds(10));
                        } catch (Exception e) {
                            failures.incrementAndGet();
                        }
                        leg.close();
                        idleSince[i % own.size()] = System.nanoTime();
                    }
                }
                return null;
            }));
        }
        for (Future<?> f : workers) {
            f.get();
        }
        return new SetupLevel(setups.get(), failures.get(), (System.nanoTime() - start) / 1e9, latencies);
    }

    /** Ramps concurrent calls until loss > 0.1 % or p99 one-way > 20 ms (or a call fails to set up). */
    private void capacity(List<Side> sides, LoadMedia media) throws Exception {
        int[] steps = ints("bench.capacity.steps", "50,100,200,300,400,600,800,1000");
        Table t = new Table("capacity", "Concurrent G.711 calls (PCMU 20 ms both ways; one-way = round trip / 2; "
                + WINDOW.toSeconds() + " s window per step)", "round", "side", "calls", "loss_pct", "oneway_p50_ms",
                "oneway_p99_ms", "gw_cpu_cores", "client_cpu_cores", "rss_mb", "heap_mb", "threads", "load1");
        Map<String, List<Double>> best = new LinkedHashMap<>();
        sides.forEach(s -> best.put(s.name(), new ArrayList<>()));
        int rounds = Integer.getInteger("bench.capacity.rounds", Math.min(ROUNDS, 2));
        for (int round = 1; round <= rounds; round++) {
            for (Side side : sides) {
                List<Call> calls = new ArrayList<>();
                int passed = 0;
                try {
                    for (int n : steps) {
                        if (!side.alive().getAsBoolean()) {
                            t.note(side.name() + " died before " + n + " calls: see target/it-logs");
                            break;
                        }
                        String failure = addCalls(side, media, calls, n);
                        if (failure != null) {
                            t.note(side.name() + " round " + round + ": could not reach " + n + " calls: " + failure);
                            break;
                        }
                        Step s = step(side, media);
                        t.row(round, side.name(), n, f3(s.window().lossPercent()), f2(s.window().roundTripMs(50) / 2),
                                f2(s.window().roundTripMs(99) / 2), f2(s.cpuCores()), f2(s.clientCores()),
                                f1(s.after().rssBytes() / 1e6), f1(s.heapBytes() / 1e6), s.after().threads(),
                                f2(ProcessStats.loadAverage()));
                        if (s.window().lossPercent() > 0) {
                            t.note(side.name() + " " + n + " calls: " + media.lossByLeg());
                        }
                        if (Boolean.getBoolean("bench.debug-stats")) {
                            for (Call c : calls.subList(0, Math.min(3, calls.size()))) {
                                t.note(side.name() + " call stats: " + c.phone().stats() + " " + c.leg());
                            }
                        }
                        // A call that lost most of its packets is not noise: say what each end saw.
                        int shown = 0;
                        for (Call c : calls) {
                            if (c.leg() != null && c.leg().mostlyLost() && shown++ < 3) {
                                String stats;
                                try {
                                    stats = c.phone().stats();
                                } catch (Exception e) {
                                    stats = e.getMessage(); // e.g. CALL_UNKNOWN: the gateway ended the call
                                }
                                t.note(side.name() + " " + n + " calls: mostly lost: " + c.leg() + " gateway stats: "
                                        + stats);
                            }
                        }
                        if (s.window().lossPercent() <= 0.1 && s.window().roundTripMs(99) / 2 <= 20) {
                            passed = n;
                        }
                        // Past the limits the ramp goes on while it stays usable, so that the curve shows where
                        // each side breaks down on a machine this noisy (one stall of a neighbour fails a step).
                        if (s.window().lossPercent() > 5 || s.window().roundTripMs(99) / 2 > 500) {
                            break;
                        }
                    }
                } finally {
                    hangUpAll(calls);
                }
                best.get(side.name()).add((double) passed);
            }
        }
        t.note(ratioLine("highest step with loss <= 0.1 % and p99 one-way <= 20 ms (calls; 0: not even the first)", best));
        t.note("Load generator, SIPp and both gateways share the same 2 cores: see client_cpu_cores.");
        t.finish();
    }

    /** CPU and memory per call at 200 calls, against the same 200 phones registered without calls. */
    private void perCall(List<Side> sides, LoadMedia media) throws Exception {
        int n = Integer.getInteger("bench.percall.calls", 200);
        Table t = new Table("percall", "Per-call cost at " + n + " calls (" + WINDOW.toSeconds() + " s window;"
                + " memory: RSS and, for us, heap after a full GC, minus the same with the phones registered and idle)",
                "round", "side", "calls", "cpu_ms_per_call_s", "rss_kb_per_call", "heap_kb_per_call", "loss_pct",
                "oneway_p99_ms", "load1");
        Map<String, List<Double>> cpu = new LinkedHashMap<>();
        Map<String, List<Double>> mem = new LinkedHashMap<>();
        sides.forEach(s -> {
            cpu.put(s.name(), new ArrayList<>());
            mem.put(s.name(), new ArrayList<>());
        });
        for (int round = 1; round <= ROUNDS; round++) {
            for (Side side : sides) {
                List<Call> calls = new ArrayList<>();
                try {
                    List<Phone> phones = registerPhones(side, "percall-" + side.name() + "-" + round + "-", n);
                    calls.addAll(phones.stream().map(p -> new Call(p, null)).toList());
                    ProcessStats idle = settle(side);
                    double idleHeap = heapAfterGc(side);
                    calls.clear();
                    String failure = placeCalls(side, media, phones, calls);
                    if (failure != null) {
                        t.note(side.name() + " round " + round + ": " + failure);
                        phones.forEach(Phone::close);
                        continue;
                    }
                    Step s = step(side, media);
                    ProcessStats loaded = ProcessStats.of(side.pid()); // before the GC, as the idle figure
                    double heap = heapAfterGc(side);
                    double cpuMs = s.cpuCores() * 1000 / n;
                    double rssKb = (loaded.rssBytes() - idle.rssBytes()) / 1024.0 / n;
                    t.row(round, side.name(), n, f2(cpuMs), f1(rssKb),
                            f1(Double.isNaN(heap) ? Double.NaN : (heap - idleHeap) / 1024 / n),
                            f3(s.window().lossPercent()), f2(s.window().roundTripMs(99) / 2), f2(ProcessStats.loadAverage()));
                    cpu.get(side.name()).add(cpuMs);
                    mem.get(side.name()).add(rssKb);
                } finally {
                    hangUpAll(calls);
                }
            }
        }
        t.note(ratioLine("CPU-ms per call-second", cpu));
        t.note(ratioLine("RSS kB per call", mem));
        t.finish();
    }

    /** Memory and threads per registered, idle session. */
    private void idle(List<Side> sides) throws Exception {
        Map<String, Integer> counts = Map.of("gateway", Integer.getInteger("bench.idle.sessions", 5000),
                // Janus: 3 threads per registered session and ~10 registrations/s (STACK.md); 5,000 would take
                // 15,000 threads of this shared machine's 32,768 pids and 8 minutes.
                "janus", Integer.getInteger("bench.idle.janus.sessions", 1000));
        Table t = new Table("idle", "Registered idle sessions (one WebSocket each; RSS and, for us, heap after a full GC)",
                "side", "sessions", "register_s", "rss_kb_per_session", "heap_kb_per_session", "threads_per_session",
                "rss_mb", "load1");
        for (Side side : sides) {
            int n = counts.get(side.name());
            ProcessStats before = settle(side);
            double heapBefore = heapAfterGc(side);
            long t0 = System.nanoTime();
            List<Phone> phones = new ArrayList<>();
            try {
                phones.addAll(registerPhones(side, "idle-" + side.name() + "-", n));
                double seconds = (System.nanoTime() - t0) / 1e9;
                ProcessStats after = settle(side);
                double heapAfter = heapAfterGc(side);
                t.row(side.name(), n, f1(seconds), f1((after.rssBytes() - before.rssBytes()) / 1024.0 / n),
                        f1((heapAfter - heapBefore) / 1024 / n), f2((after.threads() - before.threads()) / (double) n),
                        f1(after.rssBytes() / 1e6), f2(ProcessStats.loadAverage()));
            } finally {
                closeAll(phones);
            }
        }
        t.finish();
    }

    /**
     * Calls from SIP: one SIPp caller per side and round ({@code uac-incoming.xml}) calls K registered phones in
     * turn at a fixed rate, each phone answers, media flows both ways for the hold time, SIPp hangs up. A phone
     * is called again only K / rate seconds later, well after its last call ended (Janus's libnice crashes on an
     * offer right after a hang-up, see setupLevel).
     */
    private void incoming(List<Side> sides, LoadMedia media) throws Exception {
        int k = Integer.getInteger("bench.incoming.phones", 40);
        double rate = Double.parseDouble(System.getProperty("bench.incoming.rate", "8"));
        int calls = Integer.getInteger("bench.incoming.calls", 3 * k);
        Duration hold = Duration.ofMillis(Integer.getInteger("bench.incoming.hold-ms", 2000));
        double reuseSeconds = k / rate;
        if (reuseSeconds * 1000 < hold.toMillis() + 1000 + COOLDOWN.toMillis()) {
            throw new IllegalArgumentException("bench.incoming: " + k + " phones at " + rate + " calls/s call each phone"
                    + " every " + reuseSeconds + " s, too soon after its last call (hold " + hold.toMillis() + " ms +"
                    + " 1 s setup + " + COOLDOWN.toMillis() + " ms rest): more phones or a lower rate");
        }
        Table t = new Table("incoming", "Calls from SIP (" + k + " registered phones, SIPp calls them at " + rate
                + " calls/s, " + calls + " calls per round, each answered and held " + hold.toMillis() + " ms with media"
                + " both ways; invite_200: INVITE sent -> 200 OK received at SIPp; invite_media: INVITE sent -> DTLS-SRTP"
                + " up at the phone, same clock)", "round", "side", "attempted", "answered", "media_up", "echoed", "failed",
                "invite_offer_p50_ms", "invite_200_p50_ms", "invite_200_p99_ms", "invite_media_p50_ms", "invite_media_p99_ms", "gw_cpu_ms_per_call",
                "load1");
        Map<String, List<Double>> p50 = new LinkedHashMap<>();
        Map<String, List<Double>> p99 = new LinkedHashMap<>();
        Map<String, List<Phone>> phones = new LinkedHashMap<>();
        Map<String, List<String>> lines = new LinkedHashMap<>();
        try {
            for (Side side : sides) {
                String prefix = "in-" + side.name() + "-";
                phones.put(side.name(), registerPhones(side.name(), side.callees(), prefix, k));
                List<String> l = new ArrayList<>();
                for (int i = 0; i < k; i++) {
                    String address = side.sipAddress().apply(prefix + i);
                    int colon = address.lastIndexOf(':');
                    l.add(prefix + i + ";" + address.substring(0, colon) + ";" + address.substring(colon + 1));
                }
                lines.put(side.name(), l);
                p50.put(side.name(), new ArrayList<>());
                p99.put(side.name(), new ArrayList<>());
            }
            for (Side side : sides) { // warm-up, not recorded: one call per phone
                incomingRun(side, phones.get(side.name()), lines.get(side.name()), media, k, rate, hold, "warmup");
            }
            for (int round = 1; round <= ROUNDS; round++) {
                for (Side side : sides) {
                    if (!side.alive().getAsBoolean()) {
                        t.note(side.name() + " died before round " + round + ": see target/it-logs");
                        continue;
                    }
                    // The gateway's CPU with the phones registered and no call, to take off the run's
                    ProcessStats idleStart = ProcessStats.of(side.pid());
                    long idleT0 = System.nanoTime();
                    awaitQuiet(Duration.ofSeconds(3));
                    ProcessStats before = ProcessStats.of(side.pid());
                    double idleCores = (before.cpuSeconds() - idleStart.cpuSeconds()) / ((System.nanoTime() - idleT0) / 1e9);
                    long t0 = System.nanoTime();
                    IncomingRun r = incomingRun(side, phones.get(side.name()), lines.get(side.name()), media, calls,
                            rate, hold, "round" + round);
                    ProcessStats after = ProcessStats.of(side.pid());
                    double seconds = (System.nanoTime() - t0) / 1e9;
                    t.row(round, side.name(), r.attempted(), r.answered(), r.mediaUp(), r.echoed(), r.failed(),
                            f1(percentile(r.inviteToOffer(), 50)),
                            f1(percentile(r.inviteTo200(), 50)), f1(percentile(r.inviteTo200(), 99)),
                            f1(percentile(r.inviteToMedia(), 50)), f1(percentile(r.inviteToMedia(), 99)),
                            f2((after.cpuSeconds() - before.cpuSeconds() - idleCores * seconds) * 1000
                                    / Math.max(1, r.attempted())),
                            f2(ProcessStats.loadAverage()));
                    if (r.firstFailure() != null) {
                        t.note(side.name() + " round " + round + " first failure at the phone: " + r.firstFailure());
                    }
                    if (r.failed() == 0) {
                        p50.get(side.name()).add(percentile(r.inviteToMedia(), 50));
                        p99.get(side.name()).add(percentile(r.inviteToMedia(), 99));
                    }
                }
            }
        } finally {
            phones.values().forEach(list -> list.forEach(Phone::close));
        }
        t.note(ratioLine("INVITE -> media p50 (ms, rounds without failure)", p50));
        t.note(ratioLine("INVITE -> media p99 (ms, rounds without failure)", p99));
        t.note("invite_offer: INVITE sent -> offer at the phone. gw_cpu_ms_per_call: the gateway's CPU over the run"
                + " (setup, " + hold.toMillis() + " ms of media, hang-up) less its idle CPU just before, per call attempted.");
        t.finish();
    }

    /**
     * Setup times: INVITE -> 200 OK as SIPp measured it ({@code -trace_rtt}, whole ms), INVITE -> media up at the
     * phone (the INVITE's send time travels as the From display name; one machine, one clock).
     */
    private record IncomingRun(int attempted, int answered, int mediaUp, int echoed, int failed,
            List<Double> inviteToOffer, List<Double> inviteTo200, List<Double> inviteToMedia, String firstFailure) {}

    private IncomingRun incomingRun(Side side, List<Phone> phones, List<String> lines, LoadMedia media, int calls,
            double rate, Duration hold, String label) throws Exception {
        Path csv = OUT.resolve("incoming-" + side.name() + "-calls.csv");
        Files.writeString(csv, "SEQUENTIAL\n" + String.join("\n", lines) + "\n");
        AtomicBoolean stop = new AtomicBoolean();
        AtomicInteger mediaUp = new AtomicInteger();
        AtomicInteger echoed = new AtomicInteger();
        List<Double> inviteToOffer = Collections.synchronizedList(new ArrayList<>());
        List<Double> inviteToMedia = Collections.synchronizedList(new ArrayList<>());
        List<String> failures = Collections.synchronizedList(new ArrayList<>());
        ExecutorService pool = Executors.newFixedThreadPool(phones.size());
        List<Future<?>> answering = new ArrayList<>();
        for (Phone phone : phones) {
            answering.add(pool.submit(() -> {
                while (!stop.get()) {
                    Phone.Incoming call = phone.awaitIncoming(Duration.ofMillis(500));
                    if (call == null) {
                        continue;
                    }
                    if (!Double.isNaN(call.invitedAtMillis())) {
                        inviteToOffer.add(epochMillis(Instant.now()) - call.invitedAtMillis());
                    }
                    MediaLeg leg = media.newLeg();
                    try {
                        phone.answer(leg.answerOffer(call.offer()), STEP);
                        leg.mediaUp().get(STEP.toSeconds(), TimeUnit.SECONDS);
                        double up = epochMillis(Instant.now());
                        mediaUp.incrementAndGet();
                        if (!Double.isNaN(call.invitedAtMillis())) {
                            inviteToMedia.add(up - call.invitedAtMillis());
                        }
                    } catch (Exception e) {
                        failures.add(e + " " + leg);
                    }
                    try {
                        phone.awaitRemoteHangup(hold.plus(STEP));
                    } catch (Exception e) {
                        failures.add("no hang-up: " + e);
                    } finally {
                        leg.close();
                    }
                    if (leg.echoed()) {
                        echoed.incrementAndGet();
                    } else if (leg.mediaUp().isDone() && !leg.mediaUp().isCompletedExceptionally()) {
                        failures.add("no echo: " + leg);
                    }
                }
                return null;
            }));
        }
        pool.shutdown();
        String[] first = lines.get(0).split(";"); // SIPp wants a remote host; setdest sends each call to its phone
        try (Sipp caller = Sipp.scenario("uac-incoming.xml").name("sipp-incoming-" + side.name() + "-" + label)
                .traceMessages(false).maxCalls(calls).remote(first[1] + ":" + first[2])
                .args("-inf", csv.toAbsolutePath().toString(), "-r", String.valueOf(rate), "-l",
                        String.valueOf(phones.size()), "-d", String.valueOf(hold.toMillis()), "-rtp_echo", "-mi",
                        "127.0.0.1", "-mp", String.valueOf(FreePorts.sippMedia()), "-trace_rtt", "-rtt_freq", "1",
                        "-buff_size", "4194304",
                        // a call nobody answers fails (SIPp CANCELs it) instead of keeping SIPp from ending
                        "-recv_timeout", String.valueOf(STEP.toMillis()))
                .start()) {
            caller.waitForExit(Duration.ofMillis((long) (calls / rate * 1000) + hold.toMillis()).plus(Duration.ofSeconds(60)));
            stop.set(true);
            for (Future<?> f : answering) {
                try {
                    f.get(STEP.toSeconds() * 3, TimeUnit.SECONDS);
                } catch (java.util.concurrent.ExecutionException e) {
                    failures.add("phone gave up: " + e.getCause());
                }
            }
            // SIPp's last statistics line: calls created, and how many failed
            List<String> stats = Files.readAllLines(caller.statsFile());
            List<String> names = List.of(stats.get(0).split(";"));
            String[] last = stats.get(stats.size() - 1).split(";");
            int attempted = Integer.parseInt(last[names.indexOf("OutgoingCall(C)")]);
            int failed = Integer.parseInt(last[names.indexOf("FailedCall(C)")]);
            // Date_ms;response_time_ms;rtd_no, one line per 200 OK
            Path rtt = io.webrtcgateway.testsupport.ItLogs.dir().resolve("uac-incoming_" + caller.pid() + "_rtt.csv");
            List<Double> inviteTo200 = Files.readAllLines(rtt).stream().skip(1).filter(l -> !l.isBlank())
                    .map(l -> Double.parseDouble(l.split(";")[1])).toList();
            Files.move(rtt, OUT.resolve("incoming-" + side.name() + "-" + label + "-rtt.csv"),
                    java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            synchronized (inviteToMedia) {
                Files.writeString(OUT.resolve("incoming-" + side.name() + "-" + label + "-media.csv"), "invite_media_ms\n"
                        + inviteToMedia.stream().map(GatewayVsJanusBench::f1).collect(java.util.stream.Collectors.joining("\n")));
            }
            // A call can fail at SIPp (no 200, an unexpected BYE) or only at the phone (no media, no echo): the
            // larger count.
            failed = Math.max(failed, attempted - echoed.get());
            return new IncomingRun(attempted, inviteTo200.size(), mediaUp.get(), echoed.get(), failed, inviteToOffer,
                    inviteTo200, inviteToMedia,
                    failures.isEmpty() ? null : failures.size() + " (" + failures.get(0) + ")");
        } finally {
            stop.set(true);
            pool.shutdownNow();
        }
    }

    private static double epochMillis(Instant t) {
        return t.getEpochSecond() * 1000.0 + t.getNano() / 1e6;
    }

    /** "host:port" of the Contact in {@code user}'s last REGISTER at {@code registrar}. */
    private static String contactAddress(Sipp registrar, String user) {
        List<io.webrtcgateway.testsupport.SipMessage> registers = registrar.receivedRequests("REGISTER").stream()
                .filter(m -> m.toUser().equals(user)).toList();
        if (registers.isEmpty()) {
            throw new IllegalStateException("no REGISTER of " + user + " at " + registrar.name());
        }
        String contact = registers.get(registers.size() - 1).header("Contact").orElse("");
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("sips?:[^@>;]*@([^;>]+)").matcher(contact);
        if (!m.find()) {
            throw new IllegalStateException("no host:port in the Contact of " + user + ": " + contact);
        }
        return m.group(1);
    }

    // ---- calls ------------------------------------------------------------------------------------

    private record Call(Phone phone, MediaLeg leg) {}

    private record Step(LoadMedia.Window window, double cpuCores, double clientCores, ProcessStats after, double heapBytes) {}

    /** Settles 2 s, then measures one window, waiting a grace period for the window's last echoes. */
    private Step step(Side side, LoadMedia media) throws Exception {
        awaitQuiet(Duration.ofSeconds(2));
        ProcessStats before = ProcessStats.of(side.pid());
        ProcessStats clientBefore = ProcessStats.of(ProcessHandle.current().pid());
        long t0 = System.nanoTime();
        LoadMedia.Window w = measure(media);
        double seconds = (System.nanoTime() - t0) / 1e9;
        ProcessStats after = ProcessStats.of(side.pid());
        ProcessStats clientAfter = ProcessStats.of(ProcessHandle.current().pid());
        return new Step(w, (after.cpuSeconds() - before.cpuSeconds()) / seconds,
                (clientAfter.cpuSeconds() - clientBefore.cpuSeconds()) / seconds, after, heapUsed(side));
    }

    private static LoadMedia.Window measure(LoadMedia media) {
        LoadMedia.Window w = media.startWindow(WINDOW);
        awaitQuiet(WINDOW.plus(GRACE));
        return w;
    }

    /** Adds calls (each on a phone of its own, registered first) until there are n; null or why it failed. */
    private String addCalls(Side side, LoadMedia media, List<Call> calls, int n) throws Exception {
        int missing = n - calls.size();
        if (missing <= 0) {
            return null;
        }
        List<Phone> phones;
        try {
            phones = registerPhones(side, "cap-" + side.name() + "-" + calls.size() + "-", missing);
        } catch (Exception e) {
            return "registering: " + e.getMessage();
        }
        return placeCalls(side, media, phones, calls);
    }

    /** Places one call per phone, 8 at a time; every call ends up in {@code calls} (to be hung up). */
    private String placeCalls(Side side, LoadMedia media, List<Phone> phones, List<Call> calls) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(8);
        AtomicLong failed = new AtomicLong();
        StringBuilder firstFailure = new StringBuilder();
        try {
            List<Future<Call>> placed = new ArrayList<>();
            for (Phone phone : phones) {
                placed.add(pool.submit(() -> {
                    MediaLeg leg = media.newLeg();
                    Call call = new Call(phone, leg);
                    try {
                        leg.answer(phone.call(side.phones().echoTarget(), leg.offer(), STEP));
                        leg.mediaUp().get(STEP.toSeconds(), TimeUnit.SECONDS);
                    } catch (Exception e) {
                        if (failed.incrementAndGet() == 1) {
                            synchronized (firstFailure) {
                                firstFailure.append(e);
                            }
                        }
                    }
                    return call;
                }));
            }
            for (Future<Call> f : placed) {
                calls.add(f.get());
            }
        } finally {
            pool.shutdown();
        }
        return failed.get() == 0 ? null : failed.get() + " of " + phones.size() + " calls failed, first: " + firstFailure;
    }

    private static void hangUpAll(List<Call> calls) throws InterruptedException {
        ExecutorService pool = Executors.newFixedThreadPool(8);
        for (Call call : calls) {
            pool.submit(() -> {
                try {
                    call.phone().hangup(Duration.ofSeconds(10));
                } catch (Exception ignored) {
                    // the phone is closed next anyway; its gateway ends the call when the session goes
                }
                if (call.leg() != null) {
                    call.leg().close();
                }
                call.phone().close();
            });
        }
        pool.shutdown();
        pool.awaitTermination(2, TimeUnit.MINUTES);
        calls.clear();
    }

    private static void closeAll(List<Phone> phones) throws InterruptedException {
        ExecutorService pool = Executors.newFixedThreadPool(16);
        phones.forEach(p -> pool.submit(p::close));
        pool.shutdown();
        pool.awaitTermination(5, TimeUnit.MINUTES);
    }

    /** n phones, each connected and registered as {@code prefix + i}, 32 at a time. */
    private static List<Phone> registerPhones(Side side, String prefix, int n) throws Exception {
        return registerPhones(side.name(), side.phones(), prefix, n);
    }

    private static List<Phone> registerPhones(String sideName, Phone.Factory factory, String prefix, int n)
            throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(Math.min(32, n));
        List<Future<Phone>> futures = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            String user = prefix + i;
            futures.add(pool.submit(() -> {
                Phone phone = factory.connect();
                try {
                    phone.register(user, Duration.ofSeconds(60));
                } catch (Exception e) {
                    phone.close();
                    throw e;
                }
                return phone;
            }));
        }
        pool.shutdown();
        List<Phone> phones = new ArrayList<>();
        Exception failure = null;
        for (Future<Phone> f : futures) {
            try {
                phones.add(f.get());
            } catch (Exception e) {
                failure = failure != null ? failure : e;
            }
        }
        if (failure != null) {
            closeAll(phones);
            throw new IllegalStateException(sideName + ": registering " + n + " phones failed", failure);
        }
        return phones;
    }

    // ---- process figures --------------------------------------------------------------------------

    private ProcessStats settle(Side side) {
        awaitQuiet(Duration.ofSeconds(3));
        return ProcessStats.of(side.pid());
    }

    /**
     * Bytes of live objects: {@code jcmd GC.class_histogram} runs a full GC and totals what survived. (Heap
     * "used" after {@code GC.run} from /metrics was no use: SerialGC shrinks and regrows the heap around it.)
     * NaN for Janus.
     */
    private double heapAfterGc(Side side) throws Exception {
        if (side.metricsUrl() == null) {
            return Double.NaN;
        }
        Process jcmd = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "jcmd").toString(),
                String.valueOf(side.pid()), "GC.class_histogram").redirectErrorStream(true).start();
        String out = new String(jcmd.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        if (!jcmd.waitFor(120, TimeUnit.SECONDS)) {
            jcmd.destroyForcibly();
            return Double.NaN;
        }
        // Last line: "Total <instances> <bytes>"
        return out.lines().filter(l -> l.startsWith("Total")).findFirst()
                .map(l -> Double.parseDouble(l.trim().split("\\s+")[2])).orElse(Double.NaN);
    }

    private double heapUsed(Side side) {
        if (side.metricsUrl() == null) {
            return Double.NaN;
        }
        try {
            String body = http.send(HttpRequest.newBuilder(URI.create(side.metricsUrl())).build(),
                    HttpResponse.BodyHandlers.ofString()).body();
            return PrometheusText.parse(body).find("jvm_memory_used_bytes", Map.of("area", "heap")).stream()
                    .mapToDouble(PrometheusText.Sample::value).sum();
        } catch (Exception e) {
            return Double.NaN;
        }
    }

    /** Lets time pass without a sleep call: parks until the deadline (nothing to poll for). */
    private static void awaitQuiet(Duration d) {
        long deadline = System.nanoTime() + d.toNanos();
        for (long left; (left = deadline - System.nanoTime()) > 0; ) {
            java.util.concurrent.locks.LockSupport.parkNanos(left);
        }
    }

    // ---- reporting --------------------------------------------------------------------------------

    private void header(InetAddress gatewayAddress, InetAddress clientAddress) throws Exception {
        String cpu = Files.readAllLines(Path.of("/proc/cpuinfo")).stream().filter(l -> l.startsWith("model name"))
                .findFirst().map(l -> l.substring(l.indexOf(':') + 1).trim()).orElse("?");
        report.append(String.format("# Gateway vs Janus 1.1.2 SIP plugin, %s%n%nMachine: %d CPUs (%s), shared with other"
                        + " jobs: load average at start %.2f. Gateway ICE on %s, load client on %s (network namespace),"
                        + " SIP and RTP echo (SIPp) on 127.0.0.1.%n", Instant.now(),
                Runtime.getRuntime().availableProcessors(), cpu, ProcessStats.loadAverage(),
                gatewayAddress.getHostAddress(), clientAddress.getHostAddress()));
    }

    private static String ratioLine(String what, Map<String, List<Double>> values) {
        List<Double> none = List.of();
        double us = median(values.getOrDefault("gateway", none));
        double them = median(values.getOrDefault("janus", none));
        return String.format("%s: gateway median %.2f %s, janus median %.2f %s, ratio us/Janus %.2f", what, us,
                values.get("gateway"), them, values.get("janus"), us / them);
    }

    private final class Table {
        private final String name;
        private final StringBuilder md = new StringBuilder();
        private final StringBuilder csv = new StringBuilder();
        private final List<String> notes = new ArrayList<>();

        Table(String name, String title, String... columns) {
            this.name = name;
            md.append("\n## ").append(title).append("\n\n| ").append(String.join(" | ", columns)).append(" |\n|")
                    .append("---|".repeat(columns.length)).append('\n');
            csv.append(String.join(",", columns)).append('\n');
        }

        void row(Object... cells) {
            List<String> s = Arrays.stream(cells).map(String::valueOf).toList();
            md.append("| ").append(String.join(" | ", s)).append(" |\n");
            csv.append(String.join(",", s)).append('\n');
            System.out.println(name + ": " + String.join(" ", s));
        }

        void note(String line) {
            notes.add(line);
            System.out.println(name + ": " + line);
        }

        void finish() throws Exception {
            report.append(md);
            notes.forEach(n -> report.append("\n").append(n).append("\n"));
            Files.writeString(OUT.resolve("gateway-vs-janus-" + name + ".csv"), csv);
        }
    }

    private static InetAddress address(String interfaceName) throws SocketException {
        NetworkInterface nif = NetworkInterface.getByName(interfaceName);
        if (nif == null) {
            throw new AssertionError("no interface " + interfaceName + ": run this bench through bench/run.sh, which"
                    + " creates a private network namespace with a veth pair (Janus gathers no ICE candidate on loopback)");
        }
        return nif.inetAddresses().filter(a -> a instanceof Inet4Address).findFirst()
                .orElseThrow(() -> new AssertionError(interfaceName + " has no IPv4 address"));
    }

    private static int[] ints(String property, String defaults) {
        return Arrays.stream(System.getProperty(property, defaults).split(",")).mapToInt(s -> Integer.parseInt(s.trim()))
                .toArray();
    }

    private static double median(List<Double> values) {
        return percentile(values, 50);
    }

    private static String f1(double v) {
        return String.format("%.1f", v);
    }

    private static String f2(double v) {
        return String.format("%.2f", v);
    }

    private static String f3(double v) {
        return String.format("%.3f", v);
    }
}
