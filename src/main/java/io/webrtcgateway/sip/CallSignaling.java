package io.webrtcgateway.sip;

import io.webrtcgateway.config.GatewayConfig;
import io.webrtcgateway.config.SipServerAddress;
import java.util.concurrent.ScheduledExecutorService;
import java.util.function.Consumer;
import javax.sip.RequestEvent;

/** What calls need from the SIP layer: the stack, addressing, the active SIP Server, timers, new INVITEs. */
public final class CallSignaling {
    private final SipEndpoint sip;
    private final SipAddressing addressing;
    private final SipServerPool servers;
    private final ScheduledExecutorService timers;

    public CallSignaling(SipEndpoint sip, GatewayConfig.Sip config, SipServerPool servers, ScheduledExecutorService timers) {
        this.sip = sip;
        this.addressing = new SipAddressing(sip, config);
        this.servers = servers;
        this.timers = timers;
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
