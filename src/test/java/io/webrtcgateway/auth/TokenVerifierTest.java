package io.webrtcgateway.auth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.RSAKey;
import io.webrtcgateway.config.GatewayConfig;
import io.webrtcgateway.error.ErrorCode;
import io.webrtcgateway.error.GatewayException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TokenVerifierTest {
    static final String SECRET = "0123456789abcdef0123456789abcdef-one";
    static final String NEXT_SECRET = "0123456789abcdef0123456789abcdef-two";
    static final Instant NOW = Instant.parse("2026-12-07T10:00:00Z");

    private final MutableClock clock = new MutableClock(NOW);

    private TokenVerifier verifier(List<String> secrets, String jwks, String issuer, String audience, Duration maxLifetime) {
        return new TokenVerifier(new GatewayConfig.Token(secrets, jwks, issuer, audience, maxLifetime,
                Duration.ofSeconds(30)), clock);
    }

    private TokenVerifier hmac() {
        return verifier(List.of(SECRET, NEXT_SECRET), "", "", "", Duration.ZERO);
    }

    private static String refusal(TokenVerifier v, String token) {
        GatewayException e = assertThrows(GatewayException.class, () -> v.verify(token));
        assertEquals(ErrorCode.AUTH_INVALID, e.code());
        return e.getMessage();
    }

    @Test
    void validHmacTokenGivesItsClaims() {
        String t = TestTokens.hs256(SECRET, "1001", NOW.plusSeconds(3600), b -> b.claim("dial", List.of("5xxx")).jwtID("j1"));
        Grant g = hmac().verify(t);
        assertEquals("1001", g.dn());
        assertEquals(List.of("5xxx"), g.dial());
        assertEquals(NOW.plusSeconds(3600), g.expiresAt());
        assertEquals("j1", g.jti());
    }

    @Test
    void anySecretVerifiesSoSecretsRotate() {
        assertEquals("1002", hmac().verify(TestTokens.hs256(NEXT_SECRET, "1002", NOW.plusSeconds(60), b -> {})).dn());
        String other = TestTokens.hs256("another-secret-another-secret-another", "1002", NOW.plusSeconds(60), b -> {});
        assertTrue(refusal(hmac(), other).contains("signature"));
    }

    @Test
    void hs384AndHs512NeedLongEnoughSecrets() {
        String longSecret = "x".repeat(64);
        TokenVerifier v = verifier(List.of(longSecret), "", "", "", Duration.ZERO);
        var claims = TestTokens.claims("1001", NOW.plusSeconds(60)).build();
        assertEquals("1001", v.verify(TestTokens.hs(JWSAlgorithm.HS384, longSecret, claims)).dn());
        assertEquals("1001", v.verify(TestTokens.hs(JWSAlgorithm.HS512, longSecret, claims)).dn());
        // A 36-byte secret cannot carry HS512 (RFC 7518 §3.2): refused, not an exception trace.
        String hs512 = TestTokens.hs(JWSAlgorithm.HS512, longSecret, claims);
        assertTrue(refusal(hmac(), hs512).contains("signature"));
    }

    @Test
    void timeChecksSayWhichFailed() {
        assertTrue(refusal(hmac(), TestTokens.hs256(SECRET, "1001", NOW.minusSeconds(31), b -> {})).contains("expired"));
        // Within the clock skew it still passes.
        assertEquals("1001", hmac().verify(TestTokens.hs256(SECRET, "1001", NOW.minusSeconds(29), b -> {})).dn());
        String early = TestTokens.hs256(SECRET, "1001", NOW.plusSeconds(3600), b -> b.notBeforeTime(java.util.Date.from(NOW.plusSeconds(120))));
        assertTrue(refusal(hmac(), early).contains("not yet valid"));
        var noExp = new com.nimbusds.jwt.JWTClaimsSet.Builder().subject("1001").build();
        assertTrue(refusal(hmac(), TestTokens.hs(JWSAlgorithm.HS256, SECRET, noExp)).contains("no exp"));
    }

    @Test
    void issuerAudienceAndLifetime() {
        TokenVerifier v = verifier(List.of(SECRET), "", "https://crm.example", "webrtc-gateway", Duration.ofHours(12));
        String good = TestTokens.hs256(SECRET, "1001", NOW.plusSeconds(3600), b -> b.issuer("https://crm.example")
                .audience(List.of("other", "webrtc-gateway")).issueTime(java.util.Date.from(NOW)));
        assertEquals("1001", v.verify(good).dn());
        assertTrue(refusal(v, TestTokens.hs256(SECRET, "1001", NOW.plusSeconds(3600), b -> b.issuer("https://evil")
                .audience("webrtc-gateway"))).contains("issuer"));
        assertTrue(refusal(v, TestTokens.hs256(SECRET, "1001", NOW.plusSeconds(3600), b -> b.issuer("https://crm.example")
                .audience("another-service"))).contains("audience"));
        assertTrue(refusal(v, TestTokens.hs256(SECRET, "1001", NOW.plusSeconds(3600), b -> b.issuer("https://crm.example")))
                .contains("audience"));
        String tooLong = TestTokens.hs256(SECRET, "1001", NOW.plus(Duration.ofDays(2)), b -> b.issuer("https://crm.example")
                .audience("webrtc-gateway").issueTime(java.util.Date.from(NOW)));
        assertTrue(refusal(v, tooLong).contains("max-lifetime"));
    }

    @Test
    void malformedForgedAndUnsignedTokensAreRefused() {
        assertTrue(refusal(hmac(), "not-a-token").contains("not a signed JWT"));
        assertTrue(refusal(hmac(), "a.b.c").contains("not a signed JWT"));
        assertTrue(refusal(hmac(), "x".repeat(9000)).contains("longer than"));
        String payload = Base64.getUrlEncoder().withoutPadding().encodeToString(
                ("{\"sub\":\"1001\",\"exp\":" + NOW.plusSeconds(60).getEpochSecond() + "}").getBytes());
        String none = Base64.getUrlEncoder().withoutPadding().encodeToString("{\"alg\":\"none\"}".getBytes());
        refusal(hmac(), none + "." + payload + ".");
        // The payload of a valid token changed: the signature no longer matches.
        String valid = TestTokens.hs256(SECRET, "1001", NOW.plusSeconds(60), b -> {});
        String[] parts = valid.split("\\.");
        assertTrue(refusal(hmac(), parts[0] + "." + payload + "." + parts[2]).contains("signature"));
        // An asymmetric algorithm with no public keys configured.
        assertTrue(refusal(hmac(), TestTokens.hs(JWSAlgorithm.HS256, SECRET, TestTokens.claims("1", NOW).build())
                .replaceFirst("^[^.]+", Base64.getUrlEncoder().withoutPadding().encodeToString("{\"alg\":\"RS256\"}".getBytes())))
                .contains("no configured key"));
    }

    @Test
    void claimsOfTheWrongShape() {
        assertTrue(refusal(hmac(), TestTokens.hs256(SECRET, "1001", NOW.plusSeconds(60), b -> b.claim("dial", "5000")))
                .contains("wrong type"));
        assertTrue(refusal(hmac(), TestTokens.hs256(SECRET, "1001", NOW.plusSeconds(60), b -> b.claim("dial", List.of("5 0"))))
                .contains("dial"));
        assertNull(hmac().verify(TestTokens.hs256(SECRET, null, NOW.plusSeconds(60), b -> {})).dn());
    }

    @Test
    void publicKeysFromAJwksFileRs256Es256EdDsa(@TempDir Path dir) throws Exception {
        RSAKey rsa = TestTokens.rsaKey("rsa-1");
        ECKey ec = TestTokens.ecKey("ec-1");
        TestTokens.Ed25519 ed = TestTokens.ed25519("ed-1");
        Path jwks = dir.resolve("keys.json");
        Files.writeString(jwks, new JWKSet(List.of(rsa.toPublicJWK(), ec.toPublicJWK(), ed.publicJwk())).toString());
        TokenVerifier v = verifier(List.of(), jwks.toString(), "", "", Duration.ZERO);
        var claims = TestTokens.claims("1001", NOW.plusSeconds(600)).build();
        assertEquals("1001", v.verify(TestTokens.rs256(rsa, claims)).dn());
        assertEquals("1001", v.verify(TestTokens.es256(ec, claims)).dn());
        assertEquals("1001", v.verify(TestTokens.eddsa(ed, claims)).dn());
        // Signed by a key the file does not hold, under the same kid.
        assertTrue(refusal(v, TestTokens.rs256(TestTokens.rsaKey("rsa-1"), claims)).contains("signature"));
        assertTrue(refusal(v, TestTokens.eddsa(TestTokens.ed25519("ed-1"), claims)).contains("signature"));
        // An HMAC token where only public keys are configured.
        assertTrue(refusal(v, TestTokens.hs256(SECRET, "1001", NOW.plusSeconds(60), b -> {})).contains("no configured key"));
    }

    @Test
    void theJwksFileIsReadAgainWhenItChanges(@TempDir Path dir) throws Exception {
        RSAKey first = TestTokens.rsaKey("k1");
        RSAKey second = TestTokens.rsaKey("k2");
        Path jwks = dir.resolve("keys.json");
        Files.writeString(jwks, new JWKSet(first.toPublicJWK()).toString());
        Files.setLastModifiedTime(jwks, FileTime.from(NOW.minusSeconds(100)));
        TokenVerifier v = verifier(List.of(), jwks.toString(), "", "", Duration.ZERO);
        var claims = TestTokens.claims("1001", NOW.plusSeconds(600)).build();
        assertEquals("1001", v.verify(TestTokens.rs256(first, claims)).dn());

        Files.writeString(jwks, new JWKSet(second.toPublicJWK()).toString());
        Files.setLastModifiedTime(jwks, FileTime.from(NOW.minusSeconds(50)));
        clock.advance(Duration.ofSeconds(2));
        assertEquals("1001", v.verify(TestTokens.rs256(second, claims)).dn());
        assertTrue(refusal(v, TestTokens.rs256(first, claims)).contains("no configured key"));

        // A half-written file keeps the keys read before.
        Files.writeString(jwks, "{\"keys\": [");
        Files.setLastModifiedTime(jwks, FileTime.from(NOW.minusSeconds(10)));
        clock.advance(Duration.ofSeconds(2));
        assertEquals("1001", v.verify(TestTokens.rs256(second, claims)).dn());
    }
}
