package io.webrtcgateway.sip.digest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import gov.nist.javax.sip.header.HeaderFactoryImpl;
import gov.nist.javax.sip.message.MessageFactoryImpl;
import java.util.ArrayList;
import java.util.List;
import java.util.ListIterator;
import java.util.concurrent.atomic.AtomicInteger;
import javax.sip.header.AuthorizationHeader;
import javax.sip.header.ProxyAuthorizationHeader;
import javax.sip.message.Request;
import javax.sip.message.Response;
import org.junit.jupiter.api.Test;

/** The retry rules of {@link DigestClient} and the headers it writes. */
class DigestClientTest {
    private static final DigestCredentials DN = new DigestCredentials("1001", "secret");

    private final AtomicInteger cnonces = new AtomicInteger();
    private final DigestClient client = new DigestClient(new HeaderFactoryImpl(), () -> "cn" + cnonces.incrementAndGet());

    private static Request request(String method, int cseq) throws Exception {
        return new MessageFactoryImpl().createRequest(method + " sip:2000@127.0.0.1:5060 SIP/2.0\r\n"
                + "Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK" + cseq + "\r\n"
                + "From: <sip:1001@127.0.0.1>;tag=a\r\nTo: <sip:2000@127.0.0.1>\r\n"
                + "Call-ID: c1\r\nCSeq: " + cseq + " " + method + "\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n");
    }

    private static Response challenge(int status, String... headers) throws Exception {
        StringBuilder text = new StringBuilder("SIP/2.0 " + status + (status == 401 ? " Unauthorized" : " Proxy Authentication Required")
                + "\r\nVia: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK1\r\n"
                + "From: <sip:1001@127.0.0.1>;tag=a\r\nTo: <sip:2000@127.0.0.1>;tag=b\r\n"
                + "Call-ID: c1\r\nCSeq: 1 INVITE\r\n");
        for (String h : headers) {
            text.append(h).append("\r\n");
        }
        return new MessageFactoryImpl().createResponse(text.append("Content-Length: 0\r\n\r\n").toString());
    }

    private static String www(String realm, String nonce, String extra) {
        return "WWW-Authenticate: Digest realm=\"" + realm + "\", nonce=\"" + nonce + "\", qop=\"auth\"" + extra;
    }

    private static String proxy(String realm, String nonce, String extra) {
        return "Proxy-Authenticate: Digest realm=\"" + realm + "\", nonce=\"" + nonce + "\", qop=\"auth\"" + extra;
    }

    private static List<AuthorizationHeader> credentials(Request r, String name) {
        List<AuthorizationHeader> found = new ArrayList<>();
        ListIterator<?> it = r.getHeaders(name);
        while (it.hasNext()) {
            found.add((AuthorizationHeader) it.next());
        }
        return found;
    }

    @Test
    void aFirstChallengeIsAnsweredWithTheDnsCredentials() throws Exception {
        DigestClient.Budget budget = new DigestClient.Budget();
        DigestClient.Decision d = client.onChallenge(challenge(401, www("sip.test", "n1", ", opaque=\"op\"")), budget);
        assertEquals(DigestClient.Outcome.RETRY, d.outcome(), d.why());
        assertEquals(1, budget.retries());

        Request invite = request("INVITE", 2);
        client.authorize(invite, DN);
        AuthorizationHeader h = credentials(invite, AuthorizationHeader.NAME).get(0);
        assertEquals("1001", h.getUsername());
        assertEquals("sip.test", h.getRealm());
        assertEquals("n1", h.getNonce());
        assertEquals("op", h.getOpaque());
        assertEquals("sip:2000@127.0.0.1:5060", h.getURI().toString());
        assertEquals("auth", h.getQop());
        assertEquals(1, h.getNonceCount());
        assertEquals("cn1", h.getCNonce());
        String ha1 = DigestChallenge.hash("MD5", "1001:sip.test:secret");
        String ha2 = DigestChallenge.hash("MD5", "INVITE:sip:2000@127.0.0.1:5060");
        assertEquals(DigestChallenge.hash("MD5", ha1 + ":n1:00000001:cn1:auth:" + ha2), h.getResponse());
        assertTrue(credentials(invite, ProxyAuthorizationHeader.NAME).isEmpty());
    }

    @Test
    void a407IsAnsweredInProxyAuthorization() throws Exception {
        assertTrue(client.onChallenge(challenge(407, proxy("proxy.test", "p1", "")), new DigestClient.Budget()).retry());
        Request invite = request("INVITE", 2);
        client.authorize(invite, DN);
        assertEquals("proxy.test", credentials(invite, ProxyAuthorizationHeader.NAME).get(0).getRealm());
        assertTrue(credentials(invite, AuthorizationHeader.NAME).isEmpty());
    }

    @Test
    void aSecondChallengeForTheSameRequestIsNotAnswered() throws Exception {
        DigestClient.Budget budget = new DigestClient.Budget();
        assertTrue(client.onChallenge(challenge(407, proxy("r", "n1", "")), budget).retry());
        DigestClient.Decision second = client.onChallenge(challenge(407, proxy("r", "n2", "")), budget);
        assertEquals(DigestClient.Outcome.REFUSED, second.outcome());
        assertEquals(1, budget.retries());
        // and it did not replace the remembered challenge
        Request bye = request("BYE", 3);
        client.authorize(bye, DN);
        assertEquals("n1", credentials(bye, ProxyAuthorizationHeader.NAME).get(0).getNonce());
    }

    @Test
    void staleAllowsOneMoreRetryWithTheNewNonceAndNoMore() throws Exception {
        DigestClient.Budget budget = new DigestClient.Budget();
        assertTrue(client.onChallenge(challenge(401, www("r", "n1", "")), budget).retry());
        Request first = request("INVITE", 2);
        client.authorize(first, DN);
        assertEquals("n1", credentials(first, AuthorizationHeader.NAME).get(0).getNonce());

        DigestClient.Decision stale = client.onChallenge(challenge(401, www("r", "n2", ", stale=true")), budget);
        assertEquals(DigestClient.Outcome.RETRY, stale.outcome(), stale.why());
        assertEquals(2, budget.retries());
        Request second = request("INVITE", 3);
        client.authorize(second, DN);
        AuthorizationHeader h = credentials(second, AuthorizationHeader.NAME).get(0);
        assertEquals("n2", h.getNonce());
        assertEquals(1, h.getNonceCount(), "a new nonce counts from 1");

        DigestClient.Decision third = client.onChallenge(challenge(401, www("r", "n3", ", stale=true")), budget);
        assertEquals(DigestClient.Outcome.REFUSED, third.outcome());
        assertEquals(2, budget.retries(), "never a third re-send");
    }

    @Test
    void aFirstChallengeMarkedStaleStillLeavesOnlyOneStaleRetry() throws Exception {
        DigestClient.Budget budget = new DigestClient.Budget();
        assertTrue(client.onChallenge(challenge(401, www("r", "n1", ", stale=true")), budget).retry());
        assertTrue(client.onChallenge(challenge(401, www("r", "n2", ", stale=true")), budget).retry());
        assertFalse(client.onChallenge(challenge(401, www("r", "n3", ", stale=true")), budget).retry());
    }

    @Test
    void everyNewRequestHasItsOwnRetry() throws Exception {
        assertTrue(client.onChallenge(challenge(401, www("r", "n1", "")), new DigestClient.Budget()).retry());
        assertTrue(client.onChallenge(challenge(401, www("r", "n2", "")), new DigestClient.Budget()).retry());
    }

    @Test
    void laterRequestsCarryCredentialsWithTheNonceCountUp() throws Exception {
        Request none = request("INFO", 1);
        client.authorize(none, DN);
        assertTrue(credentials(none, AuthorizationHeader.NAME).isEmpty(), "nothing before a challenge");
        assertFalse(client.challenged());

        client.onChallenge(challenge(401, www("r", "n1", "")), new DigestClient.Budget());
        assertTrue(client.challenged());
        List<Integer> counts = new ArrayList<>();
        List<String> cnonceSeen = new ArrayList<>();
        for (String method : List.of("INVITE", "INFO", "BYE")) {
            Request r = request(method, counts.size() + 2);
            client.authorize(r, DN);
            List<AuthorizationHeader> hs = credentials(r, AuthorizationHeader.NAME);
            assertEquals(1, hs.size());
            counts.add(hs.get(0).getNonceCount());
            cnonceSeen.add(hs.get(0).getCNonce());
            String ha1 = DigestChallenge.hash("MD5", "1001:r:secret");
            String ha2 = DigestChallenge.hash("MD5", method + ":sip:2000@127.0.0.1:5060");
            assertEquals(DigestChallenge.hash("MD5", ha1 + ":n1:" + String.format("%08x", counts.size()) + ":"
                    + hs.get(0).getCNonce() + ":auth:" + ha2), hs.get(0).getResponse(), method);
        }
        assertEquals(List.of(1, 2, 3), counts);
        assertEquals(3, cnonceSeen.stream().distinct().count(), "a fresh cnonce per request");
    }

    @Test
    void theSameNonceChallengedAgainKeepsCounting() throws Exception {
        client.onChallenge(challenge(401, www("r", "n1", "")), new DigestClient.Budget());
        client.authorize(request("INVITE", 2), DN);
        client.onChallenge(challenge(401, www("r", "n1", "")), new DigestClient.Budget());
        Request again = request("INVITE", 3);
        client.authorize(again, DN);
        assertEquals(2, credentials(again, AuthorizationHeader.NAME).get(0).getNonceCount());
    }

    @Test
    void authorizeReplacesTheCredentialsAResentRequestCarries() throws Exception {
        client.onChallenge(challenge(407, proxy("r", "n1", "")), new DigestClient.Budget());
        Request invite = request("INVITE", 2);
        client.authorize(invite, DN);
        Request retry = (Request) invite.clone();
        client.authorize(retry, DN);
        List<AuthorizationHeader> hs = credentials(retry, ProxyAuthorizationHeader.NAME);
        assertEquals(1, hs.size());
        assertEquals(2, hs.get(0).getNonceCount());
        Request anonymous = (Request) invite.clone();
        client.authorize(anonymous, null);
        assertTrue(credentials(anonymous, ProxyAuthorizationHeader.NAME).isEmpty(), "no credentials: none sent");
    }

    @Test
    void aProxyAndTheServerAreBothAnswered() throws Exception {
        assertTrue(client.onChallenge(challenge(407, proxy("proxy.test", "p1", ""), www("sip.test", "w1", "")),
                new DigestClient.Budget()).retry());
        Request invite = request("INVITE", 2);
        client.authorize(invite, DN);
        assertEquals("proxy.test", credentials(invite, ProxyAuthorizationHeader.NAME).get(0).getRealm());
        assertEquals("sip.test", credentials(invite, AuthorizationHeader.NAME).get(0).getRealm());
    }

    @Test
    void unsupportedChallengesAreNamedAndNotAnswered() throws Exception {
        DigestClient.Budget budget = new DigestClient.Budget();
        DigestClient.Decision alg = client.onChallenge(challenge(401,
                "WWW-Authenticate: Digest realm=\"r\", nonce=\"n\", algorithm=SHA-512-256, qop=\"auth\""), budget);
        assertEquals(DigestClient.Outcome.UNSUPPORTED, alg.outcome());
        assertTrue(alg.why().contains("SHA-512-256"), alg.why());
        DigestClient.Decision qop = client.onChallenge(challenge(407,
                "Proxy-Authenticate: Digest realm=\"r\", nonce=\"n\", qop=\"auth-int\""), budget);
        assertEquals(DigestClient.Outcome.UNSUPPORTED, qop.outcome());
        assertTrue(qop.why().contains("auth-int"), qop.why());
        DigestClient.Decision basic = client.onChallenge(challenge(401, "WWW-Authenticate: Basic realm=\"r\""), budget);
        assertEquals(DigestClient.Outcome.UNSUPPORTED, basic.outcome());
        assertTrue(basic.why().contains("Basic"), basic.why());
        DigestClient.Decision none = client.onChallenge(challenge(401), budget);
        assertEquals(DigestClient.Outcome.UNSUPPORTED, none.outcome());
        assertEquals(0, budget.retries(), "nothing counted: nothing was sent");
        assertFalse(client.challenged());
    }

    @Test
    void anAnswerableChallengeBesideAnUnsupportedOneIsAnswered() throws Exception {
        assertTrue(client.onChallenge(challenge(401,
                "WWW-Authenticate: Digest realm=\"r\", nonce=\"n\", algorithm=SHA-512-256",
                "WWW-Authenticate: Digest realm=\"r\", nonce=\"n\", algorithm=SHA-256, qop=\"auth\""),
                new DigestClient.Budget()).retry());
        Request invite = request("INVITE", 2);
        client.authorize(invite, DN);
        assertEquals("SHA-256", credentials(invite, AuthorizationHeader.NAME).get(0).getAlgorithm());
    }

    @Test
    void forgetDropsTheChallenges() throws Exception {
        client.onChallenge(challenge(401, www("r", "n1", "")), new DigestClient.Budget());
        client.forget();
        Request r = request("REGISTER", 2);
        client.authorize(r, DN);
        assertNull(r.getHeader(AuthorizationHeader.NAME));
    }

    @Test
    void credentialsNeverPrintThePassword() {
        assertFalse(DN.toString().contains("secret"));
    }
}
