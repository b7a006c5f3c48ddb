package io.webrtcgateway.auth;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.JWSVerifier;
import com.nimbusds.jose.crypto.ECDSAVerifier;
import com.nimbusds.jose.crypto.MACVerifier;
import com.nimbusds.jose.crypto.RSASSAVerifier;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.OctetKeyPair;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import io.webrtcgateway.config.GatewayConfig;
import io.webrtcgateway.error.ErrorCode;
import io.webrtcgateway.error.GatewayException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.text.ParseException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.Set;

/**
 * Verifies browser tokens (JWT, RFC 7519; JWS, RFC 7515) with nimbus-jose-jwt: HS256/384/512 against every
 * configured secret (rotation), RS256/ES256/EdDSA against the JWKS file, then the claims. Every refusal is an
 * {@code AUTH_INVALID} whose message says which check failed, never echoing the token.
 */
public final class TokenVerifier {
    /** Longer than any sane JWT; parsing is not attempted beyond it. */
    public static final int MAX_TOKEN_LENGTH = 8192;
    private static final Set<JWSAlgorithm> HMAC = Set.of(JWSAlgorithm.HS256, JWSAlgorithm.HS384, JWSAlgorithm.HS512);
    private static final Set<JWSAlgorithm> RSA = Set.of(JWSAlgorithm.RS256, JWSAlgorithm.RS384, JWSAlgorithm.RS512,
            JWSAlgorithm.PS256, JWSAlgorithm.PS384, JWSAlgorithm.PS512);
    private static final Set<JWSAlgorithm> EC = Set.of(JWSAlgorithm.ES256, JWSAlgorithm.ES384, JWSAlgorithm.ES512);
    private static final Set<JWSAlgorithm> EDDSA = Set.of(JWSAlgorithm.EdDSA, JWSAlgorithm.Ed25519);

    private final GatewayConfig.Token config;
    private final List<MACVerifier> macs = new ArrayList<>();
    private final PublicKeys publicKeys;
    private final Clock clock;

    public TokenVerifier(GatewayConfig.Token config, Clock clock) {
        this.config = config;
        this.clock = clock;
        for (String secret : config.hmacSecrets()) {
            try {
                macs.add(new MACVerifier(secret.getBytes(StandardCharsets.UTF_8)));
            } catch (JOSEException e) {
                throw new IllegalArgumentException("gateway.auth.token.hmac-secrets: " + e.getMessage(), e);
            }
        }
        if (config.publicKeys().isEmpty()) {
            publicKeys = null;
        } else {
            // The test clock drives re-reads too; a wall clock set back only delays one (PublicKeys compares distance).
            publicKeys = new PublicKeys(Path.of(config.publicKeys()), () -> clock.millis() * 1_000_000L);
            publicKeys.loadOrThrow();
        }
    }

    /** The grant a valid token carries; AUTH_INVALID saying why otherwise. */
    public Grant verify(String token) {
        if (token.length() > MAX_TOKEN_LENGTH) {
            throw invalid("longer than " + MAX_TOKEN_LENGTH + " characters");
        }
        SignedJWT jwt;
        try {
            jwt = SignedJWT.parse(token.trim());
        } catch (ParseException e) {
            // Also an unsecured JWT (alg none, RFC 7519 §6): SignedJWT refuses to parse it.
            throw invalid("not a signed JWT (header.payload.signature, base64url)");
        }
        JWSHeader header = jwt.getHeader();
        if (!signatureVerifies(jwt, header)) {
            throw invalid("signature does not verify with any configured key");
        }
        JWTClaimsSet claims;
        try {
            claims = jwt.getJWTClaimsSet();
        } catch (ParseException e) {
            throw invalid("its claims are not a JSON object");
        }
        return checkClaims(claims);
    }

    private boolean signatureVerifies(SignedJWT jwt, JWSHeader header) {
        JWSAlgorithm alg = header.getAlgorithm();
        List<JWSVerifier> candidates = new ArrayList<>();
        if (HMAC.contains(alg)) {
            candidates.addAll(macs);
        } else if (RSA.contains(alg) || EC.contains(alg) || EDDSA.contains(alg)) {
            if (publicKeys != null) {
                for (JWK key : publicKeys.current().getKeys()) {
                    if (header.getKeyID() != null && key.getKeyID() != null && !header.getKeyID().equals(key.getKeyID())) {
                        continue;
                    }
                    if (key.getAlgorithm() != null && !key.getAlgorithm().equals(alg)) {
                        continue; // RFC 7517 §4.4: a key restricted to another algorithm
                    }
                    JWSVerifier v = verifierFor(key, alg);
                    if (v != null) {
                        candidates.add(v);
                    }
                }
            }
        } else {
            throw invalid("algorithm " + alg + " is not accepted (HS256/384/512, RS256, ES256, EdDSA)");
        }
        if (candidates.isEmpty()) {
            throw invalid("no configured key for algorithm " + alg
                    + (header.getKeyID() != null ? " and kid " + abbreviate(header.getKeyID()) : ""));
        }
        for (JWSVerifier v : candidates) {
            try {
                if (jwt.verify(v)) {
                    return true;
                }
            } catch (JOSEException | IllegalStateException e) {
                // e.g. an HS512 token and a secret too short for it (RFC 7518 §3.2): this key cannot verify it
            }
        }
        return false;
    }

    private static JWSVerifier verifierFor(JWK key, JWSAlgorithm alg) {
        try {
            if (key instanceof RSAKey rsa && RSA.contains(alg)) {
                return new RSASSAVerifier(rsa);
            }
            if (key instanceof ECKey ec && EC.contains(alg)) {
                return new ECDSAVerifier(ec);
            }
            if (key instanceof OctetKeyPair okp && EDDSA.contains(alg)) {
                return new Ed25519JcaVerifier(okp);
            }
        } catch (JOSEException e) {
            return null; // e.g. an EC key on a curve that does not go with the algorithm
        }
        return null;
    }

    private Grant checkClaims(JWTClaimsSet claims) {
        Instant now = clock.instant();
        Duration skew = config.clockSkew();
        Date exp = claims.getExpirationTime();
        if (exp == null) {
            throw invalid("it has no exp (expiry) claim, which is required");
        }
        Instant expiresAt = exp.toInstant();
        if (now.isAfter(expiresAt.plus(skew))) {
            throw invalid("expired at " + expiresAt);
        }
        Date nbf = claims.getNotBeforeTime();
        if (nbf != null && now.plus(skew).isBefore(nbf.toInstant())) {
            throw invalid("not yet valid (nbf " + nbf.toInstant() + ")");
        }
        if (!config.issuer().isEmpty() && !config.issuer().equals(claims.getIssuer())) {
            throw invalid("issuer " + describe(claims.getIssuer()) + " is not the configured one");
        }
        if (!config.audience().isEmpty() && (claims.getAudience() == null || !claims.getAudience().contains(config.audience()))) {
            throw invalid("audience " + describe(claims.getAudience() == null ? null : String.join(",", claims.getAudience()))
                    + " does not include the configured one");
        }
        if (!config.maxLifetime().isZero()) {
            Instant issuedAt = claims.getIssueTime() != null ? claims.getIssueTime().toInstant() : now;
            if (Duration.between(issuedAt, expiresAt).compareTo(config.maxLifetime().plus(skew)) > 0) {
                throw invalid("lives longer than gateway.auth.token.max-lifetime (" + config.maxLifetime() + ")");
            }
        }
        String sub;
        List<String> dial;
        String jti;
        try {
            sub = claims.getSubject();
            dial = claims.getClaim("dial") == null ? null : claims.getStringListClaim("dial");
            jti = claims.getJWTID();
        } catch (ParseException e) {
            throw invalid("a claim has the wrong type: " + e.getMessage());
        }
        if (sub != null && (sub.isEmpty() || sub.length() > 64)) {
            throw invalid("sub must be a DN (1-64 characters)");
        }
        if (dial != null) {
            for (String p : dial) {
                if (!GatewayConfig.DialPlan.wellFormed(p)) {
                    throw invalid("dial must be a list of destination patterns (1-64 of A-Z a-z 0-9 . _ + * # -)");
                }
            }
        }
        if (jti != null && jti.length() > 128) {
            jti = jti.substring(0, 128);
        }
        return new Grant(sub, dial, expiresAt, jti);
    }

    private static String describe(String value) {
        return value == null ? "(none)" : "\"" + abbreviate(value) + "\"";
    }

    private static String abbreviate(String s) {
        return s.length() > 64 ? s.substring(0, 64) + "..." : s;
    }

    private static GatewayException invalid(String why) {
        return new GatewayException(ErrorCode.AUTH_INVALID, "token refused: " + why);
    }
}
