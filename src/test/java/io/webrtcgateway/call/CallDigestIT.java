package io.webrtcgateway.call;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.webrtcgateway.testsupport.CannedOffers;
import io.webrtcgateway.testsupport.ChromiumPeer;
import io.webrtcgateway.testsupport.Closing;
import io.webrtcgateway.testsupport.FreePorts;
import io.webrtcgateway.testsupport.GatewayProcess;
import io.webrtcgateway.testsupport.Poll;
import io.webrtcgateway.testsupport.SipMessage;
import io.webrtcgateway.testsupport.Sipp;
import io.webrtcgateway.testsupport.WsTestClient;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Calls through a SIP Server that wants digest credentials on them (SIPp, {@code uas-digest.xml}): the gateway
 * answers each 401/407 with the DN's password from its registration, once per request (twice after
 * {@code stale=true}), and gives up with the SIP status otherwise. SIPp's {@code verifyauth} checks the
 * Authorization answers; the test recomputes every answer from the password as well (SIPp cannot check a
 * Proxy-Authorization).
 */
class CallDigestIT {
    private static final String PASSWORD = "Circle Of Life";
    private static final Duration T = Duration.ofSeconds(10);

    private static Sipp sipp;
    private static GatewayProcess gw;
    private static ChromiumPeer browser;
    /** DN 1001, registered with the password SIPp wants. */
    private static WsTestClient ws;

    @BeforeAll
    static void start() {
        // Chromium starts (start() returns at once) while SIPp and the gateway do.
        browser = ChromiumPeer.builder().name("browser").audioCodecs("PCMU", "telephone-event").start();
        sipp = Sipp.scenario("uas-digest.xml").key("password", PASSWORD)
                .args("-mi", "127.0.0.1", "-mp", String.valueOf(FreePorts.sippMedia()), "-rtp_echo").start();
        gw = GatewayProcess.builder().sipServers(sipp.serverEntry())
                .set("gateway.media.ice-addresses", List.of("127.0.0.1"))
                .start();
        ws = WsTestClient.connect(gw.wsUrl());
        ws.ok("hello");
        ws.startKeepalive(Duration.ofSeconds(5));
        ws.ok("register", "dn", "1001", "password", PASSWORD);
    }

    @AfterAll
    static void stop() {
        Closing.all(ws, browser, gw, sipp);
    }

    /**
     * Every request of the call is challenged (the INVITE, and the first re-INVITE, INFO and BYE with one-time
     * nonces): each goes again with credentials, and the call works as if nothing had happened, audio included.
     */
    @Test
    void everyChallengedRequestOfACallIsAnsweredOnce() {
        int before = sipp.receivedRequests("INVITE").size();
        String call = ws.ok("call", "to", "5000", "sdp", browser.createOffer()).path("call").asText();
        JsonNode connected = event(ws, "connected", call);
        browser.setAnswer(connected.path("sdp").asText());

        String callId = sipp.receivedRequests("INVITE").get(before).callId();
        List<SipMessage> invites = requests("INVITE", callId);
        assertEquals(2, invites.size(), "the INVITE and its one retry: " + invites);
        SipMessage first = invites.get(0);
        SipMessage retry = invites.get(1);
        assertTrue(first.header("Authorization").isEmpty(), "no credentials before a challenge: " + first);
        SipMessage challenge = sent(401, "INVITE", callId).get(0);
        Map<String, String> auth = assertAnswers(retry, "Authorization", challenge, "WWW-Authenticate", "sipp.test");
        assertEquals("00000001", auth.get("nc"));
        assertEquals(param(challenge.header("WWW-Authenticate").orElseThrow(), "opaque"), auth.get("opaque"),
                "opaque echoed");
        // RFC 3261 §22.2: a new transaction of the same call (§8.1.3.5): CSeq up, same Call-ID and From tag.
        assertEquals(first.cseq() + 1, retry.cseq());
        assertEquals(tag(first.header("From").orElseThrow()), tag(retry.header("From").orElseThrow()));
        assertNotEquals(branch(first), branch(retry));

        browser.awaitIceState("connected", Duration.ofSeconds(15));
        Poll.until(Duration.ofSeconds(20), "the browser's audio echoed back through SIPp", browser::stats,
                s -> s.packetsReceived() > 50 && s.totalAudioEnergy() > 0);

        // re-INVITE (hold): challenged once, taken with credentials; the browser's hold succeeds.
        ws.ok("hold", "call", call);
        assertEquals("local", event(ws, "held", call).path("by").asText());
        List<SipMessage> all = requests("INVITE", callId);
        List<SipMessage> reinvites = all.subList(2, all.size());
        assertEquals(2, reinvites.size(), "the re-INVITE and its retry: " + reinvites);
        assertAnswers(reinvites.get(1), "Authorization", sent(401, "INVITE", callId).get(1), "WWW-Authenticate",
                "sipp.test");

        // INFO: the same.
        ws.ok("info", "call", call, "contentType", "text/plain", "body", "hello");
        List<SipMessage> infos = sipp.awaitReceived(m -> m.isRequest() && m.method().equals("INFO")
                && m.callId().equals(callId), 2, T, "the INFO and its retry");
        assertAnswers(infos.get(1), "Authorization", sent(401, "INFO", callId).get(0), "WWW-Authenticate", "sipp.test");
        Poll.until(T, "SIPp took the INFO", () -> !sent(200, "INFO", callId).isEmpty());

        // BYE: it goes after the call has ended here, and still answers its challenge.
        ws.ok("hangup", "call", call);
        assertEquals("local-hangup", event(ws, "ended", call).path("reason").asText());
        browser.hangUp();
        Poll.until(T, "SIPp took the BYE with credentials (200)", () -> !sent(200, "BYE", callId).isEmpty());
        List<SipMessage> byes = requests("BYE", callId);
        assertEquals(2, byes.size(), "the BYE and its retry: " + byes);
        assertAnswers(byes.get(1), "Authorization", sent(401, "BYE", callId).get(0), "WWW-Authenticate", "sipp.test");
        assertTrue(sent(403, null, callId).isEmpty(), "SIPp refused nothing: " + sent(403, null, callId));
    }

    /** A password SIP Server refuses: one retry, then the call ends as rejected with the 401 (SIPp saw two INVITEs). */
    @Test
    void aWrongPasswordEndsTheCallAfterOneRetry() {
        try (WsTestClient wrong = WsTestClient.connect(gw.wsUrl())) {
            wrong.ok("hello");
            wrong.ok("register", "dn", "1002", "password", "not the password");
            String call = wrong.ok("call", "to", "5000", "sdp",
                    CannedOffers.audioWithoutUsableCandidates()).path("call").asText();
            JsonNode ended = event(wrong, "ended", call);
            assertEquals("rejected", ended.path("reason").asText(), ended.toString());
            assertEquals(401, ended.path("sipStatus").asInt(), ended.toString());

            String callId = inviteFrom("1002").callId();
            List<SipMessage> invites = requests("INVITE", callId);
            assertEquals(2, invites.size(), "exactly one retry: " + invites);
            assertAnswers(invites.get(1), "Authorization", sent(401, "INVITE", callId).get(0), "WWW-Authenticate",
                    "sipp.test", "1002", "not the password");
            assertEquals(2, sent(401, "INVITE", callId).size());
        }
    }

    /**
     * A proxy's challenge (407) is answered in Proxy-Authorization; a proxy that challenges the answer again gets
     * no third INVITE: the call ends as rejected with the 407.
     */
    @Test
    void aProxyChallengeIsAnsweredInProxyAuthorizationOnce() {
        String call = ws.ok("call", "to", "proxy", "sdp",
                CannedOffers.audioWithoutUsableCandidates()).path("call").asText();
        JsonNode ended = event(ws, "ended", call);
        assertEquals("rejected", ended.path("reason").asText(), ended.toString());
        assertEquals(407, ended.path("sipStatus").asInt(), ended.toString());

        String callId = inviteTo("proxy").callId();
        List<SipMessage> invites = requests("INVITE", callId);
        assertEquals(2, invites.size(), "exactly one retry: " + invites);
        assertTrue(invites.get(1).header("Authorization").isEmpty(), invites.get(1).text());
        assertAnswers(invites.get(1), "Proxy-Authorization", sent(407, "INVITE", callId).get(0), "Proxy-Authenticate",
                "proxy.test");
    }

    /** RFC 2617 §3.2.1: stale=true means the password was right and the nonce old: one more retry, with the new nonce. */
    @Test
    void aStaleChallengeGetsOneMoreRetry() {
        String call = ws.ok("call", "to", "stale", "sdp",
                CannedOffers.audioWithoutUsableCandidates()).path("call").asText();
        event(ws, "connected", call);
        String callId = inviteTo("stale").callId();
        List<SipMessage> invites = requests("INVITE", callId);
        assertEquals(3, invites.size(), "two retries: " + invites);
        List<SipMessage> challenges = sent(401, "INVITE", callId);
        assertTrue(challenges.get(1).header("WWW-Authenticate").orElseThrow().contains("stale=true"), challenges.get(1).text());
        assertAnswers(invites.get(1), "Authorization", challenges.get(0), "WWW-Authenticate", "sipp.test");
        Map<String, String> third = assertAnswers(invites.get(2), "Authorization", challenges.get(1), "WWW-Authenticate",
                "sipp.test");
        assertEquals("00000001", third.get("nc"), "a new nonce counts from 1");
        ws.ok("hangup", "call", call);
        event(ws, "ended", call);
        Poll.until(T, "SIPp took the BYE", () -> !sent(200, "BYE", callId).isEmpty());
    }

    /** A challenge that offers only qop=auth-int is not answered: the call ends at once, with a WARN naming it. */
    @Test
    void aChallengeOnlyAuthIntCouldAnswerIsNotAnswered() {
        String call = ws.ok("call", "to", "authint", "sdp",
                CannedOffers.audioWithoutUsableCandidates()).path("call").asText();
        JsonNode ended = event(ws, "ended", call);
        assertEquals("rejected", ended.path("reason").asText(), ended.toString());
        assertEquals(401, ended.path("sipStatus").asInt(), ended.toString());
        assertEquals(1, requests("INVITE", inviteTo("authint").callId()).size());
        Poll.until(T, "a WARN naming auth-int in the gateway's log", () -> gatewayLog().lines()
                .anyMatch(l -> l.contains("WARN") && l.contains("INVITE challenged") && l.contains("auth-int")));
    }

    // ---- helpers -------------------------------------------------------------------------------------

    private static String gatewayLog() {
        try {
            return Files.readString(gw.logFile());
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** The event {@code name} of {@code call} (other calls' events stay for their own tests). */
    private static JsonNode event(WsTestClient client, String name, String call) {
        return client.await(T, name + " of " + call, m -> "event".equals(m.path("type").asText())
                && name.equals(m.path("name").asText()) && call.equals(m.path("call").asText()));
    }

    /**
     * Checks that {@code request}'s {@code header} answers {@code challenge}'s {@code challengeHeader} for DN
     * 1001 with {@link #PASSWORD}: realm, nonce, uri (the Request-URI), qop=auth and the MD5 response recomputed
     * here. Returns the answer's parameters.
     */
    private static Map<String, String> assertAnswers(SipMessage request, String header, SipMessage challenge,
                                                     String challengeHeader, String realm) {
        return assertAnswers(request, header, challenge, challengeHeader, realm, "1001", PASSWORD);
    }

    private static Map<String, String> assertAnswers(SipMessage request, String header, SipMessage challenge,
                                                     String challengeHeader, String realm, String user, String password) {
        String value = request.header(header).orElseThrow(() -> new AssertionError("no " + header + ": " + request));
        assertTrue(value.startsWith("Digest "), value);
        Map<String, String> p = params(value);
        String nonce = param(challenge.header(challengeHeader).orElseThrow(), "nonce");
        assertEquals(user, p.get("username"), value);
        assertEquals(realm, p.get("realm"), value);
        assertEquals(nonce, p.get("nonce"), "the challenge's nonce: " + value);
        assertEquals(request.requestUri(), p.get("uri"), "digest-uri = Request-URI (RFC 3261 §22.4): " + value);
        assertEquals("auth", p.get("qop"), value);
        assertEquals("MD5", p.get("algorithm"), value);
        String ha1 = md5(user + ":" + realm + ":" + password);
        String ha2 = md5(request.method() + ":" + p.get("uri"));
        assertEquals(md5(ha1 + ":" + nonce + ":" + p.get("nc") + ":" + p.get("cnonce") + ":auth:" + ha2),
                p.get("response"), "the digest of " + request.method() + " for " + user + ": " + value);
        return p;
    }

    private static final Pattern PARAM = Pattern.compile("([a-zA-Z-]+)=(\"([^\"]*)\"|[^\\s,]+)");

    private static Map<String, String> params(String value) {
        Map<String, String> p = new TreeMap<>();
        Matcher m = PARAM.matcher(value);
        while (m.find()) {
            p.put(m.group(1).toLowerCase(java.util.Locale.ROOT), m.group(3) != null ? m.group(3) : m.group(2));
        }
        return p;
    }

    private static String param(String value, String name) {
        String v = params(value).get(name);
        assertTrue(v != null, "no " + name + " in " + value);
        return v;
    }

    private static String md5(String text) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("MD5").digest(text.getBytes(StandardCharsets.UTF_8)));
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private static List<SipMessage> requests(String method, String callId) {
        return sipp.receivedRequests(method).stream().filter(m -> m.callId().equals(callId)).toList();
    }

    /** Responses SIPp sent with {@code status} in the call ({@code method} null: any). */
    private static List<SipMessage> sent(int status, String method, String callId) {
        return sipp.sentResponses(status).stream()
                .filter(m -> m.callId().equals(callId) && (method == null || m.method().equals(method))).toList();
    }

    /** The last INVITE SIPp received for {@code user}. */
    private static SipMessage inviteTo(String user) {
        List<SipMessage> to = sipp.receivedRequests("INVITE").stream()
                .filter(m -> m.requestUri().startsWith("sip:" + user + "@")).toList();
        assertFalse(to.isEmpty(), "no INVITE to " + user);
        return to.get(to.size() - 1);
    }

    private static SipMessage inviteFrom(String dn) {
        List<SipMessage> from = sipp.receivedRequests("INVITE").stream()
                .filter(m -> m.header("From").orElse("").contains("sip:" + dn + "@")).toList();
        assertFalse(from.isEmpty(), "no INVITE from " + dn);
        return from.get(from.size() - 1);
    }

    private static String tag(String fromOrTo) {
        Matcher m = Pattern.compile(";tag=([^;\\s]+)").matcher(fromOrTo);
        assertTrue(m.find(), "no tag in " + fromOrTo);
        return m.group(1);
    }

    private static String branch(SipMessage m) {
        Matcher b = Pattern.compile(";branch=([^;\\s]+)").matcher(m.header("Via").orElse(""));
        assertTrue(b.find(), "no branch in " + m);
        return b.group(1);
    }

}
