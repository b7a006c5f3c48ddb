package io.webrtcgateway.sip.sandbox;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.BindException;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.Arrays;
import java.util.List;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import java.util.stream.Collectors;

import javax.sip.DialogTerminatedEvent;
import javax.sip.IOExceptionEvent;
import javax.sip.RequestEvent;
import javax.sip.ResponseEvent;
import javax.sip.SipListener;
import javax.sip.SipProvider;
import javax.sip.TimeoutEvent;
import javax.sip.TransactionTerminatedEvent;
import javax.sip.address.Address;
import javax.sip.address.AddressFactory;
import javax.sip.address.SipURI;
import javax.sip.header.ContactHeader;
import javax.sip.header.HeaderFactory;
import javax.sip.header.ViaHeader;
import javax.sip.message.MessageFactory;
import javax.sip.message.Request;
import javax.sip.message.Response;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import gov.nist.javax.sip.SipStackImpl;
import gov.nist.javax.sip.address.AddressFactoryImpl;
import gov.nist.javax.sip.header.HeaderFactoryImpl;
import gov.nist.javax.sip.message.MessageFactoryImpl;

import io.webrtcgateway.config.HostPort;
import io.webrtcgateway.sip.sandbox.RawSipClient.SipResponse;

class SandboxSipServerTest {

    /** A clock the tests move by hand, so expiry needs no waiting. */
    static final class ManualClock extends Clock {
        private final AtomicReference<Instant> now = new AtomicReference<>(Instant.parse("2026-01-01T00:00:00Z"));

        void advance(Duration d) {
            now.updateAndGet(t -> t.plus(d));
        }

        @Override
        public Instant instant() {
            return now.get();
        }

        @Override
        public ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(ZoneId zone) {
            throw new UnsupportedOperationException();
        }
    }

    private final ManualClock clock = new ManualClock();
    private SandboxSipServer server;
    private RawSipClient client;

    @BeforeEach
    void start() throws Exception {
        server = new SandboxSipServer(new HostPort("127.0.0.1", 0), clock);
        server.start();
        client = RawSipClient.udp(serverAddress());
    }

    @AfterEach
    void stop() throws Exception {
        if (client != null) {
            client.close();
        }
        if (server != null) {
            server.close();
        }
    }

    private InetSocketAddress serverAddress() {
        return new InetSocketAddress(server.address().host(), server.address().port());
    }

    private String contact(String user) {
        return "sip:" + user + "@127.0.0.1:" + client.localPort() + ";transport=udp";
    }

    private SipResponse register(String user, String callId, long cseq, String... headers) throws Exception {
        return client.exchange(client.request("REGISTER", user, callId, cseq, headers));
    }

    @Test
    void registerIsAnswered200WithTheContactAndItsExpiry() throws Exception {
        SipResponse r = register("1001", "c1", 1, "Contact: <" + contact("1001") + ">", "Expires: 300");

        assertEquals(200, r.status(), r::toString);
        assertEquals(List.of("<" + contact("1001") + ">;expires=300"), r.headers("Contact"));
        assertTrue(r.header("To").contains(";tag="), "200 to REGISTER carries a To tag");
        assertNotNull(r.header("Date"), "registrar SHOULD include Date (RFC 3261 §10.3 step 8)");

        List<SandboxSipServer.Binding> bindings = server.bindings();
        assertEquals(1, bindings.size());
        SandboxSipServer.Binding b = bindings.get(0);
        assertEquals("sip:1001@127.0.0.1", b.aor());
        assertEquals(contact("1001"), b.contact());
        assertEquals(clock.instant().plusSeconds(300), b.expiresAt());
        assertEquals("c1", b.callId());
        assertEquals(1, b.cseq());
    }

    @Test
    void refreshWithAHigherCSeqReplacesTheBinding() throws Exception {
        register("1001", "c1", 1, "Contact: <" + contact("1001") + ">", "Expires: 300");
        clock.advance(Duration.ofSeconds(200));

        SipResponse r = register("1001", "c1", 2, "Contact: <" + contact("1001") + ">", "Expires: 600");

        assertEquals(200, r.status(), r::toString);
        assertEquals(List.of("<" + contact("1001") + ">;expires=600"), r.headers("Contact"));
        SandboxSipServer.Binding b = server.bindings().get(0);
        assertEquals(1, server.bindings().size());
        assertEquals(2, b.cseq());
        assertEquals(clock.instant().plusSeconds(600), b.expiresAt());
    }

    @Test
    void sameCallIdWithoutAHigherCSeqFailsWith500AndChangesNothing() throws Exception {
        register("1001", "c1", 5, "Contact: <" + contact("1001") + ">", "Expires: 300");

        assertEquals(500, register("1001", "c1", 5, "Contact: <" + contact("1001") + ">", "Expires: 900").status());
        assertEquals(500, register("1001", "c1", 4, "Contact: <" + contact("1001") + ">", "Expires: 0").status());

        SandboxSipServer.Binding b = server.bindings().get(0);
        assertEquals(5, b.cseq());
        assertEquals(clock.instant().plusSeconds(300), b.expiresAt());
    }

    @Test
    void aRetransmittedRegisterGetsTheSameAnswerNot500() throws Exception {
        String request = client.request("REGISTER", "1001", "c1", 1, "Contact: <" + contact("1001") + ">");
        assertEquals(200, client.exchange(request).status());
        // Same branch: the server transaction absorbs it and repeats its 200 (RFC 3261 §17.2.2).
        assertEquals(200, client.exchange(request).status());
    }

    @Test
    void anotherCallIdForTheSameContactReplacesTheBinding() throws Exception {
        register("1001", "c1", 10, "Contact: <" + contact("1001") + ">");
        SipResponse r = register("1001", "c2", 1, "Contact: <" + contact("1001") + ">", "Expires: 120");

        assertEquals(200, r.status());
        assertEquals(1, server.bindings().size());
        assertEquals("c2", server.bindings().get(0).callId());
    }

    @Test
    void expiryComesFromContactParameterThenExpiresHeaderThenDefault() throws Exception {
        SipResponse r = register("1001", "c1", 1,
                "Contact: <sip:a@127.0.0.1:1111>;expires=100, <sip:b@127.0.0.1:2222>",
                "Contact: <sip:c@127.0.0.1:3333>;expires=99999",
                "Expires: 200");
        assertEquals(200, r.status(), r::toString);
        assertEquals(Set.of("<sip:a@127.0.0.1:1111>;expires=100", "<sip:b@127.0.0.1:2222>;expires=200",
                "<sip:c@127.0.0.1:3333>;expires=" + Registrar.MAX_EXPIRES), Set.copyOf(r.headers("Contact")));

        SipResponse noExpiry = register("1002", "c2", 1, "Contact: <sip:d@127.0.0.1:4444>");
        assertEquals(List.of("<sip:d@127.0.0.1:4444>;expires=" + Registrar.DEFAULT_EXPIRES), noExpiry.headers("Contact"));
    }

    @Test
    void tooShortAnExpiryIsRefusedWith423AndMinExpires() throws Exception {
        SipResponse r = register("1001", "c1", 1, "Contact: <" + contact("1001") + ">", "Expires: 5");

        assertEquals(423, r.status());
        assertEquals(String.valueOf(Registrar.MIN_EXPIRES), r.header("Min-Expires"));
        assertTrue(server.bindings().isEmpty());
    }

    @Test
    void expiresZeroRemovesThatContactOnly() throws Exception {
        register("1001", "c1", 1, "Contact: <sip:a@127.0.0.1:1111>, <sip:b@127.0.0.1:2222>");

        SipResponse r = register("1001", "c1", 2, "Contact: <sip:a@127.0.0.1:1111>;expires=0");

        assertEquals(200, r.status());
        assertEquals(List.of("<sip:b@127.0.0.1:2222>;expires=3600"), r.headers("Contact"));
        assertEquals(List.of("sip:b@127.0.0.1:2222"), contacts());
    }

    @Test
    void wildcardContactWithExpiresZeroRemovesAllBindingsOfTheAor() throws Exception {
        register("1001", "c1", 1, "Contact: <sip:a@127.0.0.1:1111>");
        register("1001", "c2", 1, "Contact: <sip:b@127.0.0.1:2222>");
        register("1002", "c3", 1, "Contact: <sip:c@127.0.0.1:3333>");

        SipResponse r = register("1001", "c4", 1, "Contact: *", "Expires: 0");

        assertEquals(200, r.status(), r::toString);
        assertTrue(r.headers("Contact").isEmpty(), r::toString);
        assertEquals(List.of("sip:c@127.0.0.1:3333"), contacts());
    }

    @Test
    void wildcardContactNeedsExpiresZero() throws Exception {
        register("1001", "c1", 1, "Contact: <sip:a@127.0.0.1:1111>");

        assertEquals(400, register("1001", "c2", 1, "Contact: *").status());
        assertEquals(400, register("1001", "c2", 2, "Contact: *", "Expires: 60").status());
        assertEquals(1, server.bindings().size());
    }

    @Test
    void registerWithoutContactListsTheCurrentBindings() throws Exception {
        register("1001", "c1", 1, "Contact: <sip:a@127.0.0.1:1111>", "Expires: 60");

        SipResponse r = register("1001", "c9", 1);

        assertEquals(200, r.status());
        assertEquals(List.of("<sip:a@127.0.0.1:1111>;expires=60"), r.headers("Contact"));
    }

    @Test
    void expiredBindingsDisappear() throws Exception {
        register("1001", "c1", 1, "Contact: <sip:a@127.0.0.1:1111>", "Expires: 60");
        register("1001", "c2", 1, "Contact: <sip:b@127.0.0.1:2222>", "Expires: 120");

        clock.advance(Duration.ofSeconds(60));
        assertEquals(List.of("sip:b@127.0.0.1:2222"), contacts());
        assertEquals(List.of("<sip:b@127.0.0.1:2222>;expires=60"), register("1001", "c9", 1).headers("Contact"));

        clock.advance(Duration.ofSeconds(60));
        assertTrue(server.bindings().isEmpty());
    }

    @Test
    void unsupportedRequireIsRefusedWith420() throws Exception {
        SipResponse r = register("1001", "c1", 1, "Contact: <sip:a@127.0.0.1:1111>", "Require: gruu");

        assertEquals(420, r.status());
        assertEquals("gruu", r.header("Unsupported"));
        assertTrue(server.bindings().isEmpty());
    }

    @Test
    void optionsIsAnswered200() throws Exception {
        SipResponse r = client.exchange(client.request("OPTIONS", "probe", "o1", 1));

        assertEquals(200, r.status());
        assertEquals(Set.of("INVITE", "ACK", "CANCEL", "BYE", "OPTIONS", "INFO", "NOTIFY", "UPDATE", "REGISTER"),
                Set.copyOf(r.headers("Allow")));
    }

    @Test
    void inviteToAnUnregisteredDnIsNotFound() throws Exception {
        SipResponse r = client.exchange(client.request("INVITE", "1001", "i1", 1, "Contact: <" + contact("1001") + ">"));

        assertEquals(404, r.status());
    }

    @Test
    void requestsOutsideAnyCallAreRefused() throws Exception {
        SipResponse message = client.exchange(client.request("MESSAGE", "1001", "m1", 1));
        assertEquals(501, message.status());
        assertTrue(message.headers("Allow").contains("REGISTER"));
        // A BYE, INFO or CANCEL naming no dialog the sandbox has: 481 (RFC 3261 §12.2.2, §9.2).
        SipResponse bye = client.exchange(client.request("BYE", "1001", "b1", 1).replace(
                "To: <sip:1001@127.0.0.1>", "To: <sip:1001@127.0.0.1>;tag=gone"));
        assertEquals(481, bye.status());
        SipResponse cancel = client.exchange(client.request("CANCEL", "1001", "c1", 1));
        assertEquals(481, cancel.status());
    }

    @Test
    void garbageAndMalformedRequestsAreSurvived() throws Exception {
        client.sendBytes(new byte[] {0, 1, 2, 3, (byte) 0xff, 13, 10, 13, 10});
        client.send("this is not SIP\r\n\r\n");
        client.send("REGISTER sip:x SIP/2.0\r\nVia: nonsense\r\nContact: <<<\r\n\r\n");
        client.send("SIP/2.0 200 OK\r\n\r\n"); // a stray response
        byte[] huge = new byte[60000];
        Arrays.fill(huge, (byte) 'A');
        client.sendBytes(huge);
        // A REGISTER whose To is not a SIP URI, and one with a non-numeric expires.
        SipResponse tel = client.exchange(client.request("REGISTER", "1001", "m1", 1).replace(
                "To: <sip:1001@127.0.0.1>", "To: <tel:+15551001>"));
        assertEquals(404, tel.status(), tel::toString);
        SipResponse badParam = client.exchange(client.request("REGISTER", "1001", "m2", 1, "Contact: <sip:a@127.0.0.1:1>;expires=soon"));
        assertEquals(400, badParam.status(), badParam::toString);
        // Header lines JAIN-SIP cannot parse must not turn into a default registration.
        for (String badExpires : List.of("Expires: -5", "Expires: 99999999999999999999", "Expires: soon")) {
            SipResponse r = client.exchange(client.request("REGISTER", "1001", "m3", 1, badExpires, "Contact: <sip:a@127.0.0.1:1>"));
            assertEquals(400, r.status(), r::toString);
        }
        SipResponse badContact = client.exchange(client.request("REGISTER", "1001", "m4", 1, "Contact: <sip:a@127.0.0.1:1"));
        assertEquals(400, badContact.status(), badContact::toString);
        SipResponse wrongMethod = client.exchange(client.request("REGISTER", "1001", "m5", 1, "Contact: <sip:a@127.0.0.1:1>")
                .replace("CSeq: 1 REGISTER", "CSeq: 1 INVITE"));
        assertEquals(400, wrongMethod.status(), wrongMethod::toString);
        assertTrue(server.bindings().isEmpty(), () -> "registered: " + server.bindings());

        // Whatever the stack answered to those (400 or nothing), a good request is still served.
        String good = client.request("REGISTER", "1001", "good", 1, "Contact: <" + contact("1001") + ">");
        client.send(good);
        SipResponse r;
        do {
            r = client.receiveFinal();
        } while (!r.header("Call-ID").equals("good"));
        assertEquals(200, r.status(), r::toString);
        assertEquals(List.of(contact("1001")), contacts());
    }

    @Test
    void registerOverTcp() throws Exception {
        try (RawSipClient tcp = RawSipClient.tcp(serverAddress())) {
            String contact = "sip:2001@127.0.0.1:" + tcp.localPort() + ";transport=tcp";
            SipResponse r = tcp.exchange(tcp.request("REGISTER", "2001", "t1", 1, "Contact: <" + contact + ">", "Expires: 120"));

            assertEquals(200, r.status(), r::toString);
            assertEquals(List.of("<" + contact + ">;expires=120"), r.headers("Contact"));
            assertEquals(List.of(contact), contacts());
        }
    }

    @Test
    void purgeForgetsExpiredAddressesOfRecord() throws Exception {
        register("1001", "c1", 1, "Contact: <sip:a@127.0.0.1:1111>", "Expires: 60");
        clock.advance(Duration.ofSeconds(61));
        // The periodic purge runs this; calling it directly avoids waiting for the timer.
        Registrar registrar = registrarOf(server);
        registrar.purgeExpired();
        assertTrue(registrar.bindings().isEmpty());
    }

    @Test
    void startFailsClearlyWhenThePortIsTaken() throws Exception {
        int port = server.address().port();
        try (SandboxSipServer second = new SandboxSipServer(new HostPort("127.0.0.1", port))) {
            BindException e = assertThrows(BindException.class, second::start);
            assertTrue(e.getMessage().contains("127.0.0.1:" + port), e.getMessage());
            assertTrue(e.getMessage().contains("gateway.sip.sandbox.listen"), e.getMessage());
        }
        // The failed attempt left the running server alone.
        assertEquals(200, client.exchange(client.request("OPTIONS", "probe", "o2", 1)).status());
    }

    @Test
    void closeFreesThePortAndTheThreads() throws Exception {
        client.close();
        client = null;
        server.close();
        server = null;
        Set<Thread> before = Thread.getAllStackTraces().keySet();

        int port = freePort();
        SandboxSipServer s = new SandboxSipServer(new HostPort("127.0.0.1", port));
        s.start();
        assertEquals(new HostPort("127.0.0.1", port), s.address());
        try (RawSipClient udp = RawSipClient.udp(new InetSocketAddress("127.0.0.1", port));
             RawSipClient tcp = RawSipClient.tcp(new InetSocketAddress("127.0.0.1", port))) {
            assertEquals(200, udp.exchange(udp.request("OPTIONS", "p", "x1", 1)).status());
            assertEquals(200, tcp.exchange(tcp.request("OPTIONS", "p", "x2", 1)).status());
        }
        s.close();
        s.close(); // idempotent

        InetAddress loopback = InetAddress.getByName("127.0.0.1");
        try (DatagramSocket udp = new DatagramSocket(new InetSocketAddress(loopback, port));
             ServerSocket tcp = new ServerSocket(port, 1, loopback)) {
            assertEquals(port, udp.getLocalPort());
            assertEquals(port, tcp.getLocalPort());
        }
        try (SandboxSipServer again = new SandboxSipServer(new HostPort("127.0.0.1", port))) {
            again.start();
        }
        await(() -> newThreads(before).isEmpty(), Duration.ofSeconds(10),
                () -> "threads left behind: " + newThreads(before));
    }

    /**
     * A second JAIN-SIP stack in the same JVM, as the gateway's will be: it registers through a
     * client transaction, and keeps working after the sandbox's stack is closed and another started.
     */
    @Test
    void aJainSipUserAgentInTheSameJvmRegistersAndOutlivesTheSandbox() throws Exception {
        BlockingQueue<Response> responses = new LinkedBlockingQueue<>();
        Properties props = SandboxSipServer.stackProperties("test-ua-" + System.nanoTime());
        SipStackImpl ua = new SipStackImpl(props);
        try {
            int uaPort = freePort();
            SipProvider provider = ua.createSipProvider(ua.createListeningPoint("127.0.0.1", uaPort, "udp"));
            provider.addSipListener(new ResponseCollector(responses));
            ua.start();
            AddressFactory addresses = new AddressFactoryImpl();
            HeaderFactory headers = new HeaderFactoryImpl();
            MessageFactory messages = new MessageFactoryImpl();

            SipURI aor = addresses.createSipURI("3001", "127.0.0.1");
            Address contact = addresses.createAddress(addresses.createSipURI("3001", "127.0.0.1:" + uaPort));
            Request register = messages.createRequest(
                    addresses.createSipURI(null, server.address().toString()), Request.REGISTER,
                    provider.getNewCallId(), headers.createCSeqHeader(1L, Request.REGISTER),
                    headers.createFromHeader(addresses.createAddress(aor), "ua"), headers.createToHeader(addresses.createAddress(aor), null),
                    List.of(headers.createViaHeader("127.0.0.1", uaPort, "udp", null)), headers.createMaxForwardsHeader(70));
            register.addHeader(headers.createContactHeader(contact));
            register.addHeader(headers.createExpiresHeader(600));
            provider.getNewClientTransaction(register).sendRequest();

            Response ok = responses.poll(5, TimeUnit.SECONDS);
            assertNotNull(ok, "no answer to REGISTER");
            assertEquals(200, ok.getStatusCode());
            assertEquals(600, ((ContactHeader) ok.getHeader(ContactHeader.NAME)).getExpires());
            assertEquals(List.of("sip:3001@127.0.0.1:" + uaPort), contacts());

            HostPort sandboxAddress = server.address();
            server.close();
            server = new SandboxSipServer(sandboxAddress, clock);
            server.start();

            Request options = (Request) register.clone();
            options.setMethod(Request.OPTIONS);
            options.setHeader(headers.createCSeqHeader(2L, Request.OPTIONS));
            options.removeHeader(ViaHeader.NAME);
            options.addHeader(headers.createViaHeader("127.0.0.1", uaPort, "udp", null));
            provider.getNewClientTransaction(options).sendRequest();
            Response answer = responses.poll(5, TimeUnit.SECONDS);
            assertNotNull(answer, "the UA stack stopped working when the sandbox's stack closed");
            assertEquals(200, answer.getStatusCode());
        } finally {
            SandboxSipServer.stopQuietly(ua);
        }
    }

    private record ResponseCollector(BlockingQueue<Response> responses) implements SipListener {
        @Override
        public void processResponse(ResponseEvent event) {
            responses.add(event.getResponse());
        }

        @Override
        public void processRequest(RequestEvent event) {
        }

        @Override
        public void processTimeout(TimeoutEvent event) {
        }

        @Override
        public void processIOException(IOExceptionEvent event) {
        }

        @Override
        public void processTransactionTerminated(TransactionTerminatedEvent event) {
        }

        @Override
        public void processDialogTerminated(DialogTerminatedEvent event) {
        }
    }

    @Test
    void cannotBeStartedTwice() {
        assertThrows(IllegalStateException.class, server::start);
    }

    private List<String> contacts() {
        return server.bindings().stream().map(SandboxSipServer.Binding::contact).collect(Collectors.toList());
    }

    private static Registrar registrarOf(SandboxSipServer s) throws ReflectiveOperationException {
        var field = SandboxSipServer.class.getDeclaredField("registrar");
        field.setAccessible(true);
        return (Registrar) field.get(s);
    }

    private static Set<String> newThreads(Set<Thread> before) {
        return Thread.getAllStackTraces().keySet().stream()
                .filter(t -> !before.contains(t) && t.isAlive())
                .map(Thread::getName)
                .collect(Collectors.toSet());
    }

    /** A port free for both UDP and TCP on loopback right now. */
    static int freePort() throws Exception {
        InetAddress loopback = InetAddress.getByName("127.0.0.1");
        for (int i = 0; i < 20; i++) {
            try (ServerSocket tcp = new ServerSocket(0, 1, loopback);
                 DatagramSocket udp = new DatagramSocket(new InetSocketAddress(loopback, tcp.getLocalPort()))) {
                return udp.getLocalPort();
            } catch (BindException e) {
                // UDP side taken; try another
            }
        }
        throw new IllegalStateException("no free port");
    }

    static void await(BooleanSupplier condition, Duration timeout, Supplier<String> message)
            throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError(message.get());
            }
            TimeUnit.MILLISECONDS.sleep(20); // poll interval, not a guess at how long it takes
        }
    }
}
