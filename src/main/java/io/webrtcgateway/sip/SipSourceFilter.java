package io.webrtcgateway.sip;

import gov.nist.javax.sip.message.SIPRequest;
import gov.nist.javax.sip.message.SIPResponse;
import gov.nist.javax.sip.stack.MessageChannel;
import gov.nist.javax.sip.stack.SIPMessageValve;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.webrtcgateway.config.GatewayConfig;
import java.net.InetAddress;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import javax.sip.SipProvider;
import javax.sip.SipStack;
import javax.sip.header.UserAgentHeader;
import javax.sip.message.Request;
import javax.sip.message.Response;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Refuses requests from sources the gateway does not take them from ({@link TrustedSipSources}), as a
 * JAIN-SIP message valve: it sees each request before the stack matches or creates a transaction or a dialog.
 * That matters for requests inside a dialog: past this point JAIN-SIP adds the request's transaction to the
 * dialog, raises the dialog's remote CSeq and takes the request's Contact as the new remote target (a target
 * refresh, RFC 3261 §12.2.2), all before the listener could refuse it. A refused request therefore leaves
 * nothing behind and no browser hears of it.
 *
 * <p>{@code gateway.sip.untrusted = reject}: 403 Forbidden, built from the request alone and sent without a
 * transaction (a retransmission gets another one); {@code drop}: nothing. An ACK is never answered
 * (RFC 3261 §17.2.3). The answer depends only on the request's source, never on whom it names, so it tells
 * a stranger nothing about which DNs are signed in. Counted in {@code gateway_sip_untrusted_requests_total}.
 */
final class SipSourceFilter implements SIPMessageValve {
    private static final Logger LOG = LoggerFactory.getLogger(SipSourceFilter.class);
    /** At most one log line a minute at INFO about refused requests; the rest at DEBUG, and in the metric. */
    private static final long LOG_EVERY_NANOS = TimeUnit.MINUTES.toNanos(1);

    private final TrustedSipSources sources;
    private final Function<String, SipRequestHandler> ownerByCallId;
    private final GatewayConfig.Sip.Untrusted action;
    private final Function<String, SipProvider> providerByTransport;
    private final UserAgentHeader userAgent;
    private final MeterRegistry meters;
    /** System.nanoTime() after which the next refusal is logged at INFO. */
    private final AtomicLong nextInfoNanos = new AtomicLong(System.nanoTime());

    SipSourceFilter(TrustedSipSources sources, Function<String, SipRequestHandler> ownerByCallId,
                    GatewayConfig.Sip.Untrusted action, Function<String, SipProvider> providerByTransport,
                    UserAgentHeader userAgent, MeterRegistry meters) {
        this.sources = sources;
        this.ownerByCallId = ownerByCallId;
        this.action = action;
        this.providerByTransport = providerByTransport;
        this.userAgent = userAgent;
        this.meters = meters;
    }

    /** Called by JAIN-SIP on the thread that read the request; true lets it through. Never blocks. */
    @Override
    public boolean processRequest(SIPRequest request, MessageChannel channel) {
        InetAddress source = sourceOf(request, channel);
        String callId = request.getCallId() == null ? null : request.getCallId().getCallId();
        SipRequestHandler owner = callId == null ? null : ownerByCallId.apply(callId);
        if (sources.accepts(source, owner)) {
            return true;
        }
        String method = request.getMethod();
        boolean answer = action == GatewayConfig.Sip.Untrusted.REJECT && !Request.ACK.equals(method);
        count(method, answer ? "reject" : "drop");
        log(source, method, owner != null, answer);
        if (answer) {
            forbid(request, channel);
        }
        return false;
    }

    /**
     * The address the request's packet came from (UDP) or the TCP connection's peer: JAIN-SIP sets both
     * getPeerPacketSourceAddress and getRemoteAddress from the socket, never from a header.
     */
    private static InetAddress sourceOf(SIPRequest request, MessageChannel channel) {
        InetAddress source = request.getPeerPacketSourceAddress();
        if (source == null) {
            source = request.getRemoteAddress();
        }
        return source != null ? source : channel.getPeerPacketSourceAddress();
    }

    /**
     * 403 without a transaction. Over TCP on the connection the request came on (RFC 3261 §18.2.2); over UDP
     * through the provider, which sends to the Via's received/rport (the packet's source, RFC 3581).
     */
    private void forbid(SIPRequest request, MessageChannel channel) {
        try {
            SIPResponse response = request.createResponse(Response.FORBIDDEN);
            if (response.getTo() != null && response.getTo().getTag() == null) {
                response.getTo().setTag(SipEndpoint.randomHex(4)); // RFC 3261 §8.2.6.2
            }
            response.setHeader((UserAgentHeader) userAgent.clone());
            if (channel.isReliable()) {
                channel.sendMessage(response);
            } else {
                SipProvider provider = providerByTransport.apply(channel.getTransport());
                if (provider != null) {
                    provider.sendResponse(response);
                }
            }
        } catch (Exception e) {
            LOG.debug("403 to {} not sent: {}", request.getMethod(), e.toString());
        }
    }

    /** {@code gateway_sip_untrusted_requests_total{method, action}} (docs/metrics.md). */
    private void count(String method, String what) {
        Counter.builder("gateway.sip.untrusted.requests")
                .description("SIP requests refused because of their source (docs/sip.md), by method and "
                        + "action (reject: 403 sent; drop: no answer)")
                .tag("method", SipEndpoint.knownMethod(method))
                .tag("action", what)
                .register(meters)
                .increment();
    }

    private void log(InetAddress source, String method, boolean ofDialog, boolean answered) {
        String why = ofDialog ? "neither a SIP Server, nor trusted, nor the dialog's peer"
                : "neither a SIP Server nor in gateway.sip.trusted-sources";
        long now = System.nanoTime();
        long next = nextInfoNanos.get();
        if (now - next >= 0 && nextInfoNanos.compareAndSet(next, now + LOG_EVERY_NANOS)) {
            LOG.info("SIP {} from {} refused ({}): {}; further refusals within a minute are logged at DEBUG only, "
                    + "all are counted in gateway_sip_untrusted_requests_total", method,
                    source == null ? "?" : source.getHostAddress(), answered ? "403" : "dropped", why);
        } else {
            LOG.debug("SIP {} from {} refused ({}): {}", method, source == null ? "?" : source.getHostAddress(),
                    answered ? "403" : "dropped", why);
        }
    }

    /** Responses are matched to our own client transactions by JAIN-SIP; they are not filtered here. */
    @Override
    public boolean processResponse(Response response, MessageChannel channel) {
        return true;
    }

    @Override
    public void init(SipStack stack) {}

    @Override
    public void destroy() {}
}
