package io.webrtcgateway.admin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.webrtcgateway.config.Cidr;
import io.webrtcgateway.config.GatewayConfig;
import io.webrtcgateway.edge.http.ClientAddress;
import jakarta.servlet.http.Cookie;
import jakarta.servlet.http.HttpServletRequest;
import java.lang.reflect.Proxy;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionException;
import org.junit.jupiter.api.Test;

/**
 * Authentication and the CSRF and Origin rules of the admin API (docs/admin.md), on requests faked
 * through a dynamic proxy of {@link HttpServletRequest}.
 */
class AdminAccessTest {
    private static final String SECRET = "cluster-secret-0123456789";
    private static final String HASH = PasswordHash.create("op-secret".toCharArray(), 10_000).toString();
    private final ConsoleLogins logins = new ConsoleLogins(Duration.ofHours(8));
    private final AdminAccess access = new AdminAccess(authenticator(), logins, new ClusterSignature(SECRET),
            new ClientAddress(List.of()));

    /** Hashing on the calling thread: every check is complete when authorize returns. */
    private static AdminAuthenticator authenticator() {
        return new AdminAuthenticator(new GatewayConfig.Admin("ops", HASH), Runnable::run,
                new LoginThrottle(GatewayConfig.LoginThrottle.DEFAULTS, System::nanoTime), new SimpleMeterRegistry());
    }

    /** Who the request is, or the AdminException it is refused with. */
    private static AdminAudit.Actor authorize(AdminAccess access, Fake request) {
        try {
            return access.authorize(request.build()).join();
        } catch (CompletionException e) {
            throw e.getCause() instanceof AdminException a ? a : e;
        }
    }

    /** A request to gw.example.com:8086; headers by name (case-insensitive), "Cookie" as GWADMIN's value. */
    private static final class Fake {
        String method = "GET";
        String uri = "/admin/api/sessions";
        String query;
        String cookie;
        final Map<String, String> headers = new LinkedHashMap<>();

        Fake method(String m) {
            method = m;
            return this;
        }

        Fake header(String name, String value) {
            headers.put(name.toLowerCase(), value);
            return this;
        }

        Fake cookie(String value) {
            cookie = value;
            return this;
        }

        HttpServletRequest build() {
            headers.putIfAbsent("host", "gw.example.com:8086");
            return (HttpServletRequest) Proxy.newProxyInstance(getClass().getClassLoader(),
                    new Class<?>[] {HttpServletRequest.class}, (proxy, m, args) -> switch (m.getName()) {
                        case "getMethod" -> method;
                        case "getRequestURI" -> uri;
                        case "getQueryString" -> query;
                        case "getRemoteAddr" -> "192.0.2.7";
                        case "getHeader" -> headers.get(((String) args[0]).toLowerCase());
                        case "getHeaders" -> Collections.enumeration(headers.containsKey(((String) args[0]).toLowerCase())
                                ? List.of(headers.get(((String) args[0]).toLowerCase())) : List.<String>of());
                        case "getCookies" -> cookie == null ? null : new Cookie[] {new Cookie("GWADMIN", cookie)};
                        case "toString" -> method + " " + uri;
                        default -> throw new UnsupportedOperationException(m.getName());
                    });
        }
    }

    private static String basic(String userColonPassword) {
        return "Basic " + Base64.getEncoder().encodeToString(userColonPassword.getBytes(StandardCharsets.UTF_8));
    }

    private AdminException refused(Fake request) {
        return assertThrows(AdminException.class, () -> authorize(access, request));
    }

    @Test
    void noCredentialsOrWrongOnesAre401() {
        assertEquals(401, refused(new Fake()).status());
        assertEquals(401, refused(new Fake().header("Authorization", basic("ops:wrong"))).status());
        assertEquals(401, refused(new Fake().header("Authorization", basic("root:op-secret"))).status());
        assertEquals(401, refused(new Fake().header("Authorization", "Basic !!!")).status());
        assertEquals(401, refused(new Fake().header("Authorization", "Bearer x")).status());
        assertEquals(401, refused(new Fake().cookie("not-a-login")).status());
        assertEquals("UNAUTHORIZED", refused(new Fake()).code());
    }

    @Test
    void basicReadsFreelyAndChangesWithTheCustomHeader() {
        assertEquals("basic", authorize(access, new Fake().header("Authorization", basic("ops:op-secret"))).via());
        AdminException e = refused(new Fake().method("POST").header("Authorization", basic("ops:op-secret")));
        assertEquals(403, e.status());
        assertEquals("CSRF_HEADER_MISSING", e.code());
        AdminAudit.Actor who = authorize(access, new Fake().method("DELETE").header("Authorization", basic("ops:op-secret"))
                .header("X-Requested-With", "curl"));
        assertEquals("ops", who.user());
        assertEquals("192.0.2.7", who.address());
    }

    @Test
    void theAuditedAddressBelievesXForwardedForOnlyFromATrustedProxy() {
        Fake forged = new Fake().header("Authorization", basic("ops:op-secret")).header("X-Forwarded-For", "203.0.113.9");
        assertEquals("192.0.2.7", authorize(access, forged).address(), "the peer 192.0.2.7 is no proxy of ours");
        AdminAccess behindProxy = new AdminAccess(authenticator(), logins, null,
                new ClientAddress(List.of(Cidr.parse("192.0.2.0/24"))));
        assertEquals("203.0.113.9", authorize(behindProxy, forged).address());
    }

    @Test
    void theCookieNeedsItsCsrfTokenToChangeAnything() {
        ConsoleLogins.Created login = logins.create("ops", System.nanoTime());
        assertEquals("cookie", authorize(access, new Fake().cookie(login.cookie())).via());
        AdminException none = refused(new Fake().method("POST").cookie(login.cookie()));
        assertEquals(403, none.status());
        assertEquals("CSRF_TOKEN_INVALID", none.code());
        // X-Requested-With is not enough with a cookie: a cookie login proves nothing a foreign page can't have.
        assertEquals("CSRF_TOKEN_INVALID", refused(new Fake().method("POST").cookie(login.cookie())
                .header("X-Requested-With", "XMLHttpRequest")).code());
        assertEquals("CSRF_TOKEN_INVALID", refused(new Fake().method("POST").cookie(login.cookie())
                .header("X-CSRF-Token", "guess")).code());
        ConsoleLogins.Created other = logins.create("ops", System.nanoTime());
        assertEquals("CSRF_TOKEN_INVALID", refused(new Fake().method("POST").cookie(login.cookie())
                .header("X-CSRF-Token", other.login().csrfToken())).code(), "another login's token");
        assertEquals("cookie", authorize(access, new Fake().method("POST").cookie(login.cookie())
                .header("X-CSRF-Token", login.login().csrfToken())).via());
    }

    @Test
    void aForeignOriginIsRefusedEvenWithGoodCredentials() {
        ConsoleLogins.Created login = logins.create("ops", System.nanoTime());
        AdminException e = refused(new Fake().method("POST").cookie(login.cookie())
                .header("X-CSRF-Token", login.login().csrfToken()).header("Origin", "https://evil.example"));
        assertEquals(403, e.status());
        assertEquals("FORBIDDEN_ORIGIN", e.code());
        assertEquals("FORBIDDEN_ORIGIN", refused(new Fake().header("Authorization", basic("ops:op-secret"))
                .header("Origin", "http://gw.example.com:9999")).code());
        assertEquals("cookie", authorize(access, new Fake().method("POST").cookie(login.cookie())
                .header("X-CSRF-Token", login.login().csrfToken()).header("Origin", "http://gw.example.com:8086"))
                .via(), "the gateway's own origin passes");
    }

    @Test
    void peersAuthenticateWithTheClusterSignatureOnly() {
        ClusterSignature.Signed s = new ClusterSignature(SECRET).sign("POST", "/admin/api/drain", "gw2", "ops",
                System.currentTimeMillis() / 1000);
        Fake signed = new Fake().method("POST").header(ClusterSignature.PEER_HEADER, s.peer())
                .header(ClusterSignature.USER_HEADER, s.user()).header(ClusterSignature.TIME_HEADER, String.valueOf(s.time()))
                .header(ClusterSignature.NONCE_HEADER, s.nonce()).header(ClusterSignature.SIGNATURE_HEADER, s.signature());
        signed.uri = "/admin/api/drain";
        AdminAudit.Actor who = authorize(access, signed);
        assertEquals("peer:gw2", who.via());
        assertEquals("ops", who.user());
        assertEquals(401, refused(signed).status(), "replayed");

        Fake forged = new Fake().header(ClusterSignature.PEER_HEADER, "gw2").header(ClusterSignature.USER_HEADER, "ops")
                .header(ClusterSignature.TIME_HEADER, String.valueOf(System.currentTimeMillis() / 1000))
                .header(ClusterSignature.NONCE_HEADER, "00112233445566778899aabbccddeeff")
                .header(ClusterSignature.SIGNATURE_HEADER, "AAAA")
                .header("Authorization", basic("ops:op-secret"));
        assertEquals(401, refused(forged).status(), "a bad signature is not rescued by other credentials");

        AdminAccess noSecret = new AdminAccess(authenticator(), logins, null, new ClientAddress(List.of()));
        ClusterSignature.Signed t = new ClusterSignature(SECRET).sign("GET", "/admin/api/sessions", "gw2", "ops",
                System.currentTimeMillis() / 1000);
        Fake peer = new Fake().header(ClusterSignature.PEER_HEADER, t.peer()).header(ClusterSignature.USER_HEADER, t.user())
                .header(ClusterSignature.TIME_HEADER, String.valueOf(t.time())).header(ClusterSignature.NONCE_HEADER, t.nonce())
                .header(ClusterSignature.SIGNATURE_HEADER, t.signature());
        assertThrows(AdminException.class, () -> authorize(noSecret, peer), "no secret: no peers");
    }

    @Test
    void theBasicChallengeIsNotSentToTheConsole() {
        assertTrue(AdminAccess.wantsBasicChallenge(new Fake().build(), "/sessions"));
        assertFalse(AdminAccess.wantsBasicChallenge(new Fake().build(), "/me"));
        assertFalse(AdminAccess.wantsBasicChallenge(new Fake().build(), "/login"));
        assertFalse(AdminAccess.wantsBasicChallenge(new Fake().cookie("expired").build(), "/sessions"));
        assertFalse(AdminAccess.wantsBasicChallenge(new Fake().header("X-CSRF-Token", "t").build(), "/sessions"));
    }
}
