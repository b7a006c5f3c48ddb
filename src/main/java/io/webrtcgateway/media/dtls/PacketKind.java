package io.webrtcgateway.media.dtls;

/**
 * What a datagram on the browser's ICE transport carries, from its first byte (RFC 7983 §7):
 * 0-3 STUN, 16-19 ZRTP, 20-63 DTLS, 64-79 TURN channel data, 128-191 RTP or RTCP. With rtcp-mux, RTCP is
 * told from RTP by the second byte: RTCP packet types 192-223 (RFC 5761 §4), which is why RTP payload types
 * 64-95 are not used on a muxed transport.
 */
public enum PacketKind {
    STUN,
    ZRTP,
    DTLS,
    TURN_CHANNEL,
    RTP,
    RTCP,
    UNKNOWN;

    public static PacketKind of(byte[] buf, int off, int len) {
        if (len < 1) {
            return UNKNOWN;
        }
        int b = buf[off] & 0xff;
        if (b <= 3) {
            return STUN;
        }
        if (b >= 16 && b <= 19) {
            return ZRTP;
        }
        if (b >= 20 && b <= 63) {
            return DTLS;
        }
        if (b >= 64 && b <= 79) {
            return TURN_CHANNEL;
        }
        if (b >= 128 && b <= 191) {
            if (len < 2) {
                return UNKNOWN;
            }
            int pt = buf[off + 1] & 0xff;
            return pt >= 192 && pt <= 223 ? RTCP : RTP;
        }
        return UNKNOWN;
    }
}
