package io.webrtcgateway.limits;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;

/**
 * {@code gateway_capacity_refusals_total{limit}} (docs/metrics.md, "Limits"): requests refused because this
 * instance is full, whoever asked, unlike {@link ClientLimits}' refusals of one client over its own limits. Each
 * part registers the counter of the limit it owns (sessions, calls, media ports), so every label is exported from
 * the start, at 0. INVITEs over gateway.limits.max-calls are counted apart, in gateway_sip_invites_refused_total.
 */
public final class CapacityRefusals {
    /** The {@code limit} label. */
    public enum Limit {
        /** gateway.limits.max-sessions: a sign-in refused TOO_MANY_SESSIONS. */
        MAX_SESSIONS("max-sessions"),
        /** gateway.limits.max-calls: a browser's call request refused TOO_MANY_CALLS. */
        MAX_CALLS("max-calls"),
        /** gateway.media.rtp-port-range: no free port for a call's media, either direction (TOO_MANY_CALLS, 500). */
        RTP_PORTS("rtp-ports");

        private final String label;

        Limit(String label) {
            this.label = label;
        }

        public String label() {
            return label;
        }
    }

    private CapacityRefusals() {}

    public static Counter counter(MeterRegistry meters, Limit limit) {
        return Counter.builder("gateway.capacity.refusals")
                .description("requests refused because the instance reached one of its capacity limits")
                .tag("limit", limit.label()).register(meters);
    }
}
