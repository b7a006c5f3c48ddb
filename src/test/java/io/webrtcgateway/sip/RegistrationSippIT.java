package io.webrtcgateway.sip;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.webrtcgateway.testsupport.FreePorts;
import io.webrtcgateway.testsupport.GatewayProcess;
import io.webrtcgateway.testsupport.Poll;
import io.webrtcgateway.testsupport.SipMessage;
import io.webrtcgateway.testsupport.Sipp;
import io.webrtcgateway.testsupport.WsTestClient;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Registration against SIPp playing SIP Server (SPEC §5): with and without digest, refused, refreshed,
 * un-registered on sign-out, session expiry and shutdown, and primary -> backup switch-over.
 */
class RegistrationSippIT {

    private static GatewayProcess.Builder gateway(String... servers) {
        return GatewayProcess.builder()
                .sipServers(servers)
                .set("gateway.sip.keepalive-interval", "1 s")
                .set("gateway.sip.request-timeout", "2 s")
                .set("gateway.session.idle-timeout", "3 s")
                .set("gateway.session.keepalive-interval", "1 s")
                .set("gateway.legacy.poll-timeout", "1 s");
    }

    private static String ws(GatewayProcess gw) {
        return gw.httpUrl().replaceFirst("^http", "ws").replaceAll("/$", "") + "/ws";
    }

    @Test
    void digestChallengeWithRightAndWrongPassword() throws Exception {
        try (Sipp sipp = Sipp.scenario("registrar-digest.xml").password("s3cret").start();
             GatewayProcess gw = gateway(sipp.serverEntry()).start();
             WsTestClient good = WsTestClient.connect(ws(gw));
             WsTestClient bad = WsTestClient.connect(ws(gw));
             WsTestClient none = WsTestClient.connect(ws(gw))) {
            good.ok("hello");
            good.startKeepalive(Duration.ofSeconds(1));
            assertEquals("7101", good.ok("register", "dn", "7101", "password", "s3cret").path("dn").asText());
            assertTrue(sipp.receivedRequests("REGISTER").stream().anyMatch(m -> m.header("Authorization").isPresent()),
                    "the second REGISTER carried credentials");

            bad.ok("hello");

            bad.startKeepalive(Duration.ofSeconds(1));
            JsonNode refused = bad.request("register", "dn", "7102", "password", "wrong");
            assertEquals("SIP_REJECTED", refused.path("code").asText(), refused.toString());
            int status = refused.path("sipStatus").asInt();
            assertTrue(status == 401 || status == 403, "wrong password reported with SIP Server's status: " + refused);

            none.ok("hello");

            none.startKeepalive(Duration.ofSeconds(1));
            JsonNode noPassword = none.request("register", "dn", "7103");
            assertEquals("SIP_REJECTED", noPassword.path("code").asText());
            assertEquals(401, noPassword.path("sipStatus").asInt(), noPassword.toString());

            // the failures changed nothing for the registered session
            assertTrue(good.ok("ping").path("time").asLong() > 0);
            good.ok("unregister");
        }
    }

    @Test
    void forbiddenIsReportedWithItsStatus() throws Exception {
        try (Sipp sipp = Sipp.scenario("registrar-403.xml").start();
             GatewayProcess gw = gateway(sipp.serverEntry()).start();
             WsTestClient c = WsTestClient.connect(ws(gw))) {
            c.ok("hello");
            c.startKeepalive(Duration.ofSeconds(1));
            JsonNode e = c.request("register", "dn", "7201");
            assertEquals("SIP_REJECTED", e.path("code").asText());
            assertEquals(403, e.path("sipStatus").asInt());
            assertEquals("Forbidden", e.path("sipReason").asText());
            // a refused DN leaves the session usable
            assertEquals("NOT_REGISTERED", c.request("unregister").path("code").asText());
        }
    }

    @Test
    void refreshesBeforeExpiryWithTheSameCallIdAndRisingCSeq() throws Exception {
        try (Sipp sipp = Sipp.scenario("registrar-short-expires.xml").start();
             GatewayProcess gw = gateway(sipp.serverEntry()).start();
             WsTestClient c = WsTestClient.connect(ws(gw))) {
            c.ok("hello");
            c.startKeepalive(Duration.ofSeconds(1));
            long t0 = System.nanoTime();
            assertEquals(4, c.ok("register", "dn", "7301").path("expires").asInt());
            List<SipMessage> regs = sipp.awaitReceived(m -> "REGISTER".equals(m.method()) && "7301".equals(m.toUser()), 3,
                    Duration.ofSeconds(10), "two refreshes of a 4 s registration");
            long elapsedMs = (System.nanoTime() - t0) / 1_000_000;
            assertTrue(elapsedMs < 8000, "refreshed before expiry each time (" + elapsedMs + " ms for 2 refreshes)");
            assertEquals(regs.get(0).callId(), regs.get(2).callId());
            assertTrue(regs.get(2).cseq() > regs.get(1).cseq() && regs.get(1).cseq() > regs.get(0).cseq());
            c.ok("bye");
            sipp.awaitUnregister("7301", Duration.ofSeconds(5));
        }
    }

    /** One gateway for the three ways a registration ends: sign-out, session expiry, then the gateway's shutdown. */
    @Test
    void registersWithoutChallengeAndUnregistersOnSignOutSessionExpiryAndShutdown() throws Exception {
        try (Sipp sipp = Sipp.scenario("registrar-ok.xml").start();
             GatewayProcess gw = gateway(sipp.serverEntry()).start()) {
            try (WsTestClient c = WsTestClient.connect(ws(gw))) {
                c.ok("hello");
                c.startKeepalive(Duration.ofSeconds(1));
                JsonNode reg = c.ok("register", "dn", "7001");
                assertTrue(reg.path("expires").asInt() > 0);
                SipMessage register = sipp.awaitReceived(m -> "REGISTER".equals(m.method()) && "7001".equals(m.toUser()), 1,
                        Duration.ofSeconds(5), "REGISTER for 7001").get(0);
                String contact = register.header("Contact").orElse("");
                assertTrue(contact.contains("sip:7001@127.0.0.1:" + gw.sipPort()), "Contact points at this instance: " + contact);
                c.ok("bye");
                SipMessage unreg = sipp.awaitUnregister("7001", Duration.ofSeconds(5));
                assertEquals(register.callId(), unreg.callId(), "same Call-ID for the un-REGISTER");
            }

            try (WsTestClient c = WsTestClient.connect(ws(gw))) {
                c.ok("hello");
                c.ok("register", "dn", "7401");
                c.abort(); // the browser goes silent
            }
            sipp.awaitUnregister("7401", Duration.ofSeconds(10)); // idle-timeout 3 s

            WsTestClient a = WsTestClient.connect(ws(gw));
            WsTestClient b = WsTestClient.connect(ws(gw));
            a.ok("hello");
            a.startKeepalive(Duration.ofSeconds(1));
            a.ok("register", "dn", "7402");
            b.ok("hello");
            b.startKeepalive(Duration.ofSeconds(1));
            b.ok("register", "dn", "7403");
            int exit = gw.stop();
            assertTrue(exit == 0 || exit == 143, "clean exit on SIGTERM (143 is the JVM's normal SIGTERM status): " + exit);
            sipp.awaitUnregister("7402", Duration.ofSeconds(1));
            sipp.awaitUnregister("7403", Duration.ofSeconds(1));
            // Browsers learn it from the 'shutdown' event or, when Jetty closed the sockets first, from the close.
            Poll.until(Duration.ofSeconds(5), "browsers told to reconnect elsewhere",
                    () -> a.seen().stream().anyMatch(m -> "shutdown".equals(m.path("name").asText()))
                            || a.closeCode() == 1001 || a.closeCode() == 1006);
            a.abort();
            b.abort();
        }
    }

    @Test
    void primaryDownMeansTheBackupIsUsed() throws Exception {
        int deadPrimary = FreePorts.udpAndTcp();
        try (Sipp backup = Sipp.scenario("registrar-ok.xml").name("backup").start();
             GatewayProcess gw = gateway("127.0.0.1:" + deadPrimary, backup.serverEntry()).start();
             WsTestClient c = WsTestClient.connect(ws(gw))) {
            gw.awaitHttpStatus("/health/ready", 200, Duration.ofSeconds(10));
            c.ok("hello");
            c.startKeepalive(Duration.ofSeconds(1));
            assertEquals("7501", c.ok("register", "dn", "7501").path("dn").asText());
            backup.awaitReceived(m -> "REGISTER".equals(m.method()) && "7501".equals(m.toUser()), 1,
                    Duration.ofSeconds(5), "REGISTER at the backup");
            c.ok("bye");
        }
    }

    @Test
    void primaryFailingLaterMovesRegistrationsToTheBackup() throws Exception {
        try (Sipp primary = Sipp.scenario("registrar-ok.xml").name("primary").start();
             Sipp backup = Sipp.scenario("registrar-ok.xml").name("backup").start();
             GatewayProcess gw = gateway(primary.serverEntry(), backup.serverEntry()).start();
             WsTestClient c = WsTestClient.connect(ws(gw))) {
            c.ok("hello");
            c.startKeepalive(Duration.ofSeconds(1));
            c.ok("register", "dn", "7601");
            primary.awaitReceived(m -> "REGISTER".equals(m.method()) && "7601".equals(m.toUser()), 1,
                    Duration.ofSeconds(5), "REGISTER at the primary");
            primary.kill9();
            // 2 missed OPTIONS (1 s apart) mark the primary down; the DN is registered at the backup at once.
            backup.awaitReceived(m -> "REGISTER".equals(m.method()) && "7601".equals(m.toUser()), 1,
                    Duration.ofSeconds(10), "REGISTER moved to the backup");
            assertTrue(c.isOpen());
            c.ok("bye");
        }
    }

    @Test
    void noServerAnsweringIsATimeoutAndNotReady() throws Exception {
        int dead = FreePorts.udpAndTcp();
        try (GatewayProcess gw = gateway("127.0.0.1:" + dead).start();
             WsTestClient c = WsTestClient.connect(ws(gw))) {
            gw.awaitHttpStatus("/health/ready", 503, Duration.ofSeconds(10));
            c.ok("hello");
            c.startKeepalive(Duration.ofSeconds(1));
            JsonNode e = c.request("register", "dn", "7701");
            String code = e.path("code").asText();
            assertTrue(code.equals("SIP_TIMEOUT") || code.equals("SIP_UNAVAILABLE"), e.toString());
            if (code.equals("SIP_TIMEOUT")) {
                assertEquals(408, e.path("sipStatus").asInt());
            }
            Poll.until(Duration.ofSeconds(5), "session still usable", () -> c.ok("ping").path("time").asLong() > 0);
        }
    }
}
