package io.webrtcgateway.sip;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.webrtcgateway.testsupport.GatewayProcess;
import io.webrtcgateway.testsupport.Kamailio;
import io.webrtcgateway.testsupport.Poll;
import io.webrtcgateway.testsupport.SipMessage;
import io.webrtcgateway.testsupport.Sipp;
import io.webrtcgateway.testsupport.WsTestClient;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/**
 * SIP Server over TCP, with the gateway's TCP served by its own listener (sip.tcp.SipTcpTransport, one
 * selector thread): REGISTERs, refreshes' keepalive OPTIONS and un-REGISTERs go out on the gateway's own
 * connection; when SIP Server restarts and the connection drops, the next request opens a new one and
 * arrives whole (JAIN-SIP's NIO processor could lose it, jain-sip #188); Kamailio as a real registrar over
 * TCP takes 50 DNs and lets them go.
 */
class SipOverTcpIT {
    private static final Duration T = Duration.ofSeconds(15);

    @Test
    void registersKeepsAliveAndReconnectsAfterSipServerRestarts() {
        try (Sipp sipServer = Sipp.scenario("registrar-ok.xml").name("sip-server").transport(Sipp.Transport.TCP).start();
             GatewayProcess gw = GatewayProcess.builder().sipServers(sipServer.serverEntry())
                     .set("gateway.sip.keepalive-interval", "1 s").start();
             WsTestClient first = WsTestClient.connect(gw.wsUrl());
             WsTestClient second = WsTestClient.connect(gw.wsUrl())) {
            assertTrue(sipServer.serverEntry().endsWith(";transport=tcp"));
            first.ok("hello");
            first.ok("register", "dn", "7101");
            SipMessage register = sipServer.awaitReceived(m -> "REGISTER".equals(m.method()) && "7101".equals(m.toUser()),
                    1, T, "REGISTER over TCP").get(0);
            assertTrue(register.header("Via").orElse("").startsWith("SIP/2.0/TCP"), register.text());
            int optionsBefore = sipServer.receivedRequests("OPTIONS").size();
            sipServer.awaitRequests("OPTIONS", optionsBefore + 2, T);

            // SIP Server restarts: its end of the connection closes; the gateway must open a new one.
            sipServer.restart();
            int optionsAtRestart = sipServer.receivedRequests("OPTIONS").size();
            sipServer.awaitRequests("OPTIONS", optionsAtRestart + 2, T);
            gw.awaitHttpStatus("/health/ready", 200, T);

            second.ok("hello");
            second.ok("register", "dn", "7102");
            List<SipMessage> registers = sipServer.awaitReceived(
                    m -> "REGISTER".equals(m.method()) && "7102".equals(m.toUser()), 1, T, "REGISTER after the restart");
            assertEquals(1, registers.size(), "answered at the first attempt: nothing lost on the new connection");
            first.ok("bye");
            sipServer.awaitUnregister("7101", T);
            second.ok("bye");
            sipServer.awaitUnregister("7102", T);
            assertEquals(0, sipServer.unexpectedMessageCount(), sipServer.errors());
        }
    }

    @Test
    void kamailioOverTcpTakesFiftyDnsAndLetsThemGo() {
        List<WsTestClient> clients = new ArrayList<>();
        try (Kamailio kamailio = Kamailio.builder().start();
             GatewayProcess gw = GatewayProcess.builder().sipServers(kamailio.tcpServerEntry()).instanceId("kamtcp")
                     .start()) {
            gw.awaitHttpStatus("/health/ready", 200, T);
            Map<String, List<String>> expected = new TreeMap<>();
            for (int i = 0; i < 50; i++) {
                String dn = String.valueOf(8100 + i);
                WsTestClient c = WsTestClient.connect(gw.wsUrl());
                clients.add(c);
                c.ok("hello");
                c.ok("register", "dn", dn);
                expected.put(dn, List.of("sip:" + dn + "@127.0.0.1:" + gw.sipPort() + ";transport=tcp"));
            }
            try {
                Poll.until(T, "Kamailio lists exactly the 50 contacts",
                        () -> expected.equals(new TreeMap<>(kamailio.contacts())));
            } catch (AssertionError e) {
                throw new AssertionError(e.getMessage() + "; Kamailio lists " + new TreeMap<>(kamailio.contacts()), e);
            }
            for (WsTestClient c : clients) {
                c.ok("bye");
            }
            Poll.until(T, "no contact left at Kamailio", () -> kamailio.contacts().isEmpty());
        } finally {
            clients.forEach(WsTestClient::close);
        }
    }
}
