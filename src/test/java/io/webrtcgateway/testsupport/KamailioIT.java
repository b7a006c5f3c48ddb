package io.webrtcgateway.testsupport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The Kamailio wrapper against a real kamailio 5.6: bindings made by raw REGISTERs show up in contacts(). */
class KamailioIT {

    private static final Duration WAIT = Duration.ofSeconds(10);

    @Test
    void contactsListsWhatWasRegisteredAndForgetsUnregistered() {
        try (Kamailio kamailio = Kamailio.builder().start();
             RawSipClient client = RawSipClient.udp(kamailio.address())) {
            assertEquals(Map.of(), kamailio.contacts());
            String call1 = RawSipClient.newCallId();
            String call2 = RawSipClient.newCallId();

            assertEquals(200, client.send(client.register("1001", call1, 1, 600, null)).status());
            assertEquals(200, client.send(client.register("1002", call2, 1, 600, null)).status());
            assertEquals(200, client.send(client.options()).status(), "OPTIONS answered");

            Map<String, List<String>> contacts = kamailio.contacts();
            assertEquals(Map.of("1001", List.of(client.contactUri("1001")),
                    "1002", List.of(client.contactUri("1002"))), contacts);

            assertEquals(200, client.send(client.register("1001", call1, 2, 0, null)).status());
            assertEquals(List.of(), kamailio.contacts("1001"));
            assertEquals(List.of(client.contactUri("1002")), kamailio.contacts("1002"));
            assertEquals(200, client.send(client.register("1002", call2, 2, 0, null)).status());
            Poll.until(WAIT, "no bindings left", () -> kamailio.contacts().isEmpty());
        }
    }

    @Test
    void overTcpTheContactKeepsItsTransport() {
        try (Kamailio kamailio = Kamailio.builder().start();
             RawSipClient client = RawSipClient.tcp(kamailio.address())) {
            assertEquals(200, client.send(client.register("2001", RawSipClient.newCallId(), 1, 600, null)).status());

            assertEquals(List.of(client.contactUri("2001")), kamailio.contacts("2001"));
            assertTrue(client.contactUri("2001").endsWith(";transport=tcp"));
            assertEquals(kamailio.address() + ";transport=tcp", kamailio.tcpServerEntry());
        }
    }

    @Test
    void withAPasswordItChallengesAndAcceptsOnlyTheRightOne() {
        try (Kamailio kamailio = Kamailio.builder().password("secret").start();
             RawSipClient client = RawSipClient.udp(kamailio.address())) {
            String callId = RawSipClient.newCallId();
            String uri = client.registrarUri();

            SipMessage challenge = client.send(client.register("1001", callId, 1, 600, null));
            assertEquals(401, challenge.status());
            String wrong = RawSipClient.authorization(challenge, "REGISTER", uri, "1001", "nope", 1);
            assertEquals(401, client.send(client.register("1001", callId, 2, 600, wrong)).status(),
                    "kamailio challenges a wrong password again");
            assertEquals(List.of(), kamailio.contacts("1001"));

            String right = RawSipClient.authorization(challenge, "REGISTER", uri, "1001", "secret", 1);
            assertEquals(200, client.send(client.register("1001", callId, 3, 600, right)).status());
            assertEquals(List.of(client.contactUri("1001")), kamailio.contacts("1001"));
        }
    }

    @Test
    void stopEndsKamailioWithAllItsWorkers() {
        Kamailio kamailio = Kamailio.builder().name("stopped").start();
        List<ProcessHandle> workers = ProcessHandle.of(kamailio.pid()).orElseThrow().descendants().toList();
        assertFalse(workers.isEmpty(), "kamailio forks its workers");

        kamailio.stop();

        assertFalse(kamailio.isAlive());
        Poll.until(WAIT, "kamailio workers gone", () -> workers.stream().noneMatch(ProcessHandle::isAlive));
        assertTrue(FreePorts.udpFree(kamailio.port()) && FreePorts.tcpFree(kamailio.port()), "ports released");
    }

    @Test
    void kill9TakesTheWorkersDownToo() {
        Kamailio kamailio = Kamailio.builder().name("killed").start();
        List<ProcessHandle> workers = ProcessHandle.of(kamailio.pid()).orElseThrow().descendants().toList();

        kamailio.kill9();

        Poll.until(WAIT, "kamailio and its workers gone",
                () -> !kamailio.isAlive() && workers.stream().noneMatch(ProcessHandle::isAlive));
    }
}
