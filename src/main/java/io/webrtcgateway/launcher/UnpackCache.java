package io.webrtcgateway.launcher;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.FileSystemException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.UserPrincipal;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumSet;
import java.util.Enumeration;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Consumer;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.stream.Stream;
import java.util.zip.CRC32;

/**
 * Where {@link Bootstrap} unpacks the standalone jar's nested jars and WAR: a cache directory in the temp
 * directory, named after the user and the jar's size and date, reused by later starts only if it is this
 * user's own and holds exactly what the jar holds. Otherwise the code in it could be anyone's: a local user
 * who creates {@code /tmp/webrtc-gateway-standalone-...} first, with jars of their own, would run them in the
 * gateway's process.
 *
 * <p>A cache is reused when:
 * <ul>
 * <li>it is a directory, not a link, owned by the user running this (the owner of a file this process
 *     creates), with mode 0700: nobody else can have put anything in it or change it now;</li>
 * <li>it holds exactly {@code lib/} with the jar's {@code lib/*.jar} and {@code webrtc-gateway.war}, each a
 *     regular file owned by this user, writable by nobody else;</li>
 * <li>each file's size and CRC-32 are those the jar's directory gives for the entry (a cache left
 *     half-written, damaged, edited, or from another jar of the same size and date is not reused).</li>
 * </ul>
 * The content check is against accidents, not against people: the rules above already keep everyone but
 * this user out, and whoever acts as this user could as well change the jar itself. So CRC-32, read from the
 * jar's directory without inflating the entries: about 0.1 s a start where SHA-256 of both sides took 1.1 s
 * (C1 only, as the tests run it) or 0.4 s (C2).
 * When it is not, this run unpacks into a fresh private directory ({@link Files#createTempDirectory}: mode
 * 0700) deleted when the JVM exits, and says why on stderr; the directory in the way is left as it is for
 * whoever looks into it. A new cache is unpacked into a private staging directory and renamed into place
 * (atomically), so several instances starting at once never see each other's half-written files: the first
 * rename wins, the others check that cache like any other and use it, or their own copy.
 */
final class UnpackCache {
    static final String WAR = "webrtc-gateway.war";
    private static final Set<PosixFilePermission> OWNER_ONLY = EnumSet.of(PosixFilePermission.OWNER_READ,
            PosixFilePermission.OWNER_WRITE, PosixFilePermission.OWNER_EXECUTE);
    private static final Set<PosixFilePermission> WRITABLE_BY_OTHERS = EnumSet.of(PosixFilePermission.GROUP_WRITE,
            PosixFilePermission.OTHERS_WRITE);

    /**
     * @param dir     the directory holding {@code entries}
     * @param reused  whether it is a cache an earlier start unpacked
     * @param entries {@code lib/*.jar} (sorted) and {@value #WAR}, as named in the jar
     */
    record Unpacked(Path dir, boolean reused, List<String> entries) {}

    private UnpackCache() {}

    /** The cache directory this user's starts of {@code jar} share, under {@code tmp}. */
    static Path cachePath(Path jar, Path tmp) throws IOException {
        String user = System.getProperty("user.name", "").replaceAll("[^A-Za-z0-9._-]", "_");
        String key = Long.toHexString(Files.size(jar)) + "-" + Long.toHexString(Files.getLastModifiedTime(jar).toMillis());
        return tmp.resolve("webrtc-gateway-standalone-" + (user.isEmpty() ? "user" : user) + "-" + key);
    }

    /** The unpacked content of {@code jar}: the shared cache under {@code tmp} if it can be trusted, else a private copy. */
    static Unpacked prepare(Path jar, Path tmp, Consumer<String> warn) throws IOException {
        List<String> entries = entries(jar);
        Path cache = cachePath(jar, tmp);
        if (!FileSystems.getDefault().supportedFileAttributeViews().contains("posix")) {
            return new Unpacked(privateCopy(jar, tmp, entries), false, entries); // no owner or mode to check
        }
        if (Files.exists(cache, LinkOption.NOFOLLOW_LINKS)) {
            String problem = problem(cache, jar, entries, currentUser(tmp));
            if (problem == null) {
                return new Unpacked(cache, true, entries);
            }
            warn.accept("not using " + cache + ": " + problem + "; unpacking into a private directory for this run");
            return new Unpacked(privateCopy(jar, tmp, entries), false, entries);
        }
        Path staging = Files.createTempDirectory(tmp, "webrtc-gateway-unpack-");
        unpack(jar, entries, staging);
        try {
            Files.move(staging, cache, StandardCopyOption.ATOMIC_MOVE);
            return new Unpacked(cache, false, entries);
        } catch (FileSystemException e) {
            // Another start unpacked the same jar first (rename(2) fails with ENOTEMPTY, which Java reports
            // as a plain FileSystemException), or something else is in the way: use it only if it passes.
            String problem = problem(cache, jar, entries, Files.getOwner(staging));
            if (problem == null) {
                deleteTree(staging);
                return new Unpacked(cache, true, entries);
            }
            warn.accept("not using " + cache + ": " + problem + "; using a private directory for this run");
            deleteOnExit(staging);
            return new Unpacked(staging, false, entries);
        }
    }

    /** lib/*.jar (direct children of lib/, sorted) and the WAR, as the jar names them. */
    static List<String> entries(Path jar) throws IOException {
        TreeSet<String> libs = new TreeSet<>();
        boolean war = false;
        try (JarFile jf = new JarFile(jar.toFile())) {
            for (Enumeration<JarEntry> e = jf.entries(); e.hasMoreElements(); ) {
                String name = e.nextElement().getName();
                if (name.startsWith("lib/") && name.endsWith(".jar") && name.indexOf('/', 4) < 0 && name.length() > 8) {
                    libs.add(name);
                } else if (name.equals(WAR)) {
                    war = true;
                }
            }
        }
        if (!war) {
            throw new IOException(jar + " holds no " + WAR + ": not webrtc-gateway-standalone.jar");
        }
        List<String> all = new ArrayList<>(libs);
        all.add(WAR);
        return List.copyOf(all);
    }

    /** Why {@code dir} must not be used, or null if it is this user's and holds exactly the jar's entries. */
    static String problem(Path dir, Path jar, List<String> entries, UserPrincipal me) throws IOException {
        PosixFileAttributes top = posix(dir);
        if (top == null || !top.isDirectory()) {
            return "not a directory (a link or a file)";
        }
        if (!top.owner().equals(me)) {
            return "owned by " + top.owner().getName() + ", not " + me.getName();
        }
        if (!top.permissions().equals(OWNER_ONLY)) {
            return "mode " + mode(top.permissions()) + ", not 0700";
        }
        Set<String> expected = new TreeSet<>(entries);
        expected.add("lib");
        Set<String> found = new TreeSet<>();
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path p : (Iterable<Path>) walk::iterator) {
                if (!p.equals(dir)) {
                    found.add(dir.relativize(p).toString().replace('\\', '/'));
                }
            }
        }
        if (!found.equals(expected)) {
            Set<String> extra = new TreeSet<>(found);
            extra.removeAll(expected);
            Set<String> missing = new TreeSet<>(expected);
            missing.removeAll(found);
            return "holds " + (extra.isEmpty() ? "" : "unexpected " + extra + " ") + (missing.isEmpty() ? "" : "lacks " + missing);
        }
        for (String name : expected) {
            PosixFileAttributes a = posix(dir.resolve(name));
            boolean shape = name.equals("lib") ? a != null && a.isDirectory() : a != null && a.isRegularFile();
            if (!shape || !a.owner().equals(me) || a.permissions().stream().anyMatch(WRITABLE_BY_OTHERS::contains)) {
                return name + " is not a " + (name.equals("lib") ? "directory" : "file") + " of " + me.getName()
                        + " that only its owner may write";
            }
        }
        try (JarFile jf = new JarFile(jar.toFile())) {
            for (String name : entries) {
                JarEntry entry = jf.getJarEntry(name);
                long wantSize = entry.getSize();
                long wantCrc = entry.getCrc(); // from the jar's central directory: nothing is inflated
                if (wantSize < 0 || wantCrc < 0) {
                    try (InputStream in = jf.getInputStream(entry)) {
                        long[] sizeAndCrc = crc32(in);
                        wantSize = sizeAndCrc[0];
                        wantCrc = sizeAndCrc[1];
                    }
                }
                long[] have;
                try (InputStream in = Files.newInputStream(dir.resolve(name), LinkOption.NOFOLLOW_LINKS)) {
                    have = crc32(in);
                }
                if (have[0] != wantSize || have[1] != wantCrc) {
                    return name + " differs from the jar's (size or CRC-32)";
                }
            }
        }
        return null;
    }

    private static PosixFileAttributes posix(Path p) throws IOException {
        try {
            return Files.readAttributes(p, PosixFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        } catch (java.nio.file.NoSuchFileException e) {
            return null;
        }
    }

    /** The user this process runs as: the owner of a file it creates. */
    private static UserPrincipal currentUser(Path tmp) throws IOException {
        Path probe = Files.createTempFile(tmp, "webrtc-gateway-owner-", ".probe");
        try {
            return Files.getOwner(probe);
        } finally {
            Files.deleteIfExists(probe);
        }
    }

    /** A fresh private directory (mode 0700) with the jar's entries, deleted when the JVM exits. */
    private static Path privateCopy(Path jar, Path tmp, List<String> entries) throws IOException {
        Path dir = Files.createTempDirectory(tmp, "webrtc-gateway-run-");
        unpack(jar, entries, dir);
        deleteOnExit(dir);
        return dir;
    }

    private static void unpack(Path jar, List<String> entries, Path dir) throws IOException {
        Files.createDirectories(dir.resolve("lib"));
        try (JarFile jf = new JarFile(jar.toFile())) {
            for (String name : entries) {
                try (InputStream in = jf.getInputStream(jf.getJarEntry(name))) {
                    Files.copy(in, dir.resolve(name), StandardCopyOption.REPLACE_EXISTING);
                }
            }
        }
    }

    /** {size, CRC-32} of what {@code in} holds. */
    private static long[] crc32(InputStream in) throws IOException {
        CRC32 crc = new CRC32();
        long size = 0;
        byte[] buffer = new byte[64 * 1024];
        for (int n; (n = in.read(buffer)) > 0; ) {
            crc.update(buffer, 0, n);
            size += n;
        }
        return new long[] {size, crc.getValue()};
    }

    private static String mode(Set<PosixFilePermission> permissions) {
        int mode = 0;
        for (PosixFilePermission p : permissions) {
            mode |= 1 << (8 - p.ordinal()); // OWNER_READ is 0400 ... OTHERS_EXECUTE 0001
        }
        return String.format("%04o", mode);
    }

    private static void deleteOnExit(Path dir) {
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                deleteTree(dir);
            } catch (IOException | UncheckedIOException e) {
                System.err.println("webrtc-gateway: could not delete " + dir + ": " + e);
            }
        }, "delete-" + dir.getFileName()));
    }

    static void deleteTree(Path root) throws IOException {
        try (Stream<Path> walk = Files.walk(root)) {
            for (Path p : (Iterable<Path>) walk.sorted(Comparator.reverseOrder())::iterator) {
                Files.deleteIfExists(p);
            }
        }
    }
}
