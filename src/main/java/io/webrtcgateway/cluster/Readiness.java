package io.webrtcgateway.cluster;

import io.webrtcgateway.config.GatewayConfig;
import io.webrtcgateway.session.SessionService;
import io.webrtcgateway.sip.SipServerPool;
import java.util.ArrayList;
import java.util.List;

/** Can this instance take new sessions now (SPEC §7)? With the reasons when it cannot. */
public final class Readiness {
    private final GatewayConfig config;
    private final Admission admission;
    private final SipServerPool servers;
    private final SessionService sessions;

    public Readiness(GatewayConfig config, Admission admission, SipServerPool servers, SessionService sessions) {
        this.config = config;
        this.admission = admission;
        this.servers = servers;
        this.sessions = sessions;
    }

    /** Empty when ready; else one short reason each ("draining", "sip-unreachable", ...). */
    public List<String> notReadyReasons() {
        List<String> reasons = new ArrayList<>();
        if (admission.isStopping()) {
            reasons.add("stopping");
        } else if (admission.isDraining()) {
            reasons.add("draining");
        }
        if (servers.active() == null) {
            reasons.add("sip-unreachable");
        } else if (!servers.activeConfirmed()) {
            reasons.add("sip-not-yet-confirmed");
        }
        if (sessions.count() >= config.limits().maxSessions()) {
            reasons.add("session-limit");
        }
        return reasons;
    }
}
