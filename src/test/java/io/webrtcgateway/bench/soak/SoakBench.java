package io.webrtcgateway.bench.soak;

import io.webrtcgateway.bench.ClientLimitsOff;
import io.webrtcgateway.bench.load.GatewayPhone;
import io.webrtcgateway.bench.load.LoadMedia;
import io.webrtcgateway.bench.load.ProcessStats;
import io.webrtcgateway.testsupport.FreePorts;
import io.webrtcgateway.testsupport.GatewayProcess;
import io.webrtcgateway.testsupport.ProcessResources;
import io.webrtcgateway.testsupport.Sipp;
import java.net.InetSocketAddress;
import java.net.http.HttpClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import java.util.function.ToDoubleFunction;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * Issue 13 item 9, the soak (docs/performance.md, "Soak"): the standalone gateway for {@code bench.soak.minutes}
 * (60) at {@code bench.soak.calls} concurrent calls (80 % of {@code bench.soak.capacity}, 400: 320), calls
 * starting and ending all the time, sessions signing in and out, and a background of bad input; one line of
 * figures a minute, and at the end a verdict: are threads, heap after GC, open files and UDP sockets flat, did
 * everything go back to where it was once the calls ended, and did every bad input get its documented answer.
 * The test fails (the build exits non-zero) when not.
 *
 * <p>Peers as the capacity bench's ({@code GatewayVsJanusBench}): SIPp ({@code uas-calls.xml}) as SIP Server,
 * registrar and callee {@code fast} answering at once, echoing RTP ({@code -rtp_echo}); the load phones
 * ({@link GatewayPhone}: WebSocket, and {@link LoadMedia}: ICE, DTLS-SRTP, PCMU 20 ms with the send time in the
 * payload) in this JVM. Calls ({@link SoakCalls}): each line holds a call for a random 20-120 s, hangs up, places
 * the next; after a call its phone signs out with probability {@code bench.soak.sign-out} (0.2) and a new one
 * signs in with a new DN; idle registered sessions ({@code bench.soak.idle-sessions}, calls / 4) are rotated by the
 * same fraction every minute. Bad input: {@link SoakBadInput}.
 *
 * <p>Run: {@code bench/soak.sh -Dbench.soak.minutes=3 -Dbench.soak.calls=40} (a private network namespace with
 * its own loopback, so its thousands of RTP ports cannot collide with other jobs), or directly {@code mvn -B -o
 * -Pbench test-compile failsafe:integration-test failsafe:verify -Dit.test=SoakBench -Dtest=NONE
 * -Dsurefire.failIfNoSpecifiedTests=false}. It runs only when chosen by name: a plain {@code mvn -Pbench verify}
 * of all benches does not start an hour of soak. Output on stdout, target/bench/soak.md and soak.csv; the
 * gateway's log and GC log under target/it-logs and target/bench.
 */
@EnabledIfSystemProperty(named = "it.test", matches = ".*SoakBench.*",
        disabledReason = "an hour long: runs only when chosen, -Dit.test=SoakBench (bench/soak.sh)")
class SoakBench {
    private static final int CAPACITY = Integer.getInteger("bench.soak.capacity", 400);
    private static final int CALLS = Integer.getInteger("bench.soak.calls", (int) Math.round(0.8 * CAPACITY));
    private static final int MINUTES = Integer.getInteger("bench.soak.minutes", 60);
    private static final int IDLE_SESSIONS = Integer.getInteger("bench.soak.idle-sessions", CALLS / 4);
    private static final double SIGN_OUT = Double.parseDouble(System.getProperty("bench.soak.sign-out", "0.2"));
    private static final Duration MIN_HOLD = Duration.ofSeconds(Integer.getInteger("bench.soak.min-hold-s", 20));
    private static final Duration MAX_HOLD = Duration.ofSeconds(Integer.getInteger("bench.soak.max-hold-s", 120));
    private static final Duration BAD_INPUT_PERIOD =
            Duration.ofSeconds(Integer.getInteger("bench.soak.bad-input-period-s", 10));
    private static final int RTP_GARBAGE_PER_SECOND = Integer.getInteger("bench.soak.rtp-garbage-per-second", 20);
    /** Each call's first packets are left out of the loss (LoadMedia.settleTime): the steady state is measured. */
    private static final Duration SETTLE_TIME = Duration.ofMillis(Integer.getInteger("bench.soak.settle-ms", 1000));
    /**
     * A file name under target/bench: record the gateway with JFR ({@code profile} settings, which sample old
     * objects) and dump the recording with paths to GC roots after the last minute, calls still up: where the
     * objects that stayed were allocated and what holds them ({@code jfr print --events OldObjectSample}).
     */
    private static final String JFR = System.getProperty("bench.soak.jfr");
    /** Setups per second while ramping up (the steady state needs calls / 70 s on average). */
    private static final int RAMP_RATE = 8;
    private static final Duration MINUTE = Duration.ofMinutes(1);
    /** After a minute ends, its last packets' echoes are waited for this long before its loss is read. */
    private static final Duration GRACE = Duration.ofMillis(2500);
    /** How long the end waits for sessions to go (an abandoned one lasts gateway.session.idle-timeout, 60 s). */
    private static final Duration SETTLE = Duration.ofSeconds(150);
    /**
     * The heap is measured at the end no sooner than this after the last call: JAIN-SIP keeps a finished server
     * transaction 32 s (Timer J, RFC 3261 §17.2.2), and the last sign-outs' are a few hundred.
     */
    private static final Duration SIP_TIMERS = Duration.ofSeconds(40);
    /** Open files the gateway may hold beyond its idle baseline at the end: lazily opened jars, a selector. */
    private static final int FILES_SLACK = 16;
    private static final Path OUT = Path.of(System.getProperty("it.buildDir", "target"), "bench");

    private final StringBuilder table = new StringBuilder();
    private final StringBuilder csv = new StringBuilder();
    private final List<String> notes = new ArrayList<>();
    private final List<String> failures = new ArrayList<>();

    /** A minute's figures; counters are that minute's. */
    private record Minute(int minute, GatewayFigures.Sample gw, int callsUp, long started, long ended, long failed,
            long signIns, long signOuts, long checked, long unexpected, long datagrams, double lossPct, double rttP50Ms,
            double rttP99Ms, long udpDrops, long echoDrops, double gwCores, double clientCores, double load1) {}

    @Test
    void soak() throws Exception {
        Files.createDirectories(OUT);
        Path gcLog = OUT.resolve("soak-gateway-gc.log");
        HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofSeconds(5)).build();
        ScheduledExecutorService keepalives =
                Executors.newSingleThreadScheduledExecutor(r -> daemon(r, "soak-keepalive"));
        // Idle sessions signing in and out: slow work (a REGISTER each) that must not hold up the keepalives.
        ScheduledExecutorService churn = Executors.newSingleThreadScheduledExecutor(r -> daemon(r, "soak-churn"));
        GatewayProcess.Builder gateway = ClientLimitsOff.perAddress(GatewayProcess.builder()).instanceId("soak-gw")
                .jvmArgs("-Xmx1g", "-XX:AutoBoxCacheMax=65536", GatewayFigures.gcLogOption(gcLog),
                        GatewayFigures.FULL_COMPACTION)
                .jvmArgs(JFR == null ? new String[0] : new String[] {"-XX:StartFlightRecording=settings=profile"})
                // Three ports a call (ICE; RTP and RTCP toward SIP), drawn at random: room to spare.
                .rtpPortCount(Math.min(9000, Math.max(400, CALLS * 12)))
                .set("gateway.media.ice-addresses", List.of("127.0.0.1"));
        // Instance limits stay as deployed (max-calls 250 per core), unless the run asks for more calls than that.
        int boxCalls = 250 * Runtime.getRuntime().availableProcessors();
        if (CALLS > boxCalls * 9 / 10) {
            gateway.set("gateway.limits.max-calls", String.valueOf(CALLS + CALLS / 4));
        }
        header();
        int echoPort = FreePorts.sippMedia();
        try (Sipp sipp = Sipp.scenario("uas-calls.xml").name("sipp-soak").key("peer_rtp_port", "9").traceMessages(false)
                     .args("-mi", "127.0.0.1", "-mp", String.valueOf(echoPort), "-rtp_echo",
                             "-buff_size", "4194304").start();
             GatewayProcess gw = gateway.sipServers(sipp.serverEntry()).start();
             LoadMedia media = new LoadMedia(new InetSocketAddress("127.0.0.1", 0));
             SoakBadInput bad = new SoakBadInput(gw, "fast")) {
            gw.awaitHttpStatus("/health/ready", 200, Duration.ofSeconds(60));
            media.settleTime(SETTLE_TIME);
            GatewayFigures figures = new GatewayFigures(gw, http, gcLog);
            GatewayFigures.Sample idle = figures.sample(true);
            line("baseline, before any session: threads %d, open files %d, UDP sockets %d, heap after GC %.1f MiB,"
                    + " RSS %.0f MB", idle.threads(), idle.openFiles(), idle.udpSockets(), idle.heapMb(), idle.rssMb());

            SoakCalls calls = new SoakCalls(GatewayPhone.factory(http, gw.wsUrl(), "fast", keepalives), media, CALLS,
                    CALLS + IDLE_SESSIONS, MIN_HOLD, MAX_HOLD, SIGN_OUT);
            List<Minute> minutes = new ArrayList<>();
            Map<String, Integer> loadedThreads;
            try {
                loadedThreads = ramp(calls, figures, churn, gw);
                bad.start(BAD_INPUT_PERIOD, RTP_GARBAGE_PER_SECOND);
                churn.scheduleAtFixedRate(() -> calls.rotateIdle(SIGN_OUT), 30, 60, TimeUnit.SECONDS);
                runMinutes(calls, bad, media, figures, gw, echoPort, minutes);
                if (JFR != null) {
                    line("JFR: %s", figures.jcmd("JFR.dump", "filename=" + OUT.resolve(JFR).toAbsolutePath(),
                            "path-to-gc-roots=true").strip());
                }
            } finally {
                churn.shutdownNow();
                churn.awaitTermination(1, TimeUnit.MINUTES);
                if (!calls.stop(Duration.ofMinutes(3))) {
                    failures.add("some lines did not stop within 3 minutes");
                }
                keepalives.shutdownNow();
                bad.close();
            }
            printTotals(calls, bad);
            judge(minutes, bad);
            if (gw.isAlive()) {
                end(figures, idle, loadedThreads, gw);
            }
        }
        if (failures.isEmpty()) {
            line("verdict: FLAT (%d minutes at %d calls)", MINUTES, CALLS);
        } else {
            line("verdict: NOT FLAT: %s", String.join("; ", failures));
        }
        Files.writeString(OUT.resolve("soak.md"), String.join("\n", notes) + "\n\n" + table);
        Files.writeString(OUT.resolve("soak.csv"), csv);
        if (!failures.isEmpty()) {
            throw new AssertionError("soak: NOT FLAT: " + String.join("; ", failures));
        }
    }

    /** Lines start at RAMP_RATE per second; returns once the calls are up, with the gateway's threads by name. */
    private Map<String, Integer> ramp(SoakCalls calls, GatewayFigures figures, ScheduledExecutorService churn,
            GatewayProcess gw) throws Exception {
        long t0 = System.nanoTime();
        Duration ramp = Duration.ofMillis(1000L * CALLS / RAMP_RATE);
        calls.start(ramp);
        churn.execute(() -> calls.startIdle(IDLE_SESSIONS));
        long deadline = t0 + ramp.plusSeconds(60).toNanos();
        awaitUntil(deadline, () -> calls.up.get() >= CALLS * 95 / 100 && calls.idleCount() >= IDLE_SESSIONS);
        GatewayFigures.Sample s = figures.sample(false);
        line("ramp: %d of %d calls up, %d idle sessions after %.0f s; gateway: %d calls, %d sessions, threads %d,"
                        + " open files %d, UDP sockets %d", calls.up.get(), CALLS, calls.idleCount(),
                (System.nanoTime() - t0) / 1e9, s.calls(), s.sessions(), s.threads(), s.openFiles(), s.udpSockets());
        if (calls.up.get() < CALLS * 95 / 100) {
            failures.add("the ramp reached only " + calls.up.get() + " of " + CALLS + " calls");
        }
        return ProcessResources.threadNames(gw.pid());
    }

    private void runMinutes(SoakCalls calls, SoakBadInput bad, LoadMedia media, GatewayFigures figures, GatewayProcess gw,
            int echoPort, List<Minute> minutes) throws Exception {
        String[] columns = {"minute", "calls_up", "in_call", "started", "ended", "failed", "sessions", "signed_in",
                "signed_out", "gw_threads", "heap_after_gc_mb", "gc_pause_ms", "open_files", "udp_sockets", "loss_pct",
                "rtt_p50_ms", "rtt_p99_ms", "udp_drops", "echo_drops", "gw_cpu_cores", "client_cpu_cores", "rss_mb",
                "bad_input", "unexpected", "rtp_garbage", "ready", "load1"};
        table.append("| ").append(String.join(" | ", columns)).append(" |\n|").append("---|".repeat(columns.length))
                .append('\n');
        csv.append(String.join(",", columns)).append('\n');
        System.out.println("soak: | " + String.join(" | ", columns) + " |");

        long[] last = counters(calls, bad);
        long udpDrops = udpReceiveBufferErrors();
        long echoDrops = socketDrops(echoPort);
        Map<String, GatewayFigures.ClassShare> lastClasses = null;
        double lastHeap = Double.NaN;
        long pid = gw.pid();
        double gwCpu = ProcessStats.of(pid).cpuSeconds();
        double clientCpu = ProcessStats.of(ProcessHandle.current().pid()).cpuSeconds();
        long t0 = System.nanoTime();
        long lastT = t0;
        // Each minute's window is replaced by the next one's as that starts; its echoes still count after that.
        LoadMedia.Window window = media.startWindow(MINUTE.multipliedBy(2));
        for (int m = 1; m <= MINUTES; m++) {
            awaitUntil(t0 + MINUTE.toNanos() * m, () -> false);
            if (!gw.isAlive()) {
                failures.add("the gateway died in minute " + m + ": see " + gw.logFile());
                return;
            }
            LoadMedia.Window ended = window;
            String legs = media.lossByLeg(); // before the next window resets the legs' counts
            window = media.startWindow(MINUTE.multipliedBy(2));
            long udpDropsNow = udpReceiveBufferErrors();
            long echoDropsNow = socketDrops(echoPort);
            long now = System.nanoTime();
            long[] c = counters(calls, bad);
            double gwCpuNow = ProcessStats.of(pid).cpuSeconds();
            double clientCpuNow = ProcessStats.of(ProcessHandle.current().pid()).cpuSeconds();
            int up = calls.up.get();
            GatewayFigures.Sample s = figures.sample(true);
            awaitUntil(now + GRACE.toNanos(), () -> false);
            double seconds = (now - lastT) / 1e9;
            Minute minute = new Minute(m, s.withoutClasses(), up, c[0] - last[0], c[1] - last[1], c[2] - last[2],
                    c[3] - last[3], c[4] - last[4], c[5] - last[5], c[6] - last[6], c[7] - last[7],
                    ended.lossPercent(), ended.roundTripMs(50), ended.roundTripMs(99), udpDropsNow - udpDrops,
                    echoDropsNow - echoDrops,
                    (gwCpuNow - gwCpu) / seconds, (clientCpuNow - clientCpu) / seconds, ProcessStats.loadAverage());
            minutes.add(minute);
            row(minute);
            if (ended.lossPercent() > 0.05) {
                line("minute %d: %s", m, legs);
            }
            if (s.heapMb() - lastHeap >= 1) {
                line("minute %d: heap after GC %+.1f MiB; grew most: %s", m, s.heapMb() - lastHeap,
                        GatewayFigures.grown(lastClasses, s.classes(), 5));
            }
            lastClasses = s.classes();
            lastHeap = s.heapMb();
            udpDrops = udpDropsNow;
            echoDrops = echoDropsNow;
            last = c;
            gwCpu = gwCpuNow;
            clientCpu = clientCpuNow;
            lastT = now;
        }
    }

    /** started, ended, failed, signed in, signed out (or abandoned), bad inputs checked, unexpected, garbage datagrams. */
    private static long[] counters(SoakCalls calls, SoakBadInput bad) {
        return new long[] {calls.started.sum(), calls.ended.sum(), calls.failed.sum(), calls.signIns.sum(),
                calls.signOuts.sum() + calls.abandoned.sum(), bad.checked.sum(), bad.unexpected.sum(), bad.datagrams.sum()};
    }

    private void row(Minute m) {
        GatewayFigures.Sample g = m.gw();
        List<String> cells = List.of(String.valueOf(m.minute()), String.valueOf(g.calls()), String.valueOf(m.callsUp()),
                String.valueOf(m.started()), String.valueOf(m.ended()), String.valueOf(m.failed()),
                String.valueOf(g.sessions()), String.valueOf(m.signIns()), String.valueOf(m.signOuts()),
                String.valueOf(g.threads()), f1(g.heapMb()), f1(g.gcPauseMs()), String.valueOf(g.openFiles()),
                String.valueOf(g.udpSockets()), String.format("%.3f", m.lossPct()), f2(m.rttP50Ms()), f2(m.rttP99Ms()),
                String.valueOf(m.udpDrops()), String.valueOf(m.echoDrops()),
                f2(m.gwCores()), f2(m.clientCores()), f1(g.rssMb()), String.valueOf(m.checked()),
                String.valueOf(m.unexpected()), String.valueOf(m.datagrams()), String.valueOf(g.ready()), f2(m.load1()));
        table.append("| ").append(String.join(" | ", cells)).append(" |\n");
        csv.append(String.join(",", cells)).append('\n');
        System.out.println("soak: | " + String.join(" | ", cells) + " |");
    }

    /**
     * UDP datagrams the kernel dropped because a socket's receive buffer was full (RcvbufErrors of /proc/net/snmp):
     * in bench/soak.sh's network namespace, only this run's (the gateway's, SIPp's echo socket, the phones'); on the
     * machine's own network, everyone's.
     */
    private static long udpReceiveBufferErrors() {
        try {
            List<String> udp = Files.readAllLines(Path.of("/proc/net/snmp")).stream().filter(l -> l.startsWith("Udp:"))
                    .toList();
            List<String> names = List.of(udp.get(0).split("\\s+"));
            return Long.parseLong(udp.get(1).split("\\s+")[names.indexOf("RcvbufErrors")]);
        } catch (Exception e) {
            return -1;
        }
    }

    /**
     * Datagrams dropped on the UDP socket bound to {@code port} of this network namespace (the drops column of
     * /proc/net/udp, counted since it was opened): SIPp's RTP echo is one socket for every call.
     */
    private static long socketDrops(int port) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/net/udp"))) {
                String[] f = line.trim().split("\\s+");
                if (f.length > 12 && f[1].endsWith(String.format(":%04X", port))) {
                    return Long.parseLong(f[f.length - 1]);
                }
            }
        } catch (Exception e) {
            // not Linux, or the table changed: no figure
        }
        return -1;
    }

    private void printTotals(SoakCalls calls, SoakBadInput bad) {
        line("totals: %d calls set up, %d ended by hang-up, %d failed; %d sign-ins (%d failed), %d sign-outs, %d sessions"
                        + " abandoned; %d bad inputs checked, %d unexpected answers; %d garbage datagrams to the RTP range",
                calls.started.sum(), calls.ended.sum(), calls.failed.sum(), calls.signIns.sum(), calls.signInFailures.sum(),
                calls.signOuts.sum(), calls.abandoned.sum(), bad.checked.sum(), bad.unexpected.sum(), bad.datagrams.sum());
        calls.failures.forEach(f -> line("failure: %s", f));
        bad.firstUnexpected.forEach(f -> line("unexpected: %s", f));
    }

    /** Threads, heap, files and UDP sockets flat over the last three quarters; every bad input as documented. */
    private void judge(List<Minute> minutes, SoakBadInput bad) {
        List<SoakTrend> trends = List.of(
                trend("gateway threads", minutes, m -> m.gw().threads(), 5, 0.05),
                trend("heap after GC (MiB)", minutes, m -> m.gw().heapMb(), 8, 0.05),
                trend("open files", minutes, m -> m.gw().openFiles(), 16, 0.05),
                trend("UDP sockets", minutes, m -> m.gw().udpSockets(), 16, 0.05));
        for (SoakTrend t : trends) {
            line("verdict: %s", t);
            if (!t.flat()) {
                failures.add(t.toString());
            }
        }
        if (bad.unexpected.sum() > 0) {
            failures.add(bad.unexpected.sum() + " bad inputs were not answered as documented");
        }
        long notReady = minutes.stream().filter(m -> !m.gw().ready()).count();
        line("verdict: /health/ready was 200 at %d of %d minutes; bad input answered as documented: %s", minutes.size()
                - notReady, minutes.size(), bad.unexpected.sum() == 0 ? "all" : bad.unexpected.sum() + " not");
    }

    private static SoakTrend trend(String name, List<Minute> minutes, ToDoubleFunction<Minute> figure, double absolute,
            double relative) {
        return SoakTrend.of(name, minutes.stream().map(m -> figure.applyAsDouble(m)).toList(), absolute, relative);
    }

    /**
     * Once every call ended and every phone signed out: no call, no session, the UDP sockets of before the first
     * session, open files near it, and no thread that was not there under load (pools that shrink after a
     * minute's keep-alive aside: ProcessResources.ELASTIC_POOLS).
     */
    private void end(GatewayFigures figures, GatewayFigures.Sample idle, Map<String, Integer> loadedThreads,
            GatewayProcess gw) throws Exception {
        long t0 = System.nanoTime();
        long deadline = t0 + SETTLE.toNanos();
        GatewayFigures.Sample[] s = {figures.sample(false)};
        awaitUntil(deadline, () -> {
            try {
                s[0] = figures.sample(false);
            } catch (Exception e) {
                return false;
            }
            return s[0].calls() == 0 && s[0].sessions() == 0 && s[0].udpSockets() <= idle.udpSockets()
                    && s[0].openFiles() <= idle.openFiles() + FILES_SLACK
                    && ProcessResources.threadsGrown(loadedThreads, ProcessResources.threadNames(gw.pid())).isEmpty();
        });
        awaitUntil(t0 + SIP_TIMERS.toNanos(), () -> false);
        GatewayFigures.Sample after = figures.sample(true);
        Map<String, Integer> grown = ProcessResources.threadsGrown(loadedThreads, ProcessResources.threadNames(gw.pid()));
        line("end, %.0f s after the last call: calls %d, sessions %d, UDP sockets %d (before any session %d), open files %d"
                        + " (%d), threads %d (%d; grown beyond the loaded run: %s), heap after GC %.1f MiB (%.1f)",
                (System.nanoTime() - t0) / 1e9, after.calls(), after.sessions(), after.udpSockets(), idle.udpSockets(),
                after.openFiles(), idle.openFiles(), after.threads(), idle.threads(), grown, after.heapMb(), idle.heapMb());
        check(gw.isAlive(), "the gateway is gone");
        // Not judged (a bad input may be worth a WARN), but a soak's log is where a slow problem shows first.
        List<String> warnings = Files.readAllLines(gw.logFile()).stream()
                .filter(l -> l.contains("] WARN ") || l.contains("] ERROR ") || l.contains(":WARN :")).toList();
        line("heap after GC at the end against before any session: %+.1f MiB; the classes that grew most: %s",
                after.heapMb() - idle.heapMb(), GatewayFigures.grown(idle.classes(), after.classes(), 12));
        line("gateway log: %d lines at WARN or ERROR%s", warnings.size(), warnings.isEmpty() ? ""
                : ", the first: " + warnings.get(0));
        check(after.calls() == 0, after.calls() + " calls left");
        check(after.sessions() == 0, after.sessions() + " sessions left");
        check(after.udpSockets() <= idle.udpSockets(), "UDP sockets " + after.udpSockets() + " at the end, "
                + idle.udpSockets() + " before any session");
        check(after.openFiles() <= idle.openFiles() + FILES_SLACK, "open files " + after.openFiles() + " at the end, "
                + idle.openFiles() + " before any session");
        check(grown.isEmpty(), "threads not there under load: " + grown);
    }

    private void check(boolean ok, String otherwise) {
        if (!ok) {
            failures.add(otherwise);
        }
    }

    private void header() {
        line("%s: %d minutes at %d calls (bench.soak.calls; default 80 %% of bench.soak.capacity, %d), holds %d-%d s,"
                        + " sign-out after %.0f %% of calls, %d idle sessions; bad input every %d s, %d garbage"
                        + " datagrams/s to the RTP range; loss without each call's first %d ms; %d CPUs, load average"
                        + " %.2f", Instant.now(), MINUTES, CALLS,
                CAPACITY, MIN_HOLD.toSeconds(), MAX_HOLD.toSeconds(), SIGN_OUT * 100, IDLE_SESSIONS,
                BAD_INPUT_PERIOD.toSeconds(), RTP_GARBAGE_PER_SECOND, SETTLE_TIME.toMillis(),
                Runtime.getRuntime().availableProcessors(), ProcessStats.loadAverage());
    }

    /** Prints "soak: ..." and keeps it for soak.md. */
    private void line(String format, Object... args) {
        String s = String.format(format, args);
        System.out.println("soak: " + s);
        notes.add(s);
    }

    /** Until {@code done} or the deadline (System.nanoTime()), checking every 200 ms. */
    private static void awaitUntil(long deadline, BooleanSupplier done) {
        while (!done.getAsBoolean()) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                return;
            }
            LockSupport.parkNanos(Math.min(left, TimeUnit.MILLISECONDS.toNanos(200)));
        }
    }

    private static Thread daemon(Runnable r, String name) {
        Thread t = new Thread(r, name);
        t.setDaemon(true);
        return t;
    }

    private static String f1(double v) {
        return String.format("%.1f", v);
    }

    private static String f2(double v) {
        return String.format("%.2f", v);
    }
}
