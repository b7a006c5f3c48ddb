package io.webrtcgateway.launcher;

import io.webrtcgateway.admin.PasswordHash;
import io.webrtcgateway.config.ConfigException;
import io.webrtcgateway.config.ConfigLoader;
import io.webrtcgateway.config.GatewayConfig;
import io.webrtcgateway.edge.http.AllowedHosts;
import java.io.BufferedReader;
import java.io.Console;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.eclipse.jetty.ee10.webapp.MetaInfConfiguration;
import org.eclipse.jetty.ee10.webapp.WebAppContext;
import org.eclipse.jetty.ee10.websocket.jakarta.server.config.JakartaWebSocketServletContainerInitializer;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.ssl.SslContextFactory;

/**
 * Runs the WAR on embedded Jetty 12.1 (ee10) on {@code gateway.http.host:port}, and with
 * {@code gateway.http.tls.port} on HTTPS too (HttpsConnector, CertificateReloader, HttpsRedirect). Invalid configuration
 * stops it before Jetty starts, with the key named; a failing webapp exits with status 1 instead of
 * serving 503s. SIGTERM stops Jetty, which stops the gateway gracefully (un-REGISTERs every DN).
 */
public final class StandaloneLauncher {
    static final String WAR_PROPERTY = "webrtc-gateway.standalone.war";
    /** How often the HTTPS certificate's files are looked at (CertificateReloader). */
    private static final Duration CERTIFICATE_CHECK_INTERVAL = Duration.ofSeconds(1);

    private StandaloneLauncher() {}

    public static void main(String[] args) throws Exception {
        if (args.length > 0 && args[0].equals("hash-password")) {
            hashPassword();
            return;
        }
        if (args.length > 0 && args[0].equals("token")) {
            System.exit(TokenCommand.run(Arrays.copyOfRange(args, 1, args.length), System.out, System.err));
            return;
        }
        GatewayConfig config;
        try {
            config = ConfigLoader.load();
        } catch (ConfigException e) {
            System.err.println("webrtc-gateway: " + e.getMessage());
            System.exit(2);
            return;
        }
        String war = System.getProperty(WAR_PROPERTY);
        if (war == null) {
            System.err.println("webrtc-gateway: run me with java -jar webrtc-gateway-standalone.jar");
            System.exit(2);
            return;
        }
        Server server = new Server();
        GatewayConfig.Http.Tls tls = config.http().tls();
        HttpConfiguration httpConfig = new HttpConfiguration();
        ServerConnector http = null;
        if (config.http().port() != 0) {
            http = new ServerConnector(server, new HttpConnectionFactory(httpConfig));
            http.setName("http");
            http.setHost(config.http().host());
            http.setPort(config.http().port());
            http.setIdleTimeout(config.http().idleTimeout().toMillis());
            server.addConnector(http);
        }
        ServerConnector https = null;
        CertificateReloader certificates = null;
        if (tls.enabled()) {
            httpConfig.setSecureScheme("https");
            httpConfig.setSecurePort(tls.port());
            SslContextFactory.Server ssl = HttpsConnector.sslContextFactory();
            try {
                certificates = new CertificateReloader(tls, ssl, CERTIFICATE_CHECK_INTERVAL);
            } catch (ConfigException e) { // the files changed since the config was checked
                System.err.println("webrtc-gateway: " + e.getMessage());
                System.exit(2);
                return;
            }
            server.addBean(certificates);
            https = HttpsConnector.create(server, httpConfig, config.http(), ssl);
            https.setIdleTimeout(config.http().idleTimeout().toMillis());
            server.addConnector(https);
        }
        ServerConnector admin = null;
        if (config.admin().port() != 0) {
            // The admin console and API on their own address (docs/admin.md); the webapp's
            // AdminListenerFilter answers /admin/** on this port only, and nothing else here.
            admin = new ServerConnector(server);
            admin.setName("admin");
            admin.setHost(config.admin().bindAddress());
            admin.setPort(config.admin().port());
            admin.setIdleTimeout(config.http().idleTimeout().toMillis());
            server.addConnector(admin);
        }

        WebAppContext webapp = new WebAppContext();
        webapp.setContextPath("/");
        webapp.setWar(war);
        webapp.setParentLoaderPriority(false);
        webapp.setThrowUnavailableOnStartupException(true);
        // Scan no jar of WEB-INF/lib (WEB-INF/classes still is). The WAR registers everything in code (web.xml
        // is metadata-complete) and no jar there has a web fragment, META-INF/resources or a TLD; the one
        // container initializer among them (Jersey's) acts only on Application subclasses with @ApplicationPath
        // or one named in web.xml, and there are none. Jetty would still open every jar and read all their
        // classes for @HandlesTypes: 5 s and more of each start on a loaded 2-core machine (bouncycastle alone
        // 1.5 s). The jars stay on the webapp's class path: the pattern only narrows the scan.
        webapp.setAttribute(MetaInfConfiguration.WEBINF_JAR_PATTERN, "^$");
        JakartaWebSocketServletContainerInitializer.configure(webapp, null);
        server.setHandler(tls.redirectHttp()
                ? new HttpsRedirect(webapp, http, tls.port(), new AllowedHosts(config.http().allowedHosts()))
                : webapp);
        server.setStopAtShutdown(true);
        server.setStopTimeout(config.cluster().shutdownTimeout().toMillis() + 5000);
        try {
            server.start();
        } catch (Exception e) {
            System.err.println("webrtc-gateway: failed to start: " + e.getMessage());
            try {
                server.stop();
            } finally {
                System.exit(1);
            }
            return;
        }
        List<String> listeners = new ArrayList<>();
        if (https != null) {
            listeners.add("https://" + config.http().host() + ":" + https.getLocalPort() + "/ (certificate "
                    + certificates.current().describe() + ")");
        }
        if (http != null) {
            listeners.add("http://" + config.http().host() + ":" + http.getLocalPort() + "/"
                    + (tls.redirectHttp() ? " (redirects to HTTPS but /health/*)" : ""));
        }
        System.out.println("WebRTC Gateway " + config.instanceId() + " listening on " + String.join(" and ", listeners)
                + " (demo: /demo/, health: /health/ready)"
                + (admin == null ? "" : "; admin console on http://" + config.admin().bindAddress() + ":"
                        + admin.getLocalPort() + "/admin/"));
        server.join();
    }

    /**
     * {@code java -jar webrtc-gateway-standalone.jar hash-password}: reads a password (from the terminal
     * without echo, else one line of standard input) and prints the value for gateway.admin.password-hash.
     */
    private static void hashPassword() throws IOException {
        char[] password;
        Console console = System.console();
        if (console != null) {
            password = console.readPassword("admin password: ");
            char[] again = console.readPassword("again: ");
            if (password == null || again == null || !Arrays.equals(password, again)) {
                System.err.println("webrtc-gateway: the passwords differ");
                System.exit(2);
                return;
            }
        } else {
            String line = new BufferedReader(new InputStreamReader(System.in,
                    StandardCharsets.UTF_8)).readLine();
            password = line == null ? new char[0] : line.toCharArray();
        }
        if (password.length == 0) {
            System.err.println("webrtc-gateway: empty password");
            System.exit(2);
            return;
        }
        System.out.println(PasswordHash.create(password,
                PasswordHash.DEFAULT_ITERATIONS));
    }
}
