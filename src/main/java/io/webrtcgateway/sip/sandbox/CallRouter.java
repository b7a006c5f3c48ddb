package io.webrtcgateway.sip.sandbox;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import javax.sip.Dialog;
import javax.sip.ServerTransaction;
import javax.sip.address.SipURI;
import javax.sip.address.URI;
import javax.sip.header.MaxForwardsHeader;
import javax.sip.header.RequireHeader;
import javax.sip.message.Request;
import javax.sip.message.Response;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Decides what happens to a new INVITE (RFC 3261 §8.2 / §16.5-style target lookup in the registrar):
 * the echo number is answered by an {@link EchoCall}, a registered DN gets a {@link BridgedCall} to its
 * contact, anything else 404. Keeps every live call by each of its Call-IDs, so the server's listener can
 * route in-dialog requests, ACK and CANCEL to it; calls remove themselves when they end.
 */
final class CallRouter {
    private static final Logger log = LoggerFactory.getLogger(CallRouter.class);

    /** The DN the sandbox answers itself with an RTP echo (docs/sandbox.md). It wins over a registration. */
    static final String ECHO_NUMBER = "9999";

    /**
     * Timers of a bridged call. {@code noResponse}: the callee's contact sent nothing at all (408 to the
     * caller); {@code noAnswer}: it responded but nobody answered (CANCEL, 480); {@code ackWait}: a 2xx
     * relayed to one side was not ACKed (RFC 3261 §13.3.1.4: the call is then ended with BYE);
     * {@code maxCall}: any call, echo calls included, is ended after this long, so a vanished UA cannot
     * keep state (or an echo socket) forever.
     */
    record Timeouts(Duration noResponse, Duration noAnswer, Duration ackWait, Duration maxCall) {
        static final Timeouts DEFAULT = new Timeouts(Duration.ofSeconds(8), Duration.ofSeconds(60),
                Duration.ofSeconds(32), Duration.ofHours(4));
    }

    private final SandboxStack sip;
    private final Registrar registrar;
    private final Timeouts timeouts;
    /** Call-ID (of either leg) -> its call. */
    private final Map<String, SandboxCall> callsByCallId = new ConcurrentHashMap<>();

    CallRouter(SandboxStack sip, Registrar registrar, Timeouts timeouts) {
        this.sip = sip;
        this.registrar = registrar;
        this.timeouts = timeouts;
    }

    SandboxCall callOf(String callId) {
        return callsByCallId.get(callId);
    }

    void track(String callId, SandboxCall call) {
        callsByCallId.put(callId, call);
    }

    void forget(String callId, SandboxCall call) {
        if (callId != null) {
            callsByCallId.remove(callId, call);
        }
    }

    Timeouts timeouts() {
        return timeouts;
    }

    /** Live calls (a bridged call counts once, though it has two Call-IDs). */
    int activeCalls() {
        return distinctCalls().size();
    }

    /** Call-IDs routed to a call; 0 once every call has cleaned up. */
    int trackedCallIds() {
        return callsByCallId.size();
    }

    List<EchoCall> echoCalls() {
        return distinctCalls().stream().filter(EchoCall.class::isInstance).map(EchoCall.class::cast).toList();
    }

    private Set<SandboxCall> distinctCalls() {
        Set<SandboxCall> calls = Collections.newSetFromMap(new IdentityHashMap<>());
        calls.addAll(callsByCallId.values());
        return calls;
    }

    /**
     * A new INVITE (no To tag) with its server transaction; runs on a stack thread. The call is tracked
     * before this returns, so a CANCEL right behind the INVITE finds it.
     */
    void onInvite(Request invite, ServerTransaction st) {
        try {
            // §8.2.6.1: a quick 100 stops the caller's retransmissions while the callee is reached.
            st.sendResponse(sip.response(invite, Response.TRYING, null, null));
            List<String> required = new ArrayList<>();
            for (var it = invite.getHeaders(RequireHeader.NAME); it.hasNext(); ) {
                required.add(((RequireHeader) it.next()).getOptionTag());
            }
            if (!required.isEmpty()) {
                // §8.2.2.3: the sandbox supports no extension (no 100rel, no session timers), so none can be required.
                Response bad = sip.response(invite, Response.BAD_EXTENSION, null, SandboxStack.randomHex(4));
                for (String tag : required) {
                    bad.addHeader(sip.headers.createUnsupportedHeader(tag));
                }
                SandboxStack.send(st, bad, log);
                return;
            }
            MaxForwardsHeader maxForwards = (MaxForwardsHeader) invite.getHeader(MaxForwardsHeader.NAME);
            String user = Registrar.userOf(invite.getRequestURI());
            if (user == null) {
                reject(st, Response.NOT_FOUND, "No such DN");
                return;
            }
            if (user.equals(ECHO_NUMBER)) {
                EchoCall call = new EchoCall(this, sip, st, newDialog(st), timeouts.maxCall());
                track(call.callId(), call);
                call.start();
                return;
            }
            URI contact = registrar.contactOf(user);
            if (contact == null) {
                reject(st, Response.NOT_FOUND, "Not registered");
                return;
            }
            if (maxForwards != null && maxForwards.getMaxForwards() <= 0) {
                reject(st, Response.TOO_MANY_HOPS, null); // §16.3 step 3, as a proxy would
                return;
            }
            if (isSandbox(contact)) {
                reject(st, Response.LOOP_DETECTED, "The DN is registered at the sandbox itself");
                return;
            }
            BridgedCall call = new BridgedCall(this, sip, st, newDialog(st), user, contact);
            track(call.callerCallId(), call);
            call.start();
        } catch (Exception e) {
            log.warn("sandbox: INVITE not routed: {}", e.toString());
            reject(st, Response.SERVER_INTERNAL_ERROR, null);
        }
    }

    private Dialog newDialog(ServerTransaction st) throws javax.sip.SipException {
        return sip.provider.getNewDialog(st);
    }

    private boolean isSandbox(URI contact) {
        return contact instanceof SipURI s && s.getHost() != null && s.getHost().equals(sip.host)
                && (s.getPort() == sip.port || (s.getPort() <= 0 && sip.port == 5060));
    }

    private void reject(ServerTransaction st, int status, String reason) {
        try {
            SandboxStack.send(st, sip.response(st.getRequest(), status, reason, SandboxStack.randomHex(4)), log);
        } catch (Exception e) {
            log.debug("sandbox: {} not sent: {}", status, e.toString());
        }
    }

    /** Server shutdown: every call frees its resources; nothing is signalled (the stack is stopping). */
    void close() {
        for (SandboxCall call : distinctCalls()) {
            call.abandon();
        }
        callsByCallId.clear();
    }
}
