package io.webrtcgateway.call;

import io.webrtcgateway.concurrent.SerialExecutor;
import io.webrtcgateway.error.ErrorCode;
import io.webrtcgateway.error.GatewayException;
import io.webrtcgateway.config.SipServerAddress;
import io.webrtcgateway.sdp.SdpException;
import io.webrtcgateway.session.Session;
import io.webrtcgateway.session.SessionEvent;
import io.webrtcgateway.sip.SipLeg;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One call: the browser's WebRTC leg (through {@link CallMedia}) and the SIP leg, and the state machine
 * between them. A serial actor: browser requests, SIP events, media events and timers all run on
 * {@link #executor}, in order, so nothing here needs a lock.
 */
public final class Call implements SipLeg.Listener, CallMetrics.Tracked {
    private static final Logger LOG = LoggerFactory.getLogger(Call.class);

    public enum Direction { OUTGOING, INCOMING }

    private final String id;
    private final Session session;
    private final Direction direction;
    private final String remote;
    /** The session's DN when the call was made (null: anonymous), kept for the record: a sign-out forgets it. */
    private final String dn;
    /** Incoming calls: the caller (From user), known once the INVITE is read. */
    private volatile String caller;
    private final Instant createdAt = Instant.now();
    private final SerialExecutor executor;
    private final CallService service;
    private final CallMedia media;
    private SipLeg sip;
    private CallState state;
    private volatile CallState publishedState;
    private volatile Instant connectedAt;
    private boolean localHold;
    private boolean remoteHold;
    private boolean earlyAnswerGiven;
    private String pendingBrowserOffer;
    private CompletableFuture<Void> pendingHoldChange;
    private boolean pendingHoldTarget;
    private ScheduledFuture<?> noAnswerTimer;
    /** Our last 2xx carried an offer (delayed offer); its ACK brings the answer. */
    private boolean awaitingAckAnswer;
    private final MediaWatch mediaWatch;
    private ScheduledFuture<?> mediaCheck;
    private volatile String endReason;
    private volatile Integer endSipStatus;
    private volatile String endSipReason;
    private final SetupClock setup;
    /** Set once, when the call ended (CallService.ended). */
    private volatile CallRecord record;

    Call(String id, Session session, Direction direction, String remote, Executor pool, CallService service,
         CallMedia media) {
        this.id = id;
        this.session = session;
        this.direction = direction;
        this.remote = remote;
        this.dn = session.registration() == null ? null : session.registration().dn();
        this.setup = new SetupClock(service.metrics(), direction, System.nanoTime());
        this.executor = new SerialExecutor(pool, service.actors());
        this.service = service;
        this.media = media;
        this.state = direction == Direction.OUTGOING ? CallState.CALLING : CallState.OFFERED;
        this.publishedState = state;
        this.mediaWatch = new MediaWatch(service.config().mediaSetupTimeout(), service.config().mediaTimeout());
        media.onState(s -> executor.execute(() -> onMediaState(s)));
        media.onDtmf(d -> executor.execute(() -> event("dtmf", "digit", String.valueOf(d))));
    }

    public String id() {
        return id;
    }

    public Session session() {
        return session;
    }

    @Override
    public Direction direction() {
        return direction;
    }

    /** The session's DN when the call was made, null for an anonymous session. */
    public String dn() {
        return dn;
    }

    /** The other party: the DN called (outgoing) or the caller (incoming, null until known). */
    public String remote() {
        return remote != null ? remote : caller;
    }

    @Override
    public CallState state() {
        return publishedState;
    }

    public Instant createdAt() {
        return createdAt;
    }

    public Instant connectedAt() {
        return connectedAt;
    }

    public String endReason() {
        return endReason;
    }

    /** The SIP status that ended the call (a rejection, 487...), or null. */
    public Integer endSipStatus() {
        return endSipStatus;
    }

    public String endSipReason() {
        return endSipReason;
    }

    /** The negotiated audio codec ("PCMU", "opus"...), or null before the answer. */
    public String codec() {
        return media.codec();
    }

    /** What is kept of the call once it ended; null while it goes on. */
    public CallRecord record() {
        return record;
    }

    void recorded(CallRecord r) {
        record = r;
    }

    /** The SIP leg's Call-ID (null before the leg exists or its INVITE). On the call's executor. */
    String sipCallId() {
        return sip == null ? null : sip.callId();
    }

    /** The media counters of every bridged m-line (any thread; CallMedia#counters). */
    @Override
    public java.util.List<CallMedia.StreamCounters> mediaCounters() {
        return media.counters();
    }

    /** The call never got going (its INVITE was not sent): recorded for admin, the call is dropped. */
    void failedToStart(String reason) {
        endReason = reason;
    }

    Executor executor() {
        return executor;
    }

    void attach(SipLeg leg) {
        this.sip = leg;
    }

    /** Runs {@code action} on the call's executor and completes with its result or its GatewayException. */
    <T> CompletableFuture<T> submit(Supplier<T> action) {
        CompletableFuture<T> f = new CompletableFuture<>();
        executor.execute(task(action, f));
        return f;
    }

    /**
     * A browser's request: {@link #submit}, unless gateway.limits.max-queued-requests-per-call requests wait on the
     * call already; then it completes with RATE_LIMITED and nothing runs. Requests that end the call (hang-up,
     * reject) are never refused: they use {@link #submit}.
     */
    private <T> CompletableFuture<T> request(Supplier<T> action) {
        CompletableFuture<T> f = new CompletableFuture<>();
        enqueueRequest(task(action, f), f);
        return f;
    }

    /**
     * Queues a browser's request unless gateway.limits.max-queued-requests-per-call wait already; then
     * {@code result} fails with RATE_LIMITED (a second: about the time a call's actor takes to work them off).
     */
    private void enqueueRequest(Runnable task, CompletableFuture<?> result) {
        int max = service.inputs().maxQueuedRequests();
        if (!executor.tryExecute(task, max)) {
            service.queueFull();
            result.completeExceptionally(GatewayException.rateLimited("call " + id + " has " + max + " requests"
                    + " waiting (gateway.limits.max-queued-requests-per-call); try again when they are answered", 1));
        }
    }

    private <T> Runnable task(Supplier<T> action, CompletableFuture<T> f) {
        return () -> {
            try {
                f.complete(action.get());
            } catch (SdpException e) {
                f.completeExceptionally(sdpError(e));
            } catch (GatewayException e) {
                f.completeExceptionally(e);
            } catch (RuntimeException e) {
                LOG.error("call {}: request failed", id, e);
                f.completeExceptionally(new GatewayException(ErrorCode.INTERNAL, "internal error: " + e));
            }
        };
    }

    static GatewayException sdpError(SdpException e) {
        ErrorCode code = e.reason() == SdpException.Reason.NO_COMMON_CODEC || e.reason() == SdpException.Reason.NO_AUDIO
                ? ErrorCode.NO_COMMON_CODEC : ErrorCode.BAD_SDP;
        return new GatewayException(code, e.getMessage());
    }

    // ---- outgoing -----------------------------------------------------------------------------------

    /** On the executor: translate the browser's offer, send the INVITE. */
    void start(String browserOffer, String fromUser, String toUser, Map<String, String> headers) {
        // The server first: its transport decides whether SRTP keys may go into the offer (docs/sip.md).
        SipServerAddress server = service.activeServerOrThrow();
        media.sipTransport(server.transport());
        String sipOffer = media.sipOfferFor(browserOffer);
        try {
            sip.invite(server, fromUser, toUser, sipOffer, headers);
        } catch (GatewayException e) {
            throw e;
        } catch (Exception e) {
            throw new GatewayException(ErrorCode.SIP_UNAVAILABLE, "INVITE not sent: " + e.getMessage());
        }
        setup.inviteSent(System.nanoTime());
        noAnswerTimer = service.timers().schedule(() -> executor.execute(this::noAnswer),
                service.config().noAnswerTimeout().toMillis(), TimeUnit.MILLISECONDS);
        LOG.info("call {}: {} -> {} INVITE sent", id, fromUser, toUser);
    }

    private void noAnswer() {
        if (state == CallState.CALLING || state == CallState.RINGING || state == CallState.EARLY) {
            sip.hangUp();
            end("no-answer", null, null);
        }
    }

    @Override
    public void onProvisional(int status, String reason, String sdp) {
        if (state == CallState.ENDED) {
            return;
        }
        if (sdp != null && !earlyAnswerGiven) {
            try {
                String answer = media.browserAnswerFor(sdp);
                earlyAnswerGiven = true;
                transitionTo(CallState.EARLY);
                event("early", "sdp", answer, "sipStatus", status);
            } catch (SdpException e) {
                LOG.warn("call {}: unusable early SDP ({}); ignoring early media", id, e.getMessage());
            }
        } else if (state == CallState.CALLING) {
            transitionTo(CallState.RINGING);
            event("ringing", "sipStatus", status);
        }
    }

    @Override
    public void onAnswered(String sdp) {
        cancelNoAnswer();
        if (state == CallState.ENDED) {
            return;
        }
        String answer = null;
        try {
            if (sdp != null) {
                answer = media.browserAnswerFor(sdp);
            } else if (!earlyAnswerGiven) {
                throw new SdpException(SdpException.Reason.MALFORMED, "200 OK without SDP to an INVITE with an offer");
            }
        } catch (SdpException e) {
            LOG.warn("call {}: unusable answer from SIP Server: {}", id, e.getMessage());
            sip.hangUp();
            end("bad-answer", 488, "Not Acceptable Here");
            return;
        }
        connectedAt = Instant.now();
        setup.answered(System.nanoTime());
        transitionTo(CallState.CONNECTED);
        if (answer != null && !earlyAnswerGiven) {
            event("connected", "sdp", answer);
        } else {
            event("connected");
        }
    }

    @Override
    public void onRejected(int status, String reason) {
        cancelNoAnswer();
        if (state != CallState.ENDED) {
            end(status == 487 ? "cancelled" : "rejected", status, reason);
        }
    }

    // ---- incoming -----------------------------------------------------------------------------------

    /** On the executor: offer SIP Server's INVITE to the browser (ringing back to SIP). */
    void offerToBrowser(String sipOffer, String from, String fromName, String to, Map<String, String> data) {
        caller = from;
        media.sipTransport(sip.transport());
        String browserOffer = media.browserOfferFor(sipOffer);
        pendingBrowserOffer = browserOffer;
        try {
            sip.ringing();
        } catch (Exception e) {
            LOG.debug("call {}: 180 not sent: {}", id, e.toString());
        }
        Map<String, Object> f = new LinkedHashMap<>();
        f.put("from", from);
        f.put("fromName", fromName);
        f.put("to", to);
        f.put("sdp", browserOffer);
        f.put("data", data);
        session.deliver(new SessionEvent.CallEvent("incoming", id, f));
        setup.browserOffered(System.nanoTime());
        noAnswerTimer = service.timers().schedule(() -> executor.execute(() -> {
            if (state == CallState.OFFERED) {
                sip.reject(480);
                end("no-answer", null, null);
            }
        }), service.config().noAnswerTimeout().toMillis(), TimeUnit.MILLISECONDS);
    }

    /** The browser answers an incoming call. */
    CompletableFuture<Void> answer(String browserAnswer) {
        return request(() -> {
            requireState("answer", CallState.OFFERED);
            String sipAnswer = media.sipAnswerFor(browserAnswer);
            try {
                sip.answer(sipAnswer);
            } catch (Exception e) {
                throw new GatewayException(ErrorCode.WRONG_STATE, "the call can no longer be answered: " + e.getMessage());
            }
            if (sip.incomingOffer() == null) {
                awaitAckAnswer(); // delayed offer: the 200 carried our offer
            }
            cancelNoAnswer();
            connectedAt = Instant.now();
            setup.answered(System.nanoTime());
            transitionTo(CallState.CONNECTED);
            event("connected");
            return null;
        });
    }

    CompletableFuture<Void> reject(int status) {
        return submit(() -> {
            requireState("reject", CallState.OFFERED);
            sip.reject(status);
            end("rejected", status, null);
            return null;
        });
    }

    @Override
    public void onAck(String sdp) {
        if (!awaitingAckAnswer || state == CallState.ENDED) {
            return; // the ACK of a 2xx that answered an offer: nothing to negotiate
        }
        awaitingAckAnswer = false;
        // RFC 3261 §13.2.1 / RFC 3264 §5: our 2xx carried the offer, so the ACK must carry the answer; without a
        // usable one there is no session to bridge and the call fails.
        String why;
        if (sdp == null) {
            why = "ACK without the SDP answer to our offer";
        } else {
            try {
                media.applySipReanswer(sdp);
                boolean holdNow = io.webrtcgateway.sdp.Direction.isHold(io.webrtcgateway.sdp.SdpParser.parse(sdp));
                if (holdNow != remoteHold && (state == CallState.CONNECTED || state == CallState.HELD)) {
                    remoteHold = holdNow;
                    updateHoldState(holdNow ? "held" : "resumed", "remote");
                }
                return;
            } catch (SdpException e) {
                why = "unusable SDP answer in the ACK: " + e.getMessage();
            }
        }
        LOG.info("call {}: {}; hanging up", id, why);
        sip.hangUp(488, why);
        end("bad-answer", 488, "Not Acceptable Here");
    }

    /** We offered in a 2xx (delayed offer): the ACK must answer, within 64*T1 (RFC 3261 §13.3.1.4). */
    private void awaitAckAnswer() {
        awaitingAckAnswer = true;
        sip.schedule(() -> {
            if (awaitingAckAnswer) {
                awaitingAckAnswer = false;
                LOG.info("call {}: no ACK for the 2xx carrying our offer; hanging up", id);
                sip.hangUp(408, "no ACK to the 2xx carrying the offer");
                end("bad-answer", 408, "Request Timeout");
            }
        }, 32_000);
    }

    @Override
    public void onRemoteCancel() {
        cancelNoAnswer();
        end("cancelled", 487, "Request Terminated");
    }

    // ---- in call ------------------------------------------------------------------------------------

    CompletableFuture<Void> hangup() {
        return hangup("local-hangup");
    }

    /** Hangs up toward SIP (BYE, CANCEL or 480 as the state needs) and tells the browser {@code reason}. */
    CompletableFuture<Void> hangup(String reason) {
        return submit(() -> {
            if (state != CallState.ENDED) {
                sip.hangUp();
                end(reason, null, null);
            }
            return null;
        });
    }

    /**
     * For the admin API: media counters and transport state ({@link CallMedia#stats()}) plus the SIP
     * dialog's identifiers, read on the call's executor like everything else here.
     */
    CompletableFuture<Map<String, Object>> adminDetail() {
        return submit(() -> {
            Map<String, Object> d = new LinkedHashMap<>(media.stats());
            d.put("state", state.wireName());
            d.put("sipCallId", sip.callId());
            d.put("sipLocalTag", sip.localTag());
            d.put("sipRemoteTag", sip.remoteTag());
            return d;
        });
    }

    CompletableFuture<Void> hold(boolean hold) {
        CompletableFuture<Void> result = new CompletableFuture<>();
        Runnable task = () -> {
            try {
                requireState(hold ? "hold" : "resume", CallState.CONNECTED, CallState.HELD);
                if (localHold == hold) {
                    result.complete(null);
                    return;
                }
                if (pendingHoldChange != null || sip.reinviteInProgress()) {
                    throw new GatewayException(ErrorCode.WRONG_STATE, "a re-negotiation is in progress; try again");
                }
                sip.reinvite(media.sipReoffer(hold));
                pendingHoldChange = result;
                pendingHoldTarget = hold;
            } catch (GatewayException e) {
                result.completeExceptionally(e);
            } catch (Exception e) {
                result.completeExceptionally(new GatewayException(ErrorCode.INTERNAL, "re-INVITE failed: " + e.getMessage()));
            }
        };
        enqueueRequest(task, result);
        return result;
    }

    @Override
    public void onReinviteResult(int status, String reason, String sdp) {
        CompletableFuture<Void> waiting = pendingHoldChange;
        boolean target = pendingHoldTarget;
        if (status == 491 && waiting != null) {
            // Glare (RFC 3261 §14.1): retry after the random wait, same goal.
            long delay = sip.glareRetryDelayMillis();
            sip.schedule(() -> {
                try {
                    sip.reinvite(media.sipReoffer(target));
                } catch (Exception e) {
                    pendingHoldChange = null;
                    waiting.completeExceptionally(new GatewayException(ErrorCode.INTERNAL, "re-INVITE failed: " + e.getMessage()));
                }
            }, delay);
            return;
        }
        pendingHoldChange = null;
        if (status >= 200 && status < 300) {
            if (sdp != null) {
                try {
                    media.applySipReanswer(sdp);
                } catch (SdpException e) {
                    LOG.warn("call {}: unusable re-INVITE answer: {}", id, e.getMessage());
                }
            }
            localHold = target;
            updateHoldState(target ? "held" : "resumed", "local");
            if (waiting != null) {
                waiting.complete(null);
            }
        } else if (waiting != null) {
            waiting.completeExceptionally(new GatewayException(ErrorCode.SIP_REJECTED,
                    "SIP Server refused the re-INVITE: " + status + " " + reason, status, reason));
        }
    }

    @Override
    public void onRemoteReinvite(String sdp, SipLeg.ReinviteReply reply) {
        try {
            String answer = media.answerSipReoffer(sdp);
            boolean holdNow = sdp != null && io.webrtcgateway.sdp.Direction.isHold(io.webrtcgateway.sdp.SdpParser.parse(sdp));
            reply.accept(answer);
            if (sdp == null) {
                // A re-INVITE without SDP (3PCC, RFC 3725 flows): our 200 offers, the ACK answers.
                awaitAckAnswer();
                return;
            }
            if (holdNow != remoteHold) {
                remoteHold = holdNow;
                updateHoldState(holdNow ? "held" : "resumed", "remote");
            }
        } catch (SdpException e) {
            LOG.info("call {}: re-INVITE refused (488): {}", id, e.getMessage());
            reply.reject(488, e.getMessage());
        } catch (RuntimeException e) {
            // Never leave a re-INVITE unanswered: SIP Server would retransmit it and end the call, and every
            // later re-INVITE would get 491 while this one stays pending. A 500 leaves the session as it was.
            LOG.warn("call {}: re-INVITE failed (500)", id, e);
            reply.reject(500);
        }
    }

    private void updateHoldState(String eventName, String by) {
        boolean held = localHold || remoteHold;
        if (state == CallState.CONNECTED && held) {
            transitionTo(CallState.HELD);
        } else if (state == CallState.HELD && !held) {
            transitionTo(CallState.CONNECTED);
        }
        event(eventName, "by", by);
    }

    CompletableFuture<Void> dtmf(String digits, int durationMs) {
        return request(() -> {
            requireState("dtmf", CallState.CONNECTED, CallState.HELD, CallState.EARLY);
            // RFC 4733 in the SIP-side RTP stream unless configured otherwise; INFO also when SIP Server's SDP
            // has no telephone-event (it could not take the events).
            if (service.config().dtmfViaInfo() || !media.sendDtmf(digits, durationMs)) {
                for (char d : digits.toCharArray()) {
                    try {
                        sip.info("application/dtmf-relay", "Signal=" + d + "\r\nDuration=" + durationMs + "\r\n");
                    } catch (Exception e) {
                        throw new GatewayException(ErrorCode.INTERNAL, "INFO not sent: " + e.getMessage());
                    }
                }
            }
            return null;
        });
    }

    CompletableFuture<Void> info(String contentType, String body) {
        return request(() -> {
            requireState("info", CallState.CONNECTED, CallState.HELD, CallState.EARLY, CallState.RINGING);
            try {
                sip.info(contentType, body);
            } catch (Exception e) {
                throw new GatewayException(ErrorCode.INTERNAL, "INFO not sent: " + e.getMessage());
            }
            return null;
        });
    }

    CompletableFuture<Void> candidate(String candidate, int mLineIndex) {
        return request(() -> {
            if (state == CallState.ENDED) {
                throw new GatewayException(ErrorCode.WRONG_STATE, "the call has ended");
            }
            media.addBrowserCandidate(candidate, mLineIndex);
            return null;
        });
    }

    /** A legacy re-offer: answer the browser; hold or resume the SIP side when its direction says so. */
    CompletableFuture<String> browserReoffer(String browserOffer, Boolean hold) {
        CompletableFuture<String> answer = request(() -> {
            requireState("re-offer", CallState.CONNECTED, CallState.HELD);
            return media.answerBrowserReoffer(browserOffer);
        });
        if (hold == null) {
            return answer;
        }
        return answer.thenCompose(sdp -> hold(hold).thenApply(v -> sdp));
    }

    CompletableFuture<String> iceRestart(String browserOffer) {
        return request(() -> {
            requireState("ice-restart", CallState.CONNECTED, CallState.HELD, CallState.EARLY);
            String answer = media.answerBrowserReoffer(browserOffer);
            mediaWatch.onIceRestart(System.nanoTime());
            return answer;
        });
    }

    CompletableFuture<Map<String, Object>> stats() {
        return request(() -> {
            Map<String, Object> s = new LinkedHashMap<>(media.stats());
            s.put("state", state.wireName());
            return s;
        });
    }

    @Override
    public void onRemoteBye() {
        end("remote-hangup", null, null);
    }

    @Override
    public void onDialogGone(String reason, Integer sipStatus, String sipReason) {
        // session-expired (RFC 4028) or dialog-lost: the leg already sent the BYE where one was due.
        end(reason, sipStatus, sipReason);
    }

    @Override
    public boolean onInfo(String contentType, String body) {
        int max = service.inputs().maxInfoBytes();
        if (body != null && body.getBytes(StandardCharsets.UTF_8).length > max) {
            LOG.warn("call {}: INFO body of {} characters not passed to the browser: over gateway.limits.max-info-bytes"
                    + " ({})", id, body.length(), max);
            return false;
        }
        event("info", "contentType", contentType, "body", body == null ? "" : body);
        return true;
    }

    @Override
    public void onNotify(String eventType, String contentType, String body) {
        // Genesys SIP Server's remote control: NOTIFY Event: talk (answer) / hold.
        if ("talk".equalsIgnoreCase(eventType) || "hold".equalsIgnoreCase(eventType)) {
            event("remote-control", "action", eventType.toLowerCase());
        }
    }

    private void onMediaState(CallMedia.State s) {
        if (state == CallState.ENDED) {
            return;
        }
        if (s == CallMedia.State.CONNECTED) {
            setup.mediaUp(System.nanoTime());
        }
        String reason = mediaWatch.onMediaState(s, System.nanoTime());
        if (reason != null) {
            endForMedia(reason);
            return;
        }
        if (mediaCheck == null && mediaWatch.armed()) {
            long period = mediaCheckPeriodMillis();
            long jitter = ThreadLocalRandom.current().nextLong(period); // calls don't all tick together
            mediaCheck = service.timers().scheduleAtFixedRate(() -> executor.execute(this::checkMedia),
                    period + jitter, period, TimeUnit.MILLISECONDS);
        }
    }

    /** About once a second; finer when a timeout is short (tests), so it is kept to within a quarter. */
    private long mediaCheckPeriodMillis() {
        long shortest = service.config().mediaSetupTimeout().toMillis();
        if (!service.config().mediaTimeout().isZero()) {
            shortest = Math.min(shortest, service.config().mediaTimeout().toMillis());
        }
        return Math.max(100, Math.min(1000, shortest / 4));
    }

    private void checkMedia() {
        if (state == CallState.ENDED) {
            return;
        }
        String reason = mediaWatch.check(System.nanoTime(), media.activity(), state == CallState.CONNECTED);
        if (reason != null) {
            endForMedia(reason);
        }
    }

    /** The media watch ended the call (media-timeout, ice-failed): BYE/CANCEL to SIP, ended to the browser. */
    private void endForMedia(String reason) {
        LOG.info("call {}: {}: {}", id, reason, mediaWatch.explanation());
        service.metrics().mediaFailed(mediaWatch.cause());
        sip.hangUp();
        end(reason, null, null);
    }

    /** The session ended or the instance stops: hang up. */
    void terminate(String reason) {
        executor.execute(() -> {
            if (state != CallState.ENDED) {
                sip.hangUp();
                end(reason, null, null);
            }
        });
    }

    // ---- common -------------------------------------------------------------------------------------

    private void requireState(String what, CallState... allowed) {
        for (CallState s : allowed) {
            if (state == s) {
                return;
            }
        }
        throw new GatewayException(ErrorCode.WRONG_STATE, "'" + what + "' is not possible while the call is "
                + state.wireName());
    }

    void transitionTo(CallState next) {
        if (state == next) {
            return;
        }
        if (!state.canGoTo(next)) {
            LOG.warn("call {}: refused transition {} -> {}", id, state, next);
            return;
        }
        LOG.info("call {}: {} -> {}", id, state, next);
        state = next;
        publishedState = next;
    }

    private void end(String reason, Integer sipStatus, String sipReason) {
        if (state == CallState.ENDED) {
            return;
        }
        cancelNoAnswer();
        if (mediaCheck != null) {
            mediaCheck.cancel(false);
            mediaCheck = null;
        }
        endReason = reason;
        endSipStatus = sipStatus;
        endSipReason = sipReason;
        transitionTo(CallState.ENDED);
        sip.end();
        media.close();
        if (pendingHoldChange != null) {
            pendingHoldChange.completeExceptionally(new GatewayException(ErrorCode.WRONG_STATE, "the call ended"));
            pendingHoldChange = null;
        }
        Map<String, Object> f = new LinkedHashMap<>();
        f.put("reason", reason);
        if (sipStatus != null) {
            f.put("sipStatus", sipStatus);
            f.put("sipReason", sipReason);
        }
        session.deliver(new SessionEvent.CallEvent("ended", id, f));
        service.ended(this);
    }

    private void cancelNoAnswer() {
        if (noAnswerTimer != null) {
            noAnswerTimer.cancel(false);
            noAnswerTimer = null;
        }
    }

    private void event(String name, Object... kv) {
        Map<String, Object> f = new LinkedHashMap<>();
        for (int i = 0; i < kv.length; i += 2) {
            f.put((String) kv[i], kv[i + 1]);
        }
        session.deliver(new SessionEvent.CallEvent(name, id, f));
    }
}
