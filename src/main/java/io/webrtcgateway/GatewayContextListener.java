package io.webrtcgateway;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.webrtcgateway.admin.AdminApiServlet;
import io.webrtcgateway.admin.AdminListenerFilter;
import io.webrtcgateway.config.ConfigException;
import io.webrtcgateway.config.ConfigLoader;
import io.webrtcgateway.config.GatewayConfig;
import io.webrtcgateway.edge.http.AllowedHosts;
import io.webrtcgateway.edge.http.HealthServlet;
import io.webrtcgateway.edge.http.OriginFilter;
import io.webrtcgateway.edge.http.UnreadBodyFilter;
import io.webrtcgateway.edge.legacy.LegacyServlet;
import io.webrtcgateway.edge.rest.BodyLimitFilter;
import io.webrtcgateway.edge.rest.RestApplication;
import io.webrtcgateway.edge.ws.GatewayWebSocket;
import io.webrtcgateway.limits.ClientLimits;
import io.webrtcgateway.metrics.MetricsServlet;
import jakarta.servlet.DispatcherType;
import jakarta.servlet.FilterRegistration;
import jakarta.servlet.ServletContext;
import jakarta.servlet.ServletContextEvent;
import jakarta.servlet.ServletContextListener;
import jakarta.servlet.ServletRegistration;
import jakarta.websocket.server.ServerContainer;
import java.util.EnumSet;
import org.glassfish.jersey.servlet.ServletContainer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Starts the gateway when the WAR is deployed and stops it (gracefully) when undeployed. Registers every
 * servlet, filter and the WebSocket endpoint in code, so the WAR needs no annotation scanning.
 */
public final class GatewayContextListener implements ServletContextListener {
    private static final Logger LOG = LoggerFactory.getLogger(GatewayContextListener.class);
    public static final String APP_ATTRIBUTE = GatewayApplication.class.getName();

    private GatewayApplication app;

    @Override
    public void contextInitialized(ServletContextEvent event) {
        ServletContext ctx = event.getServletContext();
        GatewayConfig config;
        try {
            config = ConfigLoader.load();
        } catch (ConfigException e) {
            LOG.error("invalid configuration, not starting: {}", e.getMessage());
            throw e;
        }
        app = new GatewayApplication(config);
        try {
            app.start();
        } catch (Exception e) {
            LOG.error("gateway failed to start: {}", e.toString(), e);
            app.stop();
            throw new IllegalStateException("gateway failed to start: " + e.getMessage(), e);
        }
        ctx.setAttribute(APP_ATTRIBUTE, app);
        ObjectMapper json = new ObjectMapper();

        // First: every refusal after it (the admin listener, Host, Origin, body limits) may come before the body is read.
        FilterRegistration.Dynamic unreadBodies = ctx.addFilter("unread-body", new UnreadBodyFilter());
        unreadBodies.setAsyncSupported(true);
        unreadBodies.addMappingForUrlPatterns(EnumSet.of(DispatcherType.REQUEST), false, "/*");

        FilterRegistration.Dynamic adminListener = ctx.addFilter("admin-listener",
                new AdminListenerFilter(config.admin().port()));
        adminListener.setAsyncSupported(true);
        adminListener.addMappingForUrlPatterns(EnumSet.of(DispatcherType.REQUEST), false, "/*");

        FilterRegistration.Dynamic origin = ctx.addFilter("origin", new OriginFilter(config.cors(),
                new AllowedHosts(config.http().allowedHosts()), app.clientAddress(), app.metrics().registry()));
        origin.setAsyncSupported(true);
        // isMatchAfter=false: ahead of the container's WebSocket upgrade filter, so foreign hosts and origins
        // are refused before a handshake.
        origin.addMappingForUrlPatterns(EnumSet.of(DispatcherType.REQUEST), false, "/*");

        // Jersey reads REST bodies itself: this bounds them before it does (gateway.limits.max-message-bytes).
        FilterRegistration.Dynamic restBodies = ctx.addFilter("rest-body-limit", new BodyLimitFilter(
                config.limits().maxMessageBytes(), () -> app.sessions().limits().refused(ClientLimits.Limit.MESSAGE_BYTES)));
        restBodies.setAsyncSupported(true);
        restBodies.addMappingForUrlPatterns(EnumSet.of(DispatcherType.REQUEST), true, "/api/v1/*");

        ServletRegistration.Dynamic health = ctx.addServlet("health", new HealthServlet(app, json));
        health.addMapping("/health/live", "/health/ready", "/health/lb");

        ServletRegistration.Dynamic metrics = ctx.addServlet("metrics", new MetricsServlet(app.metrics()));
        metrics.addMapping("/metrics");

        // /admin/ itself (the console: index.html, admin.js, admin.css) is static content of the WAR, served
        // by the container's default servlet with index.html as welcome file.
        ServletRegistration.Dynamic admin = ctx.addServlet("admin-api", new AdminApiServlet(app, json));
        admin.setAsyncSupported(true); // password checks wait for the hashing pool without holding a thread
        admin.addMapping("/admin/api/*");

        ServletRegistration.Dynamic legacy = ctx.addServlet("legacy", new LegacyServlet(app, json));
        legacy.setAsyncSupported(true);
        legacy.addMapping("/sign_in", "/wait", "/message", "/sign_out", LegacyServlet.TOKEN_PREFIX + "/*");

        ServletRegistration.Dynamic rest = ctx.addServlet("rest", new ServletContainer(new RestApplication(app, json)));
        rest.setAsyncSupported(true);
        rest.setLoadOnStartup(1);
        rest.addMapping("/api/v1/*");

        ServerContainer ws = (ServerContainer) ctx.getAttribute(ServerContainer.class.getName());
        if (ws == null) {
            throw new IllegalStateException("no Jakarta WebSocket container: enable Jetty's ee10-websocket-jakarta module");
        }
        try {
            ws.setDefaultMaxTextMessageBufferSize(config.limits().maxMessageBytes());
            ws.addEndpoint(GatewayWebSocket.config(app, json));
        } catch (Exception e) {
            throw new IllegalStateException("cannot register the WebSocket endpoint: " + e.getMessage(), e);
        }
        LOG.info("gateway ready to serve (instance {})", config.instanceId());
    }

    @Override
    public void contextDestroyed(ServletContextEvent event) {
        if (app != null) {
            app.stop();
            app = null;
        }
    }
}
