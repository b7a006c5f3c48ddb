package io.webrtcgateway.sip.sandbox;

import java.time.Duration;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Executor;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

import javax.sip.ClientTransaction;
import javax.sip.Dialog;
import javax.sip.ResponseEvent;
import javax.sip.ServerTransaction;
import javax.sip.address.Address;
import javax.sip.address.URI;
import javax.sip.header.CSeqHeader;
import javax.sip.header.CallIdHeader;
import javax.sip.header.FromHeader;
import javax.sip.header.MaxForwardsHeader;
import javax.sip.header.ToHeader;
import javax.sip.header.ViaHeader;
import javax.sip.message.Request;
import javax.sip.message.Response;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.webrtcgateway.sip.ClientTransactionHandler;

/**
 * A call between two DNs through the sandbox, as a back-to-back user agent (RFC 3261 §6 "B2BUA"): the
 * caller's INVITE dialog and a new one toward the callee's registered contact, with its own Call-ID,
 * From tag and CSeq. A proxy would keep one Call-ID, but caller and callee are often the same gateway
 * process on the same SIP stack, which could not tell its two ends of one dialog apart.
 *
 * <p>What is relayed: provisional and final responses to the INVITE (body and {@code X-} headers
 * included), ACK of 2xx end to end (so an offer in a 2xx is answered in the ACK, RFC 3264 §2),
 * re-INVITE both ways (491 when one is already in progress, RFC 3261 §14.2), BYE both ways (answered 200
 * at once, then sent on), CANCEL from the caller (200 and 487 at once, then CANCEL to the callee, §9.2
 * and §9.1), and in-dialog INFO, NOTIFY, UPDATE, MESSAGE, OPTIONS with their answers.
 *
 * <p>All state is confined to the call's serial executor; stack threads only post events.
 */
final class BridgedCall implements SandboxCall {
    private static final Logger log = LoggerFactory.getLogger(BridgedCall.class);

    /**
     * INVITING: INVITE sent to the callee, nothing back yet. EARLY: the callee responded (100 or more),
     * so a CANCEL may be sent (§9.1). ANSWERED: its 2xx relayed, the caller's ACK awaited. CONFIRMED:
     * both dialogs up. ENDED: forgotten by the router; late responses are still cleaned up.
     */
    enum State { INVITING, EARLY, ANSWERED, CONFIRMED, ENDED }

    private static final Map<State, Set<State>> ALLOWED = Map.of(
            State.INVITING, EnumSet.of(State.EARLY, State.ANSWERED, State.ENDED),
            State.EARLY, EnumSet.of(State.ANSWERED, State.ENDED),
            State.ANSWERED, EnumSet.of(State.CONFIRMED, State.ENDED),
            State.CONFIRMED, EnumSet.of(State.ENDED),
            State.ENDED, EnumSet.noneOf(State.class));

    /** In-dialog requests relayed as they are; anything else in a dialog gets 501. */
    private static final Set<String> RELAYED_METHODS =
            Set.of(Request.INFO, Request.NOTIFY, Request.UPDATE, Request.MESSAGE, Request.OPTIONS);

    /** One side of the bridge: its dialog with the sandbox. */
    private final class Leg {
        final String role;
        /** The user put in our Contact toward this leg: the DN at the other end. */
        final String contactUser;
        String callId;
        Dialog dialog;
        String transport;
        /**
         * Set when this leg was sent a 2xx to an INVITE and its ACK is awaited: the ACK is then relayed
         * to the other leg for the 2xx it got from there (CSeq {@code ackCSeq}).
         */
        boolean owesAck;
        long ackCSeq;

        Leg(String role, String contactUser) {
            this.role = role;
            this.contactUser = contactUser;
        }

        Leg other() {
            return this == caller ? callee : caller;
        }

        @Override
        public String toString() {
            return role;
        }
    }

    private final CallRouter router;
    private final SandboxStack sip;
    private final Executor executor;
    private final CallRouter.Timeouts timeouts;
    private final ServerTransaction callerInvite;
    private final URI calleeContact;
    private final String calleeDn;
    private final String callerDn;
    private final Leg caller;
    private final Leg callee;
    /** Our To tag toward the caller (the callee's own tag stays on the callee's leg). */
    private final String callerSideTag = SandboxStack.randomHex(4);

    // Confined to the executor from here on.
    private State state = State.INVITING;
    private ClientTransaction calleeInvite;
    private boolean calleeResponded;
    private boolean cancelSent;
    private boolean byeSentToCallee;
    /** The re-INVITE being relayed (from either leg), until its final answer; a second one gets 491. */
    private ServerTransaction pendingReinvite;
    private ScheduledFuture<?> timer;
    private ScheduledFuture<?> maxCallTimer;

    /** Called on a stack thread with the caller's INVITE transaction and dialog (100 Trying already sent). */
    BridgedCall(CallRouter router, SandboxStack sip, ServerTransaction callerInvite, Dialog callerDialog,
                String calleeDn, URI calleeContact) {
        this.router = router;
        this.sip = sip;
        this.executor = sip.newCallExecutor();
        this.timeouts = router.timeouts();
        this.callerInvite = callerInvite;
        this.calleeDn = calleeDn;
        this.calleeContact = calleeContact;
        Request invite = callerInvite.getRequest();
        String fromUser = Registrar.userOf(((FromHeader) invite.getHeader(FromHeader.NAME)).getAddress().getURI());
        this.callerDn = fromUser == null ? "anonymous" : fromUser;
        this.caller = new Leg("caller", calleeDn);
        this.callee = new Leg("callee", callerDn);
        caller.callId = ((CallIdHeader) invite.getHeader(CallIdHeader.NAME)).getCallId();
        caller.dialog = callerDialog;
        caller.transport = ((ViaHeader) invite.getHeader(ViaHeader.NAME)).getTransport().toLowerCase();
    }

    String callerCallId() {
        return caller.callId;
    }

    void start() {
        executor.execute(this::inviteCallee);
    }

    @Override
    public String toString() {
        return "sandbox call " + callerDn + " -> " + calleeDn;
    }

    // ---- toward the callee ------------------------------------------------------------------------

    private void inviteCallee() {
        Request in = callerInvite.getRequest();
        try {
            String transport = SandboxStack.transportOf(calleeContact);
            FromHeader callerFrom = (FromHeader) in.getHeader(FromHeader.NAME);
            Address fromAddress = (Address) callerFrom.getAddress().clone();
            ToHeader callerTo = (ToHeader) in.getHeader(ToHeader.NAME);
            Address toAddress = (Address) callerTo.getAddress().clone();
            MaxForwardsHeader maxForwards = (MaxForwardsHeader) in.getHeader(MaxForwardsHeader.NAME);
            int hops = maxForwards == null ? 70 : maxForwards.getMaxForwards() - 1;
            callee.callId = sip.newCallId();
            Request out = sip.messages.createRequest((URI) calleeContact.clone(), Request.INVITE,
                    sip.headers.createCallIdHeader(callee.callId), sip.headers.createCSeqHeader(1L, Request.INVITE),
                    sip.headers.createFromHeader(fromAddress, SandboxStack.randomHex(4)),
                    sip.headers.createToHeader(toAddress, null),
                    List.of(sip.via(transport)), sip.headers.createMaxForwardsHeader(hops));
            out.addHeader(sip.contact(callerDn, transport));
            out.addHeader(sip.headers.createAllowHeader(SandboxStack.ALLOW));
            RelayedContent.copy(in, out);
            ClientTransaction ct = sip.provider.getNewClientTransaction(out);
            callee.dialog = sip.provider.getNewDialog(ct);
            callee.transport = transport;
            ct.setApplicationData(handler(this::onCalleeInviteResponse, why -> onCalleeInviteFailure()));
            calleeInvite = ct;
            router.track(callee.callId, this);
            arm(timeouts.noResponse(), this::onNoResponse);
            maxCallTimer = schedule(timeouts.maxCall(), () -> hangUp("it lasted longer than " + timeouts.maxCall()));
            log.info("{}: INVITE to {}", this, calleeContact);
            ct.sendRequest();
        } catch (Exception e) {
            // Typically a TCP contact that refuses the connection: the DN is registered but not reachable.
            log.info("{}: INVITE to {} not sent: {}", this, calleeContact, e.toString());
            answerCaller(Response.TEMPORARILY_UNAVAILABLE, "Callee unreachable", null);
            end("the callee could not be reached");
        }
    }

    private void onCalleeInviteResponse(Response response) {
        int status = response.getStatusCode();
        if (state == State.ENDED) {
            cleanUpLateAnswer(response);
            return;
        }
        if (status < 200) {
            if (!calleeResponded) {
                calleeResponded = true;
                arm(timeouts.noAnswer(), this::onNoAnswer);
            }
            if (state == State.INVITING) {
                transitionTo(State.EARLY);
            }
            if (status > Response.TRYING) {
                answerCaller(status, response.getReasonPhrase(), response); // 180, 183 with early media SDP
            }
        } else if (status < 300) {
            if (state == State.ANSWERED || state == State.CONFIRMED) {
                return; // a retransmitted 2xx; JAIN-SIP re-ACKs it once our ACK is out
            }
            calleeResponded = true;
            caller.owesAck = true;
            caller.ackCSeq = cseqOf(response);
            transitionTo(State.ANSWERED);
            arm(timeouts.ackWait(), () -> onNoAck(caller));
            answerCaller(status, response.getReasonPhrase(), response);
            log.info("{}: answered", this);
        } else {
            // JAIN-SIP's transaction ACKs the non-2xx itself (§17.1.1.3).
            answerCaller(status, response.getReasonPhrase(), response);
            end("the callee answered " + status + " " + response.getReasonPhrase());
        }
    }

    private void onCalleeInviteFailure() {
        if (state == State.INVITING || state == State.EARLY) {
            answerCaller(Response.REQUEST_TIMEOUT, "No final answer from " + calleeDn, null);
            end("no final answer from the callee");
        }
    }

    /** §9.1 forbids a CANCEL before any response; without one the caller just gets 408 and we wait. */
    private void onNoResponse() {
        if (state == State.INVITING) {
            answerCaller(Response.REQUEST_TIMEOUT, "No response from " + calleeDn, null);
            end("the callee's contact did not respond within " + seconds(timeouts.noResponse()));
        }
    }

    private void onNoAnswer() {
        if (state == State.INVITING || state == State.EARLY) {
            cancelCallee();
            answerCaller(Response.TEMPORARILY_UNAVAILABLE, "No Answer", null);
            end("nobody answered within " + seconds(timeouts.noAnswer()));
        }
    }

    /**
     * The call ended before the callee's final answer (CANCEL, timeout): a provisional lets us send the
     * CANCEL we could not send yet (§9.1); a 2xx that crossed the CANCEL is ACKed and ended with BYE
     * (§15, as a UAC whose CANCEL came too late).
     */
    private void cleanUpLateAnswer(Response response) {
        int status = response.getStatusCode();
        if (status < 200) {
            calleeResponded = true;
            cancelCallee();
        } else if (status < 300 && !byeSentToCallee) {
            byeSentToCallee = true;
            sendAck(callee, cseqOf(response), null);
            sendInDialog(callee, Request.BYE, null, null);
        }
    }

    private void cancelCallee() {
        if (cancelSent || !calleeResponded || calleeInvite == null) {
            return;
        }
        cancelSent = true;
        try {
            ClientTransaction ct = sip.provider.getNewClientTransaction(calleeInvite.createCancel());
            ct.setApplicationData(handler(r -> { }, why -> { }));
            ct.sendRequest();
        } catch (Exception e) {
            log.debug("{}: CANCEL not sent: {}", this, e.toString());
        }
    }

    // ---- toward the caller ------------------------------------------------------------------------

    /** A response to the caller's INVITE, with the body and X- headers of {@code relayed} if given. */
    private void answerCaller(int status, String reason, Response relayed) {
        try {
            Response out = sip.response(callerInvite.getRequest(), status, reason, callerSideTag);
            if (status > Response.TRYING && status < 300) {
                out.addHeader(sip.contact(calleeDn, caller.transport));
                out.addHeader(sip.headers.createAllowHeader(SandboxStack.ALLOW));
            }
            if (relayed != null) {
                RelayedContent.copy(relayed, out);
            }
            SandboxStack.send(callerInvite, out, log);
        } catch (Exception e) {
            log.debug("{}: {} to the caller not built: {}", this, status, e.toString());
        }
    }

    // ---- requests from either leg -----------------------------------------------------------------

    @Override
    public void onRequest(Request request, ServerTransaction st) {
        executor.execute(() -> handle(request, st));
    }

    private void handle(Request request, ServerTransaction st) {
        String callId = ((CallIdHeader) request.getHeader(CallIdHeader.NAME)).getCallId();
        Leg from = callId.equals(caller.callId) ? caller : callee;
        String method = request.getMethod();
        if (state == State.ENDED) {
            if (st != null) {
                reply(st, Response.CALL_OR_TRANSACTION_DOES_NOT_EXIST, null);
            }
            return;
        }
        switch (method) {
            case Request.ACK -> onAck(from, request);
            case Request.CANCEL -> onCancel(from, st);
            case Request.BYE -> onBye(from, st);
            case Request.INVITE -> onReinvite(from, request, st);
            default -> {
                if (RELAYED_METHODS.contains(method)) {
                    relayInDialog(from, request, st);
                } else {
                    reply(st, Response.NOT_IMPLEMENTED, null);
                }
            }
        }
    }

    /** An ACK for the 2xx we relayed to {@code from}: now ACK the 2xx the other leg sent us. */
    private void onAck(Leg from, Request ack) {
        if (!from.owesAck) {
            return; // a retransmission, or an ACK we have nothing to relay for
        }
        from.owesAck = false;
        sendAck(from.other(), from.ackCSeq, ack);
        cancelTimer();
        if (state == State.ANSWERED) {
            transitionTo(State.CONFIRMED);
        }
    }

    /** §9.2: 200 to the CANCEL; if the INVITE is still unanswered, 487 to it and CANCEL onward. */
    private void onCancel(Leg from, ServerTransaction st) {
        reply(st, Response.OK, null);
        if (from == caller && (state == State.INVITING || state == State.EARLY)) {
            answerCaller(Response.REQUEST_TERMINATED, null, null);
            cancelCallee();
            end("cancelled by the caller");
        }
    }

    private void onBye(Leg from, ServerTransaction st) {
        reply(st, Response.OK, null);
        if (state == State.INVITING || state == State.EARLY) {
            // §15: only the caller may end an early dialog with BYE; treat it like a CANCEL.
            if (from == caller) {
                answerCaller(Response.REQUEST_TERMINATED, null, null);
                cancelCallee();
            } else {
                answerCaller(Response.TEMPORARILY_UNAVAILABLE, null, null);
            }
            end("BYE from the " + from + " before the answer");
            return;
        }
        Leg to = from.other();
        if (from.owesAck) {
            // It hangs up before ACKing our 2xx: the other leg's 2xx still needs its ACK before a BYE.
            from.owesAck = false;
            sendAck(to, from.ackCSeq, null);
        }
        if (to == callee) {
            byeSentToCallee = true;
        }
        sendInDialog(to, Request.BYE, null, null);
        end("BYE from the " + from);
    }

    private void onReinvite(Leg from, Request request, ServerTransaction st) {
        if (state != State.CONFIRMED || pendingReinvite != null || caller.owesAck || callee.owesAck) {
            // §14.2: an INVITE while one is in progress (or before the call is up) gets 491; the UA retries later.
            reply(st, Response.REQUEST_PENDING, null);
            return;
        }
        Leg to = from.other();
        pendingReinvite = st;
        boolean sent = sendInDialog(to, Request.INVITE, request,
                handler(r -> onReinviteResponse(from, st, r), why -> onReinviteFailure(st)));
        if (!sent) {
            pendingReinvite = null;
            reply(st, Response.SERVER_INTERNAL_ERROR, null);
        }
    }

    private void onReinviteResponse(Leg from, ServerTransaction st, Response response) {
        int status = response.getStatusCode();
        if (status < 200 || pendingReinvite != st) {
            return; // provisional (not relayed: the re-INVITE's sender only needs the outcome), or a 2xx retransmission
        }
        pendingReinvite = null;
        if (state == State.ENDED) {
            if (status < 300) {
                sendAck(from.other(), cseqOf(response), null);
            }
            return;
        }
        if (status < 300) {
            from.owesAck = true;
            from.ackCSeq = cseqOf(response);
            arm(timeouts.ackWait(), () -> onNoAck(from));
        }
        relayResponse(st, response, from);
        if (status == Response.CALL_OR_TRANSACTION_DOES_NOT_EXIST || status == Response.REQUEST_TIMEOUT) {
            hangUp("the " + from.other() + "'s dialog is gone (" + status + ")");
        }
    }

    private void onReinviteFailure(ServerTransaction st) {
        if (pendingReinvite != st) {
            return;
        }
        pendingReinvite = null;
        reply(st, Response.REQUEST_TIMEOUT, null);
        hangUp("a re-INVITE got no answer");
    }

    /** INFO, NOTIFY, UPDATE, MESSAGE, OPTIONS: sent on to the other leg, its final answer sent back. */
    private void relayInDialog(Leg from, Request request, ServerTransaction st) {
        boolean sent = sendInDialog(from.other(), request.getMethod(), request, handler(r -> {
            int status = r.getStatusCode();
            if (status < 200) {
                return;
            }
            relayResponse(st, r, from);
            if (status == Response.CALL_OR_TRANSACTION_DOES_NOT_EXIST || status == Response.REQUEST_TIMEOUT) {
                hangUp("the " + from.other() + "'s dialog is gone (" + status + ")");
            }
        }, why -> reply(st, Response.REQUEST_TIMEOUT, null)));
        if (!sent) {
            reply(st, Response.SERVER_INTERNAL_ERROR, null);
        }
    }

    /** The other leg's final answer to a relayed in-dialog request, sent back to {@code to}. */
    private void relayResponse(ServerTransaction st, Response answer, Leg to) {
        try {
            Response out = sip.response(st.getRequest(), answer.getStatusCode(), answer.getReasonPhrase(), null);
            if (answer.getStatusCode() < 300 && Request.INVITE.equals(st.getRequest().getMethod())) {
                out.addHeader(sip.contact(to.contactUser, to.transport));
            }
            RelayedContent.copy(answer, out);
            SandboxStack.send(st, out, log);
        } catch (Exception e) {
            log.debug("{}: answer to {} not relayed: {}", this, st.getRequest().getMethod(), e.toString());
        }
    }

    /** §13.3.1.4: a 2xx never ACKed ends the call with BYE. */
    private void onNoAck(Leg leg) {
        if (leg.owesAck && state != State.ENDED) {
            hangUp("the " + leg + " did not ACK within " + seconds(timeouts.ackWait()));
        }
    }

    // ---- ending -----------------------------------------------------------------------------------

    /** Ends the call from the sandbox's side: BYE to both legs once answered, else 480 and CANCEL. */
    private void hangUp(String why) {
        switch (state) {
            case INVITING, EARLY -> {
                cancelCallee();
                answerCaller(Response.TEMPORARILY_UNAVAILABLE, null, null);
            }
            case ANSWERED, CONFIRMED -> {
                for (Leg leg : List.of(caller, callee)) {
                    if (leg.owesAck) {
                        leg.owesAck = false;
                        sendAck(leg.other(), leg.ackCSeq, null);
                    }
                }
                byeSentToCallee = true;
                sendInDialog(caller, Request.BYE, null, null);
                sendInDialog(callee, Request.BYE, null, null);
            }
            case ENDED -> {
                return;
            }
        }
        end(why);
    }

    /** Forgets the call (both Call-IDs) and its timers. Responses still due arrive through their transactions. */
    private void end(String why) {
        if (state == State.ENDED) {
            return;
        }
        transitionTo(State.ENDED);
        cancelTimer();
        if (maxCallTimer != null) {
            maxCallTimer.cancel(false);
        }
        router.forget(caller.callId, this);
        router.forget(callee.callId, this);
        log.info("{}: ended, {}", this, why);
    }

    @Override
    public void abandon() {
        executor.execute(() -> {
            if (state != State.ENDED) {
                end("the sandbox is closing");
            }
        });
    }

    private void transitionTo(State next) {
        if (!ALLOWED.get(state).contains(next)) {
            throw new IllegalStateException(this + ": " + state + " -> " + next + " is not allowed");
        }
        log.debug("{}: {} -> {}", this, state, next);
        state = next;
    }

    // ---- SIP mechanics ----------------------------------------------------------------------------

    /**
     * Sends {@code method} in {@code leg}'s dialog, with body and headers of {@code relayed} (if any);
     * the outcome goes to {@code handler} (null: ignored). False if it could not be sent.
     */
    private boolean sendInDialog(Leg leg, String method, Request relayed, ClientTransactionHandler handler) {
        try {
            Request out = leg.dialog.createRequest(method);
            if (method.equals(Request.INVITE)) {
                out.addHeader(sip.contact(leg.contactUser, leg.transport));
            }
            if (relayed != null) {
                RelayedContent.copy(relayed, out);
            }
            ClientTransaction ct = sip.provider.getNewClientTransaction(out);
            ct.setApplicationData(handler != null ? handler : handler(r -> { }, why -> { }));
            leg.dialog.sendRequest(ct);
            return true;
        } catch (Exception e) {
            log.info("{}: {} to the {} not sent: {}", this, method, leg, e.toString());
            return false;
        }
    }

    /** The ACK for {@code leg}'s 2xx with CSeq {@code cseq}; carries the body of {@code relayed} (an answer to an offer in the 2xx). */
    private void sendAck(Leg leg, long cseq, Request relayed) {
        try {
            Request ack = leg.dialog.createAck(cseq);
            if (relayed != null) {
                RelayedContent.copyBody(relayed, ack);
            }
            leg.dialog.sendAck(ack);
        } catch (Exception e) {
            log.info("{}: ACK to the {} not sent: {}", this, leg, e.toString());
        }
    }

    private void reply(ServerTransaction st, int status, String reason) {
        try {
            // In-dialog requests carry their To tag already; a CANCEL gets the INVITE's (§9.2).
            SandboxStack.send(st, sip.response(st.getRequest(), status, reason, callerSideTag), log);
        } catch (Exception e) {
            log.debug("{}: {} not sent: {}", this, status, e.toString());
        }
    }

    private static String seconds(Duration d) {
        return d.toMillis() % 1000 == 0 ? d.toSeconds() + " s" : d.toMillis() / 1000.0 + " s";
    }

    private static long cseqOf(Response response) {
        return ((CSeqHeader) response.getHeader(CSeqHeader.NAME)).getSeqNumber();
    }

    /** A transaction handler that posts every response (provisional ones too) and the failure to this call's executor. */
    private ClientTransactionHandler handler(Consumer<Response> onResponse, Consumer<String> onFailure) {
        return new ClientTransactionHandler() {
            @Override
            public void onResponse(ResponseEvent event) {
                Response r = event.getResponse();
                executor.execute(() -> onResponse.accept(r));
            }

            @Override
            public void onFailure(String why) {
                executor.execute(() -> onFailure.accept(why));
            }
        };
    }

    /** One setup timer at a time (no response, no answer, ACK wait); re-arming replaces it. */
    private void arm(Duration delay, Runnable task) {
        cancelTimer();
        timer = schedule(delay, task);
    }

    private ScheduledFuture<?> schedule(Duration delay, Runnable task) {
        return sip.timers.schedule(() -> executor.execute(() -> {
            if (state != State.ENDED) {
                task.run();
            }
        }), delay.toMillis(), TimeUnit.MILLISECONDS);
    }

    private void cancelTimer() {
        if (timer != null) {
            timer.cancel(false);
            timer = null;
        }
    }
}
