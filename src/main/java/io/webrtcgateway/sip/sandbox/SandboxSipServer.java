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
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

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
import javax.sip.header.HeaderFactory;
import javax.sip.header.ToHeader;
import javax.sip.message.MessageFactory;
import javax.sip.message.Request;
import javax.sip.message.Response;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import gov.nist.javax.sip.SipStackImpl;
import io.webrtcgateway.sip.SipStacks;
import gov.nist.javax.sip.header.HeaderFactoryImpl;
import gov.nist.javax.sip.message.MessageFactoryImpl;

import io.webrtcgateway.config.HostPort;

/**
 * The built-in sandbox SIP server: a registrar on loopback so the gateway runs with nothing else
 * installed ({@code gateway.sip.servers = ["sandbox"]}). DEMO AND DEVELOPMENT ONLY: it accepts every
 * REGISTER without a challenge, whatever the password. See docs/sandbox.md.
 *
 * <p>It owns a JAIN-SIP stack of its own (UDP and TCP on the same port), separate from the gateway's
 * stack in the same JVM, and a one-thread timer that forgets expired bindings. {@link #close()} stops
 * both and frees the port.
 */
public final class SandboxSipServer implements AutoCloseable {

    public record Binding(String aor, String contact, Instant expiresAt, String callId, long cseq) {}

    private static final Logger log = LoggerFactory.getLogger(SandboxSipServer.class);

    /** Methods answered by {@link #onRequest}; advertised in Allow (RFC 3261 §20.5). */
    private static final List<String> ALLOWED_METHODS = List.of(Request.REGISTER, Request.OPTIONS);
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

    private enum State { NEW, RUNNING, CLOSED }

    /** Guarded by {@code this}. */
    private State state = State.NEW;
    /** Guarded by {@code this}; set while RUNNING. */
    private SipStackImpl stack;
    /** Guarded by {@code this}; set while RUNNING. */
    private ScheduledExecutorService purger;
    /** Written once in start() before the listener is attached; read by stack threads. */
    private volatile HostPort boundAddress;

    public SandboxSipServer(HostPort listen) {
        this(listen, Clock.systemUTC());
    }

    /** For tests: the clock decides when bindings expire. */
    SandboxSipServer(HostPort listen, Clock clock) {
        this.listen = listen;
        this.clock = clock;
        this.registrar = new Registrar(messages, headers, clock);
    }

    public synchronized void start() throws Exception {
        if (state != State.NEW) {
            throw new IllegalStateException("sandbox SIP server already " + state.name().toLowerCase());
        }
        InetAddress host = InetAddress.getByName(listen.host());
        SipStackImpl newStack = new SipStackImpl(stackProperties("sandbox-sip-" + UUID.randomUUID().toString().substring(0, 8)));
        try {
            int port = bind(newStack, host);
            newStack.start();
            boundAddress = new HostPort(listen.host(), port);
            awaitUdpAnswer(host, port);
            stack = newStack;
        } catch (Exception | Error e) {
            boundAddress = null;
            stopQuietly(newStack);
            throw e;
        }
        purger = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "sandbox-sip-purge-" + boundAddress.port());
            t.setDaemon(true);
            return t;
        });
        purger.scheduleWithFixedDelay(registrar::purgeExpired, PURGE_PERIOD_SECONDS, PURGE_PERIOD_SECONDS, TimeUnit.SECONDS);
        state = State.RUNNING;
        log.warn("Sandbox SIP server listening on udp+tcp {} - DEMO/DEV ONLY: it accepts every REGISTER without "
                + "authentication; configure gateway.sip.servers with real SIP Servers in production", boundAddress);
    }

    /** The address actually listened on (the chosen port if {@code listen} had port 0); null before start(). */
    public HostPort address() {
        return boundAddress;
    }

    public List<Binding> bindings() {
        return registrar.bindings();
    }

    @Override
    public void close() {
        SipStackImpl toStop;
        ScheduledExecutorService toShutDown;
        synchronized (this) {
            if (state == State.CLOSED) {
                return;
            }
            state = State.CLOSED;
            toStop = stack;
            toShutDown = purger;
            stack = null;
            purger = null;
        }
        if (toShutDown != null) {
            toShutDown.shutdownNow();
        }
        if (toStop != null) {
            stopQuietly(toStop);
            log.info("Sandbox SIP server on {} stopped", boundAddress);
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

    private int bind(SipStackImpl target, InetAddress host) throws Exception {
        if (listen.port() != 0) {
            bindOn(target, host, listen.port());
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
                bindOn(target, host, port);
                return port;
            } catch (BindException e) {
                last = e;
            }
        }
        throw last;
    }

    private void bindOn(SipStackImpl target, InetAddress host, int port) throws Exception {
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
     * Routes stack events; requests are dispatched by method in {@link #onRequest}. Runs on the
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
            if (Request.ACK.equals(request.getMethod())) {
                // ACKs to our non-2xx answers are absorbed by the INVITE server transaction (§17.2.1);
                // any other ACK has nothing to acknowledge here.
                return;
            }
            ServerTransaction tx = event.getServerTransaction();
            try {
                if (tx == null) {
                    tx = provider.getNewServerTransaction(request);
                }
            } catch (TransactionAlreadyExistsException e) {
                return; // a retransmission raced the first copy; that transaction answers it
            } catch (SipException e) {
                log.debug("sandbox: no server transaction for {} ({}); answering statelessly", request.getMethod(), e.getMessage());
            }
            Response response;
            try {
                response = onRequest(request);
            } catch (Exception | LinkageError e) {
                log.warn("sandbox: failed to process {}: {}", request.getMethod(), e.toString());
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
            // The sandbox sends no requests yet.
        }

        @Override
        public void processTimeout(TimeoutEvent event) {
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
     * One place where requests are dispatched by method; call routing between DNs (INVITE, BYE,
     * CANCEL, ...) will be added here.
     */
    private Response onRequest(Request request) throws ParseException, InvalidArgumentException {
        switch (request.getMethod()) {
            case Request.REGISTER:
                return registrar.register(request);
            case Request.OPTIONS: {
                // §11.2: answer as we would an INVITE-less capability query.
                Response ok = messages.createResponse(Response.OK, request);
                addAllow(ok);
                return ok;
            }
            default: {
                Response notImplemented = messages.createResponse(Response.NOT_IMPLEMENTED, request);
                addAllow(notImplemented);
                return notImplemented;
            }
        }
    }

    private void addAllow(Response response) throws ParseException {
        for (String method : ALLOWED_METHODS) {
            response.addHeader(headers.createAllowHeader(method));
        }
    }

    private Response safeResponse(int status, Request request) {
        try {
            return messages.createResponse(status, request);
        } catch (ParseException | RuntimeException e) {
            return null;
        }
    }
}
