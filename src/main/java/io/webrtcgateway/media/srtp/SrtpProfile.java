package io.webrtcgateway.media.srtp;

import java.util.Optional;

/**
 * The SRTP crypto suites the gateway speaks: AES-128 counter mode with HMAC-SHA1, 80- or 32-bit RTP tag.
 * The same suite has a DTLS-SRTP protection profile id (RFC 5764 §4.1.2) and an SDES name (RFC 4568 §6.2).
 * SRTCP always carries an 80-bit tag, also with the _32 suite (RFC 5764 §4.1.2, RFC 4568 §6.2.2).
 */
public enum SrtpProfile {
    AES_CM_128_HMAC_SHA1_80(0x0001, 10),
    AES_CM_128_HMAC_SHA1_32(0x0002, 4);

    public static final int MASTER_KEY_LENGTH = 16;
    public static final int MASTER_SALT_LENGTH = 14;
    static final int AUTH_KEY_LENGTH = 20;
    static final int RTCP_TAG_LENGTH = 10;

    private final int dtlsId;
    private final int rtpTagLength;

    SrtpProfile(int dtlsId, int rtpTagLength) {
        this.dtlsId = dtlsId;
        this.rtpTagLength = rtpTagLength;
    }

    /** SRTPProtectionProfile value in the DTLS use_srtp extension (RFC 5764 §4.1.2). */
    public int dtlsId() {
        return dtlsId;
    }

    /** Crypto-suite name in an SDES {@code a=crypto} line (RFC 4568 §6.2). */
    public String sdesName() {
        return name();
    }

    public int rtpTagLength() {
        return rtpTagLength;
    }

    public int rtcpTagLength() {
        return RTCP_TAG_LENGTH;
    }

    public static Optional<SrtpProfile> ofDtlsId(int id) {
        for (SrtpProfile p : values()) {
            if (p.dtlsId == id) {
                return Optional.of(p);
            }
        }
        return Optional.empty();
    }

    public static Optional<SrtpProfile> ofSdesName(String name) {
        for (SrtpProfile p : values()) {
            if (p.name().equals(name)) {
                return Optional.of(p);
            }
        }
        return Optional.empty();
    }
}
