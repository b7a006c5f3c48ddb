package io.webrtcgateway.sip;

/** Told when a registration ends without its owner asking (refresh refused, DN taken over, server gone). */
public interface RegistrationListener {
    /**
     * @param reason    {@code refresh-failed}, {@code replaced} or {@code server-unreachable}
     * @param sipStatus SIP Server's status when it answered, else null
     */
    void onRegistrationLost(Registration registration, String reason, Integer sipStatus, String sipReason);

    /**
     * Whether the browser holding the registration is still here. While it is not, refreshes wait: the
     * browser may be registering the DN through another instance (docs/sip.md, hand-over).
     */
    default boolean ownerPresent() {
        return true;
    }
}
