package io.webrtcgateway.bench;

import io.webrtcgateway.testsupport.GatewayProcess;
import io.webrtcgateway.testsupport.Sipp;
import io.webrtcgateway.testsupport.WsTestClient;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

/**
 * Figures for issue 2 (run: {@code mvn -B verify -Pbench}; prints a table, writes target/bench/registration.csv):
 * <ul>
 *   <li>registrations per second through the WebSocket API to SIPp as registrar (median of 3 rounds of
 *       2,000 DNs, 64 concurrent clients; sessions are opened before the clock starts);</li>
 *   <li>live heap per idle registered session: the slope of the gateway's live heap (full-GC class
 *       histogram) between 1,000 and 2,000 idle registered sessions; plus RSS and thread count.</li>
 * </ul>
 * Not a test: it asserts nothing about speed. The machine is noisy; the median is reported.
 */
class RegistrationBench {
    private static final int SESSIONS = Integer.getInteger("bench.sessions", 2000);
    private static final int CONCURRENCY = Integer.getInteger("bench.concurrency", 64);
    private static final int ROUNDS = 3;

    @Test
    void registrationRateAndIdleSessionCost() throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(CONCURRENCY);
        try (Sipp sipp = Sipp.scenario("registrar-ok.xml").traceMessages(false).args("-buff_size", "4194304").start();
             GatewayProcess gw = ClientLimitsOff.on(GatewayProcess.builder()).sipServers(sipp.serverEntry()).instanceId("bench")
                     .jvmArgs("-Xmx2g").set("gateway.limits.max-sessions", "20000").start()) {
            String ws = gw.wsUrl();
            // warm-up: JIT, pools, SIPp
            round(ws, pool, 0, 300);

            List<Double> rates = new ArrayList<>();
            for (int r = 1; r <= ROUNDS; r++) {
                rates.add(round(ws, pool, r * 10_000, SESSIONS));
            }
            Collections.sort(rates);
            double median = rates.get(rates.size() / 2);

            // Heap per idle session: the slope between SESSIONS/2 and SESSIONS idle registered sessions, each
            // measured after a settle time (JAIN-SIP keeps completed transactions for its timers, Jetty its
            // closed connections for a while), so the rounds' leftovers weigh the same in both.
            int half = SESSIONS / 2;
            List<WsTestClient> idle = new ArrayList<>(openAndRegister(ws, pool, 90_000, half));
            long heapHalf = settledLiveHeap(gw.pid());
            idle.addAll(openAndRegister(ws, pool, 90_000 + half, SESSIONS - half));
            long heapFull = settledLiveHeap(gw.pid());
            long rssKb = status(gw.pid(), "VmRSS:");
            long threads = status(gw.pid(), "Threads:");
            double perSession = (heapFull - heapHalf) / (double) (SESSIONS - half);
            for (WsTestClient c : idle) {
                c.close();
            }

            String table = String.format("%n| figure | value |%n|---|---|%n"
                    + "| registrations/s, WebSocket -> SIPp (median of %d x %d, %d concurrent) | %.0f (rounds: %s) |%n"
                    + "| live heap per idle registered session (%d sessions) | %.1f KB |%n"
                    + "| gateway RSS with %d idle registered sessions | %d MB |%n"
                    + "| gateway threads with %d idle registered sessions | %d |%n",
                    ROUNDS, SESSIONS, CONCURRENCY, median, rates, SESSIONS, perSession / 1024, SESSIONS, rssKb / 1024,
                    SESSIONS, threads);
            System.out.println(table);
            Path out = Path.of(System.getProperty("it.buildDir", "target"), "bench", "registration.csv");
            Files.createDirectories(out.getParent());
            Files.writeString(out, "figure,value\nregistrations_per_s_median," + String.format("%.1f", median)
                    + "\nheap_bytes_per_idle_session," + String.format("%.0f", perSession)
                    + "\nrss_kb," + rssKb + "\nthreads," + threads + "\n");
        } finally {
            pool.shutdownNow();
        }
    }

    /** Opens {@code n} sessions, then times registering them all; signs them out after. Returns regs/s. */
    private static double round(String ws, ExecutorService pool, int firstDn, int n) throws Exception {
        List<WsTestClient> clients = new ArrayList<>();
        List<Future<WsTestClient>> opened = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            opened.add(pool.submit(() -> {
                WsTestClient c = WsTestClient.connect(ws);
                c.ok("hello");
                return c;
            }));
        }
        for (Future<WsTestClient> f : opened) {
            clients.add(f.get());
        }
        long t0 = System.nanoTime();
        List<Future<?>> regs = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            WsTestClient c = clients.get(i);
            String dn = String.valueOf(100_000 + firstDn + i);
            regs.add(pool.submit(() -> c.ok("register", "dn", dn)));
        }
        for (Future<?> f : regs) {
            f.get();
        }
        double seconds = (System.nanoTime() - t0) / 1e9;
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
        return n / seconds;
    }

    private static List<WsTestClient> openAndRegister(String ws, ExecutorService pool, int firstDn, int n) throws Exception {
        List<Future<WsTestClient>> fs = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            String dn = String.valueOf(100_000 + firstDn + i);
            fs.add(pool.submit(() -> {
                WsTestClient c = WsTestClient.connect(ws);
                c.ok("hello");
                c.ok("register", "dn", dn);
                return c;
            }));
        }
        List<WsTestClient> out = new ArrayList<>();
        for (Future<WsTestClient> f : fs) {
            out.add(f.get());
        }
        return out;
    }

    /** Live heap once it stopped shrinking (polled every 5 s, at most a minute). */
    private static long settledLiveHeap(long pid) throws IOException, InterruptedException {
        long previous = liveHeap(pid);
        for (int i = 0; i < 12; i++) {
            java.util.concurrent.locks.LockSupport.parkNanos(java.time.Duration.ofSeconds(5).toNanos());
            long now = liveHeap(pid);
            if (Math.abs(now - previous) < previous / 200) {
                return now;
            }
            previous = now;
        }
        return previous;
    }

    /** Bytes of live objects: a class histogram forces a full GC first. */
    private static long liveHeap(long pid) throws IOException, InterruptedException {
        Process p = new ProcessBuilder("jcmd", String.valueOf(pid), "GC.class_histogram").redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        p.waitFor();
        for (String line : out.split("\n")) {
            String t = line.trim();
            if (t.startsWith("Total")) {
                String[] parts = t.split("\\s+");
                return Long.parseLong(parts[2]);
            }
        }
        throw new IllegalStateException("no Total line in jcmd output: " + out);
    }

    private static long status(long pid, String field) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
            if (line.startsWith(field)) {
                return Long.parseLong(line.substring(field.length()).trim().split("\\s+")[0]);
            }
        }
        return -1;
    }
}
