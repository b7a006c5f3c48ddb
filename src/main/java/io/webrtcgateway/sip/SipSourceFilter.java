package io.webrtcgateway.sip;

import gov.nist.javax.sip.header.RetryAfter;
import gov.nist.javax.sip.header.SIPHeader;
import gov.nist.javax.sip.header.SIPHeaderList;
import gov.nist.javax.sip.message.SIPRequest;
import gov.nist.javax.sip.message.SIPResponse;
import gov.nist.javax.sip.stack.MessageChannel;
import gov.nist.javax.sip.stack.SIPMessageValve;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.webrtcgateway.config.GatewayConfig;
import java.net.InetAddress;
import java.util.Iterator;
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
 *
 * <p>First, every source's requests are held to gateway.sip.max-requests-per-second ({@link SourceRateLimit}),
 * SIP Servers' too. Over it, an INVITE the source check would let in gets 503 Service Unavailable with
 * Retry-After (RFC 3261 §21.5.4: SIP Server may try another instance), built the same stateless way; any other
 * request, and everything from a stranger, is dropped (a UDP sender retransmits; a stranger learns nothing).
 * Counted in {@code gateway_sip_rate_limited_requests_total}. A BYE, ACK or CANCEL in a known dialog from an
 * accepted source is never refused for the rate: ending a call must not depend on how busy its sender is.
 *
 * <p>Last, a request the source check lets in must keep within gateway.sip.max-headers header fields and
 * max-header-bytes per field, else 513 Message Too Large (RFC 3261 §21.5.11), the same stateless way (an ACK is
 * dropped). JAIN-SIP has parsed it already (within the 64 KiB message bound); what is refused here is the work
 * and state the gateway's handlers would spend on it. Counted in {@code gateway_sip_oversized_requests_total}.
 */
final class SipSourceFilter implements SIPMessageValve {
    private static final Logger LOG = LoggerFactory.getLogger(SipSourceFilter.class);
    /** At most one log line a minute at INFO about refused requests; the rest at DEBUG, and in the metric. */
    private static final long LOG_EVERY_NANOS = TimeUnit.MINUTES.toNanos(1);

    /**
     * Requests that end or complete what exists, let through over the rate when they belong to a known dialog and
     * pass the source check: a dropped BYE over TCP is never retransmitted and would leave a call (and its ports)
     * up; an ACK or CANCEL lost would keep a transaction retransmitting. They still take their token.
     */
    private static final java.util.Set<String> ENDING = java.util.Set.of(Request.BYE, Request.ACK, Request.CANCEL);

    private final TrustedSipSources sources;
    private final Function<String, SipRequestHandler> ownerByCallId;
    private final GatewayConfig.Sip.Untrusted action;
    private final Function<String, SipProvider> providerByTransport;
    private final UserAgentHeader userAgent;
    private final MeterRegistry meters;
    private final SourceRateLimit rate;
    private final GatewayConfig.Sip.Headers bounds;
    /** System.nanoTime() after which the next refusal is logged at INFO. */
    private final AtomicLong nextInfoNanos = new AtomicLong(System.nanoTime());
    /** System.nanoTime() after which the next rate-limited request is logged at INFO. */
    private final AtomicLong nextLimitedInfoNanos = new AtomicLong(System.nanoTime());

    SipSourceFilter(TrustedSipSources sources, Function<String, SipRequestHandler> ownerByCallId,
                    GatewayConfig.Sip.Untrusted action, Function<String, SipProvider> providerByTransport,
                    UserAgentHeader userAgent, MeterRegistry meters, SourceRateLimit rate,
                    GatewayConfig.Sip.Headers bounds) {
        this.sources = sources;
        this.rate = rate;
        this.bounds = bounds;
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
        boolean accepted = sources.accepts(source, owner);
        String method = request.getMethod();
        long waitNanos = rate.tryAcquire(source);
        if (waitNanos > 0 && !(accepted && owner != null && ENDING.contains(method))) {
            boolean answer = accepted && Request.INVITE.equals(method);
            countLimited(method, answer ? "reject" : "drop");
            logLimited(source, method, answer);
            if (answer) {
                answer(request, channel, Response.SERVICE_UNAVAILABLE, retryAfterSeconds(waitNanos));
            }
            return false;
        }
        if (accepted) {
            String over = overBounds(request, bounds);
            if (over == null) {
                return true;
            }
            boolean answer = !Request.ACK.equals(method);
            countOversized(method);
            LOG.debug("{} from {} refused (513): {}", method, source.getHostAddress(), over);
            if (answer) {
                answer(request, channel, Response.MESSAGE_TOO_LARGE, 0);
            }
            return false;
        }
        boolean answer = action == GatewayConfig.Sip.Untrusted.REJECT && !Request.ACK.equals(method);
        count(method, answer ? "reject" : "drop");
        log(source, method, owner != null, answer);
        if (answer) {
            answer(request, channel, Response.FORBIDDEN, 0);
        }
        return false;
    }

    /**
     * Why {@code request} is over gateway.sip.max-headers or max-header-bytes, or null when it is not. A header
     * list (Via: a, b) counts one field per value; a field's size is its encoded form.
     */
    static String overBounds(SIPRequest request, GatewayConfig.Sip.Headers bounds) {
        int fields = 0;
        for (Iterator<SIPHeader> it = request.getHeaders(); it.hasNext(); ) {
            SIPHeader h = it.next();
            if (h instanceof SIPHeaderList<?> list) {
                fields += list.size();
                for (var one : list) {
                    String bad = oversized(one.getName(), one.encode().length(), bounds);
                    if (bad != null) {
                        return bad;
                    }
                }
            } else {
                fields++;
                String bad = oversized(h.getName(), h.encode().length(), bounds);
                if (bad != null) {
                    return bad;
                }
            }
            if (fields > bounds.maxHeaders()) {
                return "more than " + bounds.maxHeaders() + " header fields (gateway.sip.max-headers)";
            }
        }
        return null;
    }

    private static String oversized(String name, int length, GatewayConfig.Sip.Headers bounds) {
        return length <= bounds.maxHeaderBytes() ? null : "header " + name + " of " + length + " bytes, more than "
                + bounds.maxHeaderBytes() + " (gateway.sip.max-header-bytes)";
    }

    /** Whole seconds until the source has a token again, at least 1 (Retry-After carries seconds). */
    static int retryAfterSeconds(long waitNanos) {
        return (int) Math.max(1, Math.min(3600, (waitNanos + 999_999_999L) / 1_000_000_000L));
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
     * 403, 503 or 513 without a transaction. Over TCP on the connection the request came on (RFC 3261 §18.2.2); over
     * UDP through the provider, which sends to the Via's received/rport (the packet's source, RFC 3581).
     */
    private void answer(SIPRequest request, MessageChannel channel, int status, int retryAfterSeconds) {
        try {
            SIPResponse response = request.createResponse(status);
            if (response.getTo() != null && response.getTo().getTag() == null) {
                response.getTo().setTag(SipEndpoint.randomHex(4)); // RFC 3261 §8.2.6.2
            }
            response.setHeader((UserAgentHeader) userAgent.clone());
            if (retryAfterSeconds > 0) {
                RetryAfter retryAfter = new RetryAfter();
                retryAfter.setRetryAfter(retryAfterSeconds);
                response.setHeader(retryAfter);
            }
            if (channel.isReliable()) {
                channel.sendMessage(response);
            } else {
                SipProvider provider = providerByTransport.apply(channel.getTransport());
                if (provider != null) {
                    provider.sendResponse(response);
                }
            }
        } catch (Exception e) {
            LOG.debug("{} to {} not sent: {}", status, request.getMethod(), e.toString());
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

    /** {@code gateway_sip_oversized_requests_total{method}} (docs/metrics.md). */
    private void countOversized(String method) {
        Counter.builder("gateway.sip.oversized.requests")
                .description("SIP requests answered 513 for more header fields than gateway.sip.max-headers or a "
                        + "field longer than max-header-bytes, by method")
                .tag("method", SipEndpoint.knownMethod(method))
                .register(meters)
                .increment();
    }

    /** {@code gateway_sip_rate_limited_requests_total{method, action}} (docs/metrics.md). */
    private void countLimited(String method, String what) {
        Counter.builder("gateway.sip.rate.limited.requests")
                .description("SIP requests over gateway.sip.max-requests-per-second of their source (docs/sip.md), "
                        + "by method and action (reject: 503 sent; drop: no answer)")
                .tag("method", SipEndpoint.knownMethod(method))
                .tag("action", what)
                .register(meters)
                .increment();
    }

    private void logLimited(InetAddress source, String method, boolean answered) {
        long now = System.nanoTime();
        long next = nextLimitedInfoNanos.get();
        String from = source == null ? "?" : source.getHostAddress();
        if (now - next >= 0 && nextLimitedInfoNanos.compareAndSet(next, now + LOG_EVERY_NANOS)) {
            LOG.info("SIP {} from {} refused ({}): over gateway.sip.max-requests-per-second; further ones within a "
                    + "minute are logged at DEBUG only, all are counted in gateway_sip_rate_limited_requests_total",
                    method, from, answered ? "503" : "dropped");
        } else {
            LOG.debug("SIP {} from {} refused ({}): over gateway.sip.max-requests-per-second", method, from,
                    answered ? "503" : "dropped");
        }
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
