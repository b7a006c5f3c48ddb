package io.webrtcgateway.edge.rest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.webrtcgateway.testsupport.GatewayProcess;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** REST session API (src/main/webapp/api/openapi.yaml) against the real gateway and its sandbox. */
class RestApiIT {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newHttpClient();
    private static GatewayProcess gw;
    private static String base;

    @BeforeAll
    static void start() throws Exception {
        gw = GatewayProcess.builder().instanceId("restit").start();
        base = gw.httpUrl().replaceAll("/$", "");
    }

    @AfterAll
    static void stop() throws Exception {
        if (gw != null) {
            gw.close();
        }
    }

    private static HttpResponse<String> call(String method, String path, String json) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(20));
        if (json != null) {
            b.header("Content-Type", "application/json");
        }
        b.method(method, json == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(json));
        return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    private static JsonNode body(HttpResponse<String> r) throws Exception {
        return JSON.readTree(r.body());
    }

    @Test
    void sessionLifecycle() throws Exception {
        HttpResponse<String> created = call("POST", "/api/v1/sessions", null);
        assertEquals(201, created.statusCode(), created.body());
        assertTrue(created.headers().allValues("Set-Cookie").stream().anyMatch(c -> c.startsWith("GWINSTANCE=restit")));
        String id = body(created).path("session").asText();

        HttpResponse<String> reg = call("PUT", "/api/v1/sessions/" + id + "/registration", "{\"dn\":\"6001\",\"password\":\"pw\"}");
        assertEquals(200, reg.statusCode(), reg.body());
        assertEquals("registered", body(reg).path("state").asText());
        assertTrue(body(reg).path("expires").asInt() > 0);

        JsonNode status = body(call("GET", "/api/v1/sessions/" + id, null));
        assertEquals("6001", status.path("registration").path("dn").asText());
        assertEquals(200, call("POST", "/api/v1/sessions/" + id + "/keepalive", null).statusCode());

        HttpResponse<String> twice = call("PUT", "/api/v1/sessions/" + id + "/registration", "{\"dn\":\"6002\"}");
        assertEquals(409, twice.statusCode());
        assertEquals("ALREADY_REGISTERED", body(twice).path("code").asText());

        HttpResponse<String> unreg = call("DELETE", "/api/v1/sessions/" + id + "/registration", null);
        assertEquals(200, unreg.statusCode(), unreg.body());
        assertEquals("NOT_REGISTERED", body(call("DELETE", "/api/v1/sessions/" + id + "/registration", null)).path("code").asText());

        assertEquals(200, call("DELETE", "/api/v1/sessions/" + id, null).statusCode());
        HttpResponse<String> gone = call("GET", "/api/v1/sessions/" + id, null);
        assertEquals(404, gone.statusCode());
        assertEquals("SESSION_UNKNOWN", body(gone).path("code").asText());
    }

    @Test
    void badInput() throws Exception {
        String id = body(call("POST", "/api/v1/sessions", null)).path("session").asText();
        String reg = "/api/v1/sessions/" + id + "/registration";
        HttpResponse<String> notJson = call("PUT", reg, "{dn:");
        assertEquals(400, notJson.statusCode(), notJson.body());
        assertEquals("BAD_JSON", body(notJson).path("code").asText());
        assertEquals("BAD_REQUEST", body(call("PUT", reg, "{}")).path("code").asText());
        assertEquals("BAD_REQUEST", body(call("PUT", reg, "[1]")).path("code").asText());
        assertEquals("BAD_REQUEST", body(call("PUT", reg, "{\"dn\": 5}")).path("code").asText());
        assertEquals("INVALID_DN", body(call("PUT", reg, "{\"dn\": \"a b\"}")).path("code").asText());
        assertEquals(404, call("GET", "/api/v1/sessions/nosuch.restit", null).statusCode());
        assertEquals(404, call("GET", "/api/v1/nothing-here", null).statusCode());
        assertEquals(405, call("PATCH", "/api/v1/sessions/" + id, "{}").statusCode());
        // the session survived all of it
        assertEquals(200, call("PUT", reg, "{\"dn\": \"6010\"}").statusCode());
        assertEquals(200, call("DELETE", "/api/v1/sessions/" + id, null).statusCode());
    }

    @Test
    void instanceAndOpenApi() throws Exception {
        JsonNode instance = body(call("GET", "/api/v1/instance", null));
        assertEquals("restit", instance.path("instance").asText());
        assertTrue(instance.path("ready").asBoolean(), instance.toString());
        HttpResponse<String> openapi = call("GET", "/api/openapi.yaml", null);
        assertEquals(200, openapi.statusCode());
        assertTrue(openapi.body().contains("/sessions/{id}/registration"));
        HttpResponse<String> ready = call("GET", "/health/ready", null);
        assertEquals(200, ready.statusCode(), ready.body());
        assertEquals(200, call("GET", "/health/live", null).statusCode());
    }
}
