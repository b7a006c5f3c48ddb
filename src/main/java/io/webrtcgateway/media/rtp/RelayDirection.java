package io.webrtcgateway.media.rtp;

/**
 * The state of one way through the relay (browser -> SIP or SIP -> browser). Everything here except the
 * volatile payload map and the SR record is touched only by the thread receiving that way's packets.
 */
final class RelayDirection {

    final String name;
    final StreamRewriter rewriter;
    final StreamStats stats = new StreamStats();
    final ForwardedSenderReports senderReports = new ForwardedSenderReports();
    final boolean stripExtensions;
    /** Whether the last packet {@link #rtp} forwarded started a new source (receiving thread only). */
    boolean newSource;
    /** Replaced whole after a re-negotiation (any thread). */
    volatile PayloadTypeMap payloadTypes;

    RelayDirection(String name, int outSsrc, boolean audio, PayloadTypeMap payloadTypes, boolean stripExtensions) {
        this.name = name;
        this.rewriter = new StreamRewriter(outSsrc, audio);
        this.payloadTypes = payloadTypes;
        this.stripExtensions = stripExtensions;
    }

    /** The counters with the SSRCs in and out (any thread: the mapping is published whole). */
    StreamStats.Snapshot snapshot(long foreignSource) {
        StreamRewriter.Mapping m = rewriter.mapping();
        return stats.snapshot(foreignSource, rewriter.outSsrc(), m == null ? null : m.inSsrc());
    }

    /**
     * The RTP steps of this direction on a valid packet, in place: payload type map, source and numbering
     * rewrite, stats, optional extension strip. Returns the length to send, or -1 when dropped (counted).
     */
    int rtp(byte[] b, int off, int len, long nowNanos) {
        PayloadTypeMap map = payloadTypes;
        int inPt = RtpPacket.payloadType(b, off);
        int outPt = map.map(inPt);
        if (outPt < 0) {
            stats.unknownPayloadType();
            return -1;
        }
        int clockRate = map.clockRate(inPt);
        int inSeq = RtpPacket.sequence(b, off);
        long inTs = RtpPacket.timestamp(b, off);
        int source = rewriter.rewrite(b, off, clockRate, nowNanos);
        newSource = source == StreamRewriter.NEW_SOURCE;
        if (source == StreamRewriter.DROP) {
            stats.unknownSsrc();
            return -1;
        }
        if (source == StreamRewriter.NEW_SOURCE) {
            stats.sourceChanged();
        }
        if (outPt != inPt) {
            RtpPacket.setPayloadType(b, off, outPt);
        }
        int outLen = stripExtensions ? RtpPacket.stripExtension(b, off, len) : len;
        stats.rtpForwarded(inSeq, inTs, len, clockRate, map.isTelephoneEvent(inPt), nowNanos);
        return outLen;
    }

    @Override
    public String toString() {
        return name;
    }
}
