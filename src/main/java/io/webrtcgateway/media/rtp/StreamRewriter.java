package io.webrtcgateway.media.rtp;

import java.util.concurrent.TimeUnit;

/**
 * One direction's RTP header rewriting: every packet leaves with this direction's fixed SSRC, and sequence
 * numbers and timestamps stay continuous when the sender's source changes.
 *
 * <p>Decision (issue 3, item 4): the receiver of a direction sees one SSRC for the whole call. A SIP media
 * server commonly starts a new SSRC after a re-INVITE (IVR to agent, hold/resume, 3PCC transfer); a browser
 * whose SDP signalled an {@code a=ssrc}, or that demultiplexes a BUNDLE by SSRC, would otherwise drop or
 * misroute the new stream, and an unsignalled SSRC change makes Chrome re-create its receive stream (a
 * gap). So a new source gets new offsets: its first packet continues the sequence right after the
 * highest one sent (RFC 3550 §5.1: the receiver sees a continuous run), its timestamp advances by the wall
 * time since the previous source's last packet, and (audio) the marker bit is set, which tells the
 * receiver's jitter buffer a new talkspurt starts (RFC 3551 §4.1). Within one source the offsets are
 * constant, so loss and reordering pass through unchanged and RTCP numbers can be translated back.
 *
 * <p>Which packets count as a new source: an SSRC seen in two packets with consecutive sequence numbers
 * (the probation of RFC 3550 A.1, MIN_SEQUENTIAL = 2), so a stray or forged datagram that happens to
 * parse as RTP never takes the stream over; the first of the two is dropped (counted as unknown SSRC),
 * which costs one packet per source change. The SSRC that was just replaced cannot come back for one
 * second (late packets of the old stream must not flip it back), unless a re-INVITE armed
 * {@link #expectSourceChange()}. The packet has already passed the address check of the
 * {@link SourcePolicy}, or SRTP authentication on the browser side.
 *
 * <p>Threads: {@link #rewrite} runs on the direction's one receiving thread; {@link #mapping()} is read by
 * the other direction's RTCP translation (published through a volatile on each switch).
 */
final class StreamRewriter {

    static final int DROP = -1;
    static final int SAME_SOURCE = 0;
    static final int NEW_SOURCE = 1;

    private static final long RETIRED_GUARD_NANOS = TimeUnit.SECONDS.toNanos(1);

    /** The current source and its offsets, published for RTCP translation. */
    record Mapping(int inSsrc, int outSsrc, int seqOffset, long tsOffset) {
        /** An extended highest sequence number seen by the receiver, in the sender's numbering. */
        long toSenderSequence(long extendedOut) {
            return (extendedOut - seqOffset) & 0xffffffffL;
        }

        long toReceiverTimestamp(long senderTs) {
            return (senderTs + tsOffset) & 0xffffffffL;
        }
    }

    private final int outSsrc;
    private final boolean markSourceChange;

    private volatile boolean sourceChangeExpected;
    private volatile Mapping mapping;

    // Receiving thread only.
    private boolean haveSource;
    private int inSsrc;
    private int seqOffset;
    private long tsOffset;
    private boolean haveRetired;
    private int retiredSsrc;
    private long switchedAtNanos;
    private boolean haveHighest;
    private int highestOutSeq;
    private long highestOutTs;
    private long highestArrivalNanos;
    private boolean markNext;
    /** Set by {@link #continueFrom}: the current source gets new offsets on its next packet. */
    private boolean rebaseNext;
    private boolean haveCandidate;
    private int candidateSsrc;
    private int candidateSeq;

    StreamRewriter(int outSsrc, boolean markSourceChange) {
        this.outSsrc = outSsrc;
        this.markSourceChange = markSourceChange;
    }

    int outSsrc() {
        return outSsrc;
    }

    /** Null until the first packet. */
    Mapping mapping() {
        return mapping;
    }

    /** Any thread: the next new SSRC takes over even if it is the one just replaced (a re-INVITE came). */
    void expectSourceChange() {
        sourceChangeExpected = true;
    }

    /**
     * Rewrites SSRC, sequence number, timestamp (and marker on a source change) of a valid RTP packet in
     * place. Returns {@link #DROP} for a packet of an SSRC still on probation or of a just-replaced
     * source, {@link #NEW_SOURCE} when this packet started a new source, else {@link #SAME_SOURCE}.
     */
    int rewrite(byte[] b, int off, int clockRate, long nowNanos) {
        int ssrc = RtpPacket.ssrc(b, off);
        int result = SAME_SOURCE;
        if (!haveSource || ssrc != inSsrc) {
            int seq = RtpPacket.sequence(b, off);
            if (!passedProbation(ssrc, seq, nowNanos)) {
                return DROP;
            }
            switchTo(ssrc, seq, RtpPacket.timestamp(b, off), clockRate, nowNanos);
            result = NEW_SOURCE;
        } else if (rebaseNext) {
            rebase(RtpPacket.sequence(b, off), RtpPacket.timestamp(b, off), clockRate, nowNanos);
            mapping = new Mapping(ssrc, outSsrc, seqOffset, tsOffset);
        }
        int outSeq = (RtpPacket.sequence(b, off) + seqOffset) & 0xffff;
        long outTs = (RtpPacket.timestamp(b, off) + tsOffset) & 0xffffffffL;
        RtpPacket.setSsrc(b, off, outSsrc);
        RtpPacket.setSequence(b, off, outSeq);
        RtpPacket.setTimestamp(b, off, outTs);
        if (markNext) {
            RtpPacket.setMarker(b, off, true);
            markNext = false;
        }
        if (!haveHighest || result == NEW_SOURCE || ((outSeq - highestOutSeq) & 0xffff) < 0x8000) {
            haveHighest = true;
            highestOutSeq = outSeq;
            highestOutTs = outTs;
            highestArrivalNanos = nowNanos;
        }
        return result;
    }

    private boolean passedProbation(int ssrc, int seq, long nowNanos) {
        if (haveRetired && ssrc == retiredSsrc && !sourceChangeExpected
                && nowNanos - switchedAtNanos < RETIRED_GUARD_NANOS) {
            return false;
        }
        if (haveCandidate && ssrc == candidateSsrc && seq == ((candidateSeq + 1) & 0xffff)) {
            haveCandidate = false;
            return true;
        }
        haveCandidate = true;
        candidateSsrc = ssrc;
        candidateSeq = seq;
        return false;
    }

    private void switchTo(int ssrc, int inSeq, long inTs, int clockRate, long nowNanos) {
        boolean expected = sourceChangeExpected;
        if (haveHighest) {
            rebase(inSeq, inTs, clockRate, nowNanos);
        }
        if (haveSource) {
            retiredSsrc = inSsrc;
            haveRetired = true;
        }
        haveSource = true;
        inSsrc = ssrc;
        switchedAtNanos = nowNanos;
        if (expected) {
            sourceChangeExpected = false;
        }
        mapping = new Mapping(ssrc, outSsrc, seqOffset, tsOffset);
    }

    /** Offsets that continue the outgoing stream right after the highest packet sent (see class comment). */
    private void rebase(int inSeq, long inTs, int clockRate, long nowNanos) {
        seqOffset = (highestOutSeq + 1 - inSeq) & 0xffff;
        long elapsedUnits = 1;
        if (clockRate > 0) {
            elapsedUnits = Math.max(1, (nowNanos - highestArrivalNanos) / 1000 * clockRate / 1_000_000);
        }
        tsOffset = (highestOutTs + elapsedUnits - inTs) & 0xffffffffL;
        markNext = markSourceChange;
        rebaseNext = false;
    }

    /**
     * Receiving thread (or a thread that took the stream over, see {@link TelephoneEventInjector}): packets
     * were sent in this direction's numbering by someone else, the last one with {@code seq} at RTP time
     * {@code ts} (sent at {@code atNanos}). The next packet continues after it, as after a source change
     * (audio: with the marker bit, a new talkspurt after the events, RFC 3551 §4.1).
     */
    void continueFrom(int seq, long ts, long atNanos) {
        haveHighest = true;
        highestOutSeq = seq & 0xffff;
        highestOutTs = ts & 0xffffffffL;
        highestArrivalNanos = atNanos;
        rebaseNext = haveSource;
    }

    /** Where the outgoing stream stands: the highest sequence number and its timestamp, when it was sent. */
    record Anchor(boolean known, int seq, long ts, long atNanos) {}

    /** Read only by a thread that took the stream over (happens-after this direction's last packet). */
    Anchor anchor() {
        return new Anchor(haveHighest, highestOutSeq, highestOutTs, highestArrivalNanos);
    }
}
