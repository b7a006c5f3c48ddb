package io.webrtcgateway.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * The Linux threads of this JVM whose name starts with a prefix (found in {@code /proc/self/task/<tid>/comm},
 * which holds the first 15 bytes of a Java thread's name): their user and system CPU time separately, which
 * {@code ThreadMXBean} does not give, and their scheduling priority.
 */
final class TaskTimes {
    /** USER_HZ: the unit of utime/stime in /proc (100 on every Linux architecture Java runs on). */
    private static final long TICK_NANOS = TimeUnit.SECONDS.toNanos(1) / 100;

    private final List<Path> tasks;

    private TaskTimes(List<Path> tasks) {
        this.tasks = tasks;
    }

    /** The threads alive now whose name starts with {@code prefix} (at most 15 characters are compared). */
    static TaskTimes named(String prefix) {
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
            return new TaskTimes(List.copyOf(found));
        } catch (IOException e) {
            throw new IllegalStateException("cannot list /proc/self/task", e);
        }
    }

    int count() {
        return tasks.size();
    }

    /** {user, system} CPU nanoseconds of these threads so far (10 ms resolution). */
    long[] userAndSystemNanos() {
        long user = 0;
        long system = 0;
        for (Path task : tasks) {
            try {
                String stat = Files.readString(task.resolve("stat"));
                // after "pid (comm) ": state is field 3; utime and stime are fields 14 and 15 (proc(5))
                String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
                user += Long.parseLong(f[11]);
                system += Long.parseLong(f[12]);
            } catch (IOException e) {
                // ended: its time is lost, which the caller sees as a drop
            }
        }
        return new long[] {user * TICK_NANOS, system * TICK_NANOS};
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
