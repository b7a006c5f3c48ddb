package io.webrtcgateway.sdp;

import java.util.Set;

/** The m= line transport protocols ("profiles") each side of the gateway speaks. */
final class MediaProtocol {
    private MediaProtocol() {}

    /** What the SIP side gets and takes: plain RTP (RFC 3551), AVPF tolerated (RFC 4585 is AVP-compatible). */
    static final String PLAIN = "RTP/AVP";
    /** SRTP toward SIP (RFC 3711 §12), keyed with SDES a=crypto (RFC 4568); SAVPF tolerated like AVPF. */
    static final String SECURE = "RTP/SAVP";
    private static final Set<String> SECURE_SIP_SIDE = Set.of(SECURE, "RTP/SAVPF");
    private static final Set<String> SIP_SIDE = Set.of("RTP/AVP", "RTP/AVPF", SECURE, "RTP/SAVPF");

    /** JSEP (RFC 8829 §5.1.2) profile with DTLS-SRTP. */
    static final String WEBRTC_DTLS = "UDP/TLS/RTP/SAVPF";
    /** What old libraries write (they strip "UDP/TLS/"), and the profile for SDES keying (RFC 5124). */
    static final String WEBRTC_LEGACY = "RTP/SAVPF";
    private static final Set<String> BROWSER_SIDE = Set.of(WEBRTC_DTLS, WEBRTC_LEGACY);

    /** Any RTP-based profile, known or not: its formats must be payload type numbers. */
    static boolean isRtp(String protocol) {
        return protocol.toUpperCase(java.util.Locale.ROOT).contains("RTP/");
    }

    static boolean isSipSide(String protocol) {
        return SIP_SIDE.contains(protocol.toUpperCase(java.util.Locale.ROOT));
    }

    /** RTP/SAVP or RTP/SAVPF: a SIP-side section whose media must be SRTP. */
    static boolean isSecureSipSide(String protocol) {
        return SECURE_SIP_SIDE.contains(protocol.toUpperCase(java.util.Locale.ROOT));
    }

    static boolean isBrowserSide(String protocol) {
        return BROWSER_SIDE.contains(protocol.toUpperCase(java.util.Locale.ROOT));
    }

    static boolean isAudioOrVideo(String media) {
        return media.equals("audio") || media.equals("video");
    }
}
