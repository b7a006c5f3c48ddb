package io.webrtcgateway.launcher;

import io.webrtcgateway.config.ConfigException;
import io.webrtcgateway.config.GatewayConfig;
import io.webrtcgateway.config.TlsIdentity;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.eclipse.jetty.util.component.AbstractLifeCycle;
import org.eclipse.jetty.util.ssl.SslContextFactory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Gives the HTTPS listener its certificate and replaces it when its files change, without a restart: it
 * looks at the files' size, modification time and identity every {@code interval} (a second), and once a
 * change has stayed put for one look (a writer may still be at it), reads and checks the new files
 * ({@link TlsIdentity}) and swaps them in with {@link SslContextFactory#reload}. New handshakes then get the
 * new certificate; connections open before keep theirs, so WebSockets and the calls on them go on.
 *
 * <p>Files that cannot be used (half written, a key that does not match the certificate, expired) are logged
 * once and the certificate in use stays. That is why this is not Jetty's {@code KeyStoreScanner}: it reloads
 * whatever the file holds, and a reload that fails leaves the factory without any certificate, so every new
 * handshake fails until a good file comes. Here the files are checked first, and reload only ever gets a
 * keystore already known to work. Both PEM files and PKCS12 keystores are watched this way.
 *
 * <p>Runs {@link #check} on one thread of its own, started and stopped with the Jetty server it is a bean of.
 */
final class CertificateReloader extends AbstractLifeCycle {
    private static final Logger LOG = LoggerFactory.getLogger(CertificateReloader.class);

    private final GatewayConfig.Http.Tls tls;
    private final SslContextFactory ssl;
    private final Duration interval;
    private final List<Path> files;

    /** Guarded by this: what the listener uses, and the stamps its files had before they were read. */
    private TlsIdentity current;
    /** Guarded by this. */
    private List<Stamp> loaded;
    /** Guarded by this: stamps seen at the last look that differed from {@link #loaded}; null if none. */
    private List<Stamp> pending;
    /** Guarded by this: stamps of files tried and refused (logged once); null if none. */
    private List<Stamp> refused;

    /** Guarded by this. */
    private ScheduledExecutorService executor;

    /**
     * Reads the files {@code tls} names and gives {@code ssl} (not started yet) their certificate.
     *
     * @throws ConfigException the files cannot be used; the message names the key
     */
    CertificateReloader(GatewayConfig.Http.Tls tls, SslContextFactory ssl, Duration interval) {
        this.tls = tls;
        this.ssl = ssl;
        this.interval = interval;
        Set<Path> paths = new LinkedHashSet<>(); // the chain and the key may be one file
        if (tls.pem()) {
            paths.add(Path.of(tls.certificateChain()));
            paths.add(Path.of(tls.privateKey()));
        } else {
            paths.add(Path.of(tls.keystore()));
        }
        this.files = List.copyOf(paths);
        synchronized (this) {
            loaded = stamps(); // before reading: a change while reading shows at the next look
            current = TlsIdentity.load(tls);
            HttpsConnector.use(ssl, current);
        }
    }

    synchronized TlsIdentity current() {
        return current;
    }

    @Override
    protected synchronized void doStart() {
        executor = Executors.newSingleThreadScheduledExecutor(runnable -> {
            Thread thread = new Thread(runnable, "tls-reload");
            thread.setDaemon(true);
            return thread;
        });
        long millis = interval.toMillis();
        executor.scheduleWithFixedDelay(() -> {
            try {
                check();
            } catch (RuntimeException e) {
                LOG.error("checking the HTTPS certificate files failed", e);
            }
        }, millis, millis, TimeUnit.MILLISECONDS);
        LOG.info("HTTPS certificate {} from {}; the files are checked for changes every {} ms", current.describe(),
                files, millis);
    }

    @Override
    protected synchronized void doStop() throws InterruptedException {
        executor.shutdownNow();
        executor.awaitTermination(5, TimeUnit.SECONDS);
        executor = null;
    }

    /** One look at the files; reloads when they changed and have stayed put since the last look. */
    synchronized void check() {
        List<Stamp> now = stamps();
        if (now.equals(loaded)) {
            pending = null;
            return;
        }
        if (!now.equals(pending)) {
            pending = now; // changed since the last look: perhaps still being written
            return;
        }
        if (now.equals(refused)) {
            return; // already said why; waits for the next change
        }
        TlsIdentity next;
        try {
            next = TlsIdentity.load(tls);
        } catch (ConfigException e) {
            refused = now;
            LOG.warn("the HTTPS certificate files changed but cannot be used, so new connections keep getting {}: {}",
                    current.describe(), e.getMessage());
            return;
        }
        try {
            ssl.reload(factory -> HttpsConnector.use(factory, next));
        } catch (Exception e) {
            refused = now;
            LOG.error("reloading the HTTPS certificate {} failed; going back to {}", next.describe(), current.describe(), e);
            TlsIdentity previous = current;
            try {
                ssl.reload(factory -> HttpsConnector.use(factory, previous));
            } catch (Exception again) {
                LOG.error("the HTTPS listener has no certificate: new connections fail until the files are fixed", again);
            }
            return;
        }
        LOG.info("HTTPS certificate reloaded: new connections get {} (was {}); connections open before keep theirs",
                next.describe(), current.describe());
        current = next;
        loaded = now;
        pending = null;
        refused = null;
    }

    private List<Stamp> stamps() {
        List<Stamp> out = new ArrayList<>(files.size());
        for (Path file : files) {
            out.add(Stamp.of(file));
        }
        return out;
    }

    /**
     * What tells a changed file (following symbolic links, so a Kubernetes secret's swapped link counts): its
     * size, modification time and file key (inode), or only that it is missing.
     */
    record Stamp(Path file, long size, long modifiedNanos, Object fileKey) {
        static Stamp of(Path file) {
            try {
                BasicFileAttributes a = Files.readAttributes(file, BasicFileAttributes.class);
                return new Stamp(file, a.size(), a.lastModifiedTime().to(TimeUnit.NANOSECONDS), a.fileKey());
            } catch (IOException e) {
                return new Stamp(file, -1, 0, null);
            }
        }
    }
}
