package io.webrtcgateway.testsupport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalInt;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/**
 * The SIPp registrar scenarios in src/test/resources/sipp/, driven by a hand-written SIP client; proves
 * the scenarios and the Sipp harness (ports, message trace, error log, stop). Needs a real sipp.
 */
class SippScenariosIT {

    private static final Duration WAIT = Duration.ofSeconds(10);

    @Test
    void registrarOkGrantsWhatWasAskedAndServesRefreshesOptionsAndUnregister() {
        try (Sipp sipp = Sipp.scenario("registrar-ok.xml").start();
             RawSipClient client = RawSipClient.udp(sipp.address())) {
            String callId = RawSipClient.newCallId();

            SipMessage ok = client.send(client.register("1001", callId, 1, 120, null));
            assertEquals(200, ok.status(), ok.text());
            assertEquals("<" + client.contactUri("1001") + ">", ok.header("Contact").orElseThrow());
            assertEquals(OptionalInt.of(120), ok.expires());
            assertTrue(ok.header("To").orElseThrow().contains(";tag="), "a registrar adds a To tag");

            assertEquals(200, client.send(client.options()).status(), "OPTIONS on a Call-ID of its own");
            assertEquals(200, client.send(client.register("1001", callId, 2, 120, null)).status(), "refresh");
            // OPTIONS inside the registration's Call-ID, then more refreshes right after each other
            String optionsSameCall = client.request("OPTIONS", client.registrarUri(), "1001", callId, 3, "");
            assertEquals(200, client.send(optionsSameCall).status());
            assertEquals(200, client.send(client.register("1001", callId, 4, 120, null)).status());
            SipMessage removed = client.send(client.register("1001", callId, 5, 0, null));
            assertEquals(200, removed.status());

            assertEquals(4, sipp.awaitRequests("REGISTER", 4, WAIT).size());
            assertEquals(2, sipp.receivedRequests("OPTIONS").size());
            assertEquals(1, sipp.unregisters().size());
            assertEquals("1001", sipp.awaitUnregister("1001", WAIT).toUser());
            assertEquals(6, sipp.sentResponses(200).size());
            assertEquals(0, sipp.unexpectedMessageCount(), sipp.errors());
            assertTrue(sipp.receivedRequestTexts().get(0).startsWith("REGISTER "));
        }
    }

    @Test
    void registrarOkServesManyRegistrationsAtOnce() throws Exception {
        try (Sipp sipp = Sipp.scenario("registrar-ok.xml").start()) {
            List<CompletableFuture<Integer>> answers = new ArrayList<>();
            for (int i = 0; i < 50; i++) {
                String dn = String.valueOf(2000 + i);
                answers.add(CompletableFuture.supplyAsync(() -> {
                    try (RawSipClient client = RawSipClient.udp(sipp.address())) {
                        return client.send(client.register(dn, RawSipClient.newCallId(), 1, 60, null)).status();
                    }
                }));
            }
            for (CompletableFuture<Integer> answer : answers) {
                assertEquals(200, answer.get());
            }
            assertEquals(50, sipp.awaitRequests("REGISTER", 50, WAIT).stream().map(SipMessage::toUser).distinct().count());
        }
    }

    @Test
    void registrarOkOverTcp() {
        try (Sipp sipp = Sipp.scenario("registrar-ok.xml").transport(Sipp.Transport.TCP).start();
             RawSipClient client = RawSipClient.tcp(sipp.address())) {
            String callId = RawSipClient.newCallId();

            assertEquals(200, client.send(client.register("1001", callId, 1, 60, null)).status());
            assertEquals(200, client.send(client.options()).status());
            assertEquals(200, client.send(client.register("1001", callId, 2, 0, null)).status());

            assertEquals("127.0.0.1:" + sipp.port() + ";transport=tcp", sipp.serverEntry());
            assertEquals(1, sipp.awaitReceived(SipMessage::isUnregister, 1, WAIT, "un-REGISTER").size());
        }
    }

    @Test
    void registrarDigestChallengesThenAcceptsTheRightPasswordAndRefusesAWrongOne() {
        try (Sipp sipp = Sipp.scenario("registrar-digest.xml").password("s3cret").start();
             RawSipClient client = RawSipClient.udp(sipp.address())) {
            String uri = client.registrarUri();
            String callId = RawSipClient.newCallId();

            SipMessage challenge = client.send(client.register("1001", callId, 1, 60, null));
            assertEquals(401, challenge.status());
            String www = challenge.header("WWW-Authenticate").orElseThrow();
            assertTrue(www.startsWith("Digest ") && www.contains("realm=\"sipp.test\"") && www.contains("nonce=")
                    && www.contains("qop=\"auth\""), www);
            // an OPTIONS while the registration is challenged does not disturb it
            assertEquals(200, client.send(client.options()).status());

            String auth = RawSipClient.authorization(challenge, "REGISTER", uri, "1001", "s3cret", 1);
            SipMessage ok = client.send(client.register("1001", callId, 2, 60, auth));
            assertEquals(200, ok.status(), ok.text());
            assertEquals(OptionalInt.of(60), ok.expires());

            String refreshAuth = RawSipClient.authorization(challenge, "REGISTER", uri, "1001", "s3cret", 2);
            assertEquals(200, client.send(client.register("1001", callId, 3, 60, refreshAuth)).status(),
                    "refresh with cached credentials");
            assertEquals(401, client.send(client.register("1001", callId, 4, 60, null)).status(),
                    "refresh without credentials is challenged again");
            String unregisterAuth = RawSipClient.authorization(challenge, "REGISTER", uri, "1001", "s3cret", 3);
            assertEquals(200, client.send(client.register("1001", callId, 5, 0, unregisterAuth)).status());

            String otherCall = RawSipClient.newCallId();
            SipMessage challenge2 = client.send(client.register("1002", otherCall, 1, 60, null));
            assertEquals(401, challenge2.status());
            String wrong = RawSipClient.authorization(challenge2, "REGISTER", uri, "1002", "wrong", 1);
            assertEquals(403, client.send(client.register("1002", otherCall, 2, 60, wrong)).status());
            // after the 403 the dialog starts over: challenged again, and the right password still works
            SipMessage challenge3 = client.send(client.register("1002", otherCall, 3, 60, null));
            assertEquals(401, challenge3.status());
            String right = RawSipClient.authorization(challenge3, "REGISTER", uri, "1002", "s3cret", 1);
            assertEquals(200, client.send(client.register("1002", otherCall, 4, 60, right)).status());

            assertEquals(1, sipp.sentResponses(403).size());
            assertEquals(0, sipp.unexpectedMessageCount(), sipp.errors());
        }
    }

    @Test
    void registrarDigestAcceptsPreemptiveCredentials() {
        try (Sipp sipp = Sipp.scenario("registrar-digest.xml").password("pw").start();
             RawSipClient client = RawSipClient.udp(sipp.address())) {
            SipMessage challenge = client.send(client.register("1003", RawSipClient.newCallId(), 1, 60, null));
            // a new Call-ID reusing the nonce learned before
            String auth = RawSipClient.authorization(challenge, "REGISTER", client.registrarUri(), "1003", "pw", 1);
            assertEquals(200, client.send(client.register("1003", RawSipClient.newCallId(), 1, 60, auth)).status());
        }
    }

    @Test
    void registrar403RefusesEveryRegisterButAnswersOptions() {
        try (Sipp sipp = Sipp.scenario("registrar-403.xml").start();
             RawSipClient client = RawSipClient.udp(sipp.address())) {
            String callId = RawSipClient.newCallId();

            SipMessage refused = client.send(client.register("1001", callId, 1, 60, null));
            assertEquals(403, refused.status());
            assertEquals("SIP/2.0 403 Forbidden", refused.firstLine());
            assertEquals(200, client.send(client.options()).status());
            assertEquals(403, client.send(client.register("1001", callId, 2, 60, null)).status());
            assertEquals(0, sipp.unexpectedMessageCount(), sipp.errors());
        }
    }

    @Test
    void registrarShortExpiresGrantsFourSecondsAndClearsOnUnregister() {
        try (Sipp sipp = Sipp.scenario("registrar-short-expires.xml").start();
             RawSipClient client = RawSipClient.udp(sipp.address())) {
            String callId = RawSipClient.newCallId();

            SipMessage granted = client.send(client.register("1001", callId, 1, 3600, null));
            assertEquals(200, granted.status());
            assertEquals("<" + client.contactUri("1001") + ">;expires=4", granted.header("Contact").orElseThrow());
            assertEquals("4", granted.header("Expires").orElseThrow());
            assertEquals(200, client.send(client.options()).status());
            assertEquals(OptionalInt.of(4), client.send(client.register("1001", callId, 2, 3600, null)).expires());

            SipMessage removed = client.send(client.register("1001", callId, 3, 0, null));
            assertEquals(200, removed.status());
            assertFalse(removed.header("Contact").isPresent(), "no binding left: " + removed);
            assertEquals("0", removed.header("Expires").orElseThrow());

            // ";expires=0" on the Contact is an un-REGISTER too (RFC 3261 §10.2.2), and a later REGISTER
            // on the same Call-ID is granted 4 s again (the scenario resets its state per request)
            String contactParam = client.request("REGISTER", client.registrarUri(), "1001", callId, 4,
                    "Contact: <" + client.contactUri("1001") + ">;expires=0\r\n");
            assertFalse(client.send(contactParam).header("Contact").isPresent());
            assertEquals(OptionalInt.of(4), client.send(client.register("1001", callId, 5, 60, null)).expires());
            assertEquals(2, sipp.unregisters().size());
            assertEquals(0, sipp.unexpectedMessageCount(), sipp.errors());
        }
    }

    @Test
    void aStoppedSippComesBackOnTheSamePortAndKeepsItsTrace() {
        try (Sipp sipp = Sipp.scenario("registrar-ok.xml").name("primary").start();
             RawSipClient client = RawSipClient.udp(sipp.address())) {
            assertEquals(200, client.send(client.register("1001", RawSipClient.newCallId(), 1, 60, null)).status());
            int port = sipp.port();

            sipp.kill9();
            assertTrue(FreePorts.udpFree(port), "primary is down");
            sipp.startAgain();

            assertEquals(port, sipp.port());
            assertEquals(200, client.send(client.register("1001", RawSipClient.newCallId(), 1, 60, null)).status());
            assertEquals(2, sipp.awaitRequests("REGISTER", 2, WAIT).size(), "trace appended across the restart");
            sipp.restart();
            assertEquals(200, client.send(client.options()).status());
        }
    }

    @Test
    void stopEndsSippAndTheLogsStay() {
        Sipp sipp = Sipp.scenario("registrar-ok.xml").name("stopped").start();
        assertTrue(sipp.isAlive());
        sipp.stop();
        assertFalse(sipp.isAlive());
        assertTrue(FreePorts.udpFree(sipp.port()), "port released");
        assertTrue(sipp.logFile().getFileName().toString().startsWith("SippScenariosIT.stopEndsSippAndTheLogsStay-stopped"));
        assertTrue(sipp.logTail(200).contains("start: "), sipp.logTail(20));
    }
}
