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
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Predicate;
import javax.sip.ListeningPoint;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * How the gateway's JAIN-SIP stack listens (set with SipStackImpl.setMessageProcessorFactory before its
 * listening points are made): TCP through {@link TcpListener}, bounded by gateway.sip.tcp (docs/sip.md
 * "TCP connections"); UDP through JAIN-SIP's own processor (a fixed pool of threads reads the one socket).
 * Also keeps the counts behind {@code gateway_sip_tcp_connections} and
 * {@code gateway_sip_tcp_connections_closed_total} (docs/metrics.md).
 */
public final class SipTcpTransport implements MessageProcessorFactory {
    private static final Logger LOG = LoggerFactory.getLogger(SipTcpTransport.class);
    /** At most one line a minute at INFO about refused connections; the rest at DEBUG, all in the metric. */
    private static final long LOG_EVERY_NANOS = TimeUnit.MINUTES.toNanos(1);
    /** Reasons a connection is closed by the gateway, each exported from the start. */
    static final List<String> CLOSE_REASONS = List.of("max-connections", "max-connections-per-source",
            "read-timeout", "idle-timeout", "message-too-large", "bad-message");

    private final MessageProcessorFactory udp = new OIOMessageProcessorFactory();
    private final GatewayConfig.Sip.Tcp settings;
    private final int maxMessageBytes;
    private final int connectTimeoutMillis;
    private final Predicate<InetAddress> trusted;
    private final MeterRegistry meters;
    private final InboundConnections connections;
    /** System.nanoTime() after which the next refused connection is logged at INFO. */
    private final AtomicLong nextInfoNanos = new AtomicLong(System.nanoTime());

    /**
     * @param trusted whether a source address is a SIP Server or in gateway.sip.trusted-sources (never blocks)
     */
    public SipTcpTransport(GatewayConfig.Sip.Tcp settings, int maxMessageBytes, int connectTimeoutMillis,
                           Predicate<InetAddress> trusted, MeterRegistry meters) {
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
        long now = System.nanoTime();
        long next = nextInfoNanos.get();
        String from = source == null ? "?" : source.getHostAddress();
        if (now - next >= 0 && nextInfoNanos.compareAndSet(next, now + LOG_EVERY_NANOS)) {
            LOG.info("SIP TCP connection from {} refused: gateway.sip.tcp.{} reached; further refusals within a "
                    + "minute are logged at DEBUG only, all are counted in gateway_sip_tcp_connections_closed_total",
                    from, reason);
        } else {
            LOG.debug("SIP TCP connection from {} refused: gateway.sip.tcp.{} reached", from, reason);
        }
    }
}
