package io.webrtcgateway.testsupport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** PeerProcess with plain shell processes standing in for the peers. */
class PeerProcessIT {

    private static final Duration WAIT = Duration.ofSeconds(10);

    @Test
    void missingBinaryFailsWithTheInstallHint() {
        AssertionError e = assertThrows(AssertionError.class,
                () -> PeerProcess.executable("no-such-peer-binary", "no-such-package"));

        assertEquals("no-such-peer-binary not installed (Debian package no-such-package): "
                + "run scripts/install-test-peers.sh", e.getMessage());
        assertEquals("no-such-peer not installed: run scripts/install-test-peers.sh",
                assertThrows(AssertionError.class, () -> PeerProcess.executable("no-such-peer", "no-such-peer"))
                        .getMessage());
        assertTrue(PeerProcess.executable("sleep", "coreutils").isAbsolute());
    }

    @Test
    void logsTheCommandAndTheOutputAndStopsWithSigterm() throws IOException {
        PeerProcess peer = PeerProcess.start("echo", List.of("sh", "-c", "echo hello from the peer; exec sleep 300"));
        try {
            Poll.until(WAIT, "output in the log", () -> peer.logTail(5).contains("hello from the peer"));
            assertTrue(peer.isAlive());
            assertTrue(peer.logFile().getFileName().toString()
                    .startsWith("PeerProcessIT.logsTheCommandAndTheOutputAndStopsWithSigterm-echo"));
        } finally {
            assertEquals(143, peer.stop(), "128 + SIGTERM");
        }
        assertFalse(peer.isAlive());
        String log = Files.readString(peer.logFile(), StandardCharsets.UTF_8);
        assertTrue(log.startsWith("=== ") && log.contains(" start: /"), log);
        assertTrue(log.contains("exit code 143"), log);
        assertEquals(143, peer.stop(), "stop is idempotent");
    }

    @Test
    void stopKillsChildrenLeftBehindAndKillsWhatIgnoresSigterm() {
        // the shell ignores SIGTERM, its children would outlive it
        PeerProcess peer = new PeerProcess("stubborn",
                List.of("/bin/sh", "-c", "trap '' TERM; sleep 300 & sleep 300 & wait"), java.util.Map.of(), null,
                ItLogs.file("stubborn", "log")) {
            @Override
            protected Duration stopTimeout() {
                return Duration.ofMillis(300);
            }
        };
        peer.launch();
        List<ProcessHandle> children = Poll.until(WAIT, "two children",
                () -> ProcessHandle.of(peer.pid()).orElseThrow().descendants().toList(), c -> c.size() == 2);

        peer.stop();

        assertFalse(peer.isAlive());
        Poll.until(WAIT, "children gone", () -> children.stream().noneMatch(ProcessHandle::isAlive));
    }

    @Test
    void kill9AndRequireAliveReportTheDeath() {
        PeerProcess peer = PeerProcess.start("victim", List.of("sleep", "300"));

        assertEquals(137, peer.kill9(), "128 + SIGKILL");

        AssertionError e = assertThrows(AssertionError.class, () -> peer.requireAlive("testing"));
        assertTrue(e.getMessage().startsWith("victim exited with code 137 while testing"), e.getMessage());
    }

    @Test
    void nothingSurvivesTheTestJvm() throws Exception {
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        Process child = new ProcessBuilder(java.toString(), "-cp", System.getProperty("java.class.path"),
                Orphaner.class.getName()).redirectErrorStream(true).start();
        String output = new String(child.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        assertEquals(0, child.waitFor(), output);
        long sleeperPid = Long.parseLong(output.lines().reduce((a, b) -> b).orElseThrow());

        Poll.until(WAIT, "the peer of the exited JVM gone",
                () -> ProcessHandle.of(sleeperPid).map(p -> !p.isAlive()).orElse(true));
    }

    /** A JVM that starts a peer, prints its pid and exits without stopping it. */
    static final class Orphaner {
        public static void main(String[] args) {
            PeerProcess peer = PeerProcess.start("orphan", List.of("sleep", "300"));
            System.out.println(peer.pid());
        }
    }
}
