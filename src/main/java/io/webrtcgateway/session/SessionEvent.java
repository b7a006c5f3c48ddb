package io.webrtcgateway.session;

/** What a session's browser is told without asking; each edge renders these in its wire format. */
public sealed interface SessionEvent {
    record Registered(String dn, int expires) implements SessionEvent {}

    record Unregistered(String dn, String reason, Integer sipStatus, String sipReason) implements SessionEvent {}

    /** This instance is going away: reconnect (through the load balancer) now. */
    record Shutdown(String reason) implements SessionEvent {}

    /**
     * Something happened to one of the session's calls: {@code name} is the protocol's event name
     * (incoming, ringing, early, connected, held, resumed, dtmf, info, remote-control, ended), {@code fields}
     * its data (docs/protocol.md).
     */
    record CallEvent(String name, String call, java.util.Map<String, Object> fields) implements SessionEvent {}

    /** The session ended on the gateway's side (idle expiry, admin sign-out, resumed elsewhere). */
    record Ended(String reason) implements SessionEvent {}
}
