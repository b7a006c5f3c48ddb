package io.webrtcgateway.sdp;

import java.util.Objects;

/**
 * How the SIP leg of one call may be keyed: {@code gateway.sip.srtp} (docs/sip.md "SRTP toward SIP Server"),
 * narrowed per call by the transport its SIP messages travel on. SDES keys (RFC 4568) are written into the SDP,
 * so anyone who reads the SIP messages can decrypt the media: over UDP or TCP the gateway puts none there unless
 * the operator allowed it ({@code gateway.sip.srtp-over-insecure-transport}).
 *
 * @param mode        {@code gateway.sip.srtp}
 * @param keysRefused why this call may not carry SDES keys (its SIP transport is not TLS), or null when it may
 */
public record SipSrtp(Mode mode, String keysRefused) {

    public enum Mode {
        /** Plain RTP/AVP; RTP/SAVP sections are refused. */
        OFF,
        /** Offers RTP/AVP with a=crypto (best-effort SRTP); SAVP offers answered SAVP, AVP offers AVP. */
        OPTIONAL,
        /** Offers RTP/SAVP with a=crypto; sections without a usable a=crypto are refused. */
        REQUIRED
    }

    /** Plain RTP, what the gateway did before SRTP toward SIP existed. */
    public static final SipSrtp OFF = new SipSrtp(Mode.OFF, null);

    public SipSrtp {
        Objects.requireNonNull(mode, "mode");
    }

    /** Whether this call's SDP toward SIP may carry SDES keys. */
    public boolean keysAllowed() {
        return mode != Mode.OFF && keysRefused == null;
    }

    /** Why an SRTP section cannot be keyed on this call, for a 488's reason. */
    String whyNoKeys() {
        return mode == Mode.OFF ? "SRTP toward SIP Server is off (gateway.sip.srtp = off)" : keysRefused;
    }
}
