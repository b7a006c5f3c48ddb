package io.webrtcgateway.media.srtp;

/**
 * SRTP for RTP packets, one direction (RFC 3711 §3.3): the send side protects, the receive side unprotects.
 * Keys, cipher, MAC and the per-SSRC rollover counters live here; one thread at a time (the thread of its
 * direction). Bad packets return -1 and are counted, never thrown.
 */
final class SrtpCrypto {
    private static final int RTP_HEADER = 12;

    private final AesCounterMode cipher;
    private final HmacSha1 mac;
    private final long saltHigh;
    private final long saltLow;
    private final int tagLength;
    private final byte[] mki;
    private final StreamTable streams = new StreamTable();
    private final SrtpCounters counters;

    SrtpCrypto(SrtpProfile profile, SrtpMasterKey master, SrtpCounters counters) {
        SessionKeys keys = SessionKeys.forRtp(master);
        this.cipher = new AesCounterMode(keys.encryptionKey());
        this.mac = new HmacSha1(keys.authenticationKey());
        this.saltHigh = AesCounterMode.high(keys.salt());
        this.saltLow = AesCounterMode.low(keys.salt());
        this.tagLength = profile.rtpTagLength();
        this.mki = master.mkiRef();
        this.counters = counters;
    }

    int overhead() {
        return mki.length + tagLength;
    }

    /** Encrypts and appends MKI and tag in place; returns the new length, or -1 (counted). */
    int protect(byte[] buf, int off, int len) {
        int header = headerLength(buf, off, len);
        if (header < 0 || off + len + mki.length + tagLength > buf.length) {
            counters.protectFailures.incrementAndGet();
            return -1;
        }
        int seq = sequence(buf, off);
        int ssrc = readInt(buf, off + 8);
        int slot = streams.find(ssrc);
        long index;
        if (slot < 0) {
            index = seq;
            slot = streams.add(ssrc, index);
        } else {
            index = estimateIndex(streams.highest(slot), seq);
            if (index < 0) {
                // older than the first packet sent on this SSRC, before a rollover the receiver never saw
                counters.protectFailures.incrementAndGet();
                return -1;
            }
            streams.advance(slot, index);
        }
        cipher.apply(saltHigh ^ (ssrc & 0xffffffffL), saltLow ^ (index << 16), buf, off + header, len - header);
        System.arraycopy(mki, 0, buf, off + len, mki.length);
        mac.start();
        mac.update(buf, off, len);
        mac.updateInt((int) (index >>> 16));
        System.arraycopy(mac.finish(), 0, buf, off + len + mki.length, tagLength);
        return len + mki.length + tagLength;
    }

    /** Verifies, checks replay and decrypts in place; returns the RTP length, or -1 (dropped and counted). */
    int unprotect(byte[] buf, int off, int len) {
        return unprotect(buf, off, len, true);
    }

    /** {@code count} false: a refused packet is not counted (a try under keys that may not be the sender's). */
    int unprotect(byte[] buf, int off, int len, boolean count) {
        int authenticated = len - mki.length - tagLength;
        if (authenticated < RTP_HEADER) {
            if (count) {
                counters.malformedDropped.incrementAndGet();
            }
            return -1;
        }
        int header = headerLength(buf, off, authenticated);
        if (header < 0 || !mkiMatches(buf, off + authenticated)) {
            if (count) {
                counters.malformedDropped.incrementAndGet();
            }
            return -1;
        }
        int seq = sequence(buf, off);
        int ssrc = readInt(buf, off + 8);
        int slot = streams.find(ssrc);
        // RFC 3711 §3.3.1: a stream's first packet sets s_l with ROC 0
        long index = slot < 0 ? seq : estimateIndex(streams.highest(slot), seq);
        if (index < 0 || (slot >= 0 && streams.isReplay(slot, index))) {
            if (count) {
                counters.replayDropped.incrementAndGet();
            }
            return -1;
        }
        mac.start();
        mac.update(buf, off, authenticated);
        mac.updateInt((int) (index >>> 16));
        if (!HmacSha1.equalPrefix(mac.finish(), buf, off + authenticated + mki.length, tagLength)) {
            if (count) {
                counters.authFailures.incrementAndGet();
            }
            return -1;
        }
        // state changes only for authenticated packets (RFC 3711 §3.3.1: update ROC and s_l after step 5)
        if (slot < 0) {
            streams.add(ssrc, index);
        } else {
            streams.accept(slot, index);
        }
        cipher.apply(saltHigh ^ (ssrc & 0xffffffffL), saltLow ^ (index << 16), buf, off + header,
                authenticated - header);
        return authenticated;
    }

    private boolean mkiMatches(byte[] buf, int at) {
        for (int i = 0; i < mki.length; i++) {
            if (buf[at + i] != mki[i]) {
                return false;
            }
        }
        return true;
    }

    /**
     * RFC 3711 Appendix A: the index (ROC || SEQ) of a packet with sequence number {@code seq}, guessing the
     * ROC from the highest index seen; negative when the guess is ROC - 1 with ROC 0.
     */
    static long estimateIndex(long highestIndex, int seq) {
        long roc = highestIndex >>> 16;
        int sl = (int) (highestIndex & 0xffff);
        long v;
        if (sl < 32768) {
            v = seq - sl > 32768 ? roc - 1 : roc;
        } else {
            v = sl - 32768 > seq ? roc + 1 : roc;
        }
        if (v < 0 || v > 0xffffffffL) {
            return -1;
        }
        return (v << 16) | seq;
    }

    /** Fixed header + CSRCs + header extension (RFC 3550 §5.1, §5.3.1), or -1 if it does not fit. */
    static int headerLength(byte[] buf, int off, int len) {
        if (len < RTP_HEADER || (buf[off] & 0xc0) != 0x80) {
            return -1;
        }
        int header = RTP_HEADER + 4 * (buf[off] & 0x0f);
        if ((buf[off] & 0x10) != 0) {
            if (header + 4 > len) {
                return -1;
            }
            int words = ((buf[off + header + 2] & 0xff) << 8) | (buf[off + header + 3] & 0xff);
            header += 4 + 4 * words;
        }
        return header <= len ? header : -1;
    }

    private static int sequence(byte[] buf, int off) {
        return ((buf[off + 2] & 0xff) << 8) | (buf[off + 3] & 0xff);
    }

    static int readInt(byte[] buf, int at) {
        return ((buf[at] & 0xff) << 24) | ((buf[at + 1] & 0xff) << 16) | ((buf[at + 2] & 0xff) << 8)
                | (buf[at + 3] & 0xff);
    }
}
