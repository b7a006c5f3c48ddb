package io.webrtcgateway.media.rtp;

import static io.webrtcgateway.media.rtp.RtcpPacket.BYE;
import static io.webrtcgateway.media.rtp.RtcpPacket.FMT_FIR;
import static io.webrtcgateway.media.rtp.RtcpPacket.FMT_PLI;
import static io.webrtcgateway.media.rtp.RtcpPacket.PSFB;
import static io.webrtcgateway.media.rtp.RtcpPacket.REPORT_BLOCK;
import static io.webrtcgateway.media.rtp.RtcpPacket.RR;
import static io.webrtcgateway.media.rtp.RtcpPacket.RR_BLOCKS;
import static io.webrtcgateway.media.rtp.RtcpPacket.SDES;
import static io.webrtcgateway.media.rtp.RtcpPacket.SR;
import static io.webrtcgateway.media.rtp.RtcpPacket.SR_BLOCKS;

/**
 * Makes one side's RTCP compound make sense to the other side, in place (sub-packets only shrink or are
 * removed, so the rewritten compound is written over the original from the front).
 *
 * <p>The relay rewrites SSRCs and numbering ({@link StreamRewriter}), so reports must follow:
 * <ul>
 *   <li>SR: the sender SSRC becomes this direction's outgoing SSRC, the RTP timestamp gets the same offset
 *       as the stream's packets (lip sync keeps working); an SR from an SSRC that is not the current
 *       source (a replaced one) is removed. The forwarding time is kept for RTT (§6.4.1).</li>
 *   <li>SR/RR report blocks: only blocks about the stream the relay sends to this side are kept, with the
 *       source SSRC and extended highest sequence number translated back to what the other side sent;
 *       LSR/DLSR give the RTT of this side's leg. Profile extensions after the blocks are removed.</li>
 *   <li>SDES: the first chunk, under the outgoing SSRC (the CNAME passes).</li>
 *   <li>BYE: toward SIP for the browser's current source; never toward the browser, whose stream keeps
 *       its SSRC across SIP-side source changes.</li>
 *   <li>Feedback (RFC 4585): RTPFB (NACK, TMMBR, transport-cc) never passes: the numbering differs per
 *       leg and a plain RTP/AVP peer has no use for it. PSFB PLI/FIR pass only when keyframe requests are
 *       enabled (video), with SSRCs translated; REMB and the rest are removed. APP and XR are removed.</li>
 * </ul>
 * If nothing is left, or the result does not start with SR/RR (RFC 3550 §6.1; plain SIP peers do not do
 * reduced-size RTCP), the compound is not forwarded.
 */
final class RtcpTranslator {

    private final long epochNanos;
    private final boolean forwardKeyframeRequests;

    RtcpTranslator(long epochNanos, boolean forwardKeyframeRequests) {
        this.epochNanos = epochNanos;
        this.forwardKeyframeRequests = forwardKeyframeRequests;
    }

    /**
     * Translates a compound already checked by {@link RtcpPacket#isValidCompound}, sent by the sender of
     * {@code own} (so {@code reverse} is what that sender receives from the relay). Returns the new length,
     * 0 when nothing is to be forwarded. Counts into {@code own.stats}; sets {@code reverse.stats}' RTT.
     */
    int translate(byte[] b, int off, int len, RelayDirection own, RelayDirection reverse, boolean forwardBye,
            long nowNanos) {
        StreamRewriter.Mapping ownMap = own.rewriter.mapping();
        StreamRewriter.Mapping revMap = reverse.rewriter.mapping();
        int ownOut = own.rewriter.outSsrc();
        int end = off + len;
        int w = off;
        int removed = 0;
        for (int p = off; p < end; ) {
            int size = RtcpPacket.lengthBytes(b, p);
            int next = p + size;
            int kept = 0;
            boolean padded = (b[p] & 0x20) != 0;
            int type = padded && (size - (b[p + size - 1] & 0xff)) % 4 != 0
                    ? -1 // padding that leaves a partial word: nothing sane to forward
                    : RtcpPacket.packetType(b, p);
            switch (type) {
                case SR -> {
                    if (ownMap != null && RtcpPacket.senderSsrc(b, p) == ownMap.inSsrc()) {
                        moveUnpadded(b, p, w, size);
                        RtcpPacket.setSenderSsrc(b, w, ownOut);
                        RtcpPacket.setSrRtpTimestamp(b, w, ownMap.toReceiverTimestamp(RtcpPacket.srRtpTimestamp(b, w)));
                        own.senderReports.forwarded(RtcpPacket.srNtpMiddle(b, w),
                                ForwardedSenderReports.ntpShort(nowNanos, epochNanos));
                        kept = reportBlocks(b, w, SR_BLOCKS, reverse, revMap, nowNanos);
                    }
                }
                case RR -> {
                    moveUnpadded(b, p, w, size);
                    RtcpPacket.setSenderSsrc(b, w, ownOut);
                    kept = reportBlocks(b, w, RR_BLOCKS, reverse, revMap, nowNanos);
                }
                case SDES -> kept = firstSdesChunk(b, p, w, ownOut);
                case BYE -> {
                    if (forwardBye && ownMap != null && RtcpPacket.count(b, p) >= 1
                            && RtcpPacket.senderSsrc(b, p) == ownMap.inSsrc()) {
                        b[w] = (byte) 0x81;
                        b[w + 1] = (byte) BYE;
                        Bytes.put16(b, w + 2, 1);
                        RtcpPacket.setSenderSsrc(b, w, ownOut);
                        kept = 8;
                    }
                }
                case PSFB -> kept = keyframeRequest(b, p, w, size, ownOut, reverse, revMap);
                default -> kept = 0;
            }
            if (kept == 0) {
                removed++;
            }
            w += kept;
            p = next;
        }
        if (removed > 0) {
            own.stats.rtcpFiltered(removed);
        }
        int outLen = w - off;
        if (outLen == 0) {
            return 0;
        }
        int first = RtcpPacket.packetType(b, off);
        if (first != SR && first != RR) {
            own.stats.rtcpFiltered(1);
            return 0;
        }
        return outLen;
    }

    /** Keeps the blocks about the relay's stream toward this side; returns the sub-packet's new size. */
    private int reportBlocks(byte[] b, int w, int blocksAt, RelayDirection reverse, StreamRewriter.Mapping revMap,
            long nowNanos) {
        int count = RtcpPacket.count(b, w);
        int read = w + blocksAt;
        int write = read;
        int kept = 0;
        int relayed = reverse.rewriter.outSsrc();
        for (int i = 0; i < count; i++, read += REPORT_BLOCK) {
            if (revMap == null || RtcpPacket.blockSource(b, read) != relayed) {
                continue;
            }
            if (write != read) {
                System.arraycopy(b, read, b, write, REPORT_BLOCK);
            }
            RtcpPacket.setBlockSource(b, write, revMap.inSsrc());
            RtcpPacket.setBlockHighestSequence(b, write,
                    revMap.toSenderSequence(RtcpPacket.blockHighestSequence(b, write)));
            long rtt = reverse.senderReports.roundTrip(RtcpPacket.blockLsr(b, write), RtcpPacket.blockDlsr(b, write),
                    ForwardedSenderReports.ntpShort(nowNanos, epochNanos));
            if (rtt >= 0) {
                reverse.stats.rtt(ForwardedSenderReports.shortToMicros(rtt));
            }
            write += REPORT_BLOCK;
            kept++;
        }
        b[w] = (byte) ((b[w] & 0xe0) | kept);
        int size = blocksAt + kept * REPORT_BLOCK;
        Bytes.put16(b, w + 2, size / 4 - 1);
        return size;
    }

    private static int firstSdesChunk(byte[] b, int p, int w, int ssrc) {
        if (RtcpPacket.count(b, p) == 0) {
            return 0;
        }
        int chunk = RtcpPacket.firstSdesChunk(p);
        int size = RtcpPacket.nextSdesChunk(b, p, chunk) - p;
        if (w != p) {
            System.arraycopy(b, p, b, w, size);
        }
        b[w] = (byte) 0x81; // V=2, no padding, SC=1
        Bytes.put16(b, w + 2, size / 4 - 1);
        Bytes.put32(b, w + 4, ssrc);
        return size;
    }

    /** PLI (RFC 4585 §6.3.1) and FIR (RFC 5104 §4.3.1), when enabled; SSRCs translated. */
    private int keyframeRequest(byte[] b, int p, int w, int size, int ownOut, RelayDirection reverse,
            StreamRewriter.Mapping revMap) {
        int fmt = RtcpPacket.count(b, p);
        if (!forwardKeyframeRequests || revMap == null || (fmt != FMT_PLI && fmt != FMT_FIR)) {
            return 0;
        }
        int relayed = reverse.rewriter.outSsrc();
        if (fmt == FMT_PLI && RtcpPacket.mediaSourceSsrc(b, p) != relayed) {
            return 0;
        }
        int kept = moveUnpadded(b, p, w, size);
        RtcpPacket.setSenderSsrc(b, w, ownOut);
        if (fmt == FMT_PLI) {
            RtcpPacket.setMediaSourceSsrc(b, w, revMap.inSsrc());
        } else {
            for (int fci = w + 12; fci + 8 <= w + kept; fci += 8) {
                if (Bytes.i32(b, fci) == relayed) {
                    Bytes.put32(b, fci, revMap.inSsrc());
                }
            }
        }
        return kept;
    }

    /** Moves a sub-packet from p to w, dropping its padding (only the last one of a compound has any). */
    private static int moveUnpadded(byte[] b, int p, int w, int size) {
        int kept = size;
        if ((b[p] & 0x20) != 0) {
            kept = size - (b[p + size - 1] & 0xff);
        }
        if (w != p) {
            System.arraycopy(b, p, b, w, kept);
        }
        if (kept != size) {
            b[w] &= ~0x20;
            Bytes.put16(b, w + 2, kept / 4 - 1);
        }
        return kept;
    }
}
