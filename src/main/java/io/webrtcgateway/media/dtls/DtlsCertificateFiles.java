package io.webrtcgateway.media.dtls;

import io.webrtcgateway.config.ConfigException;
import io.webrtcgateway.config.GatewayConfig;
import io.webrtcgateway.config.TlsCertificateWatch;
import io.webrtcgateway.config.TlsIdentity;
import java.time.Duration;
import java.time.Instant;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The DTLS certificate from the files {@code gateway.media.dtls} names, and its rotation: the files are
 * watched ({@link TlsCertificateWatch}: looked at every second, re-read once a change has stayed put for one
 * look), and a certificate that passes the checks at start ({@link TlsIdentity.Use#DTLS_SRTP}) becomes the one
 * {@link DtlsService} gives new calls; calls in progress keep theirs. Files that cannot be used are logged once
 * and the certificate in use stays.
 *
 * <p>Browsers ignore a DTLS certificate's dates, so an expired one (or one not valid yet) is used, with a
 * warning: nothing breaks, but whoever rotates it has likely stopped doing so.
 *
 * <p>Lifecycle: made (files read) before the service, {@link #start} once the service exists, {@link #close}
 * with it. The watch's thread calls {@link #apply}.
 */
public final class DtlsCertificateFiles implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(DtlsCertificateFiles.class);

    private final TlsCertificateWatch watch;
    private final DtlsCertificate first;
    /** Set by {@link #start} before the watch's thread starts, which publishes it to that thread. */
    private DtlsService service;

    /**
     * Reads and checks the files.
     *
     * @throws ConfigException they cannot be used; the message names the key
     */
    public DtlsCertificateFiles(GatewayConfig.Media.Dtls config) {
        this(config, TlsCertificateWatch.DEFAULT_INTERVAL);
    }

    DtlsCertificateFiles(GatewayConfig.Media.Dtls config, Duration interval) {
        this.watch = new TlsCertificateWatch("DTLS", config.identity(), this::apply, interval);
        this.first = certificate(watch.current());
    }

    /** The certificate the files held at start: the service's first. */
    public DtlsCertificate first() {
        return first;
    }

    /** From now on, a change of the files replaces {@code service}'s certificate. */
    public void start(DtlsService service) {
        this.service = service;
        watch.start();
    }

    /** Times new files were taken (docs/metrics.md, gateway_dtls_certificate_reloads_total). */
    public long reloadsApplied() {
        return watch.reloadsApplied();
    }

    /** Times changed files were refused, each version of them once. */
    public long reloadsRefused() {
        return watch.reloadsRefused();
    }

    @Override
    public void close() {
        watch.close();
    }

    /** One look at the files (tests; otherwise the watch's thread does it every second). */
    void check() {
        watch.check();
    }

    /** New files passed the checks: new calls get them. A RuntimeException refuses them (the watch logs it). */
    private void apply(TlsIdentity next) {
        DtlsCertificate certificate = certificate(next);
        DtlsCertificate previous = service.replaceCertificate(certificate);
        LOG.info("DTLS certificate rotated: new calls get {} (was {}); calls in progress keep theirs",
                certificate.fingerprint(), previous.fingerprint());
    }

    private static DtlsCertificate certificate(TlsIdentity identity) {
        DtlsCertificate certificate = DtlsCertificate.of(identity);
        identity.validityProblem(Instant.now()).ifPresent(problem -> LOG.warn("the DTLS certificate {} ({}) is used"
                + " although {}: browsers do not check its dates (they trust its fingerprint); renew it anyway",
                certificate.fingerprint(), identity.describe(), problem));
        return certificate;
    }
}
