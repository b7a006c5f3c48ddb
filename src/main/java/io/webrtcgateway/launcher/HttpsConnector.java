package io.webrtcgateway.launcher;

import io.webrtcgateway.config.GatewayConfig;
import io.webrtcgateway.config.TlsIdentity;
import io.webrtcgateway.config.TlsPolicy;
import org.eclipse.jetty.http.HttpVersion;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.SecureRequestCustomizer;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.SslConnectionFactory;
import org.eclipse.jetty.util.ssl.SslContextFactory;

/**
 * The standalone launcher's HTTPS listener ({@code gateway.http.tls}): HTTP/1.1 (and so WebSocket upgrades,
 * WSS) over TLS 1.3 or 1.2 with forward-secret AEAD ciphers only. Its certificate is given to the
 * {@link SslContextFactory} by {@link CertificateReloader}, which also replaces it when the files change.
 */
final class HttpsConnector {
    private HttpsConnector() {}

    /** The TLS settings, without a certificate yet ({@link #use} gives it one). */
    static SslContextFactory.Server sslContextFactory() {
        SslContextFactory.Server ssl = new SslContextFactory.Server();
        ssl.setIncludeProtocols(TlsPolicy.PROTOCOLS);
        ssl.setIncludeCipherSuites(TlsPolicy.CIPHER_SUITES);
        ssl.setUseCipherSuitesOrder(true);
        // TLS 1.2 renegotiation only serves client certificates, which the gateway does not ask for; a client
        // renegotiating again and again costs the server a handshake each time.
        ssl.setRenegotiationAllowed(false);
        // A client that sends no SNI (any client connecting by IP address) still gets the one certificate.
        ssl.setSniRequired(false);
        return ssl;
    }

    /** Makes {@code ssl} use {@code identity}: call before it starts, or inside {@link SslContextFactory#reload}. */
    static void use(SslContextFactory ssl, TlsIdentity identity) {
        ssl.setKeyStore(identity.keyStore());
        ssl.setKeyStorePassword(identity.password());
        ssl.setKeyManagerPassword(identity.password());
        ssl.setCertAlias(TlsIdentity.ALIAS);
    }

    /**
     * The HTTPS connector on {@code http.host():tls.port()}; {@code base} is the plain listener's configuration,
     * copied. Jetty's SNI host check is off: it refuses (400) a request whose Host is not a name of the
     * certificate, so a certificate for names would fail every browser that comes by IP address; which hosts are
     * served is the gateway's own check (gateway.http.allowed-hosts, edge.http.AllowedHosts).
     */
    static ServerConnector create(Server server, HttpConfiguration base, GatewayConfig.Http http,
                                  SslContextFactory.Server ssl) {
        GatewayConfig.Http.Tls tls = http.tls();
        HttpConfiguration config = new HttpConfiguration(base);
        long hsts = tls.hstsMaxAge().isZero() ? -1 : tls.hstsMaxAge().toSeconds(); // Jetty: -1 = no header
        config.addCustomizer(new SecureRequestCustomizer(false, false, hsts, false));
        ServerConnector connector = new ServerConnector(server,
                new SslConnectionFactory(ssl, HttpVersion.HTTP_1_1.asString()), new HttpConnectionFactory(config));
        connector.setName("https");
        connector.setHost(http.host());
        connector.setPort(tls.port());
        return connector;
    }
}
