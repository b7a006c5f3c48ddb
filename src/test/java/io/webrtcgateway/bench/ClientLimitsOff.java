package io.webrtcgateway.bench;

import io.webrtcgateway.testsupport.GatewayProcess;

/**
 * A benchmark is one client (127.0.0.1, a few sessions) doing the work of thousands of browsers: the per-client
 * limits (gateway.limits.*-per-address, -per-session, -per-dn; docs/configuration.md) would measure themselves,
 * not the gateway, so benchmarks turn them off. The instance-wide limits stay as each benchmark sets them.
 */
final class ClientLimitsOff {
    private ClientLimitsOff() {}

    static GatewayProcess.Builder on(GatewayProcess.Builder gateway) {
        return gateway.set("gateway.limits.max-sessions-per-address", "0")
                .set("gateway.limits.sign-ins-per-address-per-second", "0")
                .set("gateway.limits.requests-per-session-per-second", "0")
                .set("gateway.limits.max-calls-per-session", "0")
                .set("gateway.limits.registrations-per-dn-per-minute", "0");
    }
}
