package io.webrtcgateway.session;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.webrtcgateway.testsupport.GatewayProcess;
import io.webrtcgateway.testsupport.Kamailio;
import io.webrtcgateway.testsupport.Poll;
import io.webrtcgateway.testsupport.WsTestClient;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

/**
 * Kamailio as a real registrar: 200 browsers' worth of DNs sign in and register through the WebSocket API;
 * Kamailio's location table lists exactly those contacts, all pointing at this gateway; after sign-out
 * none is left.
 */
class KamailioRegistrationIT {
    private static final int SESSIONS = 200;

    @Test
    void twoHundredDnsRegisterAndUnregister() throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(16);
        List<WsTestClient> clients = new ArrayList<>();
        try (Kamailio kamailio = Kamailio.builder().start();
             GatewayProcess gw = GatewayProcess.builder().sipServers(kamailio.serverEntry()).instanceId("kamit").start()) {
            gw.awaitHttpStatus("/health/ready", 200, Duration.ofSeconds(15));
            String ws = gw.httpUrl().replaceFirst("^http", "ws").replaceAll("/$", "") + "/ws";
            List<Future<WsTestClient>> signIns = new ArrayList<>();
            for (int i = 0; i < SESSIONS; i++) {
                String dn = String.valueOf(8000 + i);
                signIns.add(pool.submit(() -> {
                    WsTestClient c = WsTestClient.connect(ws);
                    c.ok("hello");
                    c.ok("register", "dn", dn);
                    return c;
                }));
            }
            for (Future<WsTestClient> f : signIns) {
                clients.add(f.get());
            }

            Map<String, List<String>> expected = new TreeMap<>();
            for (int i = 0; i < SESSIONS; i++) {
                String dn = String.valueOf(8000 + i);
                expected.put(dn, List.of("sip:" + dn + "@127.0.0.1:" + gw.sipPort()));
            }
            Poll.until(Duration.ofSeconds(15), "Kamailio lists exactly the 200 contacts",
                    () -> expected.equals(new TreeMap<>(kamailio.contacts())));

            List<Future<?>> signOuts = new ArrayList<>();
            for (WsTestClient c : clients) {
                signOuts.add(pool.submit(() -> c.ok("bye")));
            }
            for (Future<?> f : signOuts) {
                f.get();
            }
            Poll.until(Duration.ofSeconds(15), "no contact left at Kamailio", () -> kamailio.contacts().isEmpty());
            assertEquals(Map.of(), kamailio.contacts());
        } finally {
            clients.forEach(WsTestClient::close);
            pool.shutdownNow();
        }
    }
}
