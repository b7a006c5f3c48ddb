package io.webrtcgateway.edge.rest;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.webrtcgateway.GatewayApplication;
import org.glassfish.jersey.jackson.JacksonFeature;
import org.glassfish.jersey.server.ResourceConfig;
import org.glassfish.jersey.server.ServerProperties;

/** Jersey configuration for {@code /api/v1/*}: our resource instances, Jackson, one error format. */
public final class RestApplication extends ResourceConfig {
    public RestApplication(GatewayApplication app, ObjectMapper json) {
        register(new SessionResource(app, json));
        register(new InstanceResource(app, json));
        register(new RestErrors());
        register(JacksonFeature.withoutExceptionMappers());
        property(ServerProperties.WADL_FEATURE_DISABLE, true);
        property(ServerProperties.BV_FEATURE_DISABLE, true);
    }
}
