package io.webrtcgateway.config;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Re-reads a TLS identity when its files change, without a restart: it looks at the files' size, modification
 * time and identity every {@code interval} (a second), and once a change has stayed put for one look (a writer
 * may still be at it), reads and checks the new files ({@link TlsIdentity}) and hands them to {@code apply}.
 * Files that cannot be used (half written, a key that does not match the certificate, expired) are logged once
 * and the identity in use stays. The same rules as the HTTPS listener's (launcher.CertificateReloader, which
 * also swaps Jetty's factory); here for SIP over TLS, whose engines are made per connection
 * (sip.tcp.TlsContexts): new connections get the new certificate, open ones keep theirs; and for DTLS-SRTP
 * toward browsers (media.dtls.DtlsCertificateFiles): new calls get it, calls in progress keep theirs.
 *
 * <p>{@link #check} runs on one daemon thread of its own, from {@link #start} to {@link #close}.
 */
public final class TlsCertificateWatch implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(TlsCertificateWatch.class);
    public static final Duration DEFAULT_INTERVAL = Duration.ofSeconds(1);

    private final String what;
    private final TlsIdentity.Source source;
    private final Consumer<TlsIdentity> apply;
    private final Duration interval;
    private final List<Path> files;

    /** Guarded by this. */
    private TlsIdentity current;
    /** Guarded by this: the stamps the files had when {@link #current} was read. */
    private List<Stamp> loaded;
    /** Guarded by this: stamps seen at the last look that differed from {@link #loaded}; null if none. */
    private List<Stamp> pending;
    /** Guarded by this: stamps of files tried and refused (logged once); null if none. */
    private List<Stamp> refused;
    /** Guarded by this. */
    private ScheduledExecutorService executor;
    /** Guarded by this: new identities taken, and changed files refused (each version of the files once). */
    private long reloadsApplied;
    private long reloadsRefused;

    /**
     * Reads and checks the files {@code source} names (their stamps are taken first, so a change while reading is
     * seen at the first look).
     *
     * @param what  for logs, e.g. "SIP TLS"
     * @param apply takes each new identity once the files changed; a RuntimeException refuses it (the old one stays)
     * @throws ConfigException the files cannot be used; the message names the key
     */
    public TlsCertificateWatch(String what, TlsIdentity.Source source, Consumer<TlsIdentity> apply) {
        this(what, source, apply, DEFAULT_INTERVAL);
    }

    public TlsCertificateWatch(String what, TlsIdentity.Source source, Consumer<TlsIdentity> apply, Duration interval) {
        this.what = what;
        this.source = source;
        this.apply = apply;
        this.interval = interval;
        this.files = source.files();
        synchronized (this) {
            this.loaded = stamps();
            this.current = TlsIdentity.load(source);
        }
    }

    public synchronized TlsIdentity current() {
        return current;
    }

    /** Times the files changed and the new identity was taken. */
    public synchronized long reloadsApplied() {
        return reloadsApplied;
    }

    /** Times the files changed and could not be used (a version of the files counts once, as it is logged once). */
    public synchronized long reloadsRefused() {
        return reloadsRefused;
    }

    public synchronized void start() {
        executor = Executors.newSingleThreadScheduledExecutor(runnable -> {
            Thread thread = new Thread(runnable, "tls-reload-" + what.replace(' ', '-').toLowerCase());
            thread.setDaemon(true);
            return thread;
        });
        long millis = interval.toMillis();
        executor.scheduleWithFixedDelay(() -> {
            try {
                check();
            } catch (RuntimeException e) {
                LOG.error("checking the {} certificate files failed", what, e);
            }
        }, millis, millis, TimeUnit.MILLISECONDS);
        LOG.info("{} certificate {} from {}; the files are checked for changes every {} ms", what, current.describe(),
                files, millis);
    }

    @Override
    public synchronized void close() {
        if (executor != null) {
            executor.shutdownNow();
            executor = null;
        }
    }

    /** One look at the files; reloads when they changed and have stayed put since the last look. */
    public synchronized void check() {
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
            next = TlsIdentity.load(source);
            apply.accept(next);
        } catch (RuntimeException e) {
            reloadsRefused++;
            refused = now;
            LOG.warn("the {} certificate files changed but cannot be used, so new {} keep getting {}: {}",
                    what, source.use().users(), current.describe(), e.getMessage());
            return;
        }
        LOG.info("{} certificate reloaded: new {} get {} (was {}); {} open before keep theirs",
                what, source.use().users(), next.describe(), current.describe(), source.use().users());
        reloadsApplied++;
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
