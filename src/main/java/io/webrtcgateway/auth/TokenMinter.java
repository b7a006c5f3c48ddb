package io.webrtcgateway.auth;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import io.webrtcgateway.config.GatewayConfig;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Date;
import java.util.List;

/**
 * Makes HS256 tokens with the first of {@code gateway.auth.token.hmac-secrets}: the standalone jar's
 * {@code token} command, for tests and demos. A customer's own backend mints them the same way
 * (docs/configuration.md, "Tokens").
 */
public final class TokenMinter {
    private static final SecureRandom RANDOM = new SecureRandom();

    private final GatewayConfig.Token config;

    public TokenMinter(GatewayConfig.Token config) {
        if (config.hmacSecrets().isEmpty()) {
            throw new IllegalArgumentException("no gateway.auth.token.hmac-secrets configured to sign with");
        }
        this.config = config;
    }

    /**
     * @param dn   the DN the holder may register ({@code sub}); null for an anonymous token
     * @param dial destination patterns ({@code dial}); null for none
     */
    public String mint(String dn, List<String> dial, Duration ttl, Instant now) {
        JWTClaimsSet.Builder claims = new JWTClaimsSet.Builder()
                .issueTime(Date.from(now))
                .expirationTime(Date.from(now.plus(ttl)))
                .jwtID(randomId());
        if (dn != null) {
            claims.subject(dn);
        }
        if (dial != null) {
            claims.claim("dial", List.copyOf(dial));
        }
        if (!config.issuer().isEmpty()) {
            claims.issuer(config.issuer());
        }
        if (!config.audience().isEmpty()) {
            claims.audience(config.audience());
        }
        SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.HS256).type(com.nimbusds.jose.JOSEObjectType.JWT)
                .build(), claims.build());
        try {
            jwt.sign(new MACSigner(config.hmacSecrets().get(0).getBytes(StandardCharsets.UTF_8)));
        } catch (JOSEException e) {
            throw new IllegalStateException("cannot sign: " + e.getMessage(), e);
        }
        return jwt.serialize();
    }

    private static String randomId() {
        byte[] b = new byte[12];
        RANDOM.nextBytes(b);
        return Base64.getUrlEncoder().withoutPadding().encodeToString(b);
    }
}
