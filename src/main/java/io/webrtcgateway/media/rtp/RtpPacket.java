package io.webrtcgateway.media.rtp;

/**
 * Reads and writes RTP fixed-header fields (RFC 3550 §5.1) in place, on {@code (buf, off, len)}, without
 * allocating. Accessors assume a packet that {@link #headerLength} accepted; they do no bounds checks of
 * their own, so the packet path validates once and then reads freely.
 *
 * <pre>
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * |V=2|P|X|  CC   |M|     PT      |       sequence number         |
 * |                           timestamp                           |
 * |           synchronization source (SSRC) identifier            |
 * |            contributing source (CSRC) identifiers (CC x)      |
 * | 0xBEDE / profile      |  extension length (32-bit words)      |   if X
 * </pre>
 */
public final class RtpPacket {

    public static final int FIXED_HEADER = 12;

    private RtpPacket() {}

    public static int version(byte[] b, int off) {
        return (b[off] & 0xff) >>> 6;
    }

    public static boolean hasPadding(byte[] b, int off) {
        return (b[off] & 0x20) != 0;
    }

    public static boolean hasExtension(byte[] b, int off) {
        return (b[off] & 0x10) != 0;
    }

    public static int csrcCount(byte[] b, int off) {
        return b[off] & 0x0f;
    }

    public static boolean marker(byte[] b, int off) {
        return (b[off + 1] & 0x80) != 0;
    }

    public static int payloadType(byte[] b, int off) {
        return b[off + 1] & 0x7f;
    }

    public static int sequence(byte[] b, int off) {
        return ((b[off + 2] & 0xff) << 8) | (b[off + 3] & 0xff);
    }

    /** Unsigned 32-bit timestamp in a long. */
    public static long timestamp(byte[] b, int off) {
        return Bytes.u32(b, off + 4);
    }

    /** The SSRC as the int it is on the wire (compare with ==; print with Integer.toUnsignedString). */
    public static int ssrc(byte[] b, int off) {
        return Bytes.i32(b, off + 8);
    }

    public static void setMarker(byte[] b, int off, boolean marker) {
        b[off + 1] = (byte) (marker ? b[off + 1] | 0x80 : b[off + 1] & 0x7f);
    }

    public static void setPayloadType(byte[] b, int off, int pt) {
        b[off + 1] = (byte) ((b[off + 1] & 0x80) | (pt & 0x7f));
    }

    public static void setSequence(byte[] b, int off, int seq) {
        b[off + 2] = (byte) (seq >>> 8);
        b[off + 3] = (byte) seq;
    }

    public static void setTimestamp(byte[] b, int off, long ts) {
        Bytes.put32(b, off + 4, (int) ts);
    }

    public static void setSsrc(byte[] b, int off, int ssrc) {
        Bytes.put32(b, off + 8, ssrc);
    }

    /**
     * The header length including CSRCs and the header extension, or -1 when this is not a well-formed
     * RTP packet: shorter than its header, version other than 2, padding count larger than the payload
     * (RFC 3550 §5.1, A.1 "validity checks"), or a payload type in 64..95 (that range is RTCP's on a
     * multiplexed port, RFC 5761 §4).
     */
    public static int headerLength(byte[] b, int off, int len) {
        if (len < FIXED_HEADER || version(b, off) != 2) {
            return -1;
        }
        int pt = payloadType(b, off);
        if (pt >= 64 && pt <= 95) {
            return -1;
        }
        int header = FIXED_HEADER + 4 * csrcCount(b, off);
        if (hasExtension(b, off)) {
            if (header + 4 > len) {
                return -1;
            }
            header += 4 + 4 * (((b[off + header + 2] & 0xff) << 8) | (b[off + header + 3] & 0xff));
        }
        if (header > len) {
            return -1;
        }
        if (hasPadding(b, off)) {
            int padding = b[off + len - 1] & 0xff;
            if (padding == 0 || header + padding > len) {
                return -1;
            }
        }
        return header;
    }

    /**
     * RTP/RTCP demultiplexing on one port (RFC 5761 §4): the second octet of RTCP is its packet type
     * 192..223, which as RTP would be the marker bit plus payload type 64..95.
     */
    public static boolean looksLikeRtcp(byte[] b, int off, int len) {
        if (len < 2) {
            return false;
        }
        int second = b[off + 1] & 0xff;
        return second >= 192 && second <= 223;
    }

    /**
     * Removes the header extension (RFC 8285) in place, shifting the payload down; returns the new length.
     * For peers that negotiated none: plain RTP/AVP endpoints should ignore unknown extensions, some don't.
     */
    public static int stripExtension(byte[] b, int off, int len) {
        if (!hasExtension(b, off)) {
            return len;
        }
        int extStart = FIXED_HEADER + 4 * csrcCount(b, off);
        int extLength = 4 + 4 * (((b[off + extStart + 2] & 0xff) << 8) | (b[off + extStart + 3] & 0xff));
        System.arraycopy(b, off + extStart + extLength, b, off + extStart, len - extStart - extLength);
        b[off] &= ~0x10;
        return len - extLength;
    }
}
