package io.webrtcgateway.sdp;

import java.util.Locale;

/** {@code a=setup} (RFC 4145 §4): who opens the DTLS association. ACTIVE is the DTLS client (RFC 5763 §5). */
public enum SetupRole {
    ACTIVE, PASSIVE, ACTPASS, HOLDCONN;

    public String attributeValue() {
        return name().toLowerCase(Locale.ROOT);
    }

    static SetupRole parse(String value) {
        for (SetupRole r : values()) {
            if (r.attributeValue().equalsIgnoreCase(value.trim())) {
                return r;
            }
        }
        throw SdpException.malformed(SdpException.quote("a=setup:" + value)
                + ": expected active, passive, actpass or holdconn");
    }

    /**
     * The role to answer an offered role with: active to actpass (RFC 5763 §5 says the answerer SHOULD be
     * the client) and to passive, passive to active; null when the offer (holdconn) allows no connection.
     */
    public static SetupRole answerFor(SetupRole offered) {
        return switch (offered) {
            case ACTPASS, PASSIVE -> ACTIVE;
            case ACTIVE -> PASSIVE;
            case HOLDCONN -> null;
        };
    }

    /** Whether an answer with this role is valid for the offered role. */
    public boolean canAnswer(SetupRole offered) {
        return switch (offered) {
            case ACTPASS -> this == ACTIVE || this == PASSIVE;
            case ACTIVE -> this == PASSIVE;
            case PASSIVE -> this == ACTIVE;
            case HOLDCONN -> this == HOLDCONN;
        };
    }
}
