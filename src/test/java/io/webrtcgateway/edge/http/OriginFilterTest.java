package io.webrtcgateway.edge.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.webrtcgateway.config.GatewayConfig;
import jakarta.servlet.ServletOutputStream;
import jakarta.servlet.WriteListener;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.ByteArrayOutputStream;
import java.lang.reflect.Proxy;
import java.nio.charset.StandardCharsets;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The filter's order and answers, on requests and responses faked through dynamic proxies. */
class OriginFilterTest {
    private static final String APP = "https://agent.example.com";
    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private final OriginFilter filter = new OriginFilter(new GatewayConfig.Cors(List.of(APP)),
            new AllowedHosts(List.of("gw.example.com")), new ClientAddress(List.of()), registry);

    /** What the filter did: passed the request on, or answered it. */
    private static final class Exchange {
        final Map<String, String> requestHeaders = new LinkedHashMap<>();
        String method = "GET";
        String servletPath;
        String pathInfo;
        boolean passed;
        int status = 200;
        String contentType;
        final Map<String, String> responseHeaders = new LinkedHashMap<>();
        final ByteArrayOutputStream body = new ByteArrayOutputStream();

        Exchange(String servletPath, String pathInfo) {
            this.servletPath = servletPath;
            this.pathInfo = pathInfo;
            requestHeaders.put("host", "gw.example.com");
        }

        Exchange header(String name, String value) {
            if (value == null) {
                requestHeaders.remove(name.toLowerCase());
            } else {
                requestHeaders.put(name.toLowerCase(), value);
            }
            return this;
        }

        Exchange method(String m) {
            method = m;
            return this;
        }

        String body() {
            return body.toString(StandardCharsets.UTF_8);
        }

        HttpServletRequest request() {
            return (HttpServletRequest) Proxy.newProxyInstance(getClass().getClassLoader(),
                    new Class<?>[] {HttpServletRequest.class}, (proxy, m, args) -> switch (m.getName()) {
                        case "getMethod" -> method;
                        case "getServletPath" -> servletPath;
                        case "getPathInfo" -> pathInfo;
                        case "getRequestURI" -> servletPath + (pathInfo == null ? "" : pathInfo);
                        case "getRemoteAddr" -> "192.0.2.7";
                        case "getHeader" -> requestHeaders.get(((String) args[0]).toLowerCase());
                        case "getHeaders" -> Collections.enumeration(requestHeaders.containsKey(((String) args[0]).toLowerCase())
                                ? List.of(requestHeaders.get(((String) args[0]).toLowerCase())) : List.<String>of());
                        case "toString" -> method + " " + servletPath;
                        default -> throw new UnsupportedOperationException(m.getName());
                    });
        }

        HttpServletResponse response() {
            ServletOutputStream out = new ServletOutputStream() {
                @Override
                public boolean isReady() {
                    return true;
                }

                @Override
                public void setWriteListener(WriteListener listener) {}

                @Override
                public void write(int b) {
                    body.write(b);
                }
            };
            return (HttpServletResponse) Proxy.newProxyInstance(getClass().getClassLoader(),
                    new Class<?>[] {HttpServletResponse.class}, (proxy, m, args) -> switch (m.getName()) {
                        case "setStatus" -> {
                            status = (Integer) args[0];
                            yield null;
                        }
                        case "sendError" -> {
                            status = (Integer) args[0];
                            yield null;
                        }
                        case "setContentType" -> {
                            contentType = (String) args[0];
                            yield null;
                        }
                        case "setHeader", "addHeader" -> {
                            responseHeaders.merge((String) args[0], (String) args[1], (a, b) -> a + ", " + b);
                            yield null;
                        }
                        case "setContentLength" -> null;
                        case "getOutputStream" -> out;
                        default -> throw new UnsupportedOperationException(m.getName());
                    });
        }
    }

    private Exchange run(Exchange e) throws Exception {
        filter.doFilter(e.request(), e.response(), (req, resp) -> e.passed = true);
        return e;
    }

    private double refusals(String reason) {
        return registry.get("gateway.http.refusals").tag("reason", reason).counter().count();
    }

    @Test
    void aForeignHostIsRefusedOnEveryPathInTheEdgesErrorBody() throws Exception {
        Exchange health = run(new Exchange("/health/ready", null).header("Host", "evil.example:8086"));
        assertFalse(health.passed);
        assertEquals(421, health.status);
        assertEquals("application/json", health.contentType);
        assertTrue(health.body().startsWith("{\"code\":\"FORBIDDEN_HOST\",\"message\":"), health.body());
        assertTrue(health.body().contains("'evil.example:8086'"), health.body());

        Exchange legacy = run(new Exchange("/sign_in", null).header("Host", "evil.example"));
        assertEquals(421, legacy.status);
        assertEquals("text/plain;charset=utf-8", legacy.contentType);
        assertTrue(legacy.body().startsWith("RSMP {\"messageType\":\"ERROR\",\"errorType\":\"FORBIDDEN_HOST\""), legacy.body());

        Exchange ws = run(new Exchange("/ws", null).header("Host", "evil.example").header("Upgrade", "websocket"));
        assertEquals(421, ws.status);
        Exchange noHost = run(new Exchange("/metrics", null).header("Host", null));
        assertEquals(421, noHost.status);
        assertTrue(noHost.body().contains("without a Host header"), noHost.body());
        assertEquals(4.0, refusals("host"));
        assertEquals(0.0, refusals("cross-site"));
    }

    @Test
    void theHostCheckComesFirst() throws Exception {
        Exchange e = run(new Exchange("/sign_in", null).header("Host", "evil.example").header("Sec-Fetch-Site", "cross-site"));
        assertEquals(421, e.status);
        assertEquals(1.0, refusals("host"));
        assertEquals(0.0, refusals("cross-site"));
    }

    @Test
    void aCrossSiteSignInWithoutAnAllowedOriginIsRefused() throws Exception {
        Exchange img = run(new Exchange("/sign_in", null).header("Sec-Fetch-Site", "cross-site"));
        assertFalse(img.passed);
        assertEquals(403, img.status);
        assertTrue(img.body().startsWith("RSMP {\"messageType\":\"ERROR\",\"errorType\":\"FORBIDDEN_ORIGIN\""), img.body());

        Exchange rest = run(new Exchange("/api/v1", "/sessions").method("POST").header("Sec-Fetch-Site", "cross-site")
                .header("Origin", "https://evil.example"));
        assertEquals(403, rest.status);
        assertTrue(rest.body().startsWith("{\"code\":\"FORBIDDEN_ORIGIN\""), rest.body());
        assertNull(rest.responseHeaders.get("Access-Control-Allow-Origin"));

        Exchange token = run(new Exchange("/t", "/tok/sign_in").header("Sec-Fetch-Site", "cross-site"));
        assertEquals(403, token.status);
        Exchange message = run(new Exchange("/message", null).method("POST").header("Sec-Fetch-Site", "cross-site"));
        assertEquals(403, message.status);
        assertEquals(4.0, refusals("cross-site"));
    }

    @Test
    void anAllowedOriginSignsInCrossSiteWithItsCorsGrant() throws Exception {
        Exchange e = run(new Exchange("/sign_in", null).method("POST").header("Sec-Fetch-Site", "cross-site")
                .header("Origin", APP));
        assertTrue(e.passed);
        assertEquals(APP, e.responseHeaders.get("Access-Control-Allow-Origin"));
        assertEquals("true", e.responseHeaders.get("Access-Control-Allow-Credentials"));
        assertEquals(0.0, refusals("cross-site"));
    }

    @Test
    void sameSiteRequestsAndOtherPathsPass() throws Exception {
        assertTrue(run(new Exchange("/sign_in", null).header("Sec-Fetch-Site", "same-origin")).passed);
        assertTrue(run(new Exchange("/sign_in", null)).passed, "curl, or a browser without Fetch Metadata");
        assertTrue(run(new Exchange("/sign_in", null).header("Host", "127.0.0.1:8086")).passed);
        assertTrue(run(new Exchange("/wait", null).header("Sec-Fetch-Site", "cross-site")).passed);
        assertTrue(run(new Exchange("/demo/", null).header("Sec-Fetch-Site", "cross-site")).passed);
        assertTrue(run(new Exchange("/ws", null).header("Upgrade", "websocket").header("Origin", "http://gw.example.com")
                .header("Sec-Fetch-Site", "same-origin")).passed);
        assertEquals(0.0, refusals("cross-site") + refusals("host"));
    }

    @Test
    void aWebSocketUpgradeFromAForeignOriginIsRefused() throws Exception {
        Exchange e = run(new Exchange("/ws", null).header("Upgrade", "websocket").header("Origin", "http://evil.example"));
        assertFalse(e.passed);
        assertEquals(403, e.status);
        assertTrue(e.body().startsWith("{\"code\":\"FORBIDDEN_ORIGIN\""), e.body());
        assertEquals(1.0, refusals("cross-site"));
    }

    @Test
    void adminPathsNeverGetACorsGrant() throws Exception {
        Exchange e = run(new Exchange("/admin/api", "/sessions").header("Origin", APP));
        assertTrue(e.passed);
        assertNull(e.responseHeaders.get("Access-Control-Allow-Origin"));
    }
}
