package io.webrtcgateway.launcher;

import java.io.IOException;
import java.io.InputStream;
import java.lang.reflect.Method;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Enumeration;
import java.util.List;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.stream.Stream;

/**
 * Entry point of webrtc-gateway-standalone.jar. The jar carries embedded Jetty's jars under lib/ and the
 * WAR itself; Java cannot load nested jars, so this unpacks them once into a cache directory named after
 * the jar's size and date (reused by later starts, safe when several instances start together), puts
 * them on a class loader and runs {@link StandaloneLauncher} in it. No dependencies of its own.
 */
public final class Bootstrap {
    private Bootstrap() {}

    public static void main(String[] args) throws Exception {
        Path jar = Path.of(Bootstrap.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        Path dir = unpack(jar);
        List<URL> urls = new ArrayList<>();
        urls.add(jar.toUri().toURL());
        try (Stream<Path> libs = Files.list(dir.resolve("lib"))) {
            for (Path p : (Iterable<Path>) libs.sorted()::iterator) {
                urls.add(p.toUri().toURL());
            }
        }
        System.setProperty(StandaloneLauncher.WAR_PROPERTY, dir.resolve("webrtc-gateway.war").toString());
        ClassLoader loader = new URLClassLoader("standalone", urls.toArray(URL[]::new), ClassLoader.getPlatformClassLoader());
        Thread.currentThread().setContextClassLoader(loader);
        Class<?> launcher = loader.loadClass("io.webrtcgateway.launcher.StandaloneLauncher");
        Method main = launcher.getMethod("main", String[].class);
        main.invoke(null, (Object) args);
    }

    private static Path unpack(Path jar) throws IOException {
        String key = Long.toHexString(Files.size(jar)) + "-" + Long.toHexString(Files.getLastModifiedTime(jar).toMillis());
        Path cache = Path.of(System.getProperty("java.io.tmpdir"), "webrtc-gateway-standalone-" + key);
        if (Files.isRegularFile(cache.resolve("webrtc-gateway.war"))) {
            return cache;
        }
        Path staging = Files.createTempDirectory(cache.getParent(), "webrtc-gateway-unpack-");
        Files.createDirectories(staging.resolve("lib"));
        try (JarFile jf = new JarFile(jar.toFile())) {
            Enumeration<JarEntry> entries = jf.entries();
            while (entries.hasMoreElements()) {
                JarEntry e = entries.nextElement();
                String name = e.getName();
                boolean lib = name.startsWith("lib/") && name.endsWith(".jar") && name.indexOf('/', 4) < 0;
                if (!lib && !name.equals("webrtc-gateway.war")) {
                    continue;
                }
                try (InputStream in = jf.getInputStream(e)) {
                    Files.copy(in, staging.resolve(name), StandardCopyOption.REPLACE_EXISTING);
                }
            }
        }
        try {
            Files.move(staging, cache, StandardCopyOption.ATOMIC_MOVE);
        } catch (FileSystemException e) {
            // Another instance started at the same time unpacked the same jar first (rename(2) then fails
            // with ENOTEMPTY, which Java reports as a plain FileSystemException): use its copy.
            deleteTree(staging);
            if (!Files.isRegularFile(cache.resolve("webrtc-gateway.war"))) {
                throw e;
            }
        }
        return cache;
    }

    private static void deleteTree(Path root) throws IOException {
        try (Stream<Path> walk = Files.walk(root)) {
            for (Path p : (Iterable<Path>) walk.sorted(Comparator.reverseOrder())::iterator) {
                Files.deleteIfExists(p);
            }
        }
    }
}
