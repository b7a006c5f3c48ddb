package io.webrtcgateway.media.rtp;

/**
 * Walks and reads RTCP compound packets (RFC 3550 §6, feedback RFC 4585 §6.1) in place, without allocating.
 * {@link #isValidCompound} checks the whole datagram once; after that the accessors and {@link #next}
 * can be used on each sub-packet without bounds checks.
 *
 * <pre>
 * |V=2|P| RC/SC/FMT |      PT       |  length (32-bit words - 1)    |
 * |                    SSRC of sender / packet sender               |
 * </pre>
 */
public final class RtcpPacket {

    public static final int SR = 200;
    public static final int RR = 201;
    public static final int SDES = 202;
    public static final int BYE = 203;
    public static final int APP = 204;
    public static final int RTPFB = 205;
    public static final int PSFB = 206;
    public static final int XR = 207;

    /** PSFB FMT values (RFC 4585 §6.3, RFC 5104 §4.3, draft-alvestrand-rmcat-remb). */
    public static final int FMT_PLI = 1;
    public static final int FMT_FIR = 4;
    public static final int FMT_AFB = 15;

    public static final int REPORT_BLOCK = 24;
    /** Offset of the first report block from the start of an SR / an RR. */
    public static final int SR_BLOCKS = 28;
    public static final int RR_BLOCKS = 8;

    private RtcpPacket() {}

    public static int packetType(byte[] b, int p) {
        return b[p + 1] & 0xff;
    }

    /** RC (SR/RR), SC (SDES/BYE) or FMT (RTPFB/PSFB): the low five bits of the first octet. */
    public static int count(byte[] b, int p) {
        return b[p] & 0x1f;
    }

    public static int lengthBytes(byte[] b, int p) {
        return (Bytes.u16(b, p + 2) + 1) * 4;
    }

    /** Start of the sub-packet after the one at {@code p}. */
    public static int next(byte[] b, int p) {
        return p + lengthBytes(b, p);
    }

    public static int senderSsrc(byte[] b, int p) {
        return Bytes.i32(b, p + 4);
    }

    public static void setSenderSsrc(byte[] b, int p, int ssrc) {
        Bytes.put32(b, p + 4, ssrc);
    }

    /** Middle 32 bits of the SR's NTP timestamp: what receivers echo as LSR (RFC 3550 §6.4.1). */
    public static long srNtpMiddle(byte[] b, int p) {
        return ((Bytes.u16(b, p + 10) & 0xffffL) << 16) | Bytes.u16(b, p + 12);
    }

    public static long srRtpTimestamp(byte[] b, int p) {
        return Bytes.u32(b, p + 16);
    }

    public static void setSrRtpTimestamp(byte[] b, int p, long ts) {
        Bytes.put32(b, p + 16, (int) ts);
    }

    /** Feedback messages: SSRC of the media source the feedback is about (RFC 4585 §6.1). */
    public static int mediaSourceSsrc(byte[] b, int p) {
        return Bytes.i32(b, p + 8);
    }

    public static void setMediaSourceSsrc(byte[] b, int p, int ssrc) {
        Bytes.put32(b, p + 8, ssrc);
    }

    // Report block fields, at block offset r (RFC 3550 §6.4.1).

    public static int blockSource(byte[] b, int r) {
        return Bytes.i32(b, r);
    }

    public static void setBlockSource(byte[] b, int r, int ssrc) {
        Bytes.put32(b, r, ssrc);
    }

    public static long blockHighestSequence(byte[] b, int r) {
        return Bytes.u32(b, r + 8);
    }

    public static void setBlockHighestSequence(byte[] b, int r, long extended) {
        Bytes.put32(b, r + 8, (int) extended);
    }

    public static long blockLsr(byte[] b, int r) {
        return Bytes.u32(b, r + 16);
    }

    public static long blockDlsr(byte[] b, int r) {
        return Bytes.u32(b, r + 20);
    }

    /**
     * Validity checks of RFC 3550 A.2, per sub-packet: version 2, a packet type in 192..223 (RFC 5761 §4),
     * lengths that add up exactly to the datagram, padding only on the last sub-packet and no larger than
     * it, and for the types this gateway reads, a body that holds what the header announces (report
     * blocks, SDES chunks, BYE sources, feedback SSRCs). A first sub-packet other than SR/RR is accepted:
     * reduced-size RTCP (RFC 5506) is allowed when negotiated.
     */
    public static boolean isValidCompound(byte[] b, int off, int len) {
        int end = off + len;
        int p = off;
        if (len < 4) {
            return false;
        }
        while (p < end) {
            if (end - p < 4 || (b[p] & 0xc0) != 0x80) {
                return false;
            }
            int type = packetType(b, p);
            if (type < 192 || type > 223) {
                return false;
            }
            int size = lengthBytes(b, p);
            if (size > end - p) {
                return false;
            }
            int body = size;
            if ((b[p] & 0x20) != 0) {
                int padding = b[p + size - 1] & 0xff;
                if (p + size != end || padding == 0 || padding > size - 4) {
                    return false;
                }
                body -= padding;
            }
            if (!bodyFits(b, p, type, count(b, p), body)) {
                return false;
            }
            p += size;
        }
        return true;
    }

    private static boolean bodyFits(byte[] b, int p, int type, int count, int body) {
        switch (type) {
            case SR:
                return body >= SR_BLOCKS + REPORT_BLOCK * count;
            case RR:
                return body >= RR_BLOCKS + REPORT_BLOCK * count;
            case SDES:
                return sdesFits(b, p, count, body);
            case BYE:
                return byeFits(b, p, count, body);
            case APP:
                return body >= 12;
            case RTPFB:
            case PSFB:
                return body >= 12;
            default:
                return true;
        }
    }

    /** Each chunk: SSRC, items (type, length, text), a zero type, padding to a 32-bit boundary (§6.5). */
    private static boolean sdesFits(byte[] b, int p, int chunks, int body) {
        int end = p + body;
        int c = p + 4;
        for (int i = 0; i < chunks; i++) {
            if (c + 4 > end) {
                return false;
            }
            int item = c + 4;
            while (true) {
                if (item >= end) {
                    return false;
                }
                if (b[item] == 0) {
                    break;
                }
                if (item + 2 > end) {
                    return false;
                }
                item += 2 + (b[item + 1] & 0xff);
            }
            c = p + ((item - p + 4) & ~3);
            if (c > end) {
                return false;
            }
        }
        return true;
    }

    private static boolean byeFits(byte[] b, int p, int sources, int body) {
        int reason = 4 + 4 * sources;
        if (reason > body) {
            return false;
        }
        return reason == body || reason + 1 + (b[p + reason] & 0xff) <= body;
    }

    /** Length of what {@link #writeKeyframeRequest} writes. */
    public static final int KEYFRAME_REQUEST = RR_BLOCKS + 12;

    /**
     * A keyframe request from {@code sender} about {@code mediaSource}, as a compound: an RR without report
     * blocks (a compound starts with SR or RR, RFC 3550 §6.1; reduced-size RTCP, RFC 5506, was not
     * negotiated) and a PLI (RFC 4585 §6.3.1). Returns its length, {@link #KEYFRAME_REQUEST}.
     */
    public static int writeKeyframeRequest(byte[] b, int off, int sender, int mediaSource) {
        b[off] = (byte) 0x80;
        b[off + 1] = (byte) RR;
        Bytes.put16(b, off + 2, RR_BLOCKS / 4 - 1);
        Bytes.put32(b, off + 4, sender);
        int p = off + RR_BLOCKS;
        b[p] = (byte) (0x80 | FMT_PLI);
        b[p + 1] = (byte) PSFB;
        Bytes.put16(b, p + 2, 2);
        Bytes.put32(b, p + 4, sender);
        Bytes.put32(b, p + 8, mediaSource);
        return KEYFRAME_REQUEST;
    }

    /**
     * Whether a valid compound concerns a stream pair: some sub-packet is sent by {@code sender} (when
     * {@code senderKnown}), or a report block, feedback message or FIR entry is about {@code about}.
     */
    public static boolean concerns(byte[] b, int off, int len, boolean senderKnown, int sender, int about) {
        int end = off + len;
        for (int p = off; p < end; p = next(b, p)) {
            int type = packetType(b, p);
            int count = count(b, p);
            switch (type) {
                case SR, RR -> {
                    if (senderKnown && senderSsrc(b, p) == sender) {
                        return true;
                    }
                    int blocks = p + (type == SR ? SR_BLOCKS : RR_BLOCKS);
                    for (int i = 0; i < count; i++) {
                        if (blockSource(b, blocks + i * REPORT_BLOCK) == about) {
                            return true;
                        }
                    }
                }
                case RTPFB, PSFB -> {
                    if ((senderKnown && senderSsrc(b, p) == sender) || mediaSourceSsrc(b, p) == about) {
                        return true;
                    }
                    if (type == PSFB && count == FMT_FIR) {
                        // RFC 5104 §4.3.1.1: the media source field is 0, each FCI entry names an SSRC
                        for (int fci = p + 12; fci + 8 <= p + lengthBytes(b, p); fci += 8) {
                            if (Bytes.i32(b, fci) == about) {
                                return true;
                            }
                        }
                    }
                }
                case SDES, BYE -> {
                    if (senderKnown && count > 0 && senderSsrc(b, p) == sender) {
                        return true;
                    }
                }
                default -> { }
            }
        }
        return false;
    }

    /** Offset of the first SDES chunk; chunks follow one another as {@link #nextSdesChunk} says. */
    public static int firstSdesChunk(int p) {
        return p + 4;
    }

    /** Start of the SDES chunk after the one at {@code c} (validated packets only). */
    public static int nextSdesChunk(byte[] b, int p, int c) {
        int item = c + 4;
        while (b[item] != 0) {
            item += 2 + (b[item + 1] & 0xff);
        }
        return p + ((item - p + 4) & ~3);
    }
}
