package io.webrtcgateway.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * The Linux threads of this JVM whose name starts with a prefix (found in {@code /proc/self/task/<tid>/comm},
 * which holds the first 15 bytes of a Java thread's name), to set what Java cannot: a single thread's
 * scheduling priority and the CPUs it may run on.
 */
final class BenchThreads {
    private final List<Path> tasks;

    private BenchThreads(List<Path> tasks) {
        this.tasks = tasks;
    }

    /** The threads alive now whose name starts with {@code prefix} (at most 15 characters are compared). */
    static BenchThreads named(String prefix) {
        String p = prefix.length() > 15 ? prefix.substring(0, 15) : prefix;
        try (Stream<Path> dirs = Files.list(Path.of("/proc/self/task"))) {
            List<Path> found = new ArrayList<>();
            for (Path dir : dirs.toList()) {
                try {
                    if (Files.readString(dir.resolve("comm")).strip().startsWith(p)) {
                        found.add(dir);
                    }
                } catch (IOException e) {
                    // the thread ended meanwhile
                }
            }
            if (found.isEmpty()) {
                throw new IllegalStateException("no thread named " + prefix + "* in /proc/self/task");
            }
            return new BenchThreads(List.copyOf(found));
        } catch (IOException e) {
            throw new IllegalStateException("cannot list /proc/self/task", e);
        }
    }

    /**
     * Lowers these threads' priority (nice 0..19; Linux applies setpriority to a single thread id). The load
     * generator stands for peers on other machines: niced, it takes the CPU the relay leaves instead of
     * delaying the relay's loop threads when both are runnable.
     */
    void renice(int nice) throws IOException, InterruptedException {
        forEach("renice", "-n", String.valueOf(nice), "-p");
    }

    /** Restricts these threads to {@code cpus} (taskset's list syntax, e.g. "0" or "0,1"). */
    void pin(String cpus) throws IOException, InterruptedException {
        forEach("taskset", "-p", "-c", cpus);
    }

    private void forEach(String... commandBeforeTid) throws IOException, InterruptedException {
        for (Path task : tasks) {
            List<String> command = new ArrayList<>(List.of(commandBeforeTid));
            command.add(task.getFileName().toString());
            Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes());
            if (p.waitFor() != 0) {
                throw new IOException(String.join(" ", command) + " failed: " + out);
            }
        }
    }
}
