package io.webrtcgateway.sip.tcp;

import io.webrtcgateway.config.ConfigException;
import io.webrtcgateway.config.GatewayConfig;
import io.webrtcgateway.config.TlsIdentity;
import io.webrtcgateway.config.TlsPolicy;
import java.net.InetAddress;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.TrustManagerFactory;

/**
 * What SIP over TLS's engines are made from (gateway.sip.tls): the gateway's identity (its certificate, also
 * offered as a client certificate when a server asks for one), the CAs a SIP Server's certificate must chain
 * to (a PEM bundle, or the JDK's trust store), TLS 1.3 and 1.2 only, forward-secret AEAD suites only, and the
 * host-name check of the server's certificate (RFC 5922 §7.2: the name the server was reached by, checked the
 * way HTTPS does, RFC 2818 §3.1; an IP literal must be among the certificate's IP addresses).
 *
 * <p>{@link #use} swaps the identity (the certificate files changed): engines made afterwards, i.e. new
 * connections, get the new certificate; open connections keep theirs.
 */
public final class TlsContexts {
    private final TrustManagerFactory trust;
    private final boolean verifyHostName;
    /** Replaced whole by {@link #use}. */
    private volatile Loaded loaded;

    private record Loaded(SSLContext context, TlsIdentity identity, String[] suites) {}

    private TlsContexts(TrustManagerFactory trust, boolean verifyHostName, TlsIdentity identity) {
        this.trust = trust;
        this.verifyHostName = verifyHostName;
        use(identity);
    }

    /**
     * Reads the identity and the trusted CAs {@code tls} names.
     *
     * @throws ConfigException a file cannot be used; the message names its key
     */
    public static TlsContexts create(GatewayConfig.Sip.Tls tls) {
        return create(tls, TlsIdentity.load(tls.identity()));
    }

    /** With the identity already read (by the certificate watch). */
    public static TlsContexts create(GatewayConfig.Sip.Tls tls, TlsIdentity identity) {
        return new TlsContexts(trust(tls.trustedCertificates()), tls.verifyHostName(), identity);
    }

    /** Engines made from now on present {@code identity}. */
    public void use(TlsIdentity identity) {
        try {
            KeyManagerFactory keys = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            keys.init(identity.keyStore(), identity.password().toCharArray());
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(keys.getKeyManagers(), trust.getTrustManagers(), null);
            List<String> supported = Arrays.asList(context.getSupportedSSLParameters().getCipherSuites());
            String[] suites = Arrays.stream(TlsPolicy.CIPHER_SUITES).filter(supported::contains).toArray(String[]::new);
            loaded = new Loaded(context, identity, suites);
        } catch (GeneralSecurityException e) {
            throw new ConfigException("invalid config key 'gateway.sip.tls.certificate-chain': the certificate cannot"
                    + " be used for TLS: " + e.getMessage());
        }
    }

    public TlsIdentity identity() {
        return loaded.identity();
    }

    /** For an accepted connection: the gateway's certificate, no client certificate asked for. */
    SSLEngine serverEngine() {
        Loaded l = loaded;
        SSLEngine engine = l.context().createSSLEngine();
        engine.setUseClientMode(false);
        SSLParameters p = parameters(engine, l);
        p.setNeedClientAuth(false);
        p.setWantClientAuth(false);
        p.setUseCipherSuitesOrder(true);
        engine.setSSLParameters(p);
        return engine;
    }

    /** For a connection to {@code peerName} (a host name or an IP literal) on {@code port}. */
    SSLEngine clientEngine(String peerName, int port) {
        Loaded l = loaded;
        SSLEngine engine = l.context().createSSLEngine(peerName, port); // host and port: sessions are resumed
        engine.setUseClientMode(true);
        SSLParameters p = parameters(engine, l);
        if (verifyHostName) {
            p.setEndpointIdentificationAlgorithm("HTTPS");
        }
        if (!isIpLiteral(peerName)) {
            p.setServerNames(List.of(new SNIHostName(peerName))); // RFC 6066 §3: names only, never addresses
        }
        engine.setSSLParameters(p);
        return engine;
    }

    private static SSLParameters parameters(SSLEngine engine, Loaded l) {
        SSLParameters p = engine.getSSLParameters();
        p.setProtocols(TlsPolicy.PROTOCOLS);
        p.setCipherSuites(l.suites());
        return p;
    }

    static boolean isIpLiteral(String host) {
        return host.indexOf(':') >= 0 || host.matches("[0-9.]+");
    }

    /**
     * The name a connection to {@code address} verifies the server's certificate against: the host name it was
     * made from (JAIN-SIP's hop host, kept in the InetAddress without any reverse lookup), else the address.
     */
    static String peerName(InetAddress address) {
        String text = address.toString(); // "name/literal", or "/literal" when made from a literal
        int slash = text.indexOf('/');
        String name = slash > 0 ? text.substring(0, slash) : address.getHostAddress();
        return name.startsWith("[") && name.endsWith("]") ? name.substring(1, name.length() - 1) : name; // [::1]
    }

    /** The CAs of {@code bundle} (a PEM file), or the JDK's trust store when it is empty. */
    private static TrustManagerFactory trust(String bundle) {
        try {
            TrustManagerFactory factory = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            if (bundle.isEmpty()) {
                factory.init((KeyStore) null);
                return factory;
            }
            List<X509Certificate> cas = TlsIdentity.readCertificates(Path.of(bundle),
                    "gateway.sip.tls.trusted-certificates");
            KeyStore store = KeyStore.getInstance("PKCS12");
            store.load(null, null);
            List<String> aliases = new ArrayList<>();
            for (X509Certificate ca : cas) {
                String alias = "ca-" + aliases.size();
                store.setCertificateEntry(alias, ca);
                aliases.add(alias);
            }
            factory.init(store);
            return factory;
        } catch (GeneralSecurityException | java.io.IOException e) {
            throw new ConfigException("invalid config key 'gateway.sip.tls.trusted-certificates': " + e.getMessage());
        }
    }
}
