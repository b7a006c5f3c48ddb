package io.webrtcgateway.sip.sandbox;

import static io.webrtcgateway.sip.sandbox.SandboxSipServerTest.await;
import static io.webrtcgateway.sip.sandbox.SandboxSipServerTest.freePort;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import io.webrtcgateway.concurrent.SerialExecutor;
import io.webrtcgateway.config.GatewayConfig;
import io.webrtcgateway.config.HostPort;
import io.webrtcgateway.config.SipServerAddress;
import io.webrtcgateway.sip.CallSignaling;
import io.webrtcgateway.sip.SipEndpoint;
import io.webrtcgateway.sip.SipLeg;

/**
 * The README's demo path at the SIP level: one gateway SIP stack (the real {@link SipEndpoint} and
 * {@link SipLeg}) holds both DNs, so the call leaves and comes back to the same stack. Only a B2BUA with
 * a new Call-ID makes that work; a proxy would hand the stack both ends of one dialog.
 */
class SandboxWithGatewaySipLegTest {

    private static final String OFFER = SandboxCallRoutingTest.OFFER;
    private static final String ANSWER = SandboxCallRoutingTest.ANSWER;

    /** Everything a {@link SipLeg} tells its call, as text, in order. */
    private static final class Events implements SipLeg.Listener {
        final BlockingQueue<String> queue = new LinkedBlockingQueue<>();
        volatile SipLeg.ReinviteReply reinviteReply;

        String next() throws InterruptedException {
            String e = queue.poll(5, TimeUnit.SECONDS);
            assertNotNull(e, "no event from the SIP leg within 5 s");
            return e;
        }

        @Override
        public void onProvisional(int status, String reason, String sdp) {
            queue.add("provisional " + status);
        }

        @Override
        public void onAnswered(String sdp) {
            queue.add("answered " + sdp);
        }

        @Override
        public void onRejected(int status, String reason) {
            queue.add("rejected " + status);
        }

        @Override
        public void onRemoteBye() {
            queue.add("bye");
        }

        @Override
        public void onRemoteCancel() {
            queue.add("cancel");
        }

        @Override
        public void onRemoteReinvite(String sdp, SipLeg.ReinviteReply reply) {
            reinviteReply = reply;
            queue.add("reinvite " + sdp);
        }

        @Override
        public void onReinviteResult(int status, String reason, String sdp) {
            queue.add("reinvite-result " + status + " " + sdp);
        }

        @Override
        public void onAck(String sdp) {
            queue.add("ack");
        }

        @Override
        public boolean onInfo(String contentType, String body) {
            queue.add("info " + contentType + " " + body);
            return true;
        }

        @Override
        public void onNotify(String event, String contentType, String body) {
            queue.add("notify " + event);
        }

        @Override
        public void onDialogGone(String reason, Integer sipStatus, String sipReason) {
            queue.add("gone " + reason);
        }
    }

    private SandboxSipServer sandbox;
    private SipEndpoint gateway;
    private ExecutorService pool;
    private ScheduledExecutorService timers;
    private CallSignaling signaling;
    private SipServerAddress sandboxAddress;
    private final BlockingQueue<SipLeg> incoming = new LinkedBlockingQueue<>();
    private final Events calleeEvents = new Events();

    @BeforeEach
    void start() throws Exception {
        sandbox = new SandboxSipServer(new HostPort("127.0.0.1", 0));
        sandbox.start();
        sandboxAddress = new SipServerAddress(sandbox.address(), "udp", true);
        int port = freePort();
        GatewayConfig.Sip config = new GatewayConfig.Sip(new HostPort("127.0.0.1", port), "", List.of(sandboxAddress), "",
                Duration.ofMinutes(10), Duration.ofSeconds(30), 3, Duration.ofSeconds(5), "test-gateway", sandbox.address());
        gateway = new SipEndpoint(config, "test");
        gateway.start(sandboxAddress);
        pool = Executors.newCachedThreadPool();
        timers = Executors.newSingleThreadScheduledExecutor();
        signaling = new CallSignaling(gateway, config, null, timers);
        signaling.onInvite(event -> {
            try {
                SipLeg leg = SipLeg.incoming(signaling, event, new SerialExecutor(pool), calleeEvents);
                incoming.add(leg);
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        // Both DNs are signed in at this one gateway instance.
        try (RawSipClient registrar = RawSipClient.udp(new InetSocketAddress("127.0.0.1", sandbox.address().port()))) {
            for (String dn : List.of("1001", "1002")) {
                assertEquals(200, registrar.exchange(registrar.request("REGISTER", dn, "reg-" + dn, 1,
                        "Contact: <sip:" + dn + "@127.0.0.1:" + port + ">")).status());
            }
            assertEquals(200, registrar.exchange(registrar.request("REGISTER", "1003", "reg-1003", 1,
                    "Contact: <sip:1003@127.0.0.1:" + port + ";transport=tcp>")).status());
        }
    }

    @AfterEach
    void stop() {
        if (gateway != null) {
            gateway.close();
        }
        if (sandbox != null) {
            sandbox.close();
        }
        if (pool != null) {
            pool.shutdownNow();
        }
        if (timers != null) {
            timers.shutdownNow();
        }
    }

    @Test
    void oneGatewayStackCallsItselfThroughTheSandbox() throws Exception {
        Events callerEvents = new Events();
        SerialExecutor callerExecutor = new SerialExecutor(pool);
        SipLeg caller = SipLeg.outgoing(signaling, callerExecutor, callerEvents);
        callerExecutor.execute(() -> {
            try {
                caller.invite(sandboxAddress, "1001", "1002", OFFER, Map.of("X-Case", "77"));
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });

        SipLeg callee = incoming.poll(5, TimeUnit.SECONDS);
        assertNotNull(callee, "the gateway got no INVITE for 1002");
        assertEquals("1002", callee.localUser());
        assertEquals("1001", callee.remoteUser());
        assertEquals(OFFER, callee.incomingOffer());
        assertEquals("77", callee.incomingHeader("X-Case"));
        assertNotEquals(caller.callId(), callee.callId());
        assertEquals(2, gateway.ownedDialogs(), "both legs live in the one stack");

        callee.ringing();
        assertEquals("provisional 180", callerEvents.next());
        callee.answer(ANSWER);
        assertEquals("answered " + ANSWER, callerEvents.next());
        assertEquals("ack", calleeEvents.next());
        assertEquals(1, sandbox.activeCalls());

        // Hold from the caller: re-INVITE relayed, answered by the callee, answer relayed back.
        String hold = OFFER.replace("sendrecv", "sendonly");
        String held = ANSWER.replace("sendrecv", "recvonly");
        callerExecutor.execute(() -> {
            try {
                caller.reinvite(hold);
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        assertEquals("reinvite " + hold, calleeEvents.next());
        calleeEvents.reinviteReply.accept(held);
        assertEquals("reinvite-result 200 " + held, callerEvents.next());
        assertEquals("ack", calleeEvents.next());

        callerExecutor.execute(() -> {
            try {
                caller.info("application/dtmf-relay", "Signal=5\r\nDuration=160\r\n");
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        assertEquals("info application/dtmf-relay Signal=5\r\nDuration=160\r\n", calleeEvents.next());

        // The callee hangs up.
        callee.hangUp();
        assertEquals("bye", callerEvents.next());
        await(() -> sandbox.activeCalls() == 0 && sandbox.router().trackedCallIds() == 0 && gateway.ownedDialogs() == 0,
                Duration.ofSeconds(5), () -> "left: sandbox " + sandbox.router().trackedCallIds()
                        + " Call-IDs, gateway " + gateway.ownedDialogs() + " dialogs");
    }

    /** 1003 registered a TCP contact: the sandbox opens a TCP connection to the gateway for the call. */
    @Test
    void toATcpContact() throws Exception {
        Events callerEvents = new Events();
        SerialExecutor callerExecutor = new SerialExecutor(pool);
        SipLeg caller = SipLeg.outgoing(signaling, callerExecutor, callerEvents);
        callerExecutor.execute(() -> {
            try {
                caller.invite(sandboxAddress, "1001", "1003", OFFER, Map.of());
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        SipLeg callee = incoming.poll(5, TimeUnit.SECONDS);
        assertNotNull(callee, "the gateway got no INVITE for 1003 over TCP");
        callee.answer(ANSWER);
        assertEquals("answered " + ANSWER, callerEvents.next());
        assertEquals("ack", calleeEvents.next());
        callerExecutor.execute(caller::hangUp);
        assertEquals("bye", calleeEvents.next());
        await(() -> sandbox.activeCalls() == 0 && gateway.ownedDialogs() == 0, Duration.ofSeconds(5),
                () -> "left: sandbox " + sandbox.activeCalls() + " calls, gateway " + gateway.ownedDialogs() + " dialogs");
    }

    @Test
    void theCallerCancelsWhileTheGatewayRings() throws Exception {
        Events callerEvents = new Events();
        SerialExecutor callerExecutor = new SerialExecutor(pool);
        SipLeg caller = SipLeg.outgoing(signaling, callerExecutor, callerEvents);
        callerExecutor.execute(() -> {
            try {
                caller.invite(sandboxAddress, "1001", "1002", OFFER, Map.of());
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        SipLeg callee = incoming.poll(5, TimeUnit.SECONDS);
        assertNotNull(callee);
        callee.ringing();
        assertEquals("provisional 180", callerEvents.next());

        callerExecutor.execute(caller::hangUp);
        assertEquals("rejected 487", callerEvents.next());
        assertEquals("cancel", calleeEvents.next());
        await(() -> sandbox.activeCalls() == 0 && gateway.ownedDialogs() == 0, Duration.ofSeconds(5),
                () -> "left: sandbox " + sandbox.activeCalls() + " calls, gateway " + gateway.ownedDialogs() + " dialogs");
    }

    @Test
    void theEchoNumberAnswersTheGateway() throws Exception {
        Events callerEvents = new Events();
        SerialExecutor callerExecutor = new SerialExecutor(pool);
        SipLeg caller = SipLeg.outgoing(signaling, callerExecutor, callerEvents);
        callerExecutor.execute(() -> {
            try {
                caller.invite(sandboxAddress, "1001", CallRouter.ECHO_NUMBER, OFFER, Map.of());
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        String answered = callerEvents.next();
        assertTrue(answered.startsWith("answered v=0"), answered);
        callerExecutor.execute(caller::hangUp);
        await(() -> sandbox.activeCalls() == 0, Duration.ofSeconds(5), () -> "echo call not ended by BYE");
    }
}
