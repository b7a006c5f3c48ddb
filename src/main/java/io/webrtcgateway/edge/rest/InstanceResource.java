package io.webrtcgateway.edge.rest;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.webrtcgateway.GatewayApplication;
import jakarta.inject.Inject;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import java.util.List;

/** {@code GET /api/v1/instance}: who answers, and its state (what a browser or a script may want). */
@Path("/instance")
@Produces(MediaType.APPLICATION_JSON)
public final class InstanceResource {
    private final GatewayApplication app;
    private final ObjectMapper json;

    @Inject
    public InstanceResource(GatewayApplication app, ObjectMapper json) {
        this.app = app;
        this.json = json;
    }

    @GET
    public ObjectNode get() {
        ObjectNode out = json.createObjectNode();
        out.put("instance", app.config().instanceId());
        out.put("version", app.version());
        out.put("startedAt", app.startedAt().toString());
        List<String> reasons = app.readiness().notReadyReasons();
        out.put("ready", reasons.isEmpty());
        out.putPOJO("reasons", reasons);
        out.put("sessions", app.sessions().count());
        out.put("registrations", app.registrations().count());
        out.put("calls", app.calls() == null ? 0 : app.calls().count());
        out.putPOJO("sipServers", app.servers().states());
        return out;
    }
}
