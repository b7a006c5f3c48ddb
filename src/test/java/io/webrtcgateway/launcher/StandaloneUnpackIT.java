package io.webrtcgateway.launcher;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.webrtcgateway.testsupport.GatewayProcess;
import io.webrtcgateway.testsupport.Poll;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The real standalone jar and its unpack directory (issue 13: a local user could pre-create
 * {@code /tmp/webrtc-gateway-standalone-...} with jars of their own). A directory planted where the cache goes,
 * writable by everyone and holding the right file names with other content, is not used: the gateway starts
 * from a private directory of its own (and says why), never opens a file of the planted one, and removes its
 * own when it stops. Without a planted directory the first start creates the cache (mode 0700) and the next
 * one reuses it.
 */
class StandaloneUnpackIT {
    private static final Duration T = Duration.ofSeconds(30);

    @TempDir
    Path tmp;

    private static Path jar() {
        return Path.of(System.getProperty(GatewayProcess.JAR_PROPERTY, "target/webrtc-gateway-standalone.jar"));
    }

    private GatewayProcess.Builder gateway(String name) {
        return GatewayProcess.builder().name(name).jvmArgs("-Djava.io.tmpdir=" + tmp);
    }

    @Test
    void aPlantedDirectoryIsNotUsed() throws IOException {
        Path planted = UnpackCache.cachePath(jar(), tmp);
        List<String> entries = UnpackCache.entries(jar());
        Files.createDirectories(planted.resolve("lib"));
        byte[] foreign = "not what the jar holds".getBytes(StandardCharsets.UTF_8);
        for (String entry : entries) {
            Files.write(planted.resolve(entry), foreign);
        }
        Files.setPosixFilePermissions(planted, PosixFilePermissions.fromString("rwxrwxrwx"));

        Path runDir;
        try (GatewayProcess gw = gateway("planted").start()) {
            assertEquals(200, gw.httpStatus("/health/live"), "the gateway runs (from its own copy)");
            assertTrue(gw.logTail(200).contains("not using " + planted + ": mode 0777, not 0700"), gw.logTail(40));
            List<String> open = openFiles(gw.pid());
            assertTrue(open.stream().noneMatch(f -> f.startsWith(planted.toString())), "opened from the planted dir: " + open);
            runDir = open.stream().filter(f -> f.contains("/webrtc-gateway-run-") && f.endsWith(".jar"))
                    .map(f -> Path.of(f).getParent().getParent()).findFirst()
                    .orElseThrow(() -> new AssertionError("no jar of a private run directory open: " + open));
            assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(runDir)));
        }
        assertFalse(Files.exists(runDir), "the private directory is removed when the gateway stops");
        assertEquals("rwxrwxrwx", PosixFilePermissions.toString(Files.getPosixFilePermissions(planted)));
        for (String entry : entries) {
            assertArrayEquals(foreign, Files.readAllBytes(planted.resolve(entry)), "left as it was: " + entry);
        }
    }

    @Test
    void theFirstStartCreatesAPrivateCacheTheNextReusesIt() throws IOException {
        Path cache = UnpackCache.cachePath(jar(), tmp);
        try (GatewayProcess gw = gateway("first").start()) {
            assertEquals(200, gw.httpStatus("/health/live"));
            assertTrue(openFiles(gw.pid()).stream().anyMatch(f -> f.startsWith(cache + "/lib/")));
        }
        assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(cache)));
        try (GatewayProcess gw = gateway("second").start()) {
            assertEquals(200, gw.httpStatus("/health/live"));
            assertTrue(openFiles(gw.pid()).stream().anyMatch(f -> f.startsWith(cache + "/lib/")));
            assertFalse(gw.logTail(200).contains("not using"), gw.logTail(40));
        }
        try (Stream<Path> left = Files.list(tmp)) {
            List<String> names = left.map(p -> p.getFileName().toString()).toList();
            assertEquals(List.of(cache.getFileName().toString()), names.stream()
                    .filter(n -> n.startsWith("webrtc-gateway-")).toList(), "one cache, no private copies: " + names);
        }
    }

    /** The files the process has open (its fd links), waiting until Jetty has the WAR and its jars open. */
    private static List<String> openFiles(long pid) {
        return Poll.until(T, "the process has its jars open", () -> {
            try (Stream<Path> fds = Files.list(Path.of("/proc", String.valueOf(pid), "fd"))) {
                return fds.map(fd -> {
                    try {
                        return Files.readSymbolicLink(fd).toString();
                    } catch (NoSuchFileException closed) {
                        return "";
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                }).toList();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }, files -> files.stream().anyMatch(f -> f.endsWith(".jar") && f.contains("/lib/")));
    }
}
