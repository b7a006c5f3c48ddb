package io.webrtcgateway.auth;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.JWSSigner;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.OctetKeyPair;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.gen.ECKeyGenerator;
import com.nimbusds.jose.jwk.gen.RSAKeyGenerator;
import com.nimbusds.jose.util.Base64URL;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.Signature;
import java.time.Instant;
import java.util.Arrays;
import java.util.Date;
import java.util.function.Consumer;

/** Tokens for tests, signed the way a customer's backend would (nimbus-jose-jwt; Ed25519 with the JDK). */
public final class TestTokens {
    private TestTokens() {}

    public static JWTClaimsSet.Builder claims(String sub, Instant exp) {
        JWTClaimsSet.Builder b = new JWTClaimsSet.Builder().expirationTime(Date.from(exp));
        if (sub != null) {
            b.subject(sub);
        }
        return b;
    }

    public static String hs(JWSAlgorithm alg, String secret, JWTClaimsSet claims) {
        return sign(new JWSHeader(alg), claims, macSigner(secret));
    }

    public static String hs256(String secret, String sub, Instant exp, Consumer<JWTClaimsSet.Builder> more) {
        JWTClaimsSet.Builder b = claims(sub, exp);
        more.accept(b);
        return hs(JWSAlgorithm.HS256, secret, b.build());
    }

    private static JWSSigner macSigner(String secret) {
        try {
            return new MACSigner(secret.getBytes(StandardCharsets.UTF_8));
        } catch (JOSEException e) {
            throw new IllegalStateException(e);
        }
    }

    public static String sign(JWSHeader header, JWTClaimsSet claims, JWSSigner signer) {
        SignedJWT jwt = new SignedJWT(header, claims);
        try {
            jwt.sign(signer);
        } catch (JOSEException e) {
            throw new IllegalStateException(e);
        }
        return jwt.serialize();
    }

    public static RSAKey rsaKey(String kid) throws JOSEException {
        return new RSAKeyGenerator(2048).keyID(kid).generate();
    }

    public static ECKey ecKey(String kid) throws JOSEException {
        return new ECKeyGenerator(Curve.P_256).keyID(kid).generate();
    }

    public static String rs256(RSAKey key, JWTClaimsSet claims) throws JOSEException {
        return sign(new JWSHeader.Builder(JWSAlgorithm.RS256).keyID(key.getKeyID()).build(), claims, new RSASSASigner(key));
    }

    public static String es256(ECKey key, JWTClaimsSet claims) throws JOSEException {
        return sign(new JWSHeader.Builder(JWSAlgorithm.ES256).keyID(key.getKeyID()).build(), claims, new ECDSASigner(key));
    }

    /** An Ed25519 key pair from the JDK and its public half as a JWK. */
    public record Ed25519(KeyPair pair, OctetKeyPair publicJwk) {}

    public static Ed25519 ed25519(String kid) throws Exception {
        KeyPair pair = KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
        byte[] spki = pair.getPublic().getEncoded();
        byte[] x = Arrays.copyOfRange(spki, spki.length - 32, spki.length); // RFC 8410 §4: the raw key ends the SPKI
        return new Ed25519(pair, new OctetKeyPair.Builder(Curve.Ed25519, Base64URL.encode(x)).keyID(kid).build());
    }

    public static String eddsa(Ed25519 key, JWTClaimsSet claims) throws Exception {
        SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.EdDSA).keyID(key.publicJwk().getKeyID()).build(),
                claims);
        Signature s = Signature.getInstance("Ed25519");
        s.initSign(key.pair().getPrivate());
        s.update(jwt.getSigningInput());
        return new String(jwt.getSigningInput(), StandardCharsets.US_ASCII) + "." + Base64URL.encode(s.sign());
    }
}
