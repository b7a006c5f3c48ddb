package io.webrtcgateway.sip;

import io.webrtcgateway.sip.digest.DigestClient;
import io.webrtcgateway.sip.digest.DigestCredentials;
import java.util.ArrayList;
import java.util.List;
import java.util.ListIterator;
import java.util.concurrent.Executor;
import javax.sip.ClientTransaction;
import javax.sip.ResponseEvent;
import javax.sip.header.AuthorizationHeader;
import javax.sip.header.CSeqHeader;
import javax.sip.header.Header;
import javax.sip.header.ProxyAuthorizationHeader;
import javax.sip.header.ViaHeader;
import javax.sip.message.Request;
import javax.sip.message.Response;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Digest authentication of the requests a call leg sends (docs/sip.md "Authentication of calls"): a 401/407
 * to the INVITE, a re-INVITE, UPDATE, INFO or BYE is answered with the DN's credentials (those of its
 * registration) once per request, twice after {@code stale=true} (RFC 3261 §22.2, RFC 2617 §3.2.1), as a new
 * transaction with CSeq up and the same Call-ID and tags. The challenges stay remembered for the dialog, so
 * its later requests carry credentials from the start (RFC 3261 §22.3); a dialog that was never challenged
 * sends none. An anonymous call has no credentials: its challenges are not answered.
 *
 * <p>Confined to the leg's serial executor, like the leg.
 */
final class DialogDigest {
    private static final Logger LOG = LoggerFactory.getLogger(DialogDigest.class);

    private final SipEndpoint sip;
    private final Executor executor;
    /** The DN's registration, asked for its credentials when a challenge comes; null for an anonymous call. */
    private final Registration credentialsOf;
    private final DigestClient client;
    /** The initial INVITE's retries, across all its re-sends (401/407 and the 422 of RFC 4028 §7.3). */
    private final DigestClient.Budget invite = new DigestClient.Budget();
    /** Credentials of the latest INVITE sent in the dialog: the ACK of its 2xx carries the same. */
    private List<Header> inviteCredentials = List.of();

    DialogDigest(SipEndpoint sip, Executor executor, Registration credentialsOf) {
        this.sip = sip;
        this.executor = executor;
        this.credentialsOf = credentialsOf;
        this.client = new DigestClient(sip.headers());
    }

    /** The initial INVITE's retry budget. */
    DigestClient.Budget inviteBudget() {
        return invite;
    }

    /**
     * Puts credentials for the challenges this dialog has had into {@code request} (none before the first),
     * replacing any it carries; remembers an INVITE's for its ACK.
     */
    void authorize(Request request) throws Exception {
        client.authorize(request, credentials());
        if (Request.INVITE.equals(request.getMethod())) {
            inviteCredentials = credentialHeaders(request);
        }
    }

    /**
     * RFC 3261 §13.2.2.4: the ACK of a 2xx carries the same credentials as the INVITE (JAIN-SIP would copy the
     * dialog's first INVITE's Authorization and the last request's Proxy-Authorization instead).
     */
    void authorizeAck(Request ack) {
        ack.removeHeader(AuthorizationHeader.NAME);
        ack.removeHeader(ProxyAuthorizationHeader.NAME);
        for (Header h : inviteCredentials) {
            ack.addHeader((Header) h.clone());
        }
    }

    /**
     * Whether the 401/407 {@code response} to {@code request} may be answered within {@code budget}; the
     * challenges are then taken for the re-send. Says in the log why not: no password, a second challenge,
     * or one nothing here can answer (WARN, naming its algorithm or qop).
     */
    boolean mayRetry(String callId, Request request, Response response, DigestClient.Budget budget) {
        String method = request.getMethod();
        int status = response.getStatusCode();
        if (credentials() == null) {
            LOG.info("call {}: {} challenged with {} {}, and the call has no password to answer with (anonymous, or"
                    + " a DN registered without one)", callId, method, status, response.getReasonPhrase());
            return false;
        }
        DigestClient.Decision decision = client.onChallenge(response, budget);
        switch (decision.outcome()) {
            case RETRY -> LOG.info("call {}: {} challenged with {} {}; sending it again with credentials ({})",
                    callId, method, status, response.getReasonPhrase(), decision.why());
            case REFUSED -> LOG.info("call {}: {} challenged with {} {} again: {}", callId, method, status,
                    response.getReasonPhrase(), decision.why());
            case UNSUPPORTED -> LOG.warn("call {}: {} challenged with {} {} that cannot be answered: {}", callId,
                    method, status, response.getReasonPhrase(), decision.why());
        }
        return decision.retry();
    }

    /**
     * {@code challenged} again as a new transaction (RFC 3261 §22.2): a copy with CSeq up by one (an in-dialog
     * request sent through the dialog gets the dialog's next number anyway) and a new Via branch. It still
     * carries the challenged request's credentials: {@link #authorize} replaces them when it is sent.
     */
    Request nextAttempt(Request challenged) throws Exception {
        Request retry = (Request) challenged.clone();
        CSeqHeader cseq = (CSeqHeader) retry.getHeader(CSeqHeader.NAME);
        cseq.setSeqNumber(cseq.getSeqNumber() + 1);
        ((ViaHeader) retry.getHeader(ViaHeader.NAME)).setBranch("z9hG4bK" + SipEndpoint.randomHex(8));
        return retry;
    }

    /**
     * The outcome handler of a BYE. The leg has ended and released its dialog when the answer comes, so a
     * challenge is answered outside the dialog: the same BYE as a new transaction on {@code transport}. It holds
     * this object and the endpoint, not the leg, so the call can be collected meanwhile.
     */
    ClientTransactionHandler byeOutcome(String callId, String transport) {
        return new ByeOutcome(callId, transport, new DigestClient.Budget());
    }

    private DigestCredentials credentials() {
        return credentialsOf == null ? null : credentialsOf.credentials();
    }

    private static List<Header> credentialHeaders(Request request) {
        List<Header> found = new ArrayList<>(1);
        for (String name : List.of(AuthorizationHeader.NAME, ProxyAuthorizationHeader.NAME)) {
            ListIterator<?> it = request.getHeaders(name);
            while (it != null && it.hasNext()) {
                found.add((Header) ((Header) it.next()).clone());
            }
        }
        return List.copyOf(found);
    }

    private final class ByeOutcome implements ClientTransactionHandler {
        private final String callId;
        private final String transport;
        private final DigestClient.Budget budget;

        ByeOutcome(String callId, String transport, DigestClient.Budget budget) {
            this.callId = callId;
            this.transport = transport;
            this.budget = budget;
        }

        @Override
        public void onResponse(ResponseEvent event) {
            Response response = event.getResponse();
            ClientTransaction ct = event.getClientTransaction();
            int status = response.getStatusCode();
            if (ct != null && (status == Response.UNAUTHORIZED || status == Response.PROXY_AUTHENTICATION_REQUIRED)) {
                executor.execute(() -> retry(ct.getRequest(), response));
            }
        }

        @Override
        public void onFailure(String why) {
            // The call is over either way; SIP Server's own timers end its side of the dialog.
        }

        private void retry(Request bye, Response response) {
            if (!mayRetry(callId, bye, response, budget)) {
                return;
            }
            try {
                Request again = nextAttempt(bye);
                authorize(again);
                ClientTransaction next = sip.provider(transport).getNewClientTransaction(again);
                next.setApplicationData(this);
                next.sendRequest();
            } catch (Exception e) {
                LOG.info("call {}: BYE not sent again: {}", callId, e.toString());
            }
        }
    }
}
