package io.webrtcgateway.media.srtp;

/**
 * SRTP and SRTCP for one call leg, both directions (RFC 3711), in place on the caller's buffer. The four
 * contexts (RTP send, RTP receive, RTCP send, RTCP receive) are independent objects: each may be driven by
 * its own thread, but each by one thread at a time. Allocation-free per packet once a stream's SSRC is known.
 *
 * <p>Outgoing: {@code protectRtp}/{@code protectRtcp} need {@link #rtpOverhead()}/{@link #rtcpOverhead()}
 * spare bytes after the packet in {@code buf}. Incoming: a packet that is malformed, replayed or fails
 * authentication returns -1 and is counted in {@link #counters()}; nothing is thrown on the packet path.
 */
public final class SrtpSession {
    private final SrtpProfile profile;
    private final SrtpCounters counters;
    private final SrtpCrypto rtpSend;
    private final SrtpCrypto rtpReceive;
    private final SrtcpCrypto rtcpSend;
    private final SrtcpCrypto rtcpReceive;

    private SrtpSession(SrtpProfile profile, SrtpMasterKey local, SrtpMasterKey remote) {
        this.profile = profile;
        this.counters = new SrtpCounters();
        this.rtpSend = new SrtpCrypto(profile, local, counters);
        this.rtpReceive = new SrtpCrypto(profile, remote, counters);
        this.rtcpSend = new SrtcpCrypto(profile, local, counters);
        this.rtcpReceive = new SrtcpCrypto(profile, remote, counters);
    }

    /** {@link #withRemoteKey}: this session's send contexts and counters, new receive contexts. */
    private SrtpSession(SrtpSession sending, SrtpMasterKey remote) {
        this.profile = sending.profile;
        this.counters = sending.counters;
        this.rtpSend = sending.rtpSend;
        this.rtcpSend = sending.rtcpSend;
        this.rtpReceive = new SrtpCrypto(profile, remote, counters);
        this.rtcpReceive = new SrtcpCrypto(profile, remote, counters);
    }

    /**
     * The peer changed its key (an SDES re-offer or re-answer, RFC 4568 §7.1.4) while ours stays: a session that
     * receives with {@code remote} and keeps sending through this session's contexts, with their rollover
     * counters and SRTCP index. A fresh send context for a key already used would start its packet indexes
     * again and encrypt two packets with the same keystream (RFC 3711 §9.1), so a key of ours is never given a
     * second context. Counters are shared. Use the new session instead of this one from now on: the send
     * contexts must still be driven by one thread at a time.
     */
    public SrtpSession withRemoteKey(SrtpMasterKey remote) {
        if (remote == null) {
            throw new IllegalArgumentException("remote key is required");
        }
        return new SrtpSession(this, remote);
    }

    /**
     * @param local  the key this side protects with (DTLS: the client_write key when we are the DTLS client)
     * @param remote the key the peer protects with
     */
    public static SrtpSession create(SrtpProfile profile, SrtpMasterKey local, SrtpMasterKey remote) {
        if (profile == null || local == null || remote == null) {
            throw new IllegalArgumentException("profile, local and remote keys are required");
        }
        return new SrtpSession(profile, local, remote);
    }

    /** From negotiated SDES lines (RFC 4568): ours protects what we send, theirs what we receive. */
    public static SrtpSession fromSdes(SdesCrypto local, SdesCrypto remote) {
        if (local.profile() != remote.profile()) {
            throw new IllegalArgumentException("SDES suites differ: local " + local.profile() + ", remote "
                    + remote.profile());
        }
        return new SrtpSession(local.profile(), local.masterKey(), remote.masterKey());
    }

    public SrtpProfile profile() {
        return profile;
    }

    public SrtpCounters counters() {
        return counters;
    }

    /** Bytes {@link #protectRtp} appends: MKI + tag. */
    public int rtpOverhead() {
        return rtpSend.overhead();
    }

    /** Bytes {@link #protectRtcp} appends: E||index + MKI + tag. */
    public int rtcpOverhead() {
        return rtcpSend.overhead();
    }

    /** Encrypts and authenticates the RTP packet {@code buf[off, off+len)}; returns its new length or -1. */
    public int protectRtp(byte[] buf, int off, int len) {
        if (!inBounds(buf, off, len)) {
            counters.protectFailures.incrementAndGet();
            return -1;
        }
        return rtpSend.protect(buf, off, len);
    }

    /** Authenticates, replay-checks and decrypts an SRTP packet; returns the RTP length or -1 (dropped). */
    public int unprotectRtp(byte[] buf, int off, int len) {
        if (!inBounds(buf, off, len)) {
            counters.malformedDropped.incrementAndGet();
            return -1;
        }
        return rtpReceive.unprotect(buf, off, len);
    }

    /**
     * {@link #unprotectRtp}, but a packet these keys refuse is not counted: for a try under keys the packet may
     * not be under (the keys before a rekey, PlainRtpEndpoint). An accepted one changes the state as usual.
     */
    public int tryUnprotectRtp(byte[] buf, int off, int len) {
        return inBounds(buf, off, len) ? rtpReceive.unprotect(buf, off, len, false) : -1;
    }

    /** {@link #unprotectRtcp} without counting a refusal, as {@link #tryUnprotectRtp}. */
    public int tryUnprotectRtcp(byte[] buf, int off, int len) {
        return inBounds(buf, off, len) ? rtcpReceive.unprotect(buf, off, len, false) : -1;
    }

    public int protectRtcp(byte[] buf, int off, int len) {
        if (!inBounds(buf, off, len)) {
            counters.protectFailures.incrementAndGet();
            return -1;
        }
        return rtcpSend.protect(buf, off, len);
    }

    public int unprotectRtcp(byte[] buf, int off, int len) {
        if (!inBounds(buf, off, len)) {
            counters.malformedDropped.incrementAndGet();
            return -1;
        }
        return rtcpReceive.unprotect(buf, off, len);
    }

    private static boolean inBounds(byte[] buf, int off, int len) {
        return buf != null && off >= 0 && len >= 0 && off <= buf.length - len;
    }

    @Override
    public String toString() {
        return "SrtpSession[" + profile + ", " + counters + "]";
    }
}
