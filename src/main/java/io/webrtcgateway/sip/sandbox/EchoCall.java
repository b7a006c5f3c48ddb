package io.webrtcgateway.sip.sandbox;

import java.net.InetAddress;
import java.time.Duration;
import java.util.concurrent.Executor;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

import javax.sip.Dialog;
import javax.sip.ServerTransaction;
import javax.sip.header.CallIdHeader;
import javax.sip.header.FromHeader;
import javax.sip.header.ViaHeader;
import javax.sip.message.Request;
import javax.sip.message.Response;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.webrtcgateway.sdp.SdpException;

/**
 * A call to the echo number ({@link CallRouter#ECHO_NUMBER}): the sandbox answers it itself, at once,
 * with an {@link EchoSdp} answer pointing at an {@link RtpEcho} socket, so a caller hears itself. A
 * re-INVITE is answered on the same port with the mirrored direction (hold: the echo stops sending).
 * BYE, the maximum call length or the sandbox closing frees the socket. State is confined to the call's
 * serial executor.
 */
final class EchoCall implements SandboxCall {
    private static final Logger log = LoggerFactory.getLogger(EchoCall.class);

    private final CallRouter router;
    private final SandboxStack sip;
    private final Executor executor;
    private final ServerTransaction invite;
    private final Dialog dialog;
    private final String callId;
    private final String caller;
    private final String transport;
    private final Duration maxCall;
    private final String localTag = SandboxStack.randomHex(4);
    private final long sessionId = ThreadLocalRandom.current().nextLong(1, Long.MAX_VALUE / 2);

    // Confined to the executor.
    private long sdpVersion;
    /** Volatile for {@link #abandon()} and the test accessors; written on the executor only. */
    private volatile RtpEcho media;
    private boolean answered;
    private boolean ended;
    /** Set while our 2xx carried an offer (no SDP in the INVITE): the ACK brings the answer. */
    private boolean offerInOk;
    private ScheduledFuture<?> maxCallTimer;

    /** On a stack thread, with the INVITE's transaction and dialog (100 Trying already sent). */
    EchoCall(CallRouter router, SandboxStack sip, ServerTransaction invite, Dialog dialog, Duration maxCall) {
        this.router = router;
        this.sip = sip;
        this.executor = sip.newCallExecutor();
        this.invite = invite;
        this.dialog = dialog;
        this.maxCall = maxCall;
        Request request = invite.getRequest();
        this.callId = ((CallIdHeader) request.getHeader(CallIdHeader.NAME)).getCallId();
        String user = Registrar.userOf(((FromHeader) request.getHeader(FromHeader.NAME)).getAddress().getURI());
        this.caller = user == null ? "anonymous" : user;
        this.transport = ((ViaHeader) request.getHeader(ViaHeader.NAME)).getTransport().toLowerCase();
    }

    String callId() {
        return callId;
    }

    /** The echo's RTP port; -1 before the answer or after the end. */
    int port() {
        RtpEcho m = media;
        return m == null ? -1 : m.port();
    }

    /** RTP packets received and sent back so far (0 once ended). */
    long rtpReceived() {
        RtpEcho m = media;
        return m == null ? 0 : m.rtpReceived();
    }

    long rtpEchoed() {
        RtpEcho m = media;
        return m == null ? 0 : m.rtpEchoed();
    }

    void start() {
        executor.execute(this::answer);
    }

    @Override
    public String toString() {
        return "sandbox echo call from " + caller;
    }

    private void answer() {
        Request request = invite.getRequest();
        try {
            media = RtpEcho.open(InetAddress.getByName(sip.host));
            String sdp = describe(RelayedContent.body(request));
            maxCallTimer = sip.timers.schedule(() -> executor.execute(() -> hangUp("it lasted longer than " + maxCall)),
                    maxCall.toMillis(), TimeUnit.MILLISECONDS);
            answered = true;
            respond(invite, Response.OK, null, sdp);
            log.info("{}: answered, echoing RTP on {}:{}", this, sip.host, media.port());
        } catch (SdpException e) {
            log.info("{}: offer refused (488): {}", this, e.getMessage());
            respond(invite, Response.NOT_ACCEPTABLE_HERE, e.reason().name(), null);
            end("unusable offer");
        } catch (Exception e) {
            log.warn("{}: not answered: {}", this, e.toString());
            respond(invite, Response.SERVER_INTERNAL_ERROR, null, null);
            end("failed to answer");
        }
    }

    /** Our SDP for an offer (an answer), or for no offer (an offer of our own; the ACK will answer it). */
    private String describe(String offer) {
        sdpVersion++;
        if (offer == null) {
            offerInOk = true;
            media.sending(true);
            return EchoSdp.offer(sip.host, media.port(), sessionId, sdpVersion);
        }
        offerInOk = false;
        EchoSdp.Answer answer = EchoSdp.answer(offer, sip.host, media.port(), sessionId, sdpVersion);
        media.sending(answer.sends());
        return answer.sdp();
    }

    @Override
    public void onRequest(Request request, ServerTransaction st) {
        executor.execute(() -> handle(request, st));
    }

    private void handle(Request request, ServerTransaction st) {
        String method = request.getMethod();
        if (ended) {
            if (st != null) {
                respond(st, Response.CALL_OR_TRANSACTION_DOES_NOT_EXIST, null, null);
            }
            return;
        }
        switch (method) {
            case Request.ACK -> {
                String sdp = RelayedContent.body(request);
                if (offerInOk && sdp != null) {
                    offerInOk = false;
                    try {
                        media.sending(EchoSdp.answerLetsUsSend(sdp));
                    } catch (SdpException e) {
                        log.info("{}: unusable answer in ACK, echo kept on: {}", this, e.getMessage());
                    }
                }
            }
            // §9.2: the INVITE was answered at once, so a CANCEL has nothing left to cancel.
            case Request.CANCEL -> respond(st, Response.OK, null, null);
            case Request.BYE -> {
                respond(st, Response.OK, null, null);
                end("BYE from the caller");
            }
            case Request.INVITE -> onReinvite(request, st);
            case Request.INFO, Request.NOTIFY, Request.OPTIONS -> respond(st, Response.OK, null, null);
            default -> respond(st, Response.NOT_IMPLEMENTED, null, null);
        }
    }

    private void onReinvite(Request request, ServerTransaction st) {
        if (!answered) {
            respond(st, Response.REQUEST_PENDING, null, null);
            return;
        }
        try {
            respond(st, Response.OK, null, describe(RelayedContent.body(request)));
        } catch (SdpException e) {
            // §14.2: a refused re-INVITE leaves the session as it was.
            sdpVersion--;
            respond(st, Response.NOT_ACCEPTABLE_HERE, e.reason().name(), null);
        }
    }

    private void hangUp(String why) {
        if (ended) {
            return;
        }
        try {
            Request bye = dialog.createRequest(Request.BYE);
            dialog.sendRequest(sip.provider.getNewClientTransaction(bye));
        } catch (Exception e) {
            log.debug("{}: BYE not sent: {}", this, e.toString());
        }
        end(why);
    }

    private void end(String why) {
        if (ended) {
            return;
        }
        ended = true;
        if (maxCallTimer != null) {
            maxCallTimer.cancel(false);
        }
        RtpEcho m = media;
        media = null;
        if (m != null) {
            m.close();
            log.info("{}: ended ({}), {} RTP packets echoed", this, why, m.rtpEchoed());
        }
        router.forget(callId, this);
    }

    /** Closes the socket right here: the call threads are shut down just after this. */
    @Override
    public void abandon() {
        RtpEcho m = media;
        if (m != null) {
            m.close();
        }
        executor.execute(() -> end("the sandbox is closing"));
    }

    private void respond(ServerTransaction st, int status, String reason, String sdp) {
        try {
            Response r = sip.response(st.getRequest(), status, reason, localTag);
            if (status >= 200 && status < 300 && Request.INVITE.equals(st.getRequest().getMethod())) {
                r.addHeader(sip.contact(CallRouter.ECHO_NUMBER, transport));
                r.addHeader(sip.headers.createAllowHeader(SandboxStack.ALLOW));
            }
            if (sdp != null) {
                r.setContent(sdp, sip.headers.createContentTypeHeader("application", "sdp"));
            }
            SandboxStack.send(st, r, log);
        } catch (Exception e) {
            log.debug("{}: {} not sent: {}", this, status, e.toString());
        }
    }
}
