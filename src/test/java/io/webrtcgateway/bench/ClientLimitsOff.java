package io.webrtcgateway.bench;

import io.webrtcgateway.testsupport.GatewayProcess;

/**
 * A benchmark is one client (127.0.0.1, a few sessions) doing the work of thousands of browsers: the per-client
 * limits (gateway.limits.*-per-address, -per-session, -per-dn; docs/configuration.md) would measure themselves,
 * not the gateway, so benchmarks turn them off. The instance-wide limits stay as each benchmark sets them.
 */
public final class ClientLimitsOff {
    private ClientLimitsOff() {}

    public static GatewayProcess.Builder on(GatewayProcess.Builder gateway) {
        return perAddress(gateway)
                .set("gateway.limits.requests-per-session-per-second", "0")
                .set("gateway.limits.max-calls-per-session", "0")
                .set("gateway.limits.registrations-per-dn-per-minute", "0");
    }

    /**
     * Only the limits of one client address (live sessions, sign-ins per second), for a load whose every session
     * behaves like one browser (a call at a time, a DN of its own, a few requests a minute) but which all come from
     * 127.0.0.1: the per-session and per-DN limits stay as a deployment has them (the soak's bad input meets them).
     */
    public static GatewayProcess.Builder perAddress(GatewayProcess.Builder gateway) {
        return gateway.set("gateway.limits.max-sessions-per-address", "0")
                .set("gateway.limits.sign-ins-per-address-per-second", "0");
    }
}
