package io.webrtcgateway.testsupport;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

/**
 * An external process a test talks to (sipp, kamailio, the gateway jar...).
 *
 * <p>Its stdout and stderr go to {@code target/it-logs/<test>-<name>.log}, preceded by the command line.
 * Every started process is also known to a JVM shutdown hook that kills whatever is still running when
 * the test JVM exits, so a failed or interrupted test leaves nothing behind. Child processes (kamailio
 * forks its workers) are stopped with their parent.
 *
 * <p>A missing binary fails the test with an install hint; it never skips it.
 */
public class PeerProcess implements AutoCloseable {

    public static final String INSTALL_HINT = "run scripts/install-test-peers.sh";

    private static final Set<PeerProcess> running = ConcurrentHashMap.newKeySet();

    static {
        Runtime.getRuntime().addShutdownHook(new Thread(PeerProcess::killLeftovers, "peer-process-reaper"));
    }

    private final String name;
    private final List<String> command;
    private final Map<String, String> environment;
    private final Path workDir;
    private final Path logFile;

    /** Written under this; volatile for the shutdown hook, which must not wait for a lock. Null before launch. */
    private volatile Process process;
    /** Guarded by this: the exit of the current launch is already in the log. */
    private boolean exitLogged;

    /**
     * @param name        short name for logs ("sipp", "kamailio", "gw1")
     * @param command     the command; its first element must be an absolute path (see {@link #executable})
     * @param environment added to this JVM's environment
     * @param workDir     working directory, or null for the test's
     */
    protected PeerProcess(String name, List<String> command, Map<String, String> environment, Path workDir,
            Path logFile) {
        this.name = name;
        this.command = List.copyOf(command);
        this.environment = Map.copyOf(environment);
        this.workDir = workDir;
        this.logFile = logFile;
    }

    /** Starts {@code command} (its first element a binary on the PATH) with output to the test's log. */
    public static PeerProcess start(String name, List<String> command) {
        List<String> resolved = new ArrayList<>(command);
        resolved.set(0, executable(command.get(0), command.get(0)).toString());
        PeerProcess peer = new PeerProcess(name, resolved, Map.of(), null, ItLogs.file(name, "log"));
        peer.launch();
        return peer;
    }

    /**
     * The absolute path of {@code binary} from the PATH (plus /usr/sbin and /sbin, where kamailio lives
     * but a non-root PATH may not look); fails with "&lt;binary&gt; not installed (Debian package
     * &lt;debianPackage&gt;): run scripts/install-test-peers.sh".
     */
    public static Path executable(String binary, String debianPackage) {
        if (binary.contains("/")) {
            Path path = Path.of(binary);
            if (Files.isExecutable(path)) {
                return path;
            }
            throw new AssertionError(binary + " not installed: " + INSTALL_HINT);
        }
        List<String> dirs = new ArrayList<>();
        String pathEnv = System.getenv("PATH");
        if (pathEnv != null) {
            dirs.addAll(List.of(pathEnv.split(File.pathSeparator)));
        }
        dirs.addAll(List.of("/usr/local/sbin", "/usr/sbin", "/sbin", "/usr/local/bin", "/usr/bin", "/bin"));
        for (String dir : dirs) {
            if (dir.isEmpty()) {
                continue;
            }
            Path candidate = Path.of(dir, binary);
            if (Files.isRegularFile(candidate) && Files.isExecutable(candidate)) {
                return candidate;
            }
        }
        String pkg = debianPackage.equals(binary) ? "" : " (Debian package " + debianPackage + ")";
        throw new AssertionError(binary + " not installed" + pkg + ": " + INSTALL_HINT);
    }

    /** Starts (or starts again, after {@link #stop()}) the command; output is appended to the log. */
    protected final synchronized void launch() {
        if (process != null && process.isAlive()) {
            throw new IllegalStateException(name + " is already running (pid " + process.pid() + ")");
        }
        appendToLog("=== " + Instant.now() + " start: " + String.join(" ", command)
                + (environment.isEmpty() ? "" : "\n=== environment: " + environment));
        ProcessBuilder builder = new ProcessBuilder(command);
        if (talksOverStdio()) {
            builder.redirectError(ProcessBuilder.Redirect.appendTo(logFile.toFile()));
        } else {
            builder.redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(logFile.toFile()))
                    .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
        }
        if (workDir != null) {
            builder.directory(workDir.toFile());
        }
        builder.environment().putAll(environment);
        try {
            process = builder.start();
            exitLogged = false;
        } catch (IOException e) {
            throw new AssertionError("cannot start " + name + " (" + command.get(0) + "): " + e.getMessage(), e);
        }
        running.add(this);
        launched(process);
    }

    /**
     * True for a peer driven over its stdin and stdout (ChromiumPeer): both stay pipes for
     * {@link #launched(Process)} to use, and only stderr goes to the log. Otherwise stdin is /dev/null
     * and stdout and stderr go to the log.
     */
    protected boolean talksOverStdio() {
        return false;
    }

    /** Called right after each launch, under this object's lock. */
    protected void launched(Process process) {}

    public String name() {
        return name;
    }

    public List<String> command() {
        return command;
    }

    public Path logFile() {
        return logFile;
    }

    public synchronized boolean isAlive() {
        return process != null && process.isAlive();
    }

    public synchronized long pid() {
        requireLaunched();
        return process.pid();
    }

    /** How long {@link #stop()} waits after SIGTERM before it kills. */
    protected Duration stopTimeout() {
        return Duration.ofSeconds(10);
    }

    /**
     * SIGTERM, then waits up to {@link #stopTimeout()} for the exit, then SIGKILL; children left behind
     * are killed too. Returns the exit code (or -1 if it was not running). Idempotent.
     */
    public synchronized int stop() {
        if (process == null) {
            return -1;
        }
        List<ProcessHandle> children = process.descendants().collect(Collectors.toList());
        if (process.isAlive()) {
            process.destroy();
            if (!waitFor(stopTimeout())) {
                appendToLog("=== " + Instant.now() + " did not exit within " + stopTimeout() + " of SIGTERM: SIGKILL");
                process.descendants().forEach(ProcessHandle::destroyForcibly);
                process.destroyForcibly();
                waitFor(Duration.ofSeconds(10));
            }
        }
        children.stream().filter(ProcessHandle::isAlive).forEach(ProcessHandle::destroyForcibly);
        return exited();
    }

    /** SIGKILL to the process and its children, as a crash would; waits until it is gone. */
    public synchronized int kill9() {
        if (process == null) {
            return -1;
        }
        List<ProcessHandle> children = process.descendants().collect(Collectors.toList());
        process.destroyForcibly();
        children.forEach(ProcessHandle::destroyForcibly);
        waitFor(Duration.ofSeconds(10));
        appendToLog("=== " + Instant.now() + " killed (SIGKILL)");
        return exited();
    }

    /** Waits for the process to end by itself; returns its exit code, or fails at the deadline. */
    public int waitForExit(Duration timeout) {
        Process p;
        synchronized (this) {
            requireLaunched();
            p = process;
        }
        try {
            if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                throw new AssertionError(name + " still running after " + timeout + "; log tail:\n" + logTail(30));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted waiting for " + name + " to exit", e);
        }
        synchronized (this) {
            return exited();
        }
    }

    /**
     * Fails with the log tail if the process is no longer running: call it inside {@link Poll} checks
     * so a peer that died at start is reported at once, not at the deadline. It throws an
     * {@link AssertionError}, which Poll does not swallow.
     */
    public synchronized void requireAlive(String whileWhat) {
        requireLaunched();
        if (!process.isAlive()) {
            throw new AssertionError(name + " exited with code " + process.exitValue() + " while " + whileWhat
                    + "; log " + logFile + " ends with:\n" + logTail(40));
        }
    }

    /** The last {@code lines} lines of the log. */
    public String logTail(int lines) {
        try {
            List<String> all = Files.readAllLines(logFile, StandardCharsets.ISO_8859_1);
            return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
        } catch (IOException e) {
            return "(cannot read " + logFile + ": " + e + ")";
        }
    }

    /** Same as {@link #stop()}. */
    @Override
    public void close() {
        stop();
    }

    @Override
    public String toString() {
        Process p;
        synchronized (this) {
            p = process;
        }
        return name + (p == null ? " (not started)" : " (pid " + p.pid() + (p.isAlive() ? ")" : ", exited)"));
    }

    /** Adds a line to the log, between the peer's own output (the file is opened in append mode). */
    protected final void appendToLog(String line) {
        try {
            Files.writeString(logFile, line + "\n", StandardCharsets.UTF_8,
                    StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + logFile, e);
        }
    }

    private void requireLaunched() {
        if (process == null) {
            throw new IllegalStateException(name + " was never started");
        }
    }

    private boolean waitFor(Duration timeout) {
        try {
            return process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return !process.isAlive();
        }
    }

    private int exited() {
        running.remove(this);
        if (process.isAlive()) {
            return -1;
        }
        int code = process.exitValue();
        if (!exitLogged) {
            exitLogged = true;
            appendToLog("=== " + Instant.now() + " exit code " + code);
        }
        return code;
    }

    private static void killLeftovers() {
        for (PeerProcess peer : running) {
            Process p = peer.process;
            if (p != null && p.isAlive()) {
                p.descendants().forEach(ProcessHandle::destroyForcibly);
                p.destroyForcibly();
            }
        }
    }
}
