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
 * readiness), the process as Linux sees it (threads, open files, UDP sockets, RSS, CPU: /proc), and the heap
 * after a full GC.
 *
 * <p>Heap after GC: {@code jcmd <pid> GC.run} (a full GC; jcmd returns once it is done), then the JVM's own GC log
 * line of that very collection ({@code -Xlog:gc}: "Pause Full (Diagnostic Command) 180M->95M(512M) 210ms"), the
 * heap's size right after it. Unlike "used" read from /metrics or {@code GC.heap_info} a moment later, it does
 * not include what the gateway allocated in between (at 300 calls, megabytes a second).
 */
final class GatewayFigures {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** jcmd's GC.run is a full GC with the cause "Diagnostic Command" (System.gc() would say so). */
    private static final Pattern FULL_GC = Pattern.compile(
            "Pause Full \\(Diagnostic Command\\) (\\d+)([KMG])->(\\d+)([KMG])\\((\\d+)([KMG])\\) ([0-9.]+)ms");
    /** " 1:  12345  1234567  [B (java.base@17)": instances, bytes, class. */
    private static final Pattern HISTOGRAM_ROW = Pattern.compile("^\\s*\\d+:\\s+(\\d+)\\s+(\\d+)\\s+(\\S+)");

    /** One reading. {@code heapMb} and {@code gcPauseMs}: NaN when no GC was asked for. */
    record Sample(int calls, int sessions, boolean ready, int threads, int openFiles, int udpSockets, double rssMb,
            double cpuSeconds, double heapMb, double gcPauseMs) {}

    private final GatewayProcess gw;
    private final HttpClient http;
    private final Path gcLog;

    GatewayFigures(GatewayProcess gw, HttpClient http, Path gcLog) {
        this.gw = gw;
        this.http = http;
        this.gcLog = gcLog;
    }

    /** The JVM options that write the GC log this reads. */
    static String gcLogOption(Path gcLog) {
        return "-Xlog:gc:file=" + gcLog.toAbsolutePath();
    }

    Sample sample(boolean fullGc) throws Exception {
        JsonNode instance = instance();
        long pid = gw.pid();
        ProcessStats stats = ProcessStats.of(pid);
        int files = ProcessResources.openFiles(pid);
        int udp = ProcessResources.udpSocketCount(pid);
        double[] heap = fullGc ? heapAfterFullGc() : new double[] {Double.NaN, Double.NaN};
        return new Sample(instance.path("calls").asInt(-1), instance.path("sessions").asInt(-1),
                instance.path("ready").asBoolean(false), stats.threads(), files, udp, stats.rssBytes() / 1e6,
                stats.cpuSeconds(), heap[0], heap[1]);
    }

    /** GET /api/v1/instance. */
    JsonNode instance() throws IOException, InterruptedException {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(gw.httpUrl() + "/api/v1/instance"))
                .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
        return JSON.readTree(r.body());
    }

    /** {MB of heap after the GC, its pause in ms}. */
    private double[] heapAfterFullGc() throws IOException, InterruptedException {
        int before = Files.readAllLines(gcLog).size();
        String out = jcmd("GC.run");
        List<String> lines = Files.readAllLines(gcLog);
        for (int i = lines.size() - 1; i >= before; i--) {
            Matcher m = FULL_GC.matcher(lines.get(i));
            if (m.find()) {
                return new double[] {megabytes(m.group(3), m.group(4)), Double.parseDouble(m.group(7))};
            }
        }
        throw new IllegalStateException("no new 'Pause Full (Diagnostic Command)' line in " + gcLog + " after jcmd: "
                + out);
    }

    /** One class's share of the heap: instances and bytes (jcmd GC.class_histogram). */
    record ClassShare(long instances, long bytes) {}

    /**
     * What lives on the heap after a full GC (the class histogram runs one first), by class: to say what grew when
     * the heap did.
     */
    Map<String, ClassShare> histogram() throws IOException, InterruptedException {
        String out = jcmd("GC.class_histogram");
        Map<String, ClassShare> classes = new HashMap<>();
        for (String line : out.split("\n")) {
            Matcher m = HISTOGRAM_ROW.matcher(line);
            if (m.find()) {
                classes.merge(m.group(3), new ClassShare(Long.parseLong(m.group(1)), Long.parseLong(m.group(2))),
                        (a, b) -> new ClassShare(a.instances() + b.instances(), a.bytes() + b.bytes()));
            }
        }
        return classes;
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

    private String jcmd(String command) throws IOException, InterruptedException {
        Process jcmd = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "jcmd").toString(),
                String.valueOf(gw.pid()), command).redirectErrorStream(true).start();
        String out = new String(jcmd.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!jcmd.waitFor(120, TimeUnit.SECONDS) || jcmd.exitValue() != 0) {
            jcmd.destroyForcibly();
            throw new IllegalStateException("jcmd " + gw.pid() + " " + command + " failed: " + out);
        }
        return out;
    }

    private static double megabytes(String value, String unit) {
        double v = Double.parseDouble(value);
        return switch (unit) {
            case "K" -> v / 1024;
            case "G" -> v * 1024;
            default -> v;
        };
    }
}
