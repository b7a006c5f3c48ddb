package io.webrtcgateway.sip;

import io.webrtcgateway.config.SipServerAddress;
import io.webrtcgateway.sip.digest.DigestClient;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executor;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import javax.sip.ClientTransaction;
import javax.sip.Dialog;
import javax.sip.RequestEvent;
import javax.sip.ResponseEvent;
import javax.sip.ServerTransaction;
import javax.sip.SipProvider;
import javax.sip.address.Address;
import javax.sip.address.SipURI;
import javax.sip.address.URI;
import javax.sip.header.CSeqHeader;
import javax.sip.header.CallIdHeader;
import javax.sip.header.ContentTypeHeader;
import javax.sip.header.EventHeader;
import javax.sip.header.FromHeader;
import javax.sip.header.Header;
import javax.sip.header.RouteHeader;
import javax.sip.header.ToHeader;
import javax.sip.message.Request;
import javax.sip.message.Response;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The SIP half of a call: one INVITE dialog with SIP Server, as UAC (outgoing) or UAS (incoming).
 * Mechanics only — what to answer is the {@link Listener}'s (the call's) decision. All state is confined
 * to the call's serial executor: JAIN-SIP callbacks are posted there, and the call calls in from there.
 */
public final class SipLeg implements SipRequestHandler {
    private static final Logger LOG = LoggerFactory.getLogger(SipLeg.class);

    /** What the call hears from SIP Server. Always called on the call's executor. */
    public interface Listener {
        void onProvisional(int status, String reason, String sdp);

        /** 2xx to our INVITE (already ACKed). */
        void onAnswered(String sdp);

        /** A final non-2xx to our INVITE, or no answer (408). */
        void onRejected(int status, String reason);

        void onRemoteBye();

        /** SIP Server cancelled its INVITE before we answered (487 already sent). */
        void onRemoteCancel();

        /** A re-INVITE (hold/resume/3PCC); answer it with {@code reply}. {@code sdp} null: delayed offer. */
        void onRemoteReinvite(String sdp, ReinviteReply reply);

        /** The answer to our re-INVITE: 2xx sdp, or status >= 300 with sdp null. */
        void onReinviteResult(int status, String reason, String sdp);

        /** ACK of our 2xx; {@code sdp} is set when the INVITE had no offer (we offered in the 200). */
        void onAck(String sdp);

        /** An INFO in the dialog; false: not taken (too large), answered 413. */
        boolean onInfo(String contentType, String body);

        void onNotify(String event, String contentType, String body);

        /**
         * The leg ended the dialog on its own (BYE already sent where one is due): {@code reason}
         * {@code session-expired} (nobody refreshed it in time, RFC 4028 §10) or {@code dialog-lost} (an
         * in-dialog request got 481/408 or no answer, RFC 3261 §12.2.1.2); {@code sipStatus} may be null.
         */
        void onDialogGone(String reason, Integer sipStatus, String sipReason);
    }

    /** How the call answers a re-INVITE. */
    public interface ReinviteReply {
        void accept(String sdp);

        void reject(int status);

        /** {@link #reject(int)} with a {@code Warning: 399} saying why (RFC 3261 §20.43), e.g. a 488's SDP problem. */
        default void reject(int status, String warning) {
            reject(status);
        }
    }

    private final SipEndpoint sip;
    private final SipAddressing addressing;
    private final Executor executor;
    private final ScheduledExecutorService timers;
    private final Listener listener;
    private final String localTag = SipEndpoint.randomHex(4);
    private final boolean outgoing;
    private String callId;
    private String transport = "udp";
    /**
     * The dialog is a {@code sips:} one (RFC 3261 §12.1.1: its INVITE's Request-URI, top Record-Route, or Contact
     * when there was no Record-Route, was sips): our Contacts in it are sips too.
     */
    private boolean sips;
    private String localUser;
    /**
     * Set on the leg's executor (or in {@link #incoming}, before the leg is registered as owner); volatile
     * because {@link #peerHosts} reads it on a SIP thread. The dialog's own state is JAIN-SIP's, which
     * synchronizes it; no request the source check refused ever reaches it (SipSourceFilter).
     */
    private volatile Dialog dialog;
    private ClientTransaction inviteTransaction;
    private ServerTransaction incomingInvite;
    private boolean provisionalSeen;
    private boolean cancelWanted;
    private boolean cancelSent;
    /** Outgoing: the INVITE got its final response, or its transaction failed. */
    private boolean inviteFinal;
    private boolean answered;
    private boolean ended;
    private ClientTransaction reinviteTransaction;
    private ServerTransaction pendingReinvite;
    private String remoteUser;
    private String remoteDisplayName;
    private final SessionTimer timer;
    /** The last SDP we sent (offer or answer): a re-INVITE refresh repeats it unchanged (RFC 3264 §8). */
    private String localSdp;
    private boolean retriedTooBrief;
    /** Our client transactions; their application data is cleared when the leg ends. */
    private final List<ClientTransaction> transactions = new ArrayList<>();
    /** Answers SIP Server's 401/407 to our requests with the DN's credentials (docs/sip.md). */
    private final DialogDigest digest;

    private SipLeg(SipEndpoint sip, SipAddressing addressing, Executor executor, ScheduledExecutorService timers,
                   Listener listener, boolean outgoing, SessionTimer.Settings sessionTimers, Registration credentialsOf) {
        this.timer = new SessionTimer(sessionTimers, new TimedDialog());
        this.digest = new DialogDigest(sip, executor, credentialsOf);
        this.sip = sip;
        this.addressing = addressing;
        this.executor = executor;
        this.timers = timers;
        this.listener = listener;
        this.outgoing = outgoing;
    }

    /** A leg for a call we place, without credentials for challenges; send it with {@link #invite}. */
    public static SipLeg outgoing(CallSignaling signaling, Executor executor, Listener listener) {
        return outgoing(signaling, executor, listener, null);
    }

    /**
     * A leg for a call we place; send it with {@link #invite}. {@code credentialsOf} is the calling DN's
     * registration: SIP Server's 401/407 in this call are answered with its credentials. Null for an anonymous
     * call (challenges then end the call, or fail the request).
     */
    public static SipLeg outgoing(CallSignaling signaling, Executor executor, Listener listener,
                                  Registration credentialsOf) {
        return new SipLeg(signaling.sip(), signaling.addressing(), executor, signaling.timers(), listener, true,
                signaling.sessionTimers(), credentialsOf);
    }

    /**
     * A leg for an INVITE SIP Server sent us: takes its server transaction, makes the dialog, answers
     * 100 Trying. The caller then calls {@link #ringing()}, {@link #answer} or {@link #reject}.
     */
    public static SipLeg incoming(CallSignaling signaling, RequestEvent event, Executor executor, Listener listener)
            throws Exception {
        return incoming(signaling, event, executor, listener, null);
    }

    /**
     * {@link #incoming(CallSignaling, RequestEvent, Executor, Listener)} for the DN registered by
     * {@code credentialsOf}: challenges to our requests in the dialog (BYE, re-INVITE...) are answered with its
     * credentials.
     */
    public static SipLeg incoming(CallSignaling signaling, RequestEvent event, Executor executor, Listener listener,
                                  Registration credentialsOf) throws Exception {
        SipLeg leg = new SipLeg(signaling.sip(), signaling.addressing(), executor, signaling.timers(), listener, false,
                signaling.sessionTimers(), credentialsOf);
        leg.accept(event);
        return leg;
    }

    private void accept(RequestEvent event) throws Exception {
        Request invite = event.getRequest();
        SipProvider provider = (SipProvider) event.getSource();
        ServerTransaction st = event.getServerTransaction() != null
                ? event.getServerTransaction() : provider.getNewServerTransaction(invite);
        incomingInvite = st;
        callId = ((CallIdHeader) invite.getHeader(CallIdHeader.NAME)).getCallId();
        // The transport it came on (its provider's), not the one its Via names: our requests in the dialog go
        // out on the same kind of listening point.
        transport = provider.getListeningPoints()[0].getTransport().toLowerCase(java.util.Locale.ROOT);
        sips = asksForSips(invite);
        dialog = provider.getNewDialog(st);
        dialog.setApplicationData(this);
        sip.registerOwner(callId, this);
        FromHeader from = (FromHeader) invite.getHeader(FromHeader.NAME);
        remoteUser = userOf(from.getAddress().getURI());
        remoteDisplayName = from.getAddress().getDisplayName();
        URI target = invite.getRequestURI();
        localUser = userOf(target);
        timer.peerAllows(invite);
        st.sendResponse(response(invite, Response.TRYING, null));
    }

    /**
     * RFC 3261 §12.1.1: a sips Request-URI, or a sips top Record-Route, or (without Record-Route) a sips Contact
     * makes the dialog's Contact sips.
     */
    static boolean asksForSips(Request invite) {
        if (isSips(invite.getRequestURI())) {
            return true;
        }
        Header rr = invite.getHeader(javax.sip.header.RecordRouteHeader.NAME);
        if (rr instanceof javax.sip.header.RecordRouteHeader route) {
            return isSips(route.getAddress().getURI());
        }
        Header contact = invite.getHeader(javax.sip.header.ContactHeader.NAME);
        return contact instanceof javax.sip.header.ContactHeader c && c.getAddress() != null
                && isSips(c.getAddress().getURI());
    }

    private static boolean isSips(URI uri) {
        return uri instanceof SipURI sipUri && sipUri.isSecure();
    }

    public String callId() {
        return callId;
    }

    /**
     * The transport of this dialog's messages, lower case ("udp", "tcp", "tls"): the configured SIP Server's
     * for calls we place, the incoming INVITE's (its top Via) for calls SIP Server places. SRTP keys go into
     * the SDP only over "tls" (media, docs/sip.md "SRTP toward SIP Server").
     */
    public String transport() {
        return transport;
    }

    /** Our tag in the dialog (From of our INVITE, To of our answers). */
    public String localTag() {
        return localTag;
    }

    /** The far end's tag, or null before it answered with one. On the leg's executor. */
    public String remoteTag() {
        return dialog == null ? null : dialog.getRemoteTag();
    }

    /** The caller's user part (incoming) or the callee's (outgoing). */
    public String remoteUser() {
        return remoteUser;
    }

    public String remoteDisplayName() {
        return remoteDisplayName;
    }

    public String localUser() {
        return localUser;
    }

    /** The body of the INVITE SIP Server sent (incoming legs), or null. */
    public String incomingOffer() {
        return incomingInvite == null ? null : body(incomingInvite.getRequest());
    }

    /** The header names of the incoming INVITE as sent (incoming legs); empty otherwise. */
    public List<String> incomingHeaderNames() {
        if (incomingInvite == null) {
            return List.of();
        }
        List<String> names = new ArrayList<>();
        incomingInvite.getRequest().getHeaderNames().forEachRemaining(n -> names.add((String) n));
        return names;
    }

    /** A header of the incoming INVITE (attached data), or null. */
    public String incomingHeader(String name) {
        if (incomingInvite == null) {
            return null;
        }
        var h = incomingInvite.getRequest().getHeader(name);
        return h instanceof javax.sip.header.ExtensionHeader e ? e.getValue()
                : h == null ? null : h.toString().substring(h.toString().indexOf(':') + 1).trim();
    }

    // ---- UAC ----------------------------------------------------------------------------------------

    /** Sends the INVITE; {@code headers} are extra headers (attached data), already validated. */
    public void invite(SipServerAddress server, String fromUser, String toUser, String sdp,
                       Map<String, String> headers) throws Exception {
        callId = sip.newCallId();
        transport = server.transport();
        localUser = fromUser;
        remoteUser = toUser;
        SipURI fromUri = addressing.aor(fromUser, server);
        Address fromAddress = sip.addresses().createAddress(fromUri);
        SipURI toUri = addressing.aor(toUser, server);
        Request invite = sip.messages().createRequest(addressing.requestUri(toUser, server), Request.INVITE,
                sip.headers().createCallIdHeader(callId), sip.headers().createCSeqHeader(1L, Request.INVITE),
                sip.headers().createFromHeader(fromAddress, localTag),
                sip.headers().createToHeader(sip.addresses().createAddress(toUri), null),
                List.of(sip.headers().createViaHeader(sip.advertisedHost(), sip.advertisedPort(transport), transport, null)),
                sip.headers().createMaxForwardsHeader(70));
        addressing.routeTo(invite, server);
        invite.addHeader(addressing.contact(fromUser, transport));
        invite.addHeader(sip.headers().createUserAgentHeader(List.of(sip.userAgent())));
        invite.addHeader(sip.headers().createAllowHeader(SipEndpoint.ALLOW));
        for (Map.Entry<String, String> h : headers.entrySet()) {
            invite.addHeader(sip.headers().createHeader(h.getKey(), h.getValue()));
        }
        timer.addRequestHeaders(invite, sip.headers());
        if (sdp != null) {
            invite.setContent(sdp, sdpType());
            localSdp = sdp;
        }
        sendInvite(invite);
    }

    private void sendInvite(Request invite) throws Exception {
        digest.authorize(invite);
        SipProvider provider = sip.provider(transport);
        ClientTransaction ct = provider.getNewClientTransaction(invite);
        dialog = provider.getNewDialog(ct);
        dialog.setApplicationData(this);
        sip.registerOwner(callId, this);
        inviteTransaction = ct;
        ct.setApplicationData(new InviteHandler(ct));
        transactions.add(ct);
        ct.sendRequest();
    }

    /**
     * CANCEL before a final answer, else BYE. RFC 3261 §9.1: the CANCEL waits for a provisional response
     * (100 Trying included); it still goes when that arrives after the call ended here.
     */
    public void hangUp() {
        hangUp(0, null);
    }

    /**
     * {@link #hangUp()} whose BYE carries {@code Reason: SIP ;cause=<cause>;text="<text>"} (RFC 3326), telling
     * SIP Server why the gateway ended the call; {@code text} null: no Reason header.
     */
    public void hangUp(int cause, String text) {
        if (ended) {
            return;
        }
        try {
            if (outgoing && !answered) {
                cancelWanted = true;
                if (provisionalSeen) {
                    sendCancelOnce();
                }
            } else if (!outgoing && !answered) {
                reject(Response.TEMPORARILY_UNAVAILABLE);
            } else {
                sendBye(cause, text);
                end();
            }
        } catch (Exception e) {
            LOG.info("call {}: hang-up not sent cleanly: {}", callId, e.toString());
            end();
        }
    }

    private void sendBye(int cause, String text) throws Exception {
        Header reason = null;
        if (text != null) {
            // RFC 3326 §2: the text is a quoted-string; keep it to one line without quotes.
            reason = sip.headers().createReasonHeader("SIP", cause, text.replaceAll("[\\r\\n\"\\\\]", " "));
        }
        sendInDialog(Request.BYE, null, null, reason);
    }

    private void sendCancelOnce() throws Exception {
        if (cancelSent) {
            return;
        }
        cancelSent = true;
        Request cancel = inviteTransaction.createCancel();
        ClientTransaction ct = sip.provider(transport).getNewClientTransaction(cancel);
        transactions.add(ct);
        ct.setApplicationData(new ClientTransactionHandler() {
            @Override
            public void onResponse(ResponseEvent event) {}

            @Override
            public void onFailure(String why) {}
        });
        ct.sendRequest();
    }

    private final class InviteHandler implements ClientTransactionHandler {
        private final ClientTransaction ct;

        InviteHandler(ClientTransaction ct) {
            this.ct = ct;
        }

        @Override
        public void onResponse(ResponseEvent event) {
            Response response = event.getResponse();
            executor.execute(() -> onInviteResponse(ct, response));
        }

        @Override
        public void onFailure(String why) {
            executor.execute(() -> onInviteFailure(ct, why));
        }
    }

    private void onInviteResponse(ClientTransaction ct, Response response) {
        if (ct != inviteTransaction) {
            return; // the INVITE a 422 made us send again (RFC 4028 §7.3): that transaction is over
        }
        int status = response.getStatusCode();
        if (status < 200) {
            provisionalSeen = true;
            if (cancelWanted) {
                // hung up before any provisional response: the CANCEL goes now (RFC 3261 §9.1)
                try {
                    sendCancelOnce();
                } catch (Exception e) {
                    LOG.debug("CANCEL failed: {}", e.toString());
                }
                return;
            }
            if (ended || status == Response.TRYING) {
                return;
            }
            listener.onProvisional(status, response.getReasonPhrase(), body(response));
            return;
        }
        inviteFinal = true;
        if (ended) {
            if (status < 300) {
                ackAndBye(response); // answered after we hung up (the 200 crossed our CANCEL)
            }
            release();
            return;
        }
        if ((status == Response.UNAUTHORIZED || status == Response.PROXY_AUTHENTICATION_REQUIRED) && !cancelWanted
                && retryChallengedInvite(ct, response)) {
            return;
        }
        if (status == SessionTimer.SESSION_INTERVAL_TOO_SMALL && timer.enabled() && !retriedTooBrief && !cancelWanted) {
            try {
                retryTooBrief(ct, response);
                return;
            } catch (Exception e) {
                LOG.info("call {}: INVITE not retried after 422: {}", callId, e.toString());
            }
        }
        if (status < 300) {
            answered = true;
            sendAck(response);
            timer.peerAllows(response);
            timer.start(timer.negotiateAsUac(response));
            if (cancelWanted) {
                try {
                    sendInDialog(Request.BYE, null, null);
                } catch (Exception e) {
                    LOG.debug("BYE failed: {}", e.toString());
                }
                end();
                return;
            }
            listener.onAnswered(body(response));
        } else {
            end();
            listener.onRejected(status, response.getReasonPhrase());
        }
    }

    /**
     * RFC 4028 §7.3: a 422 names the Min-SE the peer wants; the INVITE goes again once, with that as its
     * Min-SE and at least that Session-Expires, as a new transaction (CSeq up, new branch, same Call-ID and
     * From tag, RFC 3261 §8.1.3.5).
     */
    private void retryTooBrief(ClientTransaction failed, Response response) throws Exception {
        retriedTooBrief = true;
        timer.raiseMinSe(SessionTimer.intHeader(response, SessionTimer.MIN_SE));
        Request retry = digest.nextAttempt(failed.getRequest());
        retry.removeHeader(SessionTimer.SESSION_EXPIRES);
        retry.removeHeader(SessionTimer.MIN_SE);
        retry.removeHeader("Supported");
        timer.addRequestHeaders(retry, sip.headers());
        LOG.info("call {}: 422 Session Interval Too Small; INVITE again with Session-Expires {}", callId,
                timer.requestedInterval());
        sendInviteAgain(retry);
    }

    /**
     * RFC 3261 §22.2: a 401/407 to our INVITE is answered with the DN's credentials as a new transaction (CSeq up,
     * new branch, same Call-ID and From tag); JAIN-SIP's transaction layer has ACKed the 401/407. Once, or twice
     * when the second challenge is {@code stale=true}; false when it may not go again.
     */
    private boolean retryChallengedInvite(ClientTransaction failed, Response response) {
        if (!digest.mayRetry(callId, failed.getRequest(), response, digest.inviteBudget())) {
            return false;
        }
        try {
            sendInviteAgain(digest.nextAttempt(failed.getRequest()));
            return true;
        } catch (Exception e) {
            LOG.info("call {}: INVITE not sent again with credentials: {}", callId, e.toString());
            return false;
        }
    }

    /** {@code retry} replaces the INVITE whose transaction failed; the dialog starts over with it. */
    private void sendInviteAgain(Request retry) throws Exception {
        deleteDialog();
        provisionalSeen = false;
        inviteFinal = false;
        sendInvite(retry);
    }

    private void onInviteFailure(ClientTransaction ct, String why) {
        if (ct != inviteTransaction) {
            return;
        }
        inviteFinal = true;
        if (ended) {
            release();
            return;
        }
        if (answered) {
            return;
        }
        end();
        listener.onRejected(Response.REQUEST_TIMEOUT, "Request Timeout (" + why + ")");
    }

    private void sendAck(Response response) {
        try {
            long cseq = ((CSeqHeader) response.getHeader(CSeqHeader.NAME)).getSeqNumber();
            Request ack = dialog.createAck(cseq);
            digest.authorizeAck(ack);
            dialog.sendAck(ack);
        } catch (Exception e) {
            LOG.warn("call {}: ACK not sent: {}", callId, e.toString());
        }
    }

    private void ackAndBye(Response response) {
        sendAck(response);
        try {
            sendInDialog(Request.BYE, null, null);
        } catch (Exception e) {
            LOG.debug("BYE failed: {}", e.toString());
        }
    }

    @Override
    public void onStrayResponse(ResponseEvent event) {
        Response response = event.getResponse();
        CSeqHeader cseq = (CSeqHeader) response.getHeader(CSeqHeader.NAME);
        if (response.getStatusCode() >= 200 && response.getStatusCode() < 300 && Request.INVITE.equals(cseq.getMethod())) {
            // RFC 3261 §13.2.2.4: a retransmitted 2xx is ACKed again.
            executor.execute(() -> sendAck(response));
        }
    }

    // ---- UAS ----------------------------------------------------------------------------------------

    public void ringing() throws Exception {
        if (!answered && !ended) {
            incomingInvite.sendResponse(response(incomingInvite.getRequest(), Response.RINGING, null));
        }
    }

    /** 200 OK to the incoming INVITE with our SDP (an answer, or an offer for a delayed-offer INVITE). */
    public void answer(String sdp) throws Exception {
        if (answered || ended) {
            throw new IllegalStateException("the INVITE is already answered or gone");
        }
        answered = true;
        Request invite = incomingInvite.getRequest();
        Response ok = response(invite, Response.OK, sdp);
        boolean timed = timer.addAnswerHeaders(invite, ok, sip.headers());
        incomingInvite.sendResponse(ok);
        localSdp = sdp;
        timer.start(timed);
    }

    public void reject(int status) {
        reject(status, null);
    }

    /**
     * Refuses the incoming INVITE; {@code warning}, when not null, goes into a {@code Warning: 399} header
     * (RFC 3261 §20.43: miscellaneous, with text for a human), so SIP Server's logs say why a 488 was sent.
     */
    public void reject(int status, String warning) {
        if (answered || ended) {
            return;
        }
        try {
            Response r = response(incomingInvite.getRequest(), status, null);
            addWarning(r, warning);
            incomingInvite.sendResponse(r);
        } catch (Exception e) {
            LOG.debug("reject failed: {}", e.toString());
        }
        end();
    }

    // ---- in dialog ----------------------------------------------------------------------------------

    /** Sends a re-INVITE with {@code sdp}; the outcome arrives as {@link Listener#onReinviteResult}. */
    public void reinvite(String sdp) throws Exception {
        if (reinviteTransaction != null || refreshingByInvite()) {
            throw new IllegalStateException("a re-INVITE is already in progress");
        }
        reinviteTransaction = sendInDialog(Request.INVITE, sdp, "application/sdp");
    }

    public boolean reinviteInProgress() {
        return reinviteTransaction != null || pendingReinvite != null || refreshingByInvite();
    }

    /** A session refresh by re-INVITE is in flight: no other INVITE may start (RFC 3261 §14.1). */
    private boolean refreshingByInvite() {
        return timer.refreshingByInvite();
    }

    public void info(String contentType, String body) throws Exception {
        sendInDialog(Request.INFO, body, contentType);
    }

    private ClientTransaction sendInDialog(String method, String body, String contentType) throws Exception {
        return sendInDialog(method, body, contentType, null);
    }

    private ClientTransaction sendInDialog(String method, String body, String contentType, Header extra)
            throws Exception {
        Request request = dialog.createRequest(method);
        request.addHeader(sip.headers().createUserAgentHeader(List.of(sip.userAgent())));
        if (method.equals(Request.INVITE) || method.equals(Request.UPDATE)) {
            request.addHeader(addressing.contact(localUser == null ? "gateway" : localUser, transport, sips));
            // Every re-INVITE and UPDATE refreshes the session (RFC 4028 §10), so all carry the timer headers.
            timer.addRequestHeaders(request, sip.headers());
        }
        if (extra != null) {
            request.addHeader(extra);
        }
        if (body != null && "application/sdp".equals(contentType)) {
            localSdp = body;
        }
        if (body != null) {
            int slash = contentType.indexOf('/');
            request.setContent(body.getBytes(StandardCharsets.UTF_8), sip.headers().createContentTypeHeader(
                    contentType.substring(0, slash), contentType.substring(slash + 1)));
        }
        return sendInDialog(request, new DigestClient.Budget());
    }

    /**
     * Sends {@code request} through the dialog (which sets its CSeq), with credentials when the dialog was
     * challenged before (RFC 3261 §22.3); {@code auth} is its digest retries so far. A BYE's outcome is handled
     * apart: it outlives the leg ({@link DialogDigest#byeOutcome}).
     */
    private ClientTransaction sendInDialog(Request request, DigestClient.Budget auth) throws Exception {
        String method = request.getMethod();
        digest.authorize(request);
        ClientTransaction ct = sip.provider(transport).getNewClientTransaction(request);
        if (method.equals(Request.BYE)) {
            ct.setApplicationData(digest.byeOutcome(callId, transport));
        } else {
            transactions.add(ct);
            ct.setApplicationData(new ClientTransactionHandler() {
                @Override
                public void onResponse(ResponseEvent event) {
                    Response r = event.getResponse();
                    executor.execute(() -> onInDialogResponse(ct, method, r, auth));
                }

                @Override
                public void onFailure(String why) {
                    executor.execute(() -> onInDialogFailure(ct, method));
                }
            });
        }
        dialog.sendRequest(ct);
        return ct;
    }

    /**
     * RFC 3261 §22.2: a 401/407 to a request in the dialog is answered with the DN's credentials, as a new
     * transaction that takes over the challenged one's role (our re-INVITE, the session refresh). False when
     * it may not go again: the challenge is then the request's outcome.
     */
    private boolean retryChallenged(ClientTransaction ct, Response response, DigestClient.Budget auth) {
        if (ended || !digest.mayRetry(callId, ct.getRequest(), response, auth)) {
            return false;
        }
        try {
            ClientTransaction next = sendInDialog(digest.nextAttempt(ct.getRequest()), auth);
            if (ct == reinviteTransaction) {
                reinviteTransaction = next;
            }
            timer.resent(ct, next);
            return true;
        } catch (Exception e) {
            LOG.info("call {}: {} not sent again with credentials: {}", callId, ct.getRequest().getMethod(),
                    e.toString());
            return false;
        }
    }

    private void onInDialogResponse(ClientTransaction ct, String method, Response response, DigestClient.Budget auth) {
        int status = response.getStatusCode();
        if (status < 200) {
            return;
        }
        if ((status == Response.UNAUTHORIZED || status == Response.PROXY_AUTHENTICATION_REQUIRED)
                && retryChallenged(ct, response, auth)) {
            return;
        }
        if (timer.owns(ct)) {
            timer.onRefreshResponse(method, response);
            return;
        }
        boolean lost = status == Response.CALL_OR_TRANSACTION_DOES_NOT_EXIST || status == Response.REQUEST_TIMEOUT;
        if (method.equals(Request.INVITE) && ct == reinviteTransaction) {
            reinviteTransaction = null;
            if (status < 300) {
                sendAck(response);
                timer.start(timer.negotiateAsUac(response));
            }
            listener.onReinviteResult(status, response.getReasonPhrase(), status < 300 ? body(response) : null);
        }
        if (lost) {
            dialogLost(method, status, response.getReasonPhrase());
        }
    }

    private void onInDialogFailure(ClientTransaction ct, String method) {
        if (method.equals(Request.BYE) || method.equals(Request.CANCEL)) {
            return;
        }
        if (timer.owns(ct)) {
            timer.onRefreshFailed();
        }
        if (method.equals(Request.INVITE) && ct == reinviteTransaction) {
            reinviteTransaction = null;
            listener.onReinviteResult(Response.REQUEST_TIMEOUT, "Request Timeout", null);
        }
        dialogLost(method, Response.REQUEST_TIMEOUT, "Request Timeout (no answer)");
    }

    /**
     * RFC 3261 §12.2.1.2: a 481 or 408 (or no answer) to an in-dialog request means the dialog is gone. RFC
     * 4028 §10 sends a BYE after a failed refresh; after a 481 the peer has no dialog to end, so none is sent.
     */
    private void dialogLost(String method, int status, String reason) {
        if (ended) {
            return;
        }
        LOG.info("call {}: {} answered {} {}: the dialog is gone", callId, method, status, reason);
        if (status != Response.CALL_OR_TRANSACTION_DOES_NOT_EXIST) {
            try {
                sendBye(status, method + " got " + status + ": dialog lost");
            } catch (Exception e) {
                LOG.debug("BYE failed: {}", e.toString());
            }
        }
        end();
        listener.onDialogGone("dialog-lost", status, reason);
    }

    // ---- session timer (RFC 4028) ---------------------------------------------------------------------

    /** RFC 4028 §8.1: a refresh asking for less than our Min-SE gets 422 with it; the session stays as it is. */
    private boolean refusedAsTooBrief(RequestEvent event) throws Exception {
        if (!timer.tooBrief(event.getRequest())) {
            return false;
        }
        Response r = response(event.getRequest(), SessionTimer.SESSION_INTERVAL_TOO_SMALL, null);
        r.setReasonPhrase("Session Interval Too Small");
        r.addHeader(sip.headers().createHeader(SessionTimer.MIN_SE, Integer.toString(timer.configuredMinSe())));
        serverTransaction(event).sendResponse(r);
        return true;
    }

    /**
     * RFC 3261 §14.1: after a 491 the re-INVITE is retried after a random wait: 2.1-4 s if we chose the
     * Call-ID (outgoing call), 0-2 s otherwise.
     */
    public long glareRetryDelayMillis() {
        return outgoing ? 2100 + ThreadLocalRandom.current().nextLong(1900) : ThreadLocalRandom.current().nextLong(2000);
    }

    public ScheduledExecutorService timers() {
        return timers;
    }

    @Override
    public List<String> peerHosts() {
        Dialog d = dialog;
        if (d == null) {
            return List.of();
        }
        List<String> hosts = new ArrayList<>(2);
        // JAIN-SIP keeps the route set in the order we send (RFC 3261 §12.1.1/§12.1.2): its first entry is
        // the proxy next to us, which also forwards the peer's requests to us.
        Iterator<?> routes = d.getRouteSet();
        if (routes.hasNext() && routes.next() instanceof RouteHeader route
                && route.getAddress().getURI() instanceof SipURI uri) {
            hosts.add(uri.getHost());
        }
        Address target = d.getRemoteTarget();
        if (target != null && target.getURI() instanceof SipURI uri) {
            hosts.add(uri.getHost());
        }
        return hosts;
    }

    @Override
    public void onRequest(RequestEvent event) {
        executor.execute(() -> handleRequest(event));
    }

    private void handleRequest(RequestEvent event) {
        Request request = event.getRequest();
        String method = request.getMethod();
        try {
            switch (method) {
                case Request.ACK -> {
                    if (!ended) {
                        String sdp = body(request);
                        listener.onAck(sdp);
                    }
                }
                case Request.CANCEL -> onCancel(event);
                case Request.BYE -> {
                    respond(event, Response.OK, null);
                    if (!ended) {
                        end();
                        listener.onRemoteBye();
                    }
                }
                case Request.INVITE -> onReinvite(event);
                case Request.UPDATE -> onUpdate(event);
                case Request.INFO -> {
                    ContentTypeHeader ct = (ContentTypeHeader) request.getHeader(ContentTypeHeader.NAME);
                    boolean taken = listener.onInfo(ct == null ? "" : ct.getContentType() + "/" + ct.getContentSubType(),
                            body(request));
                    // RFC 3261 §21.4.11: a body too large for the browser (gateway.limits.max-info-bytes) is refused.
                    respond(event, taken ? Response.OK : Response.REQUEST_ENTITY_TOO_LARGE, null);
                }
                case Request.NOTIFY -> {
                    respond(event, Response.OK, null);
                    EventHeader eh = (EventHeader) request.getHeader(EventHeader.NAME);
                    ContentTypeHeader ct = (ContentTypeHeader) request.getHeader(ContentTypeHeader.NAME);
                    listener.onNotify(eh == null ? "" : eh.getEventType(),
                            ct == null ? "" : ct.getContentType() + "/" + ct.getContentSubType(), body(request));
                }
                case Request.OPTIONS -> respond(event, Response.OK, null);
                default -> respond(event, Response.NOT_IMPLEMENTED, null);
            }
        } catch (Exception e) {
            LOG.warn("call {}: {} not handled: {}", callId, method, e.toString());
        }
    }

    private void onCancel(RequestEvent event) throws Exception {
        // RFC 3261 §9.2: 200 to the CANCEL, 487 to the INVITE if not yet answered.
        respond(event, Response.OK, null);
        if (!outgoing && !answered && !ended) {
            incomingInvite.sendResponse(response(incomingInvite.getRequest(), Response.REQUEST_TERMINATED, null));
            end();
            listener.onRemoteCancel();
        }
    }

    private void onReinvite(RequestEvent event) throws Exception {
        if (ended) {
            respond(event, Response.CALL_OR_TRANSACTION_DOES_NOT_EXIST, null);
            return;
        }
        if (reinviteTransaction != null || pendingReinvite != null || refreshingByInvite()) {
            respond(event, Response.REQUEST_PENDING, null); // 491: glare (RFC 3261 §14.2)
            return;
        }
        if (refusedAsTooBrief(event)) {
            return;
        }
        ServerTransaction st = serverTransaction(event);
        pendingReinvite = st;
        listener.onRemoteReinvite(body(event.getRequest()), new ReinviteReply() {
            @Override
            public void accept(String sdp) {
                executor.execute(() -> replyReinvite(st, Response.OK, sdp));
            }

            @Override
            public void reject(int status) {
                executor.execute(() -> replyReinvite(st, status, null, null));
            }

            @Override
            public void reject(int status, String warning) {
                executor.execute(() -> replyReinvite(st, status, null, warning));
            }
        });
    }

    /**
     * UPDATE (RFC 3311): without SDP it is a session refresh (RFC 4028 §10), answered here; with SDP it is an
     * offer, answered like a re-INVITE's.
     */
    private void onUpdate(RequestEvent event) throws Exception {
        if (ended) {
            respond(event, Response.CALL_OR_TRANSACTION_DOES_NOT_EXIST, null);
            return;
        }
        if (body(event.getRequest()) != null) {
            onReinvite(event);
            return;
        }
        if (refusedAsTooBrief(event)) {
            return;
        }
        ServerTransaction st = serverTransaction(event);
        Response ok = response(event.getRequest(), Response.OK, null);
        boolean timed = timer.addAnswerHeaders(event.getRequest(), ok, sip.headers());
        st.sendResponse(ok);
        timer.start(timed);
    }

    private void replyReinvite(ServerTransaction st, int status, String sdp) {
        replyReinvite(st, status, sdp, null);
    }

    private void replyReinvite(ServerTransaction st, int status, String sdp, String warning) {
        if (pendingReinvite != st) {
            return;
        }
        pendingReinvite = null;
        try {
            Response r = response(st.getRequest(), status, sdp);
            addWarning(r, warning);
            boolean timed = status < 300 && timer.addAnswerHeaders(st.getRequest(), r, sip.headers());
            st.sendResponse(r);
            if (status < 300) {
                if (sdp != null) {
                    localSdp = sdp;
                }
                timer.start(timed);
            }
        } catch (Exception e) {
            LOG.warn("call {}: re-INVITE answer not sent: {}", callId, e.toString());
        }
    }

    private ServerTransaction serverTransaction(RequestEvent event) throws Exception {
        ServerTransaction st = event.getServerTransaction();
        return st != null ? st : ((SipProvider) event.getSource()).getNewServerTransaction(event.getRequest());
    }

    private void respond(RequestEvent event, int status, String sdp) throws Exception {
        serverTransaction(event).sendResponse(response(event.getRequest(), status, sdp));
    }

    private Response response(Request request, int status, String sdp) throws Exception {
        Response r = sip.messages().createResponse(status, request);
        ToHeader to = (ToHeader) r.getHeader(ToHeader.NAME);
        if (to.getTag() == null && status > 100) {
            to.setTag(localTag);
        }
        if (status >= 180 && status < 300
                && (request.getMethod().equals(Request.INVITE) || request.getMethod().equals(Request.UPDATE))) {
            r.addHeader(addressing.contact(localUser == null ? "gateway" : localUser, transport, sips));
            r.addHeader(sip.headers().createAllowHeader(SipEndpoint.ALLOW));
        }
        r.addHeader(sip.headers().createUserAgentHeader(List.of(sip.userAgent())));
        if (sdp != null) {
            r.setContent(sdp, sdpType());
        }
        return r;
    }

    /**
     * {@code Warning: 399 <our host> "<text>"} (RFC 3261 §20.43); the text on one line, without quotes or
     * backslashes, at most 400 characters (an SDP reason quotes the m-line and the a=crypto line).
     */
    private void addWarning(Response r, String text) throws Exception {
        if (text == null || text.isBlank()) {
            return;
        }
        String clean = text.replaceAll("[\\x00-\\x1f\\x7f\"\\\\]", " ").strip();
        if (clean.length() > 400) {
            clean = clean.substring(0, 397) + "...";
        }
        r.addHeader(sip.headers().createWarningHeader(sip.advertisedHost(), 399, clean));
    }

    private ContentTypeHeader sdpType() throws Exception {
        return sip.headers().createContentTypeHeader("application", "sdp");
    }

    /** Forgets the dialog; further requests for it get 481. Idempotent. */
    public void end() {
        if (ended) {
            return;
        }
        ended = true;
        timer.cancel();
        if (callId != null) {
            sip.forgetOwner(callId, this);
        }
        if (outgoing && inviteTransaction != null && !inviteFinal) {
            // Hung up before the INVITE's final response: the CANCEL still waits for a provisional one
            // (RFC 3261 §9.1), and a 200 crossing it needs its ACK and BYE; both need the INVITE's transaction
            // and dialog. Released when that response comes (or Timer B fails the INVITE, 32 s at most).
            return;
        }
        release();
    }

    /** Unhooks this leg from JAIN-SIP so the call can be collected. */
    private void release() {
        // JAIN-SIP keeps completed transactions for their timers (up to 32 s, RFC 6026's Accepted state):
        // unhook them from this leg so the call and its media can go now. Late answers are then strays.
        for (ClientTransaction ct : transactions) {
            ct.setApplicationData(null);
        }
        transactions.clear();
        deleteDialog();
    }

    /**
     * Without automatic dialog support JAIN-SIP keeps a dialog (and through its application data the whole call
     * and its media) until told: cut the link and release it. Transactions still running (our BYE, their
     * CANCEL) are matched on their own and end with their timers.
     */
    private void deleteDialog() {
        if (dialog == null) {
            return;
        }
        dialog.setApplicationData(null);
        try {
            dialog.delete();
        } catch (RuntimeException e) {
            LOG.debug("call {}: dialog delete: {}", callId, e.toString());
        }
    }

    public boolean isEnded() {
        return ended;
    }

    /** The leg as its session timer sees it (RFC 4028 §10 refreshes and expiry). */
    private final class TimedDialog implements SessionTimer.Dialog {
        @Override
        public String callId() {
            return callId;
        }

        @Override
        public boolean offerAnswerInProgress() {
            return reinviteTransaction != null || pendingReinvite != null;
        }

        @Override
        public ClientTransaction sendRefresh(String method) throws Exception {
            // An UPDATE refresh carries no SDP; a re-INVITE repeats our last SDP unchanged (RFC 3264 §8).
            return method.equals(Request.UPDATE) ? sendInDialog(Request.UPDATE, null, null)
                    : sendInDialog(Request.INVITE, localSdp, "application/sdp");
        }

        @Override
        public void acknowledge(Response ok) {
            sendAck(ok);
        }

        @Override
        public void lost(String method, int status, String reason) {
            dialogLost(method, status, reason);
        }

        @Override
        public void expired() {
            if (ended) {
                return;
            }
            try {
                sendBye(Response.REQUEST_TIMEOUT, "Session expired (RFC 4028)");
            } catch (Exception e) {
                LOG.debug("BYE failed: {}", e.toString());
            }
            end();
            listener.onDialogGone("session-expired", null, null);
        }

        @Override
        public ScheduledFuture<?> schedule(Runnable task, long delayMs) {
            return SipLeg.this.schedule(task, delayMs);
        }

        @Override
        public long glareRetryDelayMillis() {
            return SipLeg.this.glareRetryDelayMillis();
        }
    }

    private static String body(javax.sip.message.Message m) {
        byte[] raw = m.getRawContent();
        return raw == null || raw.length == 0 ? null : new String(raw, StandardCharsets.UTF_8);
    }

    private static String userOf(URI uri) {
        if (uri instanceof SipURI s) {
            return s.getUser();
        }
        String text = uri.toString();
        return text.startsWith("tel:") ? text.substring(4) : text;
    }

    /** Validated extra headers for attached data: names are tokens, values have no line breaks. */
    public static List<String> invalidHeaders(Map<String, String> headers) {
        List<String> bad = new ArrayList<>();
        headers.forEach((k, v) -> {
            if (!k.matches("[A-Za-z0-9\\-._!%*+`'~]{1,64}") || v == null || v.length() > 1024 || v.matches("(?s).*[\\r\\n\\x00].*")) {
                bad.add(k);
            }
        });
        return bad;
    }

    /** Runs {@code task} on the call's executor after {@code delayMs}, unless the leg has ended by then. */
    public ScheduledFuture<?> schedule(Runnable task, long delayMs) {
        return timers.schedule(() -> executor.execute(() -> {
            if (!ended) {
                task.run();
            }
        }), delayMs, TimeUnit.MILLISECONDS);
    }
}
