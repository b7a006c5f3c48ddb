package io.webrtcgateway.sip.sandbox;

import java.security.SecureRandom;
import java.text.ParseException;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.Executor;
import java.util.concurrent.ScheduledExecutorService;

import javax.sip.InvalidArgumentException;
import javax.sip.ServerTransaction;
import javax.sip.SipProvider;
import javax.sip.address.AddressFactory;
import javax.sip.address.SipURI;
import javax.sip.address.URI;
import javax.sip.header.ContactHeader;
import javax.sip.header.HeaderFactory;
import javax.sip.header.ToHeader;
import javax.sip.header.ViaHeader;
import javax.sip.message.MessageFactory;
import javax.sip.message.Request;
import javax.sip.message.Response;

import io.webrtcgateway.concurrent.SerialExecutor;

/**
 * What the sandbox's calls need from its SIP stack: the provider, the factories, the sandbox's own
 * address for Via and Contact, and the threads calls run on (a shared pool, one {@link SerialExecutor}
 * per call, and a timer). Owned by {@link SandboxSipServer}, which shuts the threads down.
 */
final class SandboxStack {
    /** Methods the sandbox answers, for Allow (RFC 3261 §20.5). MESSAGE, OPTIONS and UPDATE only inside a call. */
    static final String ALLOW = "INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, NOTIFY, UPDATE, REGISTER";

    private static final SecureRandom RANDOM = new SecureRandom();

    final SipProvider provider;
    final MessageFactory messages;
    final HeaderFactory headers;
    final AddressFactory addresses;
    /** The address put in Via, Contact and the echo's SDP: the listen address, 127.0.0.1 for a wildcard. */
    final String host;
    final int port;
    private final Executor pool;
    final ScheduledExecutorService timers;

    SandboxStack(SipProvider provider, MessageFactory messages, HeaderFactory headers, AddressFactory addresses,
                 String host, int port, Executor pool, ScheduledExecutorService timers) {
        this.provider = provider;
        this.messages = messages;
        this.headers = headers;
        this.addresses = addresses;
        this.host = host;
        this.port = port;
        this.pool = pool;
        this.timers = timers;
    }

    /** A mailbox for one call: its events run one at a time, so the call needs no locks. */
    Executor newCallExecutor() {
        return new SerialExecutor(pool);
    }

    static String randomHex(int bytes) {
        byte[] b = new byte[bytes];
        RANDOM.nextBytes(b);
        return HexFormat.of().formatHex(b);
    }

    String newCallId() {
        return "sandbox-" + randomHex(12) + "@" + host;
    }

    ViaHeader via(String transport) throws ParseException, InvalidArgumentException {
        return headers.createViaHeader(host, port, transport, null); // the stack adds the branch
    }

    /** {@code <sip:user@sandbox;transport=..>}: in-dialog requests of this leg come back to the sandbox. */
    ContactHeader contact(String user, String transport) throws ParseException {
        SipURI uri = addresses.createSipURI(user, host);
        uri.setPort(port);
        if (!"udp".equals(transport)) {
            uri.setTransportParam(transport);
        }
        return headers.createContactHeader(addresses.createAddress(uri));
    }

    /** The transport to reach a contact: its transport parameter, UDP by default (RFC 3263 §4.1 for a numeric host). */
    static String transportOf(URI target) {
        if (target instanceof SipURI sip && sip.getTransportParam() != null) {
            return sip.getTransportParam().toLowerCase();
        }
        return "udp";
    }

    /**
     * A response to {@code request} with {@code status}; {@code toTag} is set on the To header if it has
     * none (a final response, or a provisional one that establishes an early dialog, RFC 3261 §8.2.6.2).
     */
    Response response(Request request, int status, String reason, String toTag) throws ParseException {
        Response r = messages.createResponse(status, request);
        if (reason != null && !reason.isEmpty()) {
            r.setReasonPhrase(reason);
        }
        ToHeader to = (ToHeader) r.getHeader(ToHeader.NAME);
        if (to != null && to.getTag() == null && status > 100 && toTag != null) {
            to.setTag(toTag);
        }
        return r;
    }

    /** Sends a response on {@code st}; failures are the peer's problem (gone, transaction over), so only logged. */
    static boolean send(ServerTransaction st, Response response, org.slf4j.Logger log) {
        try {
            st.sendResponse(response);
            return true;
        } catch (Exception e) {
            log.debug("sandbox: {} to {} not sent: {}", response.getStatusCode(), st.getRequest().getMethod(), e.toString());
            return false;
        }
    }

    static List<String> allowList() {
        return List.of(ALLOW.split(", "));
    }
}
