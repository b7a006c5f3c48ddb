package io.webrtcgateway.sip.tcp;

import gov.nist.javax.sip.stack.MessageProcessor;
import gov.nist.javax.sip.stack.MessageProcessorFactory;
import gov.nist.javax.sip.stack.OIOMessageProcessorFactory;
import gov.nist.javax.sip.stack.SIPTransactionStack;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.webrtcgateway.config.GatewayConfig;
import java.io.IOException;
import java.net.InetAddress;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Predicate;
import javax.sip.ListeningPoint;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * How the gateway's JAIN-SIP stack listens (set with SipStackImpl.setMessageProcessorFactory before its
 * listening points are made): TCP through {@link TcpListener}, bounded by gateway.sip.tcp (docs/sip.md
 * "TCP connections"); TLS through a second TcpListener whose connections each have a {@link TlsSession}
 * (same selector design, caps shared with TCP, timeouts, plus the handshake timeout; docs/sip.md "TLS");
 * UDP through JAIN-SIP's own processor (a fixed pool of threads reads the one socket). Any other transport
 * is refused, never served by another.
 * Also keeps the counts behind {@code gateway_sip_tcp_connections} and
 * {@code gateway_sip_tcp_connections_closed_total} (docs/metrics.md).
 */
public final class SipTcpTransport implements MessageProcessorFactory {
    private static final Logger LOG = LoggerFactory.getLogger(SipTcpTransport.class);
    /** At most one line a minute at INFO about refused connections; the rest at DEBUG, all in the metric. */
    private static final long LOG_EVERY_NANOS = TimeUnit.MINUTES.toNanos(1);
    /** Reasons a connection is closed by the gateway, each exported from the start. */
    static final List<String> CLOSE_REASONS = List.of("max-connections", "max-connections-per-source",
            "read-timeout", "idle-timeout", "message-too-large", "bad-message", "tls-failed", "tls-handshake-timeout");

    private final MessageProcessorFactory udp = new OIOMessageProcessorFactory();
    private final GatewayConfig.Sip.Tcp settings;
    private final int maxMessageBytes;
    private final int connectTimeoutMillis;
    private final Predicate<InetAddress> trusted;
    private final MeterRegistry meters;
    private final InboundConnections connections;
    /** System.nanoTime() after which the next refused connection is logged at INFO. */
    private final AtomicLong nextInfoNanos = new AtomicLong(System.nanoTime());
    /** Null: no TLS identity, no TLS listening point. */
    private final TlsContexts tls;
    private final long handshakeTimeoutNanos;
    /**
     * Why the last TLS connection the gateway opened to a peer ("host:port", the host as configured or as the
     * hop named it) failed; removed when one succeeds. Read by health (SipServerPool) through {@link #tlsProblem}.
     */
    private final ConcurrentHashMap<String, String> tlsProblems = new ConcurrentHashMap<>();
    private final TlsSession.Outcome tlsOutcome = new TlsSession.Outcome() {
        @Override
        public void established(TlsSession session) {
            if (session.client() && tlsProblems.remove(key(session.peer())) != null) {
                LOG.info("SIP over TLS to {} works again", session.peer());
            }
        }

        @Override
        public void failed(TlsSession session, String why) {
            closed("tls-failed");
            refused(session, why);
        }

        @Override
        public void timedOut(TlsSession session, String why) {
            closed("tls-handshake-timeout");
            refused(session, why);
        }

        private void refused(TlsSession session, String why) {
            if (session.client()) {
                String before = tlsProblems.put(key(session.peer()), why);
                if (!why.equals(before)) {
                    LOG.warn("SIP over TLS to {} refused: {}", session.peer(), why);
                } else {
                    LOG.debug("SIP over TLS to {} refused again: {}", session.peer(), why);
                }
            } else {
                logRefusal("SIP TLS connection from " + session.peer() + " closed: " + why);
            }
        }
    };

    /**
     * @param trusted whether a source address is a SIP Server or in gateway.sip.trusted-sources (never blocks)
     */
    public SipTcpTransport(GatewayConfig.Sip.Tcp settings, int maxMessageBytes, int connectTimeoutMillis,
                           Predicate<InetAddress> trusted, MeterRegistry meters) {
        this(settings, maxMessageBytes, connectTimeoutMillis, trusted, meters, null,
                GatewayConfig.Sip.Tls.DEFAULT_HANDSHAKE_TIMEOUT);
    }

    /**
     * @param tls the identity and trust of SIP over TLS; null: no TLS listening point can be made
     * @param handshakeTimeout a TLS handshake, either way, must end this long after connecting
     */
    public SipTcpTransport(GatewayConfig.Sip.Tcp settings, int maxMessageBytes, int connectTimeoutMillis,
                           Predicate<InetAddress> trusted, MeterRegistry meters, TlsContexts tls,
                           java.time.Duration handshakeTimeout) {
        this.tls = tls;
        this.handshakeTimeoutNanos = handshakeTimeout.toNanos();
        this.settings = settings;
        this.maxMessageBytes = maxMessageBytes;
        this.connectTimeoutMillis = connectTimeoutMillis;
        this.trusted = trusted;
        this.meters = meters;
        this.connections = new InboundConnections(settings.maxConnections(), settings.maxConnectionsPerSource());
        Gauge.builder("gateway.sip.tcp.connections", connections, InboundConnections::count)
                .description("Accepted SIP TCP connections open now (docs/sip.md)")
                .register(meters);
        CLOSE_REASONS.forEach(r -> closedCounter(r));
    }

    @Override
    public MessageProcessor createMessageProcessor(SIPTransactionStack stack, InetAddress address, int port,
                                                   String transport) throws IOException {
        if (ListeningPoint.TCP.equalsIgnoreCase(transport)) {
            return new TcpListener(address, stack, port, this);
        }
        if (ListeningPoint.TLS.equalsIgnoreCase(transport)) {
            if (tls == null) {
                throw new IOException("SIP over TLS needs gateway.sip.tls's certificate");
            }
            return new TcpListener(address, stack, port, this, tls);
        }
        if (!ListeningPoint.UDP.equalsIgnoreCase(transport)) {
            throw new IOException("SIP transport " + transport + " is not served"); // no SCTP, WS: never silently UDP
        }
        return udp.createMessageProcessor(stack, address, port, transport);
    }

    InboundConnections connections() {
        return connections;
    }

    boolean trusted(InetAddress source) {
        return source != null && trusted.test(source);
    }

    int maxMessageBytes() {
        return maxMessageBytes;
    }

    int connectTimeoutMillis() {
        return connectTimeoutMillis;
    }

    long readTimeoutNanos() {
        return settings.readTimeout().toNanos();
    }

    long handshakeTimeoutNanos() {
        return handshakeTimeoutNanos;
    }

    TlsSession.Outcome tlsOutcome() {
        return tlsOutcome;
    }

    /**
     * Why the gateway's last TLS connection to {@code host:port} failed (its certificate, the handshake), or
     * null if it worked or was never tried.
     */
    public String tlsProblem(String host, int port) {
        return tlsProblems.get(key(host + ":" + port));
    }

    private static String key(String peer) {
        return peer.toLowerCase(java.util.Locale.ROOT);
    }

    long idleTimeoutNanos() {
        return settings.idleTimeout().toNanos();
    }

    /** How often the timeouts are checked: a fifth of the shorter one, between 50 ms and 1 s. */
    long auditTickMillis() {
        long shorter = Math.min(settings.readTimeout().toMillis(), settings.idleTimeout().toMillis());
        return Math.max(50, Math.min(1000, shorter / 5));
    }

    /** A connection the gateway closed, by reason. */
    void closed(String reason) {
        closedCounter(reason).increment();
    }

    private Counter closedCounter(String reason) {
        return Counter.builder("gateway.sip.tcp.connections.closed")
                .description("SIP TCP connections the gateway closed or refused, by reason (docs/sip.md)")
                .tag("reason", reason)
                .register(meters);
    }

    void logRefusal(InetAddress source, String reason) {
        String from = source == null ? "?" : source.getHostAddress();
        logRefusal("SIP TCP connection from " + from + " refused: gateway.sip.tcp." + reason + " reached");
    }

    /** At INFO at most once a minute, else at DEBUG. */
    private void logRefusal(String what) {
        long now = System.nanoTime();
        long next = nextInfoNanos.get();
        if (now - next >= 0 && nextInfoNanos.compareAndSet(next, now + LOG_EVERY_NANOS)) {
            LOG.info("{}; further refusals within a minute are logged at DEBUG only, all are counted in"
                    + " gateway_sip_tcp_connections_closed_total", what);
        } else {
            LOG.debug("{}", what);
        }
    }
}
