package io.webrtcgateway.media.dtls;

import java.util.Locale;

/**
 * The SDP {@code a=setup} attribute (RFC 4145 §4, used for DTLS by RFC 5763 §5 and RFC 8842) and how it
 * maps to a DTLS role. The gateway's choices:
 * <ul>
 *   <li>As offerer we always offer {@code actpass} (RFC 5763 §5: the offerer MUST), and take the role the
 *       answer leaves us: answer {@code active} makes us SERVER, answer {@code passive} makes us CLIENT.</li>
 *   <li>As answerer to {@code actpass} we answer {@code active} and are the CLIENT: RFC 5763 §5 recommends it
 *       because our ClientHello can leave as soon as ICE is up, instead of waiting one more trip for the
 *       browser to learn our answer and start. Browsers answer {@code active} to us for the same reason.</li>
 *   <li>To {@code active} we answer {@code passive} (SERVER); to {@code passive}, {@code active} (CLIENT).
 *       {@code holdconn} is refused.</li>
 * </ul>
 * Only a new DTLS association (ICE restart with new fingerprints) may change the roles; keeping them across
 * re-offers is the caller's job (RFC 8842).
 */
public enum DtlsSetup {
    ACTPASS,
    ACTIVE,
    PASSIVE,
    HOLDCONN;

    /** The SDP value: {@code actpass}, {@code active}, ... */
    public String sdpValue() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** Parses the attribute value, with or without {@code a=setup:}. */
    public static DtlsSetup parse(String value) {
        if (value == null) {
            throw new IllegalArgumentException("a=setup value missing");
        }
        String v = value.strip();
        if (v.startsWith("a=")) {
            v = v.substring(2);
        }
        if (v.startsWith("setup:")) {
            v = v.substring("setup:".length());
        }
        switch (v.strip().toLowerCase(Locale.ROOT)) {
            case "actpass":
                return ACTPASS;
            case "active":
                return ACTIVE;
            case "passive":
                return PASSIVE;
            case "holdconn":
                return HOLDCONN;
            default:
                throw new IllegalArgumentException("a=setup must be actpass, active, passive or holdconn, got '"
                        + value + "'");
        }
    }

    /** What we put in our answer to an offer carrying {@code offered}. */
    public static DtlsSetup answerTo(DtlsSetup offered) {
        switch (offered) {
            case ACTPASS:
            case PASSIVE:
                return ACTIVE;
            case ACTIVE:
                return PASSIVE;
            default:
                throw new IllegalArgumentException("cannot answer a=setup:" + offered.sdpValue()
                        + " with a DTLS association");
        }
    }

    /**
     * Our role given the {@code a=setup} we sent when it was {@code active} or {@code passive} (always so in an
     * answer); after sending {@code actpass}, see {@link #offererRole}.
     */
    public DtlsRole localRole() {
        switch (this) {
            case ACTIVE:
                return DtlsRole.CLIENT;
            case PASSIVE:
                return DtlsRole.SERVER;
            default:
                throw new IllegalStateException("a=setup:" + sdpValue() + " does not decide the role by itself");
        }
    }

    /** Our role as offerer (we sent {@code actpass}) given the answer's {@code a=setup}. */
    public static DtlsRole offererRole(DtlsSetup answered) {
        switch (answered) {
            case ACTIVE:
                return DtlsRole.SERVER;
            case PASSIVE:
                return DtlsRole.CLIENT;
            default:
                throw new IllegalArgumentException("the answer's a=setup must be active or passive, got "
                        + answered.sdpValue());
        }
    }
}
