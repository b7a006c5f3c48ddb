package io.webrtcgateway.edge.rest;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.webrtcgateway.GatewayApplication;
import org.glassfish.jersey.internal.inject.AbstractBinder;
import org.glassfish.jersey.jackson.JacksonFeature;
import org.glassfish.jersey.server.ResourceConfig;
import org.glassfish.jersey.server.ServerProperties;

/** Jersey configuration for {@code /api/v1/*}: our resource instances, Jackson, one error format. */
public final class RestApplication extends ResourceConfig {
    public RestApplication(GatewayApplication app, ObjectMapper json) {
        // Resource classes with injected collaborators: registering instances works too, but makes Jersey
        // log a spurious "will be ignored" warning for each (jersey issue #3700).
        register(new AbstractBinder() {
            @Override
            protected void configure() {
                bind(app).to(GatewayApplication.class);
                bind(json).to(ObjectMapper.class);
            }
        });
        register(SessionResource.class);
        register(InstanceResource.class);
        register(new RestErrors());
        register(JacksonFeature.withoutExceptionMappers());
        property(ServerProperties.WADL_FEATURE_DISABLE, true);
        property(ServerProperties.BV_FEATURE_DISABLE, true);
    }
}
