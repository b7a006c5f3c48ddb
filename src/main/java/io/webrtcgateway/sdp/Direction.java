package io.webrtcgateway.sdp;

import java.util.Locale;

/**
 * Media direction from the point of view of the SDP's author (RFC 3264 §5.1, RFC 8866 §6.7):
 * SENDONLY = "I send, do not send to me". Also the hold rules: hold is what the author says by not wanting
 * to receive (RFC 3264 §8.4).
 */
public enum Direction {
    SENDRECV(true, true), SENDONLY(true, false), RECVONLY(false, true), INACTIVE(false, false);

    private final boolean sends;
    private final boolean receives;

    Direction(boolean sends, boolean receives) {
        this.sends = sends;
        this.receives = receives;
    }

    public static Direction of(boolean sends, boolean receives) {
        return sends ? (receives ? SENDRECV : SENDONLY) : (receives ? RECVONLY : INACTIVE);
    }

    public boolean sends() {
        return sends;
    }

    public boolean receives() {
        return receives;
    }

    /** The attribute name: "sendrecv", "sendonly", "recvonly", "inactive". */
    public String attributeName() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** The same stream seen from the other end. */
    public Direction reverse() {
        return of(receives, sends);
    }

    /**
     * This direction, as an answer, limited to what the offer allows (RFC 3264 §6.1: sendonly is answered
     * recvonly or inactive, and so on). Repairs answers from peers that ignore the offer's direction.
     */
    public Direction answering(Direction offered) {
        return of(sends && offered.receives, receives && offered.sends);
    }

    /**
     * The direction attribute of a section as written: media level, else session level, else sendrecv
     * (RFC 8866 §6.7).
     */
    public static Direction declared(SessionDescription sdp, MediaDescription section) {
        Direction d = find(section.attributes());
        if (d == null) {
            d = find(sdp.attributes());
        }
        return d == null ? SENDRECV : d;
    }

    /**
     * The direction the author means: {@link #declared} minus "receive" when the section's connection
     * address is 0.0.0.0 (RFC 2543-style hold, RFC 3264 §8.4: nothing can be sent to that address).
     * The 0.0.0.0 rule applies only to plain SDP: with ICE, c=0.0.0.0 just means "see the candidates"
     * (RFC 8839).
     */
    public static Direction effective(SessionDescription sdp, MediaDescription section) {
        Direction d = declared(sdp, section);
        Connection c = sdp.connectionOf(section);
        boolean ice = sdp.attributeOf(section, "ice-ufrag").isPresent();
        if (c != null && c.isUnspecifiedAddress() && !ice) {
            d = of(d.sends, false);
        }
        return d;
    }

    /** True when the section is in use and its author does not want to receive: sendonly, inactive, c=0.0.0.0. */
    public static boolean isHold(SessionDescription sdp, MediaDescription section) {
        return section.isActive() && !effective(sdp, section).receives;
    }

    /** True when the SDP has an active audio section and every active audio section is on hold. */
    public static boolean isHold(SessionDescription sdp) {
        boolean anyAudio = false;
        for (MediaDescription m : sdp.media()) {
            if (m.media().equals("audio") && m.isActive()) {
                anyAudio = true;
                if (!isHold(sdp, m)) {
                    return false;
                }
            }
        }
        return anyAudio;
    }

    private static Direction find(java.util.List<Attribute> attributes) {
        for (Attribute a : attributes) {
            if (a.value() == null) {
                for (Direction d : values()) {
                    if (a.name().equalsIgnoreCase(d.attributeName())) {
                        return d;
                    }
                }
            }
        }
        return null;
    }
}
