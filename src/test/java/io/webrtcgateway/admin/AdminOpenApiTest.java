package io.webrtcgateway.admin;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The OpenAPI file documents every admin endpoint that AdminApiServlet routes (docs/admin.md). */
class AdminOpenApiTest {

    @Test
    void everyAdminEndpointIsDocumented() throws Exception {
        String yaml = Files.readString(Path.of("src/main/webapp/api/openapi.yaml"));
        for (String path : List.of("login", "logout", "me", "instance", "cluster", "drain", "instances/{instance}/drain",
                "sessions", "registrations", "calls", "failures", "call-records", "calls/{call}", "calls/{call}/hangup",
                "sessions/{session}/sign-out")) {
            assertTrue(yaml.contains("\n  /admin/api/" + path + ":\n    servers: [{url: /}]\n"), path);
        }
        for (String code : List.of("BAD_REQUEST", "UNAUTHORIZED", "CSRF_TOKEN_INVALID", "CSRF_HEADER_MISSING",
                "FORBIDDEN_ORIGIN", "NOT_FOUND", "METHOD_NOT_ALLOWED", "PEER_UNREACHABLE", "TOO_MANY_ATTEMPTS", "BUSY")) {
            assertTrue(yaml.contains(code), code);
        }
        assertTrue(yaml.contains("        logId: {type: string"), "the session view's logId");
        assertTrue(yaml.contains("    AdminCallRecord:\n"), "the call record's schema");
    }
}
