package io.webrtcgateway.testsupport;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A strict parser of the Prometheus text exposition format 0.0.4 (what {@code GET /metrics} serves): every
 * line must be a HELP, a TYPE, a comment, blank, or a sample of a family declared by TYPE before it; names
 * and label names must be valid; label values must be correctly escaped; no series may appear twice. Any
 * violation fails with the line number, so a test that parses /metrics also checks the format.
 */
public final class PrometheusText {
    private static final Pattern NAME = Pattern.compile("[a-zA-Z_:][a-zA-Z0-9_:]*");
    private static final Pattern LABEL_NAME = Pattern.compile("[a-zA-Z_][a-zA-Z0-9_]*");
    private static final Set<String> TYPES = Set.of("counter", "gauge", "histogram", "summary", "untyped");
    private static final Map<String, List<String>> SUFFIXES = Map.of(
            "histogram", List.of("_bucket", "_sum", "_count", "_created"),
            "summary", List.of("_sum", "_count", "_created", ""),
            "counter", List.of("", "_total", "_created"),
            "gauge", List.of(""),
            "untyped", List.of(""));

    /** One sample line. */
    public record Sample(String name, Map<String, String> labels, double value) {
        public String label(String key) {
            return labels.get(key);
        }
    }

    private final Map<String, String> types;
    private final List<Sample> samples;

    private PrometheusText(Map<String, String> types, List<Sample> samples) {
        this.types = types;
        this.samples = samples;
    }

    /** Parses {@code text}; fails with an {@link AssertionError} naming the first bad line. */
    public static PrometheusText parse(String text) {
        Map<String, String> types = new LinkedHashMap<>();
        Map<String, String> helps = new HashMap<>();
        List<Sample> samples = new ArrayList<>();
        Set<String> seen = new java.util.HashSet<>();
        String[] lines = text.split("\n", -1);
        if (!text.isEmpty() && !text.endsWith("\n")) {
            throw new AssertionError("exposition does not end with a line feed");
        }
        for (int i = 0; i < lines.length; i++) {
            String line = lines[i];
            int n = i + 1;
            if (line.isEmpty()) {
                continue;
            }
            if (line.startsWith("#")) {
                String[] parts = line.split(" ", 4);
                if (parts.length >= 3 && parts[1].equals("TYPE")) {
                    if (parts.length != 4 || !NAME.matcher(parts[2]).matches() || !TYPES.contains(parts[3])) {
                        throw bad(n, line, "malformed TYPE");
                    }
                    if (types.put(parts[2], parts[3]) != null) {
                        throw bad(n, line, "second TYPE for " + parts[2]);
                    }
                } else if (parts.length >= 3 && parts[1].equals("HELP")) {
                    if (!NAME.matcher(parts[2]).matches() || helps.put(parts[2], parts.length == 4 ? parts[3] : "") != null) {
                        throw bad(n, line, "malformed or repeated HELP");
                    }
                }
                continue;
            }
            Sample s = sample(n, line);
            String family = family(s.name(), types);
            if (family == null) {
                throw bad(n, line, "sample of a metric without a preceding TYPE");
            }
            String series = s.name() + new TreeMap<>(s.labels());
            if (!seen.add(series)) {
                throw bad(n, line, "duplicate series");
            }
            samples.add(s);
        }
        return new PrometheusText(types, List.copyOf(samples));
    }

    private static String family(String sampleName, Map<String, String> types) {
        for (Map.Entry<String, String> e : types.entrySet()) {
            for (String suffix : SUFFIXES.get(e.getValue())) {
                if (sampleName.equals(e.getKey() + suffix)) {
                    return e.getKey();
                }
            }
        }
        return null;
    }

    private static Sample sample(int n, String line) {
        Matcher m = NAME.matcher(line);
        if (!m.lookingAt()) {
            throw bad(n, line, "no metric name");
        }
        String name = m.group();
        int pos = m.end();
        Map<String, String> labels = new LinkedHashMap<>();
        if (pos < line.length() && line.charAt(pos) == '{') {
            pos++;
            while (true) {
                if (pos < line.length() && line.charAt(pos) == '}') {
                    pos++;
                    break;
                }
                Matcher l = LABEL_NAME.matcher(line).region(pos, line.length());
                if (!l.lookingAt()) {
                    throw bad(n, line, "bad label name at column " + pos);
                }
                String key = l.group();
                pos = l.end();
                if (!line.startsWith("=\"", pos)) {
                    throw bad(n, line, "label " + key + " without =\"value\"");
                }
                pos += 2;
                StringBuilder value = new StringBuilder();
                while (true) {
                    if (pos >= line.length()) {
                        throw bad(n, line, "unterminated label value");
                    }
                    char c = line.charAt(pos++);
                    if (c == '"') {
                        break;
                    }
                    if (c == '\\') {
                        char e = pos < line.length() ? line.charAt(pos++) : 0;
                        switch (e) {
                            case '\\' -> value.append('\\');
                            case '"' -> value.append('"');
                            case 'n' -> value.append('\n');
                            default -> throw bad(n, line, "bad escape \\" + e);
                        }
                    } else {
                        value.append(c);
                    }
                }
                if (labels.put(key, value.toString()) != null) {
                    throw bad(n, line, "label " + key + " twice");
                }
                if (pos < line.length() && line.charAt(pos) == ',') {
                    pos++;
                } else if (pos >= line.length() || line.charAt(pos) != '}') {
                    throw bad(n, line, "expected ',' or '}' at column " + pos);
                }
            }
        }
        if (pos >= line.length() || line.charAt(pos) != ' ') {
            throw bad(n, line, "expected a space before the value");
        }
        String[] rest = line.substring(pos + 1).split(" ");
        if (rest.length < 1 || rest.length > 2) {
            throw bad(n, line, "expected a value and an optional timestamp");
        }
        double value;
        try {
            value = switch (rest[0]) {
                case "+Inf" -> Double.POSITIVE_INFINITY;
                case "-Inf" -> Double.NEGATIVE_INFINITY;
                case "NaN" -> Double.NaN;
                default -> Double.parseDouble(rest[0]);
            };
            if (rest.length == 2) {
                Long.parseLong(rest[1]);
            }
        } catch (NumberFormatException e) {
            throw bad(n, line, "bad number");
        }
        return new Sample(name, Map.copyOf(labels), value);
    }

    private static AssertionError bad(int n, String line, String why) {
        return new AssertionError("metrics line " + n + ": " + why + ": " + line);
    }

    /** TYPE of each metric family. */
    public Map<String, String> types() {
        return types;
    }

    public List<Sample> samples() {
        return samples;
    }

    /** Samples named {@code name} whose labels include all of {@code labels}. */
    public List<Sample> find(String name, Map<String, String> labels) {
        List<Sample> out = new ArrayList<>();
        for (Sample s : samples) {
            if (s.name().equals(name) && s.labels().entrySet().containsAll(labels.entrySet())) {
                out.add(s);
            }
        }
        return out;
    }

    /** The value of the one sample {@code name} with {@code labels} (key, value, ...), or fails. */
    public double value(String name, String... labels) {
        Map<String, String> wanted = new HashMap<>();
        for (int i = 0; i < labels.length; i += 2) {
            wanted.put(labels[i], labels[i + 1]);
        }
        List<Sample> found = find(name, wanted);
        if (found.size() != 1) {
            throw new AssertionError("expected one sample " + name + wanted + ", found " + found);
        }
        return found.get(0).value();
    }

    /** Like {@link #value} but 0 when there is no such sample (a counter not incremented yet). */
    public double valueOrZero(String name, String... labels) {
        Map<String, String> wanted = new HashMap<>();
        for (int i = 0; i < labels.length; i += 2) {
            wanted.put(labels[i], labels[i + 1]);
        }
        return find(name, wanted).stream().mapToDouble(Sample::value).sum();
    }
}
