package io.webrtcgateway.auth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.webrtcgateway.config.GatewayConfig;
import io.webrtcgateway.error.ErrorCode;
import io.webrtcgateway.error.GatewayException;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

class AccessControlTest {
    private static final String SECRET = TokenVerifierTest.SECRET;
    private final MutableClock clock = new MutableClock(TokenVerifierTest.NOW);
    private final SimpleMeterRegistry meters = new SimpleMeterRegistry();

    private AccessControl access(GatewayConfig.AuthMode mode, boolean takeover, GatewayConfig.DialPlan plan) {
        var token = new GatewayConfig.Token(List.of(SECRET), "", "", "", Duration.ZERO, Duration.ofSeconds(30));
        return new AccessControl(new GatewayConfig.Auth(mode, takeover, token), plan, clock, meters);
    }

    private static GatewayConfig.DialPlan plan(List<String> allow, List<String> deny, List<String> anonymous) {
        return new GatewayConfig.DialPlan(allow, deny, anonymous);
    }

    private static final GatewayConfig.DialPlan DEFAULT_PLAN = plan(List.of("*"), List.of(), List.of());

    private String token(String sub, Duration ttl, List<String> dial) {
        return TestTokens.hs256(SECRET, sub, clock.instant().plus(ttl), b -> {
            if (dial != null) {
                b.claim("dial", dial);
            }
        });
    }

    private ErrorCode refused(Executable e) {
        return assertThrows(GatewayException.class, e).code();
    }

    private double refusals(ErrorCode code) {
        return meters.get("gateway.auth.refusals").tag("code", code.name()).counter().count();
    }

    @Test
    void noneModeIgnoresTokens() {
        AccessControl a = access(GatewayConfig.AuthMode.NONE, false, DEFAULT_PLAN);
        assertSame(Grant.UNRESTRICTED, a.signIn(null));
        assertSame(Grant.UNRESTRICTED, a.signIn("garbage"));
        a.checkRegister(Grant.UNRESTRICTED, "1001");
        assertEquals(ErrorCode.DN_IN_USE, refused(() -> a.checkTakeover("1001")));
        access(GatewayConfig.AuthMode.NONE, true, DEFAULT_PLAN).checkTakeover("1001");
    }

    @Test
    void tokenModeNeedsAValidTokenForTheDn() {
        AccessControl a = access(GatewayConfig.AuthMode.TOKEN, false, DEFAULT_PLAN);
        assertEquals(ErrorCode.AUTH_REQUIRED, refused(() -> a.signIn(null)));
        assertEquals(ErrorCode.AUTH_INVALID, refused(() -> a.signIn("forged")));
        Grant g = a.signIn(token("1001", Duration.ofHours(1), null));
        a.checkRegister(g, "1001");
        assertEquals(ErrorCode.FORBIDDEN_DN, refused(() -> a.checkRegister(g, "1002")));
        Grant anon = a.signIn(token(null, Duration.ofHours(1), List.of("5000")));
        assertEquals(ErrorCode.FORBIDDEN_DN, refused(() -> a.checkRegister(anon, "1001")));
        a.checkTakeover("1001"); // the token is the proof
        assertEquals(1, refusals(ErrorCode.AUTH_REQUIRED));
        assertEquals(1, refusals(ErrorCode.AUTH_INVALID));
        assertEquals(2, refusals(ErrorCode.FORBIDDEN_DN));
    }

    @Test
    void refreshKeepsTheDnAndExtendsTheGrant() {
        AccessControl a = access(GatewayConfig.AuthMode.TOKEN, false, DEFAULT_PLAN);
        Grant g = a.signIn(token("1001", Duration.ofMinutes(1), null));
        clock.advance(Duration.ofMinutes(2));
        assertTrue(a.expired(g));
        assertEquals(ErrorCode.AUTH_INVALID, refused(() -> a.checkRegister(g, "1001")));
        assertEquals(ErrorCode.AUTH_INVALID, refused(() -> a.checkDestination(g, "1001", "5000")));
        assertEquals(ErrorCode.FORBIDDEN_DN, refused(() -> a.refresh(g, token("1002", Duration.ofHours(1), null))));
        Grant fresh = a.refresh(g, token("1001", Duration.ofHours(1), null));
        assertTrue(!a.expired(fresh));
        a.checkDestination(fresh, "1001", "5000");
    }

    @Test
    void dialPlanAllowDenyAndTokenNarrowing() {
        AccessControl a = access(GatewayConfig.AuthMode.TOKEN, false, plan(List.of("5xxx", "9999", "+*"), List.of("+1900*"), List.of()));
        Grant g = a.signIn(token("1001", Duration.ofHours(1), null));
        a.checkDestination(g, "1001", "5123");
        a.checkDestination(g, "1001", "+4420");
        assertEquals(ErrorCode.FORBIDDEN_DESTINATION, refused(() -> a.checkDestination(g, "1001", "+19005551234")));
        assertEquals(ErrorCode.FORBIDDEN_DESTINATION, refused(() -> a.checkDestination(g, "1001", "6000")));
        Grant narrow = a.signIn(token("1001", Duration.ofHours(1), List.of("5000")));
        a.checkDestination(narrow, "1001", "5000");
        assertEquals(ErrorCode.FORBIDDEN_DESTINATION, refused(() -> a.checkDestination(narrow, "1001", "5001")));
        // A token cannot widen the plan.
        Grant wide = a.signIn(token("1001", Duration.ofHours(1), List.of("*")));
        assertEquals(ErrorCode.FORBIDDEN_DESTINATION, refused(() -> a.checkDestination(wide, "1001", "6000")));
    }

    @Test
    void anonymousSessions() {
        AccessControl closed = access(GatewayConfig.AuthMode.NONE, false, DEFAULT_PLAN);
        assertEquals(ErrorCode.NOT_REGISTERED, refused(() -> closed.checkDestination(Grant.UNRESTRICTED, null, "5000")));

        AccessControl open = access(GatewayConfig.AuthMode.NONE, false, plan(List.of("*"), List.of(), List.of("800x")));
        open.checkDestination(Grant.UNRESTRICTED, null, "8001");
        assertEquals(ErrorCode.FORBIDDEN_DESTINATION, refused(() -> open.checkDestination(Grant.UNRESTRICTED, null, "5000")));

        AccessControl tokens = access(GatewayConfig.AuthMode.TOKEN, false, plan(List.of("*"), List.of(), List.of("800x")));
        Grant site = tokens.signIn(token(null, Duration.ofHours(1), List.of("8001")));
        tokens.checkDestination(site, null, "8001");
        assertEquals(ErrorCode.FORBIDDEN_DESTINATION, refused(() -> tokens.checkDestination(site, null, "8002")));
        Grant noDial = tokens.signIn(token(null, Duration.ofHours(1), null));
        assertEquals(ErrorCode.FORBIDDEN_DESTINATION, refused(() -> tokens.checkDestination(noDial, null, "8001")));
        Grant agent = tokens.signIn(token("1001", Duration.ofHours(1), null));
        assertEquals(ErrorCode.NOT_REGISTERED, refused(() -> tokens.checkDestination(agent, null, "8001")));
    }
}
