package io.webrtcgateway.arquillian;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.CodeSource;
import java.util.Comparator;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;
import org.eclipse.jetty.ee10.webapp.WebAppContext;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.handler.ContextHandlerCollection;
import org.jboss.arquillian.container.spi.client.container.DeployableContainer;
import org.jboss.arquillian.container.spi.client.container.DeploymentException;
import org.jboss.arquillian.container.spi.client.container.LifecycleException;
import org.jboss.arquillian.container.spi.client.protocol.ProtocolDescription;
import org.jboss.arquillian.container.spi.client.protocol.metadata.HTTPContext;
import org.jboss.arquillian.container.spi.client.protocol.metadata.ProtocolMetaData;
import org.jboss.arquillian.container.spi.client.protocol.metadata.Servlet;
import org.jboss.shrinkwrap.api.Archive;
import org.jboss.shrinkwrap.api.exporter.ZipExporter;

/**
 * Arquillian container that runs WAR deployments in an embedded Jetty 12.1 (ee10) inside the test JVM.
 *
 * <p>The released {@code arquillian-jetty-embedded-12-ee10} adapter only works with Jetty 12.0: it is built on
 * the deploy API that 12.1 removed ({@code NoClassDefFoundError: org/eclipse/jetty/deploy/AppProvider}).
 * Only client-mode tests ({@code @Deployment(testable = false)}) are supported: no Arquillian protocol is
 * packaged into the deployment.
 *
 * <p>A deployment named {@code ROOT.war} is served at {@code /}, any other {@code name.war} at {@code /name}
 * (Jetty's own convention for its webapps directory).
 */
public class JettyEmbeddedContainer implements DeployableContainer<JettyEmbeddedConfiguration> {

    private JettyEmbeddedConfiguration config;
    private Server server;
    private ServerConnector connector;
    private ContextHandlerCollection contexts;
    /** Exported WARs and their unpacked copies; removed on stop. */
    private Path workDir;
    private final Map<String, WebAppContext> deployed = new ConcurrentHashMap<>();

    @Override
    public Class<JettyEmbeddedConfiguration> getConfigurationClass() {
        return JettyEmbeddedConfiguration.class;
    }

    @Override
    public void setup(JettyEmbeddedConfiguration configuration) {
        this.config = configuration;
    }

    @Override
    public void start() throws LifecycleException {
        try {
            workDir = Files.createTempDirectory("arquillian-jetty-");
            server = new Server();
            connector = new ServerConnector(server);
            connector.setHost(config.getBindAddress());
            connector.setPort(config.getHttpPort());
            server.addConnector(connector);
            contexts = new ContextHandlerCollection();
            server.setHandler(contexts);
            server.start();
        } catch (Exception e) {
            throw new LifecycleException("embedded Jetty did not start", e);
        }
    }

    @Override
    public void stop() throws LifecycleException {
        try {
            if (server != null) {
                server.stop();
            }
        } catch (Exception e) {
            throw new LifecycleException("embedded Jetty did not stop", e);
        } finally {
            server = null;
            deployed.clear();
            deleteRecursively(workDir);
        }
    }

    @Override
    public ProtocolDescription getDefaultProtocol() {
        // Never used: client-mode deployments are not enriched with a protocol.
        return new ProtocolDescription("Local");
    }

    @Override
    public ProtocolMetaData deploy(Archive<?> archive) throws DeploymentException {
        String name = archive.getName();
        if (!name.endsWith(".war")) {
            throw new DeploymentException("only .war deployments are supported, got " + name);
        }
        Path war = workDir.resolve(name);
        archive.as(ZipExporter.class).exportTo(war.toFile(), true);

        WebAppContext webApp = new WebAppContext();
        webApp.setWar(war.toString());
        webApp.setContextPath(contextPath(name));
        webApp.setTempDirectory(workDir.resolve(name + ".work").toFile());
        // The test JVM's class path holds everything the WAR holds (target/classes and every dependency).
        // Load the WAR's own copies first, as a real server would, so that the test exercises what ships.
        webApp.setParentLoaderPriority(false);
        // Jetty always loads javax.* from the parent, whatever the priority. JAIN-SIP's javax.sip.SipFactory
        // instantiates gov.nist.* reflectively through its own class loader; a parent javax.sip with a WAR
        // gov.nist (or the other way round) breaks the stack, so take javax.sip/javax.sdp from the WAR too.
        webApp.getProtectedClassMatcher().exclude("javax.sip.", "javax.sdp.");
        // The server's SLF4J provider jar is hidden by class name but its META-INF/services entry is not:
        // the WAR's slf4j-api would find it and log "Provider ... not found". Hide the whole jar, as Jetty's
        // logging-jetty module does for lib/logging/ in the distribution.
        jarOf("org.eclipse.jetty.logging.JettyLoggingServiceProvider")
                .ifPresent(jar -> webApp.getHiddenClassMatcher().add(jar));
        // Fail the deployment, not just answer 503, when the application's listener throws.
        webApp.setThrowUnavailableOnStartupException(true);

        contexts.addHandler(webApp);
        try {
            webApp.start();
        } catch (Exception e) {
            contexts.removeHandler(webApp);
            throw new DeploymentException("deployment of " + name + " failed", e);
        }
        deployed.put(name, webApp);

        HTTPContext http = new HTTPContext(config.getBindAddress(), connector.getLocalPort());
        http.add(new Servlet("default", webApp.getContextPath()));
        return new ProtocolMetaData().addContext(http);
    }

    @Override
    public void undeploy(Archive<?> archive) throws DeploymentException {
        WebAppContext webApp = deployed.remove(archive.getName());
        if (webApp == null) {
            return;
        }
        try {
            webApp.stop();
        } catch (Exception e) {
            throw new DeploymentException("undeployment of " + archive.getName() + " failed", e);
        } finally {
            contexts.removeHandler(webApp);
        }
    }

    /** The location ("file:/.../x.jar") of the jar holding {@code className}, if it is on the class path. */
    private static Optional<String> jarOf(String className) {
        try {
            CodeSource source = Class.forName(className, false, JettyEmbeddedContainer.class.getClassLoader())
                    .getProtectionDomain().getCodeSource();
            return Optional.ofNullable(source).map(s -> s.getLocation().toString());
        } catch (ClassNotFoundException e) {
            return Optional.empty();
        }
    }

    static String contextPath(String warName) {
        String base = warName.substring(0, warName.length() - ".war".length());
        return base.equalsIgnoreCase("ROOT") ? "/" : "/" + base;
    }

    private static void deleteRecursively(Path dir) {
        if (dir == null || !Files.exists(dir)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(dir)) {
            paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            // A leftover temp directory is not worth failing the build for.
        }
    }
}
