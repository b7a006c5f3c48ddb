package io.webrtcgateway.bench.soak;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.webrtcgateway.bench.load.ProcessStats;
import io.webrtcgateway.testsupport.GatewayProcess;
import io.webrtcgateway.testsupport.ProcessResources;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What the soak reads of the gateway once a minute: its own view (GET /api/v1/instance: calls, sessions,
 * readiness), the process as Linux sees it (threads, open files, UDP sockets, RSS, CPU: /proc), and its heap after
 * a full GC.
 *
 * <p>Heap after GC: {@code jcmd <pid> GC.class_histogram} runs a full GC, then lists what survived it by class; the
 * total is the live heap, to the byte, and the classes say what grew when it does. (Heap "used" read from /metrics
 * or {@code GC.heap_info} a moment after {@code GC.run} also counts what the gateway allocated in between, at 300
 * calls megabytes a second; the GC log's "180M->95M" is rounded to a MiB.) The pause comes from the JVM's GC log
 * ({@code -Xlog:gc}), the line of that same collection.
 */
final class GatewayFigures {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final double MIB = 1024 * 1024;
    /** The class histogram's full GC: "Pause Full (Heap Inspection Initiated GC) 180M->95M(512M) 210.123ms". */
    private static final Pattern FULL_GC = Pattern.compile("Pause Full \\(Heap Inspection Initiated GC\\) .* ([0-9.]+)ms");
    /** " 1:  12345  1234567  [B (java.base@17)": instances, bytes, class. */
    private static final Pattern HISTOGRAM_ROW = Pattern.compile("^\\s*\\d+:\\s+(\\d+)\\s+(\\d+)\\s+(\\S+)");

    /**
     * One reading. {@code heapMb} (MiB of live objects), {@code gcPauseMs} and {@code classes}: NaN and null when
     * the heap was not looked at.
     */
    record Sample(int calls, int sessions, boolean ready, int threads, int openFiles, int udpSockets, double rssMb,
            double cpuSeconds, double heapMb, double gcPauseMs, Map<String, ClassShare> classes) {
        /** The same figures without the class histogram (a few thousand entries), to keep. */
        Sample withoutClasses() {
            return new Sample(calls, sessions, ready, threads, openFiles, udpSockets, rssMb, cpuSeconds, heapMb,
                    gcPauseMs, null);
        }
    }

    /** One class's share of the heap: instances and bytes. */
    record ClassShare(long instances, long bytes) {}

    private final GatewayProcess gw;
    private final HttpClient http;
    private final Path gcLog;

    GatewayFigures(GatewayProcess gw, HttpClient http, Path gcLog) {
        this.gw = gw;
        this.http = http;
        this.gcLog = gcLog;
    }

    /**
     * For SerialGC: every full GC compacts fully, leaving no dead space. By default it leaves up to
     * MarkSweepDeadRatio (5 %) of the old generation dead, filled with int[] arrays that a class histogram counts
     * as live, and ignores that allowance only every MarkSweepAlwaysCompactCount-th (4th) full GC: the figure then
     * climbs for three minutes and drops on the fourth.
     */
    static final String FULL_COMPACTION = "-XX:MarkSweepAlwaysCompactCount=1";

    /** The JVM option that writes the GC log this reads. */
    static String gcLogOption(Path gcLog) {
        return "-Xlog:gc:file=" + gcLog.toAbsolutePath();
    }

    /** The figures; {@code heap}: also the heap after a full GC (which pauses the gateway). */
    Sample sample(boolean heap) throws Exception {
        JsonNode instance = instance();
        long pid = gw.pid();
        ProcessStats stats = ProcessStats.of(pid);
        int files = ProcessResources.openFiles(pid);
        int udp = ProcessResources.udpSocketCount(pid);
        Map<String, ClassShare> classes = null;
        double live = Double.NaN;
        double pause = Double.NaN;
        if (heap) {
            int logLines = Files.readAllLines(gcLog).size();
            classes = histogram();
            live = classes.values().stream().mapToLong(ClassShare::bytes).sum() / MIB;
            pause = lastPause(logLines);
        }
        return new Sample(instance.path("calls").asInt(-1), instance.path("sessions").asInt(-1),
                instance.path("ready").asBoolean(false), stats.threads(), files, udp, stats.rssBytes() / 1e6,
                stats.cpuSeconds(), live, pause, classes);
    }

    /** GET /api/v1/instance. */
    JsonNode instance() throws IOException, InterruptedException {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(gw.httpUrl() + "/api/v1/instance"))
                .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
        return JSON.readTree(r.body());
    }

    /** The {@code n} classes whose bytes grew most from {@code before} to {@code after}: "class +bytes (+instances)". */
    static List<String> grown(Map<String, ClassShare> before, Map<String, ClassShare> after, int n) {
        return after.entrySet().stream()
                .map(e -> {
                    ClassShare b = before.getOrDefault(e.getKey(), new ClassShare(0, 0));
                    return Map.entry(e.getKey(), new ClassShare(e.getValue().instances() - b.instances(),
                            e.getValue().bytes() - b.bytes()));
                })
                .filter(e -> e.getValue().bytes() > 0)
                .sorted((x, y) -> Long.compare(y.getValue().bytes(), x.getValue().bytes()))
                .limit(n)
                .map(e -> String.format("%s %+,d B (%+,d)", e.getKey(), e.getValue().bytes(), e.getValue().instances()))
                .toList();
    }

    /** What lives on the heap after a full GC (the class histogram runs one first), by class. */
    private Map<String, ClassShare> histogram() throws IOException, InterruptedException {
        String out = jcmd("GC.class_histogram");
        Map<String, ClassShare> classes = new HashMap<>();
        for (String line : out.split("\n")) {
            Matcher m = HISTOGRAM_ROW.matcher(line);
            if (m.find()) {
                classes.merge(m.group(3), new ClassShare(Long.parseLong(m.group(1)), Long.parseLong(m.group(2))),
                        (a, b) -> new ClassShare(a.instances() + b.instances(), a.bytes() + b.bytes()));
            }
        }
        if (classes.isEmpty()) {
            throw new IllegalStateException("no class histogram from jcmd " + gw.pid() + ": " + out);
        }
        return classes;
    }

    /** The pause of the histogram's GC, from the GC log lines written since line {@code from}; NaN if none is. */
    private double lastPause(int from) throws IOException {
        List<String> lines = Files.readAllLines(gcLog);
        for (int i = lines.size() - 1; i >= from; i--) {
            Matcher m = FULL_GC.matcher(lines.get(i));
            if (m.find()) {
                return Double.parseDouble(m.group(1));
            }
        }
        return Double.NaN;
    }

    /** {@code jcmd <gateway pid> command arguments...}: its output; fails unless it exits 0. */
    String jcmd(String... command) throws IOException, InterruptedException {
        List<String> line = new java.util.ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "jcmd")
                .toString(), String.valueOf(gw.pid())));
        line.addAll(List.of(command));
        Process jcmd = new ProcessBuilder(line).redirectErrorStream(true).start();
        String out = new String(jcmd.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!jcmd.waitFor(120, TimeUnit.SECONDS) || jcmd.exitValue() != 0) {
            jcmd.destroyForcibly();
            throw new IllegalStateException(String.join(" ", line) + " failed: " + out);
        }
        return out;
    }
}
