package io.webrtcgateway.testsupport;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The Java threads of a process as {@code jcmd <pid> Thread.print} shows them, for assertions about what
 * its threads are doing (e.g. "no shared gateway thread waits in a write to a client").
 */
public final class ThreadDump {
    /** Frames that mean a thread waits for a client to take what it writes (Jetty 12, Jakarta WebSocket). */
    private static final List<String> BLOCKING_WRITE = List.of("HttpOutput.write", "HttpOutput.flush",
            "BasicRemote.sendText", "Blocker$Shared", "FutureCallback.block", "SharedBlockingCallback");

    public record JavaThread(String name, String stack) {}

    private ThreadDump() {}

    public static List<JavaThread> of(long pid) {
        Path jcmd = Path.of(System.getProperty("java.home"), "bin", "jcmd");
        try {
            Process p = new ProcessBuilder(jcmd.toString(), String.valueOf(pid), "Thread.print").redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(30, TimeUnit.SECONDS) || p.exitValue() != 0) {
                throw new IllegalStateException("jcmd " + pid + " Thread.print failed: " + out);
            }
            List<JavaThread> threads = new ArrayList<>();
            for (String block : out.split("\n\\s*\n")) {
                String b = block.strip();
                if (b.startsWith("\"")) {
                    threads.add(new JavaThread(b.substring(1, b.indexOf('"', 1)), b));
                }
            }
            return threads;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** The threads named {@code prefix}... whose stack shows them waiting to write to a client. */
    public static List<JavaThread> inABlockingWrite(long pid, String... prefixes) {
        List<JavaThread> found = new ArrayList<>();
        for (JavaThread t : of(pid)) {
            for (String prefix : prefixes) {
                if (t.name().startsWith(prefix) && BLOCKING_WRITE.stream().anyMatch(t.stack()::contains)) {
                    found.add(t);
                }
            }
        }
        return found;
    }
}
