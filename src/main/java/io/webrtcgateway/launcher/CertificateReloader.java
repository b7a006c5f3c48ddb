package io.webrtcgateway.launcher;

import io.webrtcgateway.config.ConfigException;
import io.webrtcgateway.config.GatewayConfig;
import io.webrtcgateway.config.TlsCertificateWatch;
import io.webrtcgateway.config.TlsIdentity;
import java.time.Duration;
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
 * <p>The looking and checking is {@link TlsCertificateWatch}'s (shared with SIP over TLS); it runs {@link #check}
 * on one thread of its own, started and stopped with the Jetty server this is a bean of.
 */
final class CertificateReloader extends AbstractLifeCycle {
    private static final Logger LOG = LoggerFactory.getLogger(CertificateReloader.class);

    private final SslContextFactory ssl;
    /** Looks at the files, reads and checks them; {@link #swap} puts a new identity in Jetty's factory. */
    private final TlsCertificateWatch watch;

    /**
     * Reads the files {@code tls} names and gives {@code ssl} (not started yet) their certificate.
     *
     * @throws ConfigException the files cannot be used; the message names the key
     */
    CertificateReloader(GatewayConfig.Http.Tls tls, SslContextFactory ssl, Duration interval) {
        this.ssl = ssl;
        this.watch = new TlsCertificateWatch("HTTPS", TlsIdentity.Source.of(tls), this::swap, interval);
        HttpsConnector.use(ssl, watch.current());
    }

    TlsIdentity current() {
        return watch.current();
    }

    /**
     * Jetty's factory takes {@code next}; if that fails it goes back to the certificate in use, and the failure
     * refuses {@code next} (logged once by the watch).
     */
    private void swap(TlsIdentity next) {
        TlsIdentity previous = watch.current();
        try {
            ssl.reload(factory -> HttpsConnector.use(factory, next));
        } catch (Exception e) {
            LOG.error("reloading the HTTPS certificate {} failed; going back to {}", next.describe(),
                    previous.describe(), e);
            try {
                ssl.reload(factory -> HttpsConnector.use(factory, previous));
            } catch (Exception again) {
                LOG.error("the HTTPS listener has no certificate: new connections fail until the files are fixed", again);
            }
            throw new IllegalStateException("Jetty refused it: " + e.getMessage(), e);
        }
    }

    @Override
    protected void doStart() {
        watch.start();
    }

    @Override
    protected void doStop() {
        watch.close();
    }

    /** One look at the files; reloads when they changed and have stayed put since the last look. */
    void check() {
        watch.check();
    }
}
