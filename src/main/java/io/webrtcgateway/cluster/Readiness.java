package io.webrtcgateway.cluster;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.webrtcgateway.concurrent.ExecutorWatchdog;
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
    private final ExecutorWatchdog watchdog;

    public Readiness(GatewayConfig config, Admission admission, SipServerPool servers, SessionService sessions,
                     ExecutorWatchdog watchdog, MeterRegistry meters) {
        this.config = config;
        this.admission = admission;
        this.servers = servers;
        this.sessions = sessions;
        this.watchdog = watchdog;
        Gauge.builder("gateway.ready", this, r -> r.notReadyReasons().isEmpty() ? 1 : 0)
                .description("1 while /health/ready answers 200 (takes new sessions), else 0")
                .register(meters);
        Gauge.builder("gateway.draining", admission, a -> a.isDraining() ? 1 : 0)
                .description("1 while an operator has drained this instance (POST /admin/api/drain), else 0")
                .register(meters);
    }

    /**
     * Empty when ready; else one short reason each ("draining", "sip-unreachable", ...). A stuck executor is
     * {@code executor-stuck:<pool>}: the instance would accept a browser and then not answer it.
     */
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
        for (String pool : watchdog.stuck()) {
            reasons.add("executor-stuck:" + pool);
        }
        return reasons;
    }
}
