package io.webrtcgateway.launcher;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserPrincipal;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The launcher's unpack directory (issue 13: a local user could pre-create it with jars of their own): a good
 * cache is reused, one that is not this user's private directory or whose content differs from the jar is
 * not, and instances starting together share one cache.
 */
class UnpackCacheTest {
    private static final Map<String, byte[]> CONTENT = new LinkedHashMap<>();

    static {
        CONTENT.put("lib/jetty-a.jar", "jetty a".getBytes(StandardCharsets.UTF_8));
        CONTENT.put("lib/jetty-b.jar", "jetty b".getBytes(StandardCharsets.UTF_8));
        CONTENT.put("webrtc-gateway.war", "the war".getBytes(StandardCharsets.UTF_8));
    }

    @TempDir
    Path temp;
    private Path jar;
    private Path tmp;
    private final List<String> warnings = new ArrayList<>();

    @BeforeEach
    void standaloneJar() throws IOException {
        jar = temp.resolve("webrtc-gateway-standalone.jar");
        try (JarOutputStream out = new JarOutputStream(Files.newOutputStream(jar))) {
            out.putNextEntry(new JarEntry("io/webrtcgateway/launcher/Bootstrap.class"));
            out.write(new byte[] {1, 2, 3});
            for (Map.Entry<String, byte[]> e : CONTENT.entrySet()) {
                out.putNextEntry(new JarEntry(e.getKey()));
                out.write(e.getValue());
            }
            out.putNextEntry(new JarEntry("lib/nested/ignored.jar"));
            out.write(new byte[] {4});
        }
        tmp = Files.createDirectory(temp.resolve("tmp"));
    }

    private UnpackCache.Unpacked prepare() throws IOException {
        return UnpackCache.prepare(jar, tmp, warnings::add);
    }

    private static void assertHoldsTheJar(Path dir) throws IOException {
        for (Map.Entry<String, byte[]> e : CONTENT.entrySet()) {
            assertArrayEquals(e.getValue(), Files.readAllBytes(dir.resolve(e.getKey())), e.getKey());
        }
        assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(dir)));
    }

    @Test
    void aGoodCacheIsReused() throws IOException {
        UnpackCache.Unpacked first = prepare();
        assertFalse(first.reused());
        assertEquals(UnpackCache.cachePath(jar, tmp), first.dir());
        assertEquals(List.of("lib/jetty-a.jar", "lib/jetty-b.jar", "webrtc-gateway.war"), first.entries());
        assertHoldsTheJar(first.dir());

        UnpackCache.Unpacked second = prepare();
        assertTrue(second.reused());
        assertEquals(first.dir(), second.dir());
        assertEquals(List.of(), warnings);
        try (Stream<Path> left = Files.list(tmp)) {
            assertEquals(List.of(first.dir()), left.toList(), "no staging directory or probe left behind");
        }
    }

    @Test
    void aCacheOthersMayWriteIsNotUsed() throws IOException {
        Path planted = UnpackCache.cachePath(jar, tmp);
        Files.createDirectories(planted.resolve("lib"));
        for (Map.Entry<String, byte[]> e : CONTENT.entrySet()) {
            Files.write(planted.resolve(e.getKey()), e.getValue()); // even the right content
        }
        Files.setPosixFilePermissions(planted, PosixFilePermissions.fromString("rwxrwxrwx"));

        UnpackCache.Unpacked used = prepare();
        assertNotEquals(planted, used.dir());
        assertFalse(used.reused());
        assertHoldsTheJar(used.dir());
        assertEquals(1, warnings.size());
        assertTrue(warnings.get(0).contains("mode 0777, not 0700"), warnings.get(0));
        assertEquals("rwxrwxrwx", PosixFilePermissions.toString(Files.getPosixFilePermissions(planted)),
                "what was in the way is left as it was");
    }

    @Test
    void aTamperedJarInsideIsDetected() throws IOException {
        Path cache = prepare().dir();
        Files.write(cache.resolve("lib/jetty-b.jar"), "jetty b, with a surprise".getBytes(StandardCharsets.UTF_8));
        UnpackCache.Unpacked used = prepare();
        assertNotEquals(cache, used.dir());
        assertHoldsTheJar(used.dir());
        assertTrue(warnings.get(0).contains("lib/jetty-b.jar differs from the jar's (size or CRC-32)"), warnings.get(0));
    }

    @Test
    void oneChangedByteOfTheSameSizeIsDetected() throws IOException {
        Path cache = prepare().dir();
        Path jar = cache.resolve("lib/jetty-b.jar");
        byte[] bytes = Files.readAllBytes(jar);
        bytes[bytes.length / 2] ^= 0x01;
        Files.write(jar, bytes);
        UnpackCache.Unpacked used = prepare();
        assertNotEquals(cache, used.dir());
        assertHoldsTheJar(used.dir());
        assertTrue(warnings.get(0).contains("lib/jetty-b.jar differs from the jar's (size or CRC-32)"), warnings.get(0));
    }

    @Test
    void anExtraJarIsDetected() throws IOException {
        Path cache = prepare().dir();
        Files.write(cache.resolve("lib/aaa-first-on-the-class-path.jar"), new byte[] {1});
        assertNotEquals(cache, prepare().dir());
        assertTrue(warnings.get(0).contains("unexpected [lib/aaa-first-on-the-class-path.jar]"), warnings.get(0));
    }

    @Test
    void aLinkIsNotFollowed() throws IOException {
        Path elsewhere = Files.createDirectory(temp.resolve("elsewhere"));
        Files.setPosixFilePermissions(elsewhere, PosixFilePermissions.fromString("rwx------"));
        Files.createSymbolicLink(UnpackCache.cachePath(jar, tmp), elsewhere);
        UnpackCache.Unpacked used = prepare();
        assertFalse(Files.isSymbolicLink(used.dir()));
        assertHoldsTheJar(used.dir());
        assertTrue(warnings.get(0).contains("not a directory"), warnings.get(0));
    }

    @Test
    void aCacheOfAnotherUserIsNotUsed() throws IOException {
        assumeTrue("root".equals(System.getProperty("user.name")), "needs root to give a directory away");
        Path cache = prepare().dir();
        UserPrincipal nobody = tmp.getFileSystem().getUserPrincipalLookupService().lookupPrincipalByName("nobody");
        Files.setOwner(cache, nobody);
        UnpackCache.Unpacked used = prepare();
        assertNotEquals(cache, used.dir());
        assertTrue(warnings.get(0).contains("owned by nobody"), warnings.get(0));
    }

    @Test
    void instancesStartingTogetherShareOneCache() throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(6);
        try {
            List<Future<UnpackCache.Unpacked>> starts = new ArrayList<>();
            for (int i = 0; i < 6; i++) {
                starts.add(pool.submit(() -> UnpackCache.prepare(jar, tmp, message -> {
                    throw new AssertionError("no warning expected: " + message);
                })));
            }
            for (Future<UnpackCache.Unpacked> f : starts) {
                UnpackCache.Unpacked u = f.get();
                assertEquals(UnpackCache.cachePath(jar, tmp), u.dir());
                assertHoldsTheJar(u.dir());
            }
        } finally {
            pool.shutdownNow();
        }
        try (Stream<Path> left = Files.list(tmp)) {
            assertEquals(List.of(UnpackCache.cachePath(jar, tmp)), left.toList(), "the losers' staging copies are gone");
        }
        assertTrue(Files.isDirectory(UnpackCache.cachePath(jar, tmp), LinkOption.NOFOLLOW_LINKS));
    }
}
