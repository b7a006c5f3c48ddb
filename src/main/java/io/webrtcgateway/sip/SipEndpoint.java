package io.webrtcgateway.sip;

import io.webrtcgateway.config.GatewayConfig;
import io.webrtcgateway.config.HostPort;
import io.webrtcgateway.config.SipServerAddress;
import io.webrtcgateway.config.TlsCertificateWatch;
import io.webrtcgateway.sip.tcp.SipTcpTransport;
import io.webrtcgateway.sip.tcp.TlsContexts;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import gov.nist.javax.sip.SipStackImpl;
import gov.nist.javax.sip.address.AddressFactoryImpl;
import gov.nist.javax.sip.header.HeaderFactoryImpl;
import gov.nist.javax.sip.message.MessageFactoryImpl;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TooManyListenersException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
import javax.sip.ClientTransaction;
import javax.sip.DialogTerminatedEvent;
import javax.sip.IOExceptionEvent;
import javax.sip.ListeningPoint;
import javax.sip.RequestEvent;
import javax.sip.ResponseEvent;
import javax.sip.SipException;
import javax.sip.SipListener;
import javax.sip.SipProvider;
import javax.sip.TimeoutEvent;
import javax.sip.TransactionTerminatedEvent;
import javax.sip.header.CSeqHeader;
import javax.sip.address.AddressFactory;
import javax.sip.header.HeaderFactory;
import javax.sip.message.MessageFactory;
import javax.sip.message.Request;
import javax.sip.message.Response;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The gateway's JAIN-SIP stack: listening points (UDP and TCP on {@code gateway.sip.listen}, TLS on
 * {@code gateway.sip.tls.port} when it has a certificate), factories,
 * the source check that keeps out requests from anyone but SIP Server ({@link SipSourceFilter}), and the one
 * {@link SipListener}, which only routes: responses and timeouts to the {@link ClientTransactionHandler}
 * stored on the transaction, requests to the handler registered for the method. Nothing here blocks or
 * holds a lock across calls into JAIN-SIP.
 */
public final class SipEndpoint implements SipListener, AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(SipEndpoint.class);
    private static final SecureRandom RANDOM = new SecureRandom();

    /** Methods the gateway accepts, for Allow headers. */
    public static final String ALLOW = "INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, NOTIFY, UPDATE";

    private final GatewayConfig.Sip config;
    private final String instanceId;
    private final Map<String, Consumer<RequestEvent>> requestHandlers = new ConcurrentHashMap<>();
    private final MeterRegistry meters;
    /** Call-ID -> the leg owning that dialog (also before the dialog exists: CANCEL, early requests). */
    private final Map<String, SipRequestHandler> owners = new ConcurrentHashMap<>();
    private SipStackImpl stack;
    private SipProvider udpProvider;
    private SipProvider tcpProvider;
    /** Null without gateway.sip.tls's identity. */
    private SipProvider tlsProvider;
    private SipTcpTransport transport;
    private TlsCertificateWatch certificateWatch;
    /** What new TLS engines are made from; its identity is swapped by {@link #certificateWatch}. */
    private volatile TlsContexts tlsContexts;
    private AddressFactory addressFactory;
    private HeaderFactory headerFactory;
    private MessageFactory messageFactory;
    private String advertisedHost;
    private int advertisedPort;
    private SipHostResolver resolver;
    private TrustedSipSources sources;

    /** For tests and tools: meters go to a registry nobody reads. */
    public SipEndpoint(GatewayConfig.Sip config, String instanceId) {
        this(config, instanceId, new SimpleMeterRegistry());
    }

    public SipEndpoint(GatewayConfig.Sip config, String instanceId, MeterRegistry meters) {
        this.config = config;
        this.instanceId = instanceId;
        this.meters = meters;
    }

    /** {@link #start(List)} with one SIP Server. */
    public void start(SipServerAddress primary) throws Exception {
        start(List.of(primary));
    }

    /**
     * Creates the stack and binds. {@code servers} are the SIP Servers, primary first, as resolved at start
     * (the sandbox entry with the sandbox's address): requests are taken from them (their names are looked up
     * here, before the listener binds), from gateway.sip.trusted-sources and from dialog peers only; the
     * primary is used to detect the advertised address.
     */
    public void start(List<SipServerAddress> servers) throws Exception {
        SipServerAddress primary = servers.get(0);
        // Unique per start: thread names carry it, and a redeployed WAR must get a fresh stack.
        String name = "webrtc-gateway-" + instanceId + "-" + randomHex(4);
        stack = SipStacks.create(name);
        addressFactory = new AddressFactoryImpl();
        headerFactory = new HeaderFactoryImpl();
        messageFactory = new MessageFactoryImpl();

        resolver = new SipHostResolver(name + "-dns");
        sources = new TrustedSipSources(servers, config.trustedSources(), resolver);
        sources.resolveServersNow();
        // Before any listening point exists, so no request ever gets past the stack unchecked. JAIN-SIP only
        // reads this list while receiving.
        stack.sipMessageValves.add(new SipSourceFilter(sources, owners::get, config.untrusted(), this::provider,
                headerFactory.createUserAgentHeader(List.of(config.userAgent())), meters,
                new SourceRateLimit(config.maxRequestsPerSecond()), config.headers()));
        // TCP and TLS served by one selector thread each, with connection caps and timeouts (docs/sip.md "TCP
        // connections", "TLS").
        TlsContexts tls = null;
        if (config.tls().enabled()) {
            // The watch reads the files now; it hands on changed ones only once started (below), by which time
            // tlsContexts is set.
            certificateWatch = new TlsCertificateWatch("SIP TLS", config.tls().identity(),
                    identity -> tlsContexts.use(identity));
            tls = TlsContexts.create(config.tls(), certificateWatch.current());
            tlsContexts = tls;
        }
        transport = new SipTcpTransport(config.tcp(), SipStacks.MAX_MESSAGE_BYTES,
                SipStacks.CONNECT_TIMEOUT_MILLIS, sources::trusted, meters, tls, config.tls().handshakeTimeout());
        stack.setMessageProcessorFactory(transport);

        HostPort listen = config.listen();
        String bindHost = listen.host();
        ListeningPoint udp = stack.createListeningPoint(bindHost, listen.port(), ListeningPoint.UDP);
        ListeningPoint tcp = stack.createListeningPoint(bindHost, listen.port(), ListeningPoint.TCP);
        udpProvider = stack.createSipProvider(udp);
        tcpProvider = stack.createSipProvider(tcp);
        if (tls != null) {
            tlsProvider = stack.createSipProvider(
                    stack.createListeningPoint(bindHost, config.tls().port(), ListeningPoint.TLS));
        }
        try {
            udpProvider.addSipListener(this);
            tcpProvider.addSipListener(this);
            if (tlsProvider != null) {
                tlsProvider.addSipListener(this);
            }
        } catch (TooManyListenersException e) {
            throw new IllegalStateException(e);
        }
        stack.start();
        if (certificateWatch != null) {
            certificateWatch.start();
        }

        if (!config.publicAddress().isEmpty()) {
            HostPort pub = HostPort.parse(config.publicAddress(), listen.port());
            advertisedHost = pub.host();
            advertisedPort = pub.port();
        } else {
            advertisedHost = isWildcard(bindHost) ? localAddressToward(primary) : bindHost;
            advertisedPort = listen.port();
        }
        if (tls != null) {
            LOG.info("SIP listening on {} (udp, tcp) and port {} (tls, certificate {}), advertised as {}:{} and :{}",
                    listen, config.tls().port(), tls.identity().describe(), advertisedHost, advertisedPort,
                    advertisedPort(ListeningPoint.TLS));
        } else {
            LOG.info("SIP listening on {} (udp, tcp), advertised as {}:{}", listen, advertisedHost, advertisedPort);
        }
    }

    private static boolean isWildcard(String host) {
        return host.equals("0.0.0.0") || host.equals("::") || host.equals("[::]");
    }

    /** The local address the kernel would use toward the SIP Server; a UDP connect sends nothing. */
    private static String localAddressToward(SipServerAddress server) {
        if (server == null || server.address() == null) {
            return "127.0.0.1";
        }
        try (DatagramSocket s = new DatagramSocket()) {
            s.connect(new InetSocketAddress(InetAddress.getByName(server.address().host()), server.address().port()));
            InetAddress local = s.getLocalAddress();
            return local == null || local.isAnyLocalAddress() ? "127.0.0.1" : local.getHostAddress();
        } catch (Exception e) {
            LOG.warn("cannot detect local address toward {}: {}; using 127.0.0.1", server, e.toString());
            return "127.0.0.1";
        }
    }

    /**
     * Looks the SIP Servers' host names up again, in the background, so that the source check follows a DNS
     * change (called at every keepalive). Never blocks.
     */
    public void refreshServerAddresses() {
        if (sources != null) {
            sources.refreshServers();
        }
    }

    public void onRequest(String method, Consumer<RequestEvent> handler) {
        requestHandlers.put(method, handler);
    }

    public AddressFactory addresses() {
        return addressFactory;
    }

    public HeaderFactory headers() {
        return headerFactory;
    }

    public MessageFactory messages() {
        return messageFactory;
    }

    public String advertisedHost() {
        return advertisedHost;
    }

    public int advertisedPort() {
        return advertisedPort;
    }

    /**
     * The port put in Via and Contact for {@code transport}: TLS has a port of its own (gateway.sip.tls.port; behind
     * NAT it must be forwarded to the same number), UDP and TCP share gateway.sip.listen's (or public-address's).
     */
    public int advertisedPort(String transport) {
        return ListeningPoint.TLS.equalsIgnoreCase(transport) ? config.tls().port() : advertisedPort;
    }

    /**
     * Why the gateway's last TLS connection to {@code server} failed (its certificate, the handshake), or null:
     * it worked, it was not tried yet, or {@code server} is not a TLS server.
     */
    public String tlsProblem(SipServerAddress server) {
        if (transport == null || server.address() == null || !"tls".equals(server.transport())) {
            return null;
        }
        return transport.tlsProblem(server.address().host(), server.address().port());
    }

    public String userAgent() {
        return config.userAgent();
    }

    /** The provider of {@code transport}'s listening point; never another transport's (no silent fallback). */
    public SipProvider provider(String transport) {
        if ("tls".equalsIgnoreCase(transport)) {
            if (tlsProvider == null) {
                throw new IllegalStateException("SIP over TLS is off (gateway.sip.tls has no certificate)");
            }
            return tlsProvider;
        }
        if ("tcp".equalsIgnoreCase(transport)) {
            return tcpProvider;
        }
        if ("udp".equalsIgnoreCase(transport)) {
            return udpProvider;
        }
        throw new IllegalArgumentException("SIP transport " + transport + " is not served");
    }

    /** Sends {@code request} in a new client transaction whose outcome goes to {@code handler}. */
    public ClientTransaction send(Request request, String transport, ClientTransactionHandler handler)
            throws SipException {
        ClientTransaction ct = provider(transport).getNewClientTransaction(request);
        ct.setApplicationData(handler);
        ct.sendRequest();
        return ct;
    }

    public static String randomHex(int bytes) {
        byte[] b = new byte[bytes];
        RANDOM.nextBytes(b);
        return HexFormat.of().formatHex(b);
    }

    public String newCallId() {
        return randomHex(12) + "@" + advertisedHost;
    }

    @Override
    public void processRequest(RequestEvent event) {
        String method = event.getRequest().getMethod();
        Consumer<RequestEvent> handler = requestHandlers.get(method);
        try {
            SipRequestHandler owner = ownerOf(event);
            if (owner != null) {
                owner.onRequest(event);
            } else if (isInDialog(event.getRequest()) || Request.CANCEL.equals(method)) {
                // RFC 3261 §12.2.2: a request for a dialog we don't know.
                if (!Request.ACK.equals(method)) {
                    reply(event, Response.CALL_OR_TRANSACTION_DOES_NOT_EXIST);
                }
            } else if (handler != null) {
                handler.accept(event);
            } else if (!Request.ACK.equals(method)) {
                reply(event, Response.NOT_IMPLEMENTED);
            }
        } catch (RuntimeException e) {
            LOG.warn("failed to handle {}: {}", method, e.toString());
        }
    }

    /** Registers the owner of a Call-ID (a SIP leg) until {@link #forgetOwner}. */
    public void registerOwner(String callId, SipRequestHandler owner) {
        owners.put(callId, owner);
    }

    public void forgetOwner(String callId, SipRequestHandler owner) {
        owners.remove(callId, owner);
    }

    public int ownedDialogs() {
        return owners.size();
    }

    /** For tests: the stack itself (its transaction and dialog tables). */
    SipStackImpl jainSipStack() {
        return stack;
    }

    private SipRequestHandler ownerOf(RequestEvent event) {
        if (event.getDialog() != null && event.getDialog().getApplicationData() instanceof SipRequestHandler h) {
            return h;
        }
        javax.sip.header.CallIdHeader callId = (javax.sip.header.CallIdHeader) event.getRequest().getHeader(
                javax.sip.header.CallIdHeader.NAME);
        return callId == null ? null : owners.get(callId.getCallId());
    }

    private static boolean isInDialog(Request request) {
        javax.sip.header.ToHeader to = (javax.sip.header.ToHeader) request.getHeader(javax.sip.header.ToHeader.NAME);
        return to != null && to.getTag() != null;
    }

    /** Answers a request statelessly-safe: through its server transaction if one exists. */
    public void reply(RequestEvent event, int status) {
        reply(event, status, 0);
    }

    /** {@link #reply(RequestEvent, int)} with a Retry-After of {@code retryAfterSeconds} (0: none; RFC 3261 §20.33). */
    public void reply(RequestEvent event, int status, int retryAfterSeconds) {
        try {
            Response response = messageFactory.createResponse(status, event.getRequest());
            response.addHeader(headerFactory.createUserAgentHeader(java.util.List.of(config.userAgent())));
            if (retryAfterSeconds > 0) {
                response.addHeader(headerFactory.createRetryAfterHeader(retryAfterSeconds));
            }
            if (event.getServerTransaction() != null) {
                event.getServerTransaction().sendResponse(response);
            } else {
                ((SipProvider) event.getSource()).sendResponse(response);
            }
            if (status >= 200) {
                countTransaction("in", event.getRequest().getMethod(), String.valueOf(status));
            }
        } catch (Exception e) {
            LOG.debug("cannot answer {}: {}", event.getRequest().getMethod(), e.toString());
        }
    }

    @Override
    public void processResponse(ResponseEvent event) {
        ClientTransaction ct = event.getClientTransaction();
        Response response = event.getResponse();
        if (ct != null && response.getStatusCode() >= 200
                && response.getHeader(CSeqHeader.NAME) instanceof CSeqHeader cseq) {
            countTransaction("out", cseq.getMethod(), String.valueOf(response.getStatusCode()));
        }
        if (ct != null && ct.getApplicationData() instanceof ClientTransactionHandler h) {
            h.onResponse(event);
        } else {
            javax.sip.header.CallIdHeader callId = (javax.sip.header.CallIdHeader) event.getResponse().getHeader(
                    javax.sip.header.CallIdHeader.NAME);
            SipRequestHandler owner = callId == null ? null : owners.get(callId.getCallId());
            if (owner != null) {
                owner.onStrayResponse(event);
            } else {
                LOG.debug("stray response {} dropped", event.getResponse().getStatusCode());
            }
        }
    }

    @Override
    public void processTimeout(TimeoutEvent event) {
        if (!event.isServerTransaction() && event.getClientTransaction() != null) {
            countNoAnswer(event.getClientTransaction().getRequest().getMethod());
            if (event.getClientTransaction().getApplicationData() instanceof ClientTransactionHandler h) {
                h.onFailure("timeout");
            }
        }
    }

    /**
     * A client transaction that ended without a final response: JAIN-SIP's own timeout, or the caller gave
     * up first (gateway.sip.request-timeout) and terminated it.
     */
    public void countNoAnswer(String method) {
        countTransaction("out", method, "timeout");
    }

    /** {@code gateway_sip_transactions_total{direction, method, status}} (docs/metrics.md). */
    private void countTransaction(String direction, String method, String status) {
        Counter.builder("gateway.sip.transactions")
                .description("SIP transactions by direction (out: sent by the gateway), method and final status")
                .tag("direction", direction)
                .tag("method", knownMethod(method))
                .tag("status", status)
                .register(meters)
                .increment();
    }

    /** Methods are bounded to the known ones, so a peer cannot blow up the label set. */
    static String knownMethod(String method) {
        return switch (method) {
            case "REGISTER", "OPTIONS", "INVITE", "ACK", "CANCEL", "BYE", "INFO", "NOTIFY", "UPDATE", "PRACK",
                 "SUBSCRIBE", "REFER", "MESSAGE", "PUBLISH" -> method;
            default -> "other";
        };
    }

    @Override
    public void processIOException(IOExceptionEvent event) {
        LOG.debug("SIP transport error toward {}:{}/{}", event.getHost(), event.getPort(), event.getTransport());
    }

    @Override
    public void processTransactionTerminated(TransactionTerminatedEvent event) {}

    @Override
    public void processDialogTerminated(DialogTerminatedEvent event) {}

    @Override
    public void close() {
        if (stack == null) {
            return;
        }
        if (certificateWatch != null) {
            certificateWatch.close();
        }
        // No deleteSipProvider or deleteListeningPoint first: stop() closes the listening points and forgets the
        // providers itself, and deleting the last provider would stop the stack once more (a second of sleep in
        // JAIN-SIP's stopStack each time).
        for (SipProvider provider : new SipProvider[] {udpProvider, tcpProvider, tlsProvider}) {
            if (provider != null) {
                provider.removeSipListener(this);
            }
        }
        SipStacks.stop(stack);
        stack = null;
        if (resolver != null) {
            resolver.close();
        }
    }
}
