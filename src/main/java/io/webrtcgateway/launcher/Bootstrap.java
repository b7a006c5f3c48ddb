package io.webrtcgateway.launcher;

import java.lang.reflect.Method;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Entry point of webrtc-gateway-standalone.jar. The jar carries embedded Jetty's jars under lib/ and the
 * WAR itself; Java cannot load nested jars, so this unpacks them ({@link UnpackCache}: once into a cache
 * directory private to the user and checked against the jar at every start, else into a private directory
 * of this run), puts them on a class loader and runs {@link StandaloneLauncher} in it. No dependencies of
 * its own.
 */
public final class Bootstrap {
    private Bootstrap() {}

    public static void main(String[] args) throws Exception {
        Path jar = Path.of(Bootstrap.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        UnpackCache.Unpacked unpacked = UnpackCache.prepare(jar, Path.of(System.getProperty("java.io.tmpdir")),
                message -> System.err.println("webrtc-gateway: " + message));
        List<URL> urls = new ArrayList<>();
        urls.add(jar.toUri().toURL());
        for (String entry : unpacked.entries()) {
            if (!entry.equals(UnpackCache.WAR)) { // only what the jar holds, never whatever else lies there
                urls.add(unpacked.dir().resolve(entry).toUri().toURL());
            }
        }
        System.setProperty(StandaloneLauncher.WAR_PROPERTY, unpacked.dir().resolve(UnpackCache.WAR).toString());
        ClassLoader loader = new URLClassLoader("standalone", urls.toArray(URL[]::new), ClassLoader.getPlatformClassLoader());
        Thread.currentThread().setContextClassLoader(loader);
        Class<?> launcher = loader.loadClass("io.webrtcgateway.launcher.StandaloneLauncher");
        Method main = launcher.getMethod("main", String[].class);
        main.invoke(null, (Object) args);
    }
}
