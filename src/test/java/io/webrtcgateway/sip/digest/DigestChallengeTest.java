package io.webrtcgateway.sip.digest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class DigestChallengeTest {

    /** RFC 2617 §3.5's worked example. */
    @Test
    void rfc2617Example() {
        DigestChallenge c = new DigestChallenge("testrealm@host.com", "dcd98b7102dd2f0e8b11d0f600bfb0c093",
                "5ccc069c403ebaf9f0171e9517f40e41", null, "auth,auth-int", false);
        DigestChallenge.Answer a = c.answer("Mufasa", "Circle Of Life", "GET", "/dir/index.html", "0a4f113b");
        assertEquals("6629fae49393a05397450978507c4ef1", a.response());
        assertEquals("auth", a.qop());
        assertEquals(1, a.nonceCount());
        assertEquals("MD5", a.algorithm());
        assertEquals("5ccc069c403ebaf9f0171e9517f40e41", a.opaque());
    }

    private static final String RFC7616_REALM = "http-auth@example.org";
    private static final String RFC7616_NONCE = "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v";
    private static final String RFC7616_OPAQUE = "FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS";
    private static final String RFC7616_CNONCE = "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ";

    /** RFC 7616 §3.9.1, the MD5 answer (qop=auth, nc=00000001). */
    @Test
    void rfc7616ExampleWithMd5() {
        DigestChallenge c = new DigestChallenge(RFC7616_REALM, RFC7616_NONCE, RFC7616_OPAQUE, "MD5", "auth", false);
        DigestChallenge.Answer a = c.answer("Mufasa", "Circle of Life", "GET", "/dir/index.html", RFC7616_CNONCE);
        assertEquals("8ca523f5e9506fed4657c9700eebdbec", a.response());
        assertEquals(1, a.nonceCount());
        assertEquals(RFC7616_CNONCE, a.cnonce());
    }

    /** RFC 7616 §3.9.1, the SHA-256 answer to the same challenge (RFC 8760 brings it to SIP). */
    @Test
    void rfc7616ExampleWithSha256() {
        DigestChallenge c = new DigestChallenge(RFC7616_REALM, RFC7616_NONCE, RFC7616_OPAQUE, "SHA-256", "auth", false);
        DigestChallenge.Answer a = c.answer("Mufasa", "Circle of Life", "GET", "/dir/index.html", RFC7616_CNONCE);
        assertEquals("753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1", a.response());
        assertEquals("SHA-256", a.algorithm());
    }

    @Test
    void withoutQopUsesRfc2069Form() {
        DigestChallenge c = new DigestChallenge("asterisk", "abc", null, "MD5", null, false);
        DigestChallenge.Answer a = c.answer("1001", "secret", "REGISTER", "sip:127.0.0.1", "ignored");
        String ha1 = DigestChallenge.hash("MD5", "1001:asterisk:secret");
        String ha2 = DigestChallenge.hash("MD5", "REGISTER:sip:127.0.0.1");
        assertEquals(DigestChallenge.hash("MD5", ha1 + ":abc:" + ha2), a.response());
        assertNull(a.qop());
        assertNull(a.cnonce());
    }

    /** RFC 2617 §3.2.2: MD5-sess folds nonce and cnonce into HA1. */
    @Test
    void md5SessHashesTheNonceIntoHa1() {
        DigestChallenge c = new DigestChallenge("r", "n", null, "MD5-sess", "auth", false);
        DigestChallenge.Answer a = c.answer("u", "p", "INVITE", "sip:2000@h", "c");
        String ha1 = DigestChallenge.hash("MD5", DigestChallenge.hash("MD5", "u:r:p") + ":n:c");
        String ha2 = DigestChallenge.hash("MD5", "INVITE:sip:2000@h");
        assertEquals(DigestChallenge.hash("MD5", ha1 + ":n:00000001:c:auth:" + ha2), a.response());
    }

    @Test
    void nonceCountIncrements() {
        DigestChallenge c = new DigestChallenge("r", "n", null, "SHA-256", "auth", false);
        c.answer("u", "p", "REGISTER", "sip:x", "c1");
        assertEquals(2, c.answer("u", "p", "REGISTER", "sip:x", "c2").nonceCount());
        assertEquals(2, c.nonceCount());
    }

    @Test
    void rejectsUnusableChallenges() {
        assertThrows(IllegalArgumentException.class, () -> new DigestChallenge(null, "n", null, null, null, false));
        IllegalArgumentException alg = assertThrows(IllegalArgumentException.class,
                () -> new DigestChallenge("r", "n", null, "SHA-512-256", null, false));
        assertTrue(alg.getMessage().contains("SHA-512-256"), alg.getMessage());
        IllegalArgumentException qop = assertThrows(IllegalArgumentException.class,
                () -> new DigestChallenge("r", "n", null, "MD5", "auth-int", false));
        assertTrue(qop.getMessage().contains("auth-int"), qop.getMessage());
    }
}
