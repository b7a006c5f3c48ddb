package io.webrtcgateway.call;

import java.util.EnumSet;
import java.util.Map;
import java.util.Set;

/**
 * A call's states and the transitions allowed between them; {@link Call#transitionTo} checks this table.
 * CALLING: our INVITE is out. OFFERED: SIP Server's INVITE is offered to the browser. HELD: either side put
 * the call on hold (who did is tracked separately).
 */
public enum CallState {
    CALLING, OFFERED, RINGING, EARLY, CONNECTED, HELD, ENDED;

    private static final Map<CallState, Set<CallState>> ALLOWED = Map.of(
            CALLING, EnumSet.of(RINGING, EARLY, CONNECTED, ENDED),
            OFFERED, EnumSet.of(CONNECTED, ENDED),
            RINGING, EnumSet.of(EARLY, CONNECTED, ENDED),
            EARLY, EnumSet.of(RINGING, CONNECTED, ENDED),
            CONNECTED, EnumSet.of(HELD, ENDED),
            HELD, EnumSet.of(CONNECTED, ENDED),
            ENDED, EnumSet.noneOf(CallState.class));

    public boolean canGoTo(CallState next) {
        return ALLOWED.get(this).contains(next);
    }

    /** The name browsers see (docs/protocol.md). */
    public String wireName() {
        return name().toLowerCase();
    }
}
