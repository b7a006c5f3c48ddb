package io.webrtcgateway.sip.sandbox;

import static io.webrtcgateway.sip.sandbox.SandboxSipServerTest.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Clock;
import java.time.Duration;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import io.webrtcgateway.config.HostPort;
import io.webrtcgateway.sip.sandbox.RawSipClient.SipResponse;
import io.webrtcgateway.sip.sandbox.RawUserAgent.Call;
import io.webrtcgateway.sip.sandbox.RawUserAgent.Incoming;
import io.webrtcgateway.sip.sandbox.RawUserAgent.SipMessage;

/**
 * Calls between DNs through the sandbox: two raw UDP user agents register as 1001 and 1002 and call
 * each other; the sandbox must bridge them as a B2BUA (new Call-ID toward the callee) and forget the
 * call on every way it can end.
 */
class SandboxCallRoutingTest {

    static final String OFFER = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
            + "m=audio 40000 RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\n"
            + "a=fmtp:101 0-15\r\na=sendrecv\r\n";
    static final String ANSWER = "v=0\r\no=- 2 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
            + "m=audio 40002 RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\n"
            + "a=sendrecv\r\n";

    private static final CallRouter.Timeouts SHORT = new CallRouter.Timeouts(
            Duration.ofMillis(800), Duration.ofMillis(1500), Duration.ofSeconds(2), Duration.ofHours(1));

    private SandboxSipServer server;
    private RawUserAgent alice;
    private RawUserAgent bob;

    @BeforeEach
    void start() throws Exception {
        startWith(SHORT);
    }

    private void startWith(CallRouter.Timeouts timeouts) throws Exception {
        server = new SandboxSipServer(new HostPort("127.0.0.1", 0), Clock.systemUTC(), timeouts);
        server.start();
        InetSocketAddress address = new InetSocketAddress(server.address().host(), server.address().port());
        alice = RawUserAgent.open("1001", address);
        bob = RawUserAgent.open("1002", address);
        assertEquals(200, alice.register());
        assertEquals(200, bob.register());
    }

    @AfterEach
    void stop() {
        if (alice != null) {
            alice.close();
        }
        if (bob != null) {
            bob.close();
        }
        if (server != null) {
            server.close();
        }
    }

    /** Alice calls Bob; returns once both dialogs are confirmed. */
    private Call[] established = new Call[1];

    private Incoming connect() throws Exception {
        Call call = alice.invite("1002", OFFER);
        Incoming in = bob.awaitInvite();
        bob.respond(in, 180, "Ringing", null);
        assertEquals(180, alice.awaitInviteResponse(call, 101).status());
        bob.respond(in, 200, "OK", ANSWER);
        SipMessage ok = alice.awaitInviteResponse(call, 200);
        assertEquals(200, ok.status());
        alice.ack(call, ok, null);
        bob.awaitRequest("ACK", in.callId());
        established[0] = call;
        return in;
    }

    private void assertCallsForgotten() throws InterruptedException {
        CallRouter router = server.router();
        await(() -> router.trackedCallIds() == 0 && server.activeCalls() == 0, Duration.ofSeconds(5),
                () -> "calls left: " + router.activeCalls() + ", Call-IDs tracked: " + router.trackedCallIds());
    }

    @Test
    void aCallIsBridgedWithANewCallIdAndEndsWithTheCallersBye() throws Exception {
        Call call = alice.invite("1002", OFFER, "X-Customer-Id: 42", "X-Queue: sales", "Subject: not relayed");
        assertEquals(100, alice.awaitInviteResponse(call, 100).status());

        Incoming in = bob.awaitInvite();
        SipMessage invite = in.invite;
        assertNotEquals(call.callId, invite.callId(), "a B2BUA leg has its own Call-ID");
        assertEquals(bob.contactUri(), invite.requestUri(), "sent to the registered contact");
        assertTrue(invite.header("From").contains("sip:1001@"), invite.header("From"));
        assertTrue(invite.header("From").contains("User 1001"), "display name kept: " + invite.header("From"));
        assertNotEquals(call.fromTag, invite.fromTag(), "the callee leg has the sandbox's own From tag");
        assertTrue(invite.header("To").contains("sip:1002@"), invite.header("To"));
        assertEquals(OFFER, invite.body());
        assertEquals("application/sdp", invite.header("Content-Type"));
        assertEquals("42", invite.header("X-Customer-Id"));
        assertEquals("sales", invite.header("X-Queue"));
        assertEquals(null, invite.header("Subject"));
        assertEquals(1, server.activeCalls());
        assertEquals(2, server.router().trackedCallIds());

        String earlyMedia = ANSWER.replace("40002", "40004");
        bob.respond(in, 183, "Session Progress", earlyMedia);
        SipMessage progress = alice.awaitInviteResponse(call, 101);
        assertEquals(183, progress.status());
        assertEquals(earlyMedia, progress.body(), "early media SDP relayed");
        bob.respond(in, 180, "Ringing", null);
        assertEquals(180, alice.awaitInviteResponse(call, 101).status());

        bob.respond(in, 200, "OK", ANSWER);
        SipMessage ok = alice.awaitInviteResponse(call, 200);
        assertEquals(200, ok.status());
        assertEquals(ANSWER, ok.body());
        assertNotNull(ok.toTag());
        assertEquals(progress.toTag(), ok.toTag(), "one dialog toward the caller");
        alice.ack(call, ok, null);
        SipMessage ack = bob.awaitRequest("ACK", in.callId());
        assertEquals(1, ack.cseqNumber());

        long bye = alice.request(call, "BYE", null, null);
        assertEquals(200, alice.awaitFinal(call.callId, "BYE").status());
        SipMessage relayedBye = bob.awaitRequest("BYE", in.callId());
        bob.respond(relayedBye, 200, "OK", null, null, null);
        assertEquals(2, bye);
        assertCallsForgotten();
    }

    @Test
    void theCalleesByeIsRelayedToTheCaller() throws Exception {
        Incoming in = connect();
        Call call = established[0];

        bob.request(in, "BYE", null, null);
        assertEquals(200, bob.awaitFinal(in.callId(), "BYE").status());
        SipMessage bye = alice.awaitRequest("BYE", call.callId);
        assertEquals(call.fromTag, bye.toTag(), "sent in the caller's dialog");
        alice.respond(bye, 200, "OK", null, null, null);
        assertCallsForgotten();
    }

    @Test
    void cancelBeforeTheAnswerIsAnswered487AndCancelsTheCallee() throws Exception {
        Call call = alice.invite("1002", OFFER);
        Incoming in = bob.awaitInvite();
        bob.respond(in, 180, "Ringing", null);
        assertEquals(180, alice.awaitInviteResponse(call, 101).status());

        alice.cancel(call);
        assertEquals(200, alice.awaitFinal(call.callId, "CANCEL").status());
        SipMessage terminated = alice.awaitInviteResponse(call, 200);
        assertEquals(487, terminated.status());
        alice.ack(call, terminated, null);

        SipMessage cancel = bob.awaitRequest("CANCEL", in.callId());
        bob.respond(cancel, 200, "OK", in.localTag, null, null);
        bob.respond(in, 487, "Request Terminated", null);
        bob.awaitRequest("ACK", in.callId()); // the sandbox's transaction ACKs the 487 (§17.1.1.3)
        assertCallsForgotten();
    }

    @Test
    void aCancelCrossingTheCalleesAnswerEndsTheCalleeWithBye() throws Exception {
        Call call = alice.invite("1002", OFFER);
        Incoming in = bob.awaitInvite();
        bob.respond(in, 180, "Ringing", null);
        alice.awaitInviteResponse(call, 101);

        alice.cancel(call);
        assertEquals(487, alice.awaitInviteResponse(call, 200).status());
        bob.awaitRequest("CANCEL", in.callId());
        // Bob answered before the CANCEL reached him: the sandbox must ACK and hang up.
        bob.respond(in, 200, "OK", ANSWER);
        bob.awaitRequest("ACK", in.callId());
        SipMessage bye = bob.awaitRequest("BYE", in.callId());
        bob.respond(bye, 200, "OK", null, null, null);
        assertCallsForgotten();
    }

    @Test
    void aBusyCalleeIsRelayedToTheCaller() throws Exception {
        Call call = alice.invite("1002", OFFER);
        Incoming in = bob.awaitInvite();
        bob.respond(in, 486, "Busy Here", null);

        SipMessage busy = alice.awaitInviteResponse(call, 200);
        assertEquals(486, busy.status());
        assertEquals("Busy Here", busy.startLine().substring("SIP/2.0 486 ".length()));
        alice.ack(call, busy, null);
        bob.awaitRequest("ACK", in.callId());
        assertCallsForgotten();
    }

    @Test
    void anUnknownDnIsNotFound() throws Exception {
        Call call = alice.invite("4711", OFFER);
        assertEquals(404, alice.awaitInviteResponse(call, 200).status());
        assertCallsForgotten();
    }

    @Test
    void aRegisteredContactThatNeverRespondsGives408() throws Exception {
        try (DatagramSocket deaf = new DatagramSocket(new InetSocketAddress(InetAddress.getByName("127.0.0.1"), 0));
             RawSipClient registrar = RawSipClient.udp(new InetSocketAddress(server.address().host(), server.address().port()))) {
            // 1003 is registered at the address of a socket nobody reads.
            assertEquals(200, registrar.exchange(registrar.request("REGISTER", "1003", "deaf", 1,
                    "Contact: <sip:1003@127.0.0.1:" + deaf.getLocalPort() + ">")).status());
            Call call = alice.invite("1003", OFFER);
            SipMessage timeout = alice.awaitInviteResponse(call, 200);
            assertEquals(408, timeout.status(), timeout.text());
            alice.ack(call, timeout, null);
            assertCallsForgotten();
        }
    }

    @Test
    void aRingingCalleeNobodyAnswersIsCancelledAndTheCallerGets480() throws Exception {
        Call call = alice.invite("1002", OFFER);
        Incoming in = bob.awaitInvite();
        bob.respond(in, 180, "Ringing", null);
        alice.awaitInviteResponse(call, 101);

        SipMessage noAnswer = alice.awaitInviteResponse(call, 200);
        assertEquals(480, noAnswer.status());
        SipMessage cancel = bob.awaitRequest("CANCEL", in.callId());
        bob.respond(cancel, 200, "OK", in.localTag, null, null);
        bob.respond(in, 487, "Request Terminated", null);
        assertCallsForgotten();
    }

    @Test
    void aCallerThatNeverAcksIsHungUpOnBothSides() throws Exception {
        Call call = alice.invite("1002", OFFER);
        Incoming in = bob.awaitInvite();
        bob.respond(in, 200, "OK", ANSWER);
        alice.awaitInviteResponse(call, 200);
        // No ACK from Alice: after the ACK wait the sandbox ACKs Bob's 2xx and sends BYE both ways (§13.3.1.4).
        bob.awaitRequest("ACK", in.callId());
        SipMessage bye = bob.awaitRequest("BYE", in.callId());
        bob.respond(bye, 200, "OK", null, null, null);
        assertCallsForgotten();
    }

    @Test
    void anOfferInThe200IsAnsweredInTheRelayedAck() throws Exception {
        Call call = alice.invite("1002", null);
        Incoming in = bob.awaitInvite();
        assertEquals("", in.invite.body());
        bob.respond(in, 200, "OK", OFFER);
        SipMessage ok = alice.awaitInviteResponse(call, 200);
        assertEquals(OFFER, ok.body());
        alice.ack(call, ok, ANSWER);
        assertEquals(ANSWER, bob.awaitRequest("ACK", in.callId()).body());
    }

    @Test
    void reinvitesAreRelayedBothWaysWithTheirAnswers() throws Exception {
        Incoming in = connect();
        Call call = established[0];

        String hold = OFFER.replace("sendrecv", "sendonly").replace("o=- 1 1", "o=- 1 2");
        String held = ANSWER.replace("sendrecv", "recvonly").replace("o=- 2 1", "o=- 2 2");
        alice.request(call, "INVITE", hold, "application/sdp");
        SipMessage reinvite = bob.awaitRequest("INVITE", in.callId());
        assertEquals(hold, reinvite.body());
        assertEquals(in.localTag, reinvite.toTag(), "in Bob's existing dialog");
        bob.respond(reinvite, 200, "OK", null, held, "application/sdp");
        SipMessage ok = alice.awaitFinal(call.callId, "INVITE");
        assertEquals(held, ok.body());
        alice.send(ackFor(alice, call, ok));
        bob.awaitRequest("ACK", in.callId());

        // Now Bob re-INVITEs (resume) and Alice refuses with 491: the refusal is relayed.
        bob.request(in, "INVITE", ANSWER, "application/sdp");
        SipMessage fromBob = alice.awaitRequest("INVITE", call.callId);
        alice.respond(fromBob, 491, "Request Pending", null, null, null);
        assertEquals(491, bob.awaitFinal(in.callId(), "INVITE").status());
        assertEquals(1, server.activeCalls(), "a refused re-INVITE leaves the call up");
    }

    @Test
    void aSecondReinviteWhileOneIsInProgressGets491() throws Exception {
        Incoming in = connect();
        Call call = established[0];

        alice.request(call, "INVITE", OFFER, "application/sdp");
        SipMessage first = bob.awaitRequest("INVITE", in.callId());
        bob.request(in, "INVITE", ANSWER, "application/sdp"); // glare
        assertEquals(491, bob.awaitFinal(in.callId(), "INVITE").status());

        bob.respond(first, 200, "OK", null, ANSWER, "application/sdp");
        SipMessage ok = alice.awaitFinal(call.callId, "INVITE");
        assertEquals(200, ok.status());
    }

    @Test
    void infoAndNotifyAreRelayedInsideTheDialogs() throws Exception {
        Incoming in = connect();
        Call call = established[0];

        alice.request(call, "INFO", "Signal=5\r\nDuration=160\r\n", "application/dtmf-relay", "X-Key: v");
        SipMessage info = bob.awaitRequest("INFO", in.callId());
        assertEquals("Signal=5\r\nDuration=160\r\n", info.body());
        assertEquals("application/dtmf-relay", info.header("Content-Type"));
        assertEquals("v", info.header("X-Key"));
        bob.respond(info, 200, "OK", null, null, null);
        assertEquals(200, alice.awaitFinal(call.callId, "INFO").status());

        bob.request(in, "NOTIFY", null, null, "Event: talk", "Subscription-State: active");
        SipMessage notify = alice.awaitRequest("NOTIFY", call.callId);
        assertEquals("talk", notify.header("Event"));
        alice.respond(notify, 200, "OK", null, null, null);
        assertEquals(200, bob.awaitFinal(in.callId(), "NOTIFY").status());

        alice.request(call, "INFO", "x", "text/plain");
        SipMessage second = bob.awaitRequest("INFO", in.callId());
        bob.respond(second, 415, "Unsupported Media Type", null, null, null);
        assertEquals(415, alice.awaitFinal(call.callId, "INFO").status(), "the final answer is relayed as it is");
    }

    @Test
    void a481FromOneSideEndsTheCall() throws Exception {
        Incoming in = connect();
        Call call = established[0];

        alice.request(call, "INFO", "x", "text/plain");
        SipMessage info = bob.awaitRequest("INFO", in.callId());
        bob.respond(info, 481, "Call/Transaction Does Not Exist", null, null, null);
        assertEquals(481, alice.awaitFinal(call.callId, "INFO").status());
        SipMessage bye = alice.awaitRequest("BYE", call.callId);
        alice.respond(bye, 200, "OK", null, null, null);
        assertCallsForgotten();
    }

    @Test
    void aCallLongerThanTheMaximumIsHungUpOnBothSides() throws Exception {
        stop();
        startWith(new CallRouter.Timeouts(Duration.ofSeconds(1), Duration.ofSeconds(2), Duration.ofSeconds(2),
                Duration.ofMillis(1500)));
        Incoming in = connect();
        Call call = established[0];

        SipMessage toAlice = alice.awaitRequest("BYE", call.callId);
        alice.respond(toAlice, 200, "OK", null, null, null);
        SipMessage toBob = bob.awaitRequest("BYE", in.callId());
        bob.respond(toBob, 200, "OK", null, null, null);
        assertCallsForgotten();
    }

    @Test
    void requestsForUnknownDialogsGet481() throws Exception {
        Call ghost = new Call("ghost-call", "g1", "sip:1002@127.0.0.1", null);
        ghost.remoteTag = "nobody";
        ghost.remoteTarget = "sip:1002@127.0.0.1";
        alice.request(ghost, "BYE", null, null);
        assertEquals(481, alice.awaitFinal("ghost-call", "BYE").status());
        alice.request(ghost, "INFO", "x", "text/plain");
        assertEquals(481, alice.awaitFinal("ghost-call", "INFO").status());
        alice.request(ghost, "INVITE", OFFER, "application/sdp");
        assertEquals(481, alice.awaitFinal("ghost-call", "INVITE").status());
        assertCallsForgotten();
    }

    @Test
    void malformedAndOddInvitesNeverBreakIt() throws Exception {
        InetSocketAddress address = new InetSocketAddress(server.address().host(), server.address().port());
        try (RawSipClient raw = RawSipClient.udp(address)) {
            String host = server.address().toString();
            // Garbage the stack drops or answers 400 without involving the router.
            raw.sendBytes(new byte[] {'I', 'N', 'V', 'I', 'T', 'E', ' ', 0, (byte) 0xff, 13, 10, 13, 10});
            raw.send("INVITE sip:1002@" + host + " SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:1\r\n\r\n");
            raw.send(raw.request("INVITE", "1002", "no-length", 1).replace("Content-Length: 0", "Content-Length: 500"));

            String contact = "Contact: <sip:raw@127.0.0.1:" + raw.localPort() + ">";
            // No user part, a tel: URI, a user that cannot be registered: 404.
            assertEquals(404, answer(raw, raw.request("INVITE", "x", "nouser", 1, contact)).status());
            assertEquals(404, answer(raw, raw.request("INVITE", "x", "tel", 1, contact)
                    .replaceFirst("INVITE sip:[^ ]+ ", "INVITE tel:+15551002 ")).status());
            int odd = answer(raw, raw.request("INVITE", "x", "odd", 1, contact)
                    .replaceFirst("INVITE sip:", "INVITE sip:%00%ff@")).status();
            assertTrue(odd == 404 || odd == 400, "refused: " + odd);
            // No Contact (mandatory in INVITE, RFC 3261 §8.1.1.8): JAIN-SIP makes no transaction for it, 400.
            SipResponse noContact = answer(raw, raw.request("INVITE", "x", "nocontact", 1)
                    .replaceFirst("INVITE sip:", "INVITE sip:1002@"));
            assertEquals(400, noContact.status(), noContact::toString);
            // Max-Forwards exhausted (RFC 3261 §16.3 step 3).
            assertEquals(483, answer(raw, raw.request("INVITE", "x", "hops", 1, contact)
                    .replaceFirst("INVITE sip:", "INVITE sip:1002@").replace("Max-Forwards: 70", "Max-Forwards: 0")).status());
            // An extension the sandbox does not support (§8.2.2.3).
            SipResponse prack = answer(raw, raw.request("INVITE", "x", "100rel", 1, contact, "Require: 100rel")
                    .replaceFirst("INVITE sip:", "INVITE sip:1002@"));
            assertEquals(420, prack.status());
            assertEquals("100rel", prack.header("Unsupported"));
            // A To tag for a dialog the sandbox never had.
            assertEquals(481, answer(raw, raw.request("INVITE", "1002", "stale", 1, contact)
                    .replaceFirst("INVITE sip:", "INVITE sip:1002@").replace("To: <sip:1002@127.0.0.1>",
                            "To: <sip:1002@127.0.0.1>;tag=stale")).status());
            // A caller without a user part still reaches the echo.
            SipResponse anonymous = answer(raw, raw.request("INVITE", "x", "anon", 1, contact, "Content-Type: application/sdp")
                    .replaceFirst("INVITE sip:", "INVITE sip:" + CallRouter.ECHO_NUMBER + "@")
                    .replace("From: <sip:x@", "From: <sip:")
                    .replace("Content-Length: 0\r\n\r\n", "Content-Length: " + OFFER.length() + "\r\n\r\n" + OFFER));
            assertEquals(200, anonymous.status(), anonymous::toString);

            // A DN registered at the sandbox's own address would make it call itself forever.
            assertEquals(200, answer(raw, raw.request("REGISTER", "1005", "loop", 1,
                    "Contact: <sip:1005@" + host + ">")).status());
            assertEquals(482, answer(raw, raw.request("INVITE", "x", "loop-call", 1, "Contact: <sip:raw@127.0.0.1:1>")
                    .replaceFirst("INVITE sip:", "INVITE sip:1005@")).status());
        }

        // A retransmitted INVITE (same branch) makes one call, not two.
        Call call = alice.invite("1002", OFFER);
        alice.send(call.invite);
        Incoming in = bob.awaitInvite();
        assertTrue(bob.quietFor(300), "the retransmission was absorbed by the INVITE transaction");
        assertEquals(2, server.activeCalls(), "the anonymous echo call and this one");
        bob.respond(in, 200, "OK", ANSWER);
        SipMessage ok = alice.awaitInviteResponse(call, 200);
        alice.ack(call, ok, null);
        bob.awaitRequest("ACK", in.callId());
    }

    /** The final response to {@code request}, skipping answers to earlier garbage. */
    private static SipResponse answer(RawSipClient raw, String request) throws Exception {
        String callId = SipMessage.parse(request).callId();
        raw.send(request);
        SipResponse r;
        do {
            r = raw.receiveFinal();
        } while (!callId.equals(r.header("Call-ID")));
        return r;
    }

    static String ackFor(RawUserAgent ua, Call call, SipMessage ok) {
        return "ACK " + call.remoteTarget + " SIP/2.0\r\n"
                + "Via: SIP/2.0/UDP 127.0.0.1:" + ua.port() + ";branch=z9hG4bKack" + ok.cseqNumber() + "\r\n"
                + "Max-Forwards: 70\r\n"
                + "From: <" + ua.aor() + ">;tag=" + call.fromTag + "\r\n"
                + "To: <sip:x@127.0.0.1>;tag=" + call.remoteTag + "\r\n"
                + "Call-ID: " + call.callId + "\r\n"
                + "CSeq: " + ok.cseqNumber() + " ACK\r\n"
                + "Content-Length: 0\r\n\r\n";
    }
}
