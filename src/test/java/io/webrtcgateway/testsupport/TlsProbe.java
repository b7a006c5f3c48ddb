package io.webrtcgateway.testsupport;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509TrustManager;

/**
 * A TLS client that reports what the server presented: its certificate chain, the protocol and cipher suite
 * agreed. It accepts any certificate on purpose (whether a browser trusts it is the browser tests' part);
 * what a test asserts is which certificate a new connection gets.
 *
 * <pre>
 * try (TlsProbe.Connection c = TlsProbe.connect(gw.httpsPort())) {
 *     assertEquals(expectedSerial, c.certificate().getSerialNumber());
 *     RawHttp.Response r = c.get("/health/live");
 * }
 * </pre>
 */
public final class TlsProbe {
    private TlsProbe() {}

    /** A handshaken connection to 127.0.0.1:{@code port} without SNI (as a browser that comes by IP address). */
    public static Connection connect(int port) throws IOException {
        return connect(port, null, null, null);
    }

    /**
     * A handshaken connection to 127.0.0.1:{@code port}. {@code sni}: the server name sent (null: none);
     * {@code protocols} / {@code cipherSuites}: what the client offers (null: the JDK's defaults).
     */
    public static Connection connect(int port, String sni, String[] protocols, String[] cipherSuites) throws IOException {
        SSLSocket socket;
        try {
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(null, new TrustManager[] {new AcceptAny()}, new SecureRandom());
            socket = (SSLSocket) context.getSocketFactory().createSocket();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
        try {
            socket.connect(new InetSocketAddress("127.0.0.1", port), 5_000);
            socket.setSoTimeout(10_000);
            SSLParameters parameters = socket.getSSLParameters();
            parameters.setServerNames(sni == null ? List.of() : List.of(new SNIHostName(sni)));
            if (protocols != null) {
                parameters.setProtocols(protocols);
            }
            if (cipherSuites != null) {
                parameters.setCipherSuites(cipherSuites);
            }
            socket.setSSLParameters(parameters);
            socket.startHandshake();
            return new Connection(socket, port);
        } catch (IOException | RuntimeException e) {
            socket.close();
            throw e;
        }
    }

    /** The server certificate a new connection to 127.0.0.1:{@code port} gets. */
    public static X509Certificate certificate(int port) {
        try (Connection c = connect(port)) {
            return c.certificate();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** One TLS connection; HTTP/1.1 requests go over it one after the other (keep-alive). */
    public static final class Connection implements AutoCloseable {
        private final SSLSocket socket;
        private final int port;

        private Connection(SSLSocket socket, int port) {
            this.socket = socket;
            this.port = port;
        }

        public List<X509Certificate> chain() {
            try {
                List<X509Certificate> out = new ArrayList<>();
                for (Certificate c : socket.getSession().getPeerCertificates()) {
                    out.add((X509Certificate) c);
                }
                return out;
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        public X509Certificate certificate() {
            return chain().get(0);
        }

        public String protocol() {
            return socket.getSession().getProtocol();
        }

        public String cipherSuite() {
            return socket.getSession().getCipherSuite();
        }

        /** GET {@code path} with {@code Host: 127.0.0.1:<port>}. */
        public RawHttp.Response get(String path) throws IOException {
            return request("GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1:" + port + "\r\n\r\n");
        }

        /** Sends {@code request} as given (head, blank line, body) and reads one answer. */
        public RawHttp.Response request(String request) throws IOException {
            return RawHttp.exchange(socket, request);
        }

        @Override
        public void close() throws IOException {
            socket.close();
        }
    }

    /** Trusts every server: the probe reports, it does not judge. */
    private static final class AcceptAny implements X509TrustManager {
        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType) {}

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType) {}

        @Override
        public X509Certificate[] getAcceptedIssuers() {
            return new X509Certificate[0];
        }
    }
}
