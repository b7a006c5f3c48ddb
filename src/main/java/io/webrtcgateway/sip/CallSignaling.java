package io.webrtcgateway.sip;

import io.webrtcgateway.config.GatewayConfig;
import io.webrtcgateway.config.SipServerAddress;
import java.util.concurrent.ScheduledExecutorService;
import java.util.function.Consumer;
import javax.sip.RequestEvent;
import javax.sip.ServerTransaction;
import javax.sip.SipProvider;
import javax.sip.message.Response;

/** What calls need from the SIP layer: the stack, addressing, the active SIP Server, timers, new INVITEs. */
public final class CallSignaling {
    private final SipEndpoint sip;
    private final SipAddressing addressing;
    private final SipServerPool servers;
    private final ScheduledExecutorService timers;
    private final SessionTimer.Settings sessionTimers;

    /** Without RFC 4028 session timers. */
    public CallSignaling(SipEndpoint sip, GatewayConfig.Sip config, SipServerPool servers, ScheduledExecutorService timers) {
        this(sip, config, servers, timers, 0, 90);
    }

    /**
     * {@code sessionExpires} and {@code minSe} in seconds (gateway.calls.session-expires, min-se);
     * {@code sessionExpires} 0 turns RFC 4028 session timers off.
     */
    public CallSignaling(SipEndpoint sip, GatewayConfig.Sip config, SipServerPool servers, ScheduledExecutorService timers,
                         int sessionExpires, int minSe) {
        this.sip = sip;
        this.addressing = new SipAddressing(sip, config);
        this.servers = servers;
        this.timers = timers;
        this.sessionTimers = new SessionTimer.Settings(sessionExpires, minSe);
    }

    SessionTimer.Settings sessionTimers() {
        return sessionTimers;
    }

    /**
     * RFC 4028 §8.1: a new INVITE asking for a Session-Expires below our Min-SE is answered 422 with our
     * Min-SE (the caller may retry with a larger one). Returns whether it was.
     */
    public boolean refusedAsTooBrief(RequestEvent event) {
        if (!SessionTimer.tooBrief(sessionTimers, event.getRequest())) {
            return false;
        }
        try {
            Response r = sip.messages().createResponse(SessionTimer.SESSION_INTERVAL_TOO_SMALL, event.getRequest());
            r.setReasonPhrase("Session Interval Too Small");
            r.addHeader(sip.headers().createHeader(SessionTimer.MIN_SE, Integer.toString(sessionTimers.minSe())));
            ServerTransaction st = event.getServerTransaction() != null ? event.getServerTransaction()
                    : ((SipProvider) event.getSource()).getNewServerTransaction(event.getRequest());
            st.sendResponse(r);
        } catch (Exception e) {
            sip.reply(event, SessionTimer.SESSION_INTERVAL_TOO_SMALL);
        }
        return true;
    }

    /** New (out-of-dialog) INVITEs go to {@code handler}. */
    public void onInvite(Consumer<RequestEvent> handler) {
        sip.onRequest("INVITE", handler);
    }

    /** The SIP Server to send a new INVITE to, or null when none is reachable. */
    public SipServerAddress activeServer() {
        return servers.active();
    }

    public void reply(RequestEvent event, int status) {
        sip.reply(event, status);
    }

    /** A reply with Retry-After (e.g. 503 when calls arrive faster than gateway.limits allow). */
    public void reply(RequestEvent event, int status, int retryAfterSeconds) {
        sip.reply(event, status, retryAfterSeconds);
    }

    SipEndpoint sip() {
        return sip;
    }

    SipAddressing addressing() {
        return addressing;
    }

    ScheduledExecutorService timers() {
        return timers;
    }

    public String advertisedHost() {
        return sip.advertisedHost();
    }
}
