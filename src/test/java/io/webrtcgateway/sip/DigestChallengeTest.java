package io.webrtcgateway.sip;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

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

    @Test
    void nonceCountIncrements() {
        DigestChallenge c = new DigestChallenge("r", "n", null, "SHA-256", "auth", false);
        c.answer("u", "p", "REGISTER", "sip:x", "c1");
        assertEquals(2, c.answer("u", "p", "REGISTER", "sip:x", "c2").nonceCount());
    }

    @Test
    void rejectsUnusableChallenges() {
        assertThrows(IllegalArgumentException.class, () -> new DigestChallenge(null, "n", null, null, null, false));
        assertThrows(IllegalArgumentException.class, () -> new DigestChallenge("r", "n", null, "SHA-512-256", null, false));
    }
}
