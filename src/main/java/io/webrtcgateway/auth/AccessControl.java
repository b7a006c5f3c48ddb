package io.webrtcgateway.auth;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.webrtcgateway.config.GatewayConfig;
import io.webrtcgateway.error.ErrorCode;
import io.webrtcgateway.error.GatewayException;
import java.time.Clock;
import java.time.Instant;
import java.util.List;

/**
 * Who may do what (docs/configuration.md, "Tokens" and "Who may call what"): which token a sign-in needs, which DN
 * a session may register, which destinations it may call. The edges and the session and call services ask here,
 * so the rules are the same on the WebSocket, REST and legacy edges. Every refusal is counted,
 * {@code gateway_auth_refusals_total{code}}.
 */
public final class AccessControl {
    private final GatewayConfig.Auth config;
    private final GatewayConfig.DialPlan dialPlan;
    private final TokenVerifier verifier;
    private final Clock clock;
    private final MeterRegistry meters;

    public AccessControl(GatewayConfig.Auth config, GatewayConfig.DialPlan dialPlan, Clock clock, MeterRegistry meters) {
        this.config = config;
        this.dialPlan = dialPlan;
        this.clock = clock;
        this.meters = meters;
        this.verifier = config.token().hasKeys() ? new TokenVerifier(config.token(), clock) : null;
        for (ErrorCode code : List.of(ErrorCode.AUTH_REQUIRED, ErrorCode.AUTH_INVALID, ErrorCode.FORBIDDEN_DN,
                ErrorCode.DN_IN_USE, ErrorCode.NOT_REGISTERED, ErrorCode.FORBIDDEN_DESTINATION)) {
            counter(code); // present at 0, so a dashboard sees the series before the first refusal
        }
    }

    public boolean tokensRequired() {
        return config.tokens();
    }

    /**
     * What a new session may do: in token mode the token must be there and valid; in none mode any token is
     * ignored (an app may send one before the operator turns token mode on).
     */
    public Grant signIn(String token) {
        if (!config.tokens()) {
            return Grant.UNRESTRICTED;
        }
        if (token == null || token.isBlank()) {
            throw refuse(ErrorCode.AUTH_REQUIRED, "this gateway requires a token (gateway.auth.mode = token)");
        }
        return verify(token);
    }

    /**
     * A fresh token for a session (WebSocket {@code auth}, a REST Bearer, a legacy /t/ path): it must be valid
     * and, when the session's token named a DN, name the same one.
     */
    public Grant refresh(Grant current, String token) {
        if (!config.tokens()) {
            return current;
        }
        if (token == null || token.isBlank()) {
            throw refuse(ErrorCode.AUTH_REQUIRED, "'token' is required");
        }
        Grant fresh = verify(token);
        if (!java.util.Objects.equals(fresh.dn(), current.dn())) {
            throw refuse(ErrorCode.FORBIDDEN_DN, "the new token is for " + describeDn(fresh.dn())
                    + ", this session's for " + describeDn(current.dn()));
        }
        return fresh;
    }

    private Grant verify(String token) {
        try {
            return verifier.verify(token);
        } catch (GatewayException e) {
            counter(e.code()).increment();
            throw e;
        }
    }

    /** Whether the session's token ran out (never in none mode). */
    public boolean expired(Grant grant) {
        return grant.expired(now(), config.token().clockSkew());
    }

    /** A session may register only its token's DN, and only while its token is valid. */
    public void checkRegister(Grant grant, String dn) {
        if (!config.tokens()) {
            return;
        }
        checkNotExpired(grant);
        if (!dn.equals(grant.dn())) {
            throw refuse(ErrorCode.FORBIDDEN_DN, "this session's token allows " + describeDn(grant.dn())
                    + ", not DN " + dn);
        }
    }

    /**
     * A session may take a DN that another session of this instance holds: in token mode always (its token for
     * the DN is the proof), in none mode only with gateway.auth.dn-takeover = allow.
     */
    public void checkTakeover(String dn) {
        if (!config.tokens() && !config.dnTakeover()) {
            throw refuse(ErrorCode.DN_IN_USE, "DN " + dn + " is registered by another session of this gateway"
                    + " (gateway.auth.dn-takeover = deny)");
        }
    }

    /**
     * Whether a session may call {@code to}: {@code registeredDn} null for a session without a registered DN
     * (anonymous). NOT_REGISTERED when an anonymous session may call nothing at all, FORBIDDEN_DESTINATION when
     * this destination is not among what it may call.
     */
    public void checkDestination(Grant grant, String registeredDn, String to) {
        if (config.tokens()) {
            checkNotExpired(grant);
        }
        if (registeredDn == null) {
            if (dialPlan.anonymous().isEmpty()) {
                throw refuse(ErrorCode.NOT_REGISTERED, "register a DN first: this gateway takes no calls from sessions"
                        + " without one (gateway.calls.anonymous-dial-plan is empty)");
            }
            if (config.tokens() && grant.dn() != null) {
                throw refuse(ErrorCode.NOT_REGISTERED, "register " + grant.dn() + " first: a token with a DN calls as that DN");
            }
            if (config.tokens() && grant.dial() == null) {
                throw refuse(ErrorCode.FORBIDDEN_DESTINATION, "an anonymous session's token must name what it may call"
                        + " (dial claim)");
            }
            if (!DestinationPattern.anyMatches(dialPlan.anonymous(), to)) {
                throw refuse(ErrorCode.FORBIDDEN_DESTINATION, "anonymous sessions may not call " + to
                        + " (gateway.calls.anonymous-dial-plan)");
            }
        }
        if (DestinationPattern.anyMatches(dialPlan.deny(), to) || !DestinationPattern.anyMatches(dialPlan.allow(), to)) {
            throw refuse(ErrorCode.FORBIDDEN_DESTINATION, "calls to " + to + " are not allowed (gateway.calls.dial-plan)");
        }
        if (grant.dial() != null && !DestinationPattern.anyMatches(grant.dial(), to)) {
            throw refuse(ErrorCode.FORBIDDEN_DESTINATION, "this session's token does not allow calls to " + to
                    + " (dial claim)");
        }
    }

    private void checkNotExpired(Grant grant) {
        if (expired(grant)) {
            throw refuse(ErrorCode.AUTH_INVALID, "token refused: expired at " + grant.expiresAt()
                    + "; present a fresh one (WebSocket 'auth')");
        }
    }

    private Instant now() {
        return clock.instant();
    }

    /** Counts the refusal and returns it to throw. */
    public GatewayException refuse(ErrorCode code, String message) {
        counter(code).increment();
        return new GatewayException(code, message);
    }

    private Counter counter(ErrorCode code) {
        return Counter.builder("gateway.auth.refusals")
                .description("requests refused by authentication, DN ownership or the dial plan, by error code")
                .tag("code", code.name())
                .register(meters);
    }

    private static String describeDn(String dn) {
        return dn == null ? "no DN" : "DN " + dn;
    }
}
