package io.webrtcgateway.sip.sandbox;

import java.io.IOException;
import java.net.BindException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.text.ParseException;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import javax.sip.ClientTransaction;
import javax.sip.DialogTerminatedEvent;
import javax.sip.IOExceptionEvent;
import javax.sip.InvalidArgumentException;
import javax.sip.ListeningPoint;
import javax.sip.RequestEvent;
import javax.sip.ResponseEvent;
import javax.sip.ServerTransaction;
import javax.sip.SipException;
import javax.sip.SipListener;
import javax.sip.SipProvider;
import javax.sip.TimeoutEvent;
import javax.sip.TransactionAlreadyExistsException;
import javax.sip.TransactionTerminatedEvent;
import javax.sip.header.CallIdHeader;
import javax.sip.header.HeaderFactory;
import javax.sip.header.ToHeader;
import javax.sip.message.MessageFactory;
import javax.sip.message.Request;
import javax.sip.message.Response;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import gov.nist.javax.sip.SipStackImpl;
import gov.nist.javax.sip.address.AddressFactoryImpl;
import gov.nist.javax.sip.header.HeaderFactoryImpl;
import gov.nist.javax.sip.message.MessageFactoryImpl;

import io.webrtcgateway.config.HostPort;
import io.webrtcgateway.sip.ClientTransactionHandler;
import io.webrtcgateway.sip.SipStacks;

/**
 * The built-in sandbox SIP server: a registrar on loopback so the gateway runs with nothing else
 * installed ({@code gateway.sip.servers = ["sandbox"]}), which also connects calls between registered
 * DNs ({@link BridgedCall}) and answers an echo number ({@link EchoCall}). DEMO AND DEVELOPMENT ONLY:
 * it accepts every REGISTER without a challenge, whatever the password, and lets anyone call. See
 * docs/sandbox.md.
 *
 * <p>It owns a JAIN-SIP stack of its own (UDP and TCP on the same port), separate from the gateway's
 * stack in the same JVM, a one-thread timer (expired bindings, call timers) and a small pool the calls'
 * serial executors run on. {@link #close()} stops all of them and frees the port.
 */
public final class SandboxSipServer implements AutoCloseable {

    public record Binding(String aor, String contact, Instant expiresAt, String callId, long cseq) {}

    private static final Logger log = LoggerFactory.getLogger(SandboxSipServer.class);

    /** Threads running the calls' serial executors; calls only relay, so two are plenty for a demo. */
    private static final int CALL_THREADS = 2;
    private static final long PURGE_PERIOD_SECONDS = 30;
    /** Attempts at finding a port free for both UDP and TCP when asked to listen on port 0. */
    private static final int FREE_PORT_ATTEMPTS = 5;
    private static final int READY_TIMEOUT_SECONDS = 5;
    private static final int READY_RETRANSMIT_MILLIS = 200;

    private final HostPort listen;
    private final Clock clock;
    private final MessageFactory messages = new MessageFactoryImpl();
    private final HeaderFactory headers = new HeaderFactoryImpl();
    private final Registrar registrar;
    private final CallRouter.Timeouts timeouts;

    private enum State { NEW, RUNNING, CLOSED }

    /** Guarded by {@code this}. */
    private State state = State.NEW;
    /** Guarded by {@code this}; set while RUNNING. */
    private SipStackImpl stack;
    /** Guarded by {@code this}; set while RUNNING. Purges bindings and runs the calls' timers. */
    private ScheduledExecutorService timers;
    /** Guarded by {@code this}; set while RUNNING. */
    private ExecutorService callPool;
    /** Set in start() before the stack delivers any event; read by stack threads. */
    private volatile CallRouter router;
    /** Written once in start() before the listener is attached; read by stack threads. */
    private volatile HostPort boundAddress;

    public SandboxSipServer(HostPort listen) {
        this(listen, Clock.systemUTC());
    }

    /** For tests: the clock decides when bindings expire. */
    SandboxSipServer(HostPort listen, Clock clock) {
        this(listen, clock, CallRouter.Timeouts.DEFAULT);
    }

    /** For tests: short call timeouts. */
    SandboxSipServer(HostPort listen, Clock clock, CallRouter.Timeouts timeouts) {
        this.listen = listen;
        this.clock = clock;
        this.timeouts = timeouts;
        this.registrar = new Registrar(messages, headers, clock);
    }

    public synchronized void start() throws Exception {
        if (state != State.NEW) {
            throw new IllegalStateException("sandbox SIP server already " + state.name().toLowerCase());
        }
        InetAddress host = InetAddress.getByName(listen.host());
        String name = "sandbox-sip-" + UUID.randomUUID().toString().substring(0, 8);
        ScheduledExecutorService newTimers = Executors.newSingleThreadScheduledExecutor(daemon(name + "-timer"));
        ExecutorService newPool = Executors.newFixedThreadPool(CALL_THREADS, daemon(name + "-call"));
        SipStackImpl newStack = new SipStackImpl(stackProperties(name));
        try {
            int port = bind(newStack, host, newPool, newTimers);
            newStack.start();
            boundAddress = new HostPort(listen.host(), port);
            awaitUdpAnswer(host, port);
            stack = newStack;
        } catch (Exception | Error e) {
            boundAddress = null;
            stopQuietly(newStack);
            newPool.shutdownNow();
            newTimers.shutdownNow();
            throw e;
        }
        timers = newTimers;
        callPool = newPool;
        timers.scheduleWithFixedDelay(registrar::purgeExpired, PURGE_PERIOD_SECONDS, PURGE_PERIOD_SECONDS, TimeUnit.SECONDS);
        state = State.RUNNING;
        log.warn("Sandbox SIP server listening on udp+tcp {} - DEMO/DEV ONLY: it accepts every REGISTER without "
                + "authentication and connects anyone's calls; echo number {}; configure gateway.sip.servers with "
                + "real SIP Servers in production", boundAddress, CallRouter.ECHO_NUMBER);
    }

    /** The address actually listened on (the chosen port if {@code listen} had port 0); null before start(). */
    public HostPort address() {
        return boundAddress;
    }

    public List<Binding> bindings() {
        return registrar.bindings();
    }

    /** Calls in progress (bridged or echo); 0 before start and after close. */
    public int activeCalls() {
        CallRouter r = router;
        return r == null ? 0 : r.activeCalls();
    }

    /** For tests: the call state (tracked Call-IDs, echo sockets). */
    CallRouter router() {
        return router;
    }

    private static ThreadFactory daemon(String name) {
        AtomicInteger n = new AtomicInteger();
        return r -> {
            Thread t = new Thread(r, name + "-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
    }

    @Override
    public void close() {
        SipStackImpl toStop;
        ScheduledExecutorService timersToStop;
        ExecutorService poolToStop;
        synchronized (this) {
            if (state == State.CLOSED) {
                return;
            }
            state = State.CLOSED;
            toStop = stack;
            timersToStop = timers;
            poolToStop = callPool;
            stack = null;
            timers = null;
            callPool = null;
        }
        CallRouter r = router;
        if (r != null) {
            r.close(); // echo sockets closed here; no BYEs: the stack stops next
        }
        // The stack first: until it has stopped, its threads hand events to the calls' executors.
        if (toStop != null) {
            stopQuietly(toStop);
            log.info("Sandbox SIP server on {} stopped", boundAddress);
        }
        if (timersToStop != null) {
            timersToStop.shutdownNow();
        }
        if (poolToStop != null) {
            poolToStop.shutdownNow();
        }
    }

    static void stopQuietly(SipStackImpl target) {
        SipStacks.stop(target);
    }

    /**
     * Returns once the UDP side answers an OPTIONS. JAIN-SIP's UDP receiver creates its worker
     * threads on its own thread after start(); stopping the stack before it has finished fails
     * (ConcurrentModificationException in UDPMessageProcessor.stop) and leaks the workers. An answer
     * proves the receiver has reached its receive loop, and that callers can send REGISTER now.
     */
    private static void awaitUdpAnswer(InetAddress host, int port) throws IOException {
        InetAddress target = host.isAnyLocalAddress()
                ? (host instanceof Inet6Address ? InetAddress.getByName("::1") : InetAddress.getByName("127.0.0.1"))
                : host;
        try (DatagramSocket probe = new DatagramSocket(new InetSocketAddress(target, 0))) {
            HostPort server = new HostPort(target.getHostAddress(), port);
            HostPort self = new HostPort(target.getHostAddress(), probe.getLocalPort());
            String callId = "sandbox-ready-" + UUID.randomUUID();
            byte[] options = ("OPTIONS sip:" + server + " SIP/2.0\r\n"
                    + "Via: SIP/2.0/UDP " + self + ";branch=z9hG4bK" + UUID.randomUUID() + "\r\n"
                    + "Max-Forwards: 70\r\n"
                    + "From: <sip:ready@" + self + ">;tag=ready\r\n"
                    + "To: <sip:ready@" + server + ">\r\n"
                    + "Call-ID: " + callId + "\r\n"
                    + "CSeq: 1 OPTIONS\r\n"
                    + "Content-Length: 0\r\n\r\n").getBytes(StandardCharsets.US_ASCII);
            DatagramPacket answer = new DatagramPacket(new byte[4096], 4096);
            probe.setSoTimeout(READY_RETRANSMIT_MILLIS);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(READY_TIMEOUT_SECONDS);
            while (System.nanoTime() < deadline) {
                probe.send(new DatagramPacket(options, options.length, new InetSocketAddress(target, port)));
                try {
                    probe.receive(answer);
                    return;
                } catch (SocketTimeoutException e) {
                    // retransmit, as a UDP client would (RFC 3261 §17.1.2.2)
                }
            }
        }
        throw new IOException("sandbox SIP server did not answer on udp port " + port + " within "
                + READY_TIMEOUT_SECONDS + " s");
    }

    /** The shared stack settings (see {@link SipStacks}). */
    static Properties stackProperties(String stackName) {
        return SipStacks.properties(stackName);
    }

    private int bind(SipStackImpl target, InetAddress host, Executor pool, ScheduledExecutorService timerService) throws Exception {
        if (listen.port() != 0) {
            bindOn(target, host, listen.port(), pool, timerService);
            return listen.port();
        }
        // JAIN-SIP does not report the port the OS picked for port 0 (its listening point says 0),
        // so take a port the OS offers for TCP and try it for both; retry if UDP has it taken.
        BindException last = null;
        for (int attempt = 0; attempt < FREE_PORT_ATTEMPTS; attempt++) {
            int port;
            try (ServerSocket probe = new ServerSocket(0, 1, host)) {
                port = probe.getLocalPort();
            }
            try {
                bindOn(target, host, port, pool, timerService);
                return port;
            } catch (BindException e) {
                last = e;
            }
        }
        throw last;
    }

    private void bindOn(SipStackImpl target, InetAddress host, int port, Executor pool,
                        ScheduledExecutorService timerService) throws Exception {
        ListeningPoint udp = listeningPoint(target, host, port, ListeningPoint.UDP);
        ListeningPoint tcp;
        try {
            tcp = listeningPoint(target, host, port, ListeningPoint.TCP);
        } catch (BindException e) {
            target.deleteListeningPoint(udp);
            throw e;
        }
        SipProvider provider = target.createSipProvider(udp);
        provider.addListeningPoint(tcp);
        // Via, Contact and echo SDP need an address peers can reach: a wildcard listen is reached on loopback.
        String advertised = host.isAnyLocalAddress() ? (host instanceof Inet6Address ? "::1" : "127.0.0.1") : host.getHostAddress();
        router = new CallRouter(new SandboxStack(provider, messages, headers, new AddressFactoryImpl(), advertised, port,
                pool, timerService), registrar, timeouts);
        provider.addSipListener(new Listener(provider));
    }

    private ListeningPoint listeningPoint(SipStackImpl target, InetAddress host, int port, String transport) throws BindException {
        try {
            return target.createListeningPoint(host.getHostAddress(), port, transport);
        } catch (Exception e) {
            BindException clear = new BindException("sandbox SIP server cannot listen on " + transport.toLowerCase()
                    + " " + new HostPort(listen.host(), port) + " (" + rootMessage(e) + "): is another gateway "
                    + "or SIP server running? Set gateway.sip.sandbox.listen to a free port");
            clear.initCause(e);
            throw clear;
        }
    }

    private static String rootMessage(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null && t.getCause() != t) {
            t = t.getCause();
        }
        return t.getMessage() != null ? t.getMessage() : t.getClass().getSimpleName();
    }

    /**
     * Routes stack events and decides nothing: a request with the Call-ID of a live call goes to that
     * call, a new INVITE to the {@link CallRouter}, REGISTER and OPTIONS to {@link #onRequest}; responses
     * and timeouts to the {@link ClientTransactionHandler} stored on their transaction. Runs on the
     * stack's worker threads, concurrently (REENTRANT_LISTENER), so it keeps no state of its own.
     */
    private final class Listener implements SipListener {
        private final SipProvider provider;

        Listener(SipProvider provider) {
            this.provider = provider;
        }

        @Override
        public void processRequest(RequestEvent event) {
            Request request = event.getRequest();
            String method = request.getMethod();
            CallIdHeader callId = (CallIdHeader) request.getHeader(CallIdHeader.NAME);
            CallRouter calls = router;
            SandboxCall call = callId == null || calls == null ? null : calls.callOf(callId.getCallId());
            if (Request.ACK.equals(method)) {
                // ACKs to our non-2xx answers are absorbed by the INVITE server transaction (§17.2.1);
                // an ACK for a 2xx belongs to its call; any other has nothing to acknowledge.
                if (call != null) {
                    call.onRequest(request, null);
                }
                return;
            }
            // Created here, on the stack thread, before anything is queued: a retransmission arriving
            // meanwhile then meets the transaction instead of passing for a new request.
            ServerTransaction tx = event.getServerTransaction();
            String noTransaction = null;
            try {
                if (tx == null) {
                    tx = provider.getNewServerTransaction(request);
                }
            } catch (TransactionAlreadyExistsException e) {
                return; // a retransmission raced the first copy; that transaction answers it
            } catch (SipException e) {
                noTransaction = e.getMessage();
                log.debug("sandbox: no server transaction for {} ({}); answering statelessly", method, noTransaction);
            }
            if (call != null && tx != null) {
                call.onRequest(request, tx);
                return;
            }
            ToHeader to = (ToHeader) request.getHeader(ToHeader.NAME);
            boolean inDialog = to != null && to.getTag() != null;
            if (Request.INVITE.equals(method) && !inDialog) {
                if (calls != null && tx != null) {
                    calls.onInvite(request, tx);
                } else {
                    // The stack would not keep state for it: nothing a call could be built on.
                    Response refused = safeResponse(Response.BAD_REQUEST, request);
                    if (refused != null && noTransaction != null) {
                        try {
                            refused.setReasonPhrase("Bad Request (" + noTransaction.replaceAll("[\\r\\n]", " ") + ")");
                        } catch (ParseException e) {
                            // keep the standard phrase
                        }
                    }
                    if (refused != null) {
                        send(tx, refused);
                    }
                }
                return;
            }
            Response response;
            try {
                response = onRequest(request, inDialog);
            } catch (Exception | LinkageError e) {
                log.warn("sandbox: failed to process {}: {}", method, e.toString());
                response = safeResponse(Response.SERVER_INTERNAL_ERROR, request);
            }
            if (response != null) {
                send(tx, response);
            }
        }

        private void send(ServerTransaction tx, Response response) {
            try {
                ToHeader to = (ToHeader) response.getHeader(ToHeader.NAME);
                if (to != null && to.getTag() == null) {
                    // A final response outside a dialog still needs a To tag (RFC 3261 §8.2.6.2).
                    to.setTag(Long.toHexString(ThreadLocalRandom.current().nextLong()));
                }
                if (tx != null) {
                    tx.sendResponse(response);
                } else {
                    provider.sendResponse(response);
                }
            } catch (SipException | InvalidArgumentException | ParseException | RuntimeException e) {
                log.debug("sandbox: could not send {}: {}", response.getStatusCode(), e.toString());
            }
        }

        @Override
        public void processResponse(ResponseEvent event) {
            ClientTransaction ct = event.getClientTransaction();
            if (ct != null && ct.getApplicationData() instanceof ClientTransactionHandler handler) {
                handler.onResponse(event);
            }
            // Otherwise a retransmitted 2xx: JAIN-SIP re-sends our ACK itself once one was sent
            // (DialogFilter); before that, the call is still waiting for its caller's ACK to relay.
        }

        @Override
        public void processTimeout(TimeoutEvent event) {
            if (!event.isServerTransaction() && event.getClientTransaction() != null
                    && event.getClientTransaction().getApplicationData() instanceof ClientTransactionHandler handler) {
                handler.onFailure("timeout");
            }
        }

        @Override
        public void processIOException(IOExceptionEvent event) {
            log.debug("sandbox: I/O error toward {}:{} ({})", event.getHost(), event.getPort(), event.getTransport());
        }

        @Override
        public void processTransactionTerminated(TransactionTerminatedEvent event) {
        }

        @Override
        public void processDialogTerminated(DialogTerminatedEvent event) {
        }
    }

    /**
     * Requests that belong to no call: REGISTER, OPTIONS, and whatever cannot be served. A request
     * inside a dialog (To tag), or a CANCEL, that reached here names a dialog or transaction the sandbox
     * does not have: 481 (RFC 3261 §12.2.2, §9.2).
     */
    private Response onRequest(Request request, boolean inDialog) throws ParseException, InvalidArgumentException {
        String method = request.getMethod();
        if (Request.REGISTER.equals(method)) {
            return registrar.register(request);
        }
        if (inDialog || Request.CANCEL.equals(method)) {
            return messages.createResponse(Response.CALL_OR_TRANSACTION_DOES_NOT_EXIST, request);
        }
        if (Request.OPTIONS.equals(method)) {
            // §11.2: answer as we would an INVITE-less capability query.
            Response ok = messages.createResponse(Response.OK, request);
            addAllow(ok);
            return ok;
        }
        Response notImplemented = messages.createResponse(Response.NOT_IMPLEMENTED, request);
        addAllow(notImplemented);
        return notImplemented;
    }

    private void addAllow(Response response) throws ParseException {
        response.addHeader(headers.createAllowHeader(SandboxStack.ALLOW));
    }

    private Response safeResponse(int status, Request request) {
        try {
            return messages.createResponse(status, request);
        } catch (ParseException | RuntimeException e) {
            return null;
        }
    }
}
