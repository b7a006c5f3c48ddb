package io.webrtcgateway.media.srtp;

/**
 * SRTCP, one direction (RFC 3711 §3.4): everything after the first 8 bytes (header and sender SSRC) is
 * encrypted; the E flag and the 31-bit SRTCP index follow, then MKI and an 80-bit tag over header, encrypted
 * part and E||index. The send side numbers packets with one counter for all its SSRCs (the (SSRC, index)
 * pair, which is what the IV needs unique, stays unique); the receive side keeps a replay window per SSRC.
 * One thread at a time. Bad packets return -1 and are counted, never thrown.
 */
final class SrtcpCrypto {
    private static final int RTCP_HEADER = 8;
    private static final int E_INDEX = 4;
    private static final int MAX_INDEX = 0x7fffffff;

    private final AesCounterMode cipher;
    private final HmacSha1 mac;
    private final long saltHigh;
    private final long saltLow;
    private final int tagLength;
    private final byte[] mki;
    private final StreamTable streams = new StreamTable();
    private final SrtpCounters counters;
    private int nextIndex;

    SrtcpCrypto(SrtpProfile profile, SrtpMasterKey master, SrtpCounters counters) {
        SessionKeys keys = SessionKeys.forRtcp(master);
        this.cipher = new AesCounterMode(keys.encryptionKey());
        this.mac = new HmacSha1(keys.authenticationKey());
        this.saltHigh = AesCounterMode.high(keys.salt());
        this.saltLow = AesCounterMode.low(keys.salt());
        this.tagLength = profile.rtcpTagLength();
        this.mki = master.mkiRef();
        this.counters = counters;
    }

    int overhead() {
        return E_INDEX + mki.length + tagLength;
    }

    int protect(byte[] buf, int off, int len) {
        if (len < RTCP_HEADER || (buf[off] & 0xc0) != 0x80
                || off + len + E_INDEX + mki.length + tagLength > buf.length || nextIndex == MAX_INDEX) {
            // an index past 2^31 - 1 would need a new master key (RFC 3711 key lifetime); no call lives that long
            counters.protectFailures.incrementAndGet();
            return -1;
        }
        int index = nextIndex++;
        int ssrc = SrtpCrypto.readInt(buf, off + 4);
        cipher.apply(saltHigh ^ (ssrc & 0xffffffffL), saltLow ^ ((long) index << 16), buf, off + RTCP_HEADER,
                len - RTCP_HEADER);
        int e = off + len;
        int eIndex = 0x80000000 | index;
        buf[e] = (byte) (eIndex >>> 24);
        buf[e + 1] = (byte) (eIndex >>> 16);
        buf[e + 2] = (byte) (eIndex >>> 8);
        buf[e + 3] = (byte) eIndex;
        System.arraycopy(mki, 0, buf, e + E_INDEX, mki.length);
        mac.start();
        mac.update(buf, off, len + E_INDEX);
        System.arraycopy(mac.finish(), 0, buf, e + E_INDEX + mki.length, tagLength);
        return len + E_INDEX + mki.length + tagLength;
    }

    int unprotect(byte[] buf, int off, int len) {
        return unprotect(buf, off, len, true);
    }

    /** {@code count} false: a refused packet is not counted (a try under keys that may not be the sender's). */
    int unprotect(byte[] buf, int off, int len, boolean count) {
        int authenticated = len - mki.length - tagLength;
        if (authenticated < RTCP_HEADER + E_INDEX || (buf[off] & 0xc0) != 0x80
                || !mkiMatches(buf, off + authenticated)) {
            if (count) {
                counters.malformedDropped.incrementAndGet();
            }
            return -1;
        }
        int eIndex = SrtpCrypto.readInt(buf, off + authenticated - E_INDEX);
        boolean encrypted = eIndex < 0;
        long index = eIndex & MAX_INDEX;
        int ssrc = SrtpCrypto.readInt(buf, off + 4);
        int slot = streams.find(ssrc);
        if (slot >= 0 && streams.isReplay(slot, index)) {
            if (count) {
                counters.replayDropped.incrementAndGet();
            }
            return -1;
        }
        mac.start();
        mac.update(buf, off, authenticated);
        if (!HmacSha1.equalPrefix(mac.finish(), buf, off + authenticated + mki.length, tagLength)) {
            if (count) {
                counters.authFailures.incrementAndGet();
            }
            return -1;
        }
        if (slot < 0) {
            streams.add(ssrc, index);
        } else {
            streams.accept(slot, index);
        }
        int payloadEnd = authenticated - E_INDEX;
        if (encrypted) {
            cipher.apply(saltHigh ^ (ssrc & 0xffffffffL), saltLow ^ (index << 16), buf, off + RTCP_HEADER,
                    payloadEnd - RTCP_HEADER);
        }
        return payloadEnd;
    }

    private boolean mkiMatches(byte[] buf, int at) {
        for (int i = 0; i < mki.length; i++) {
            if (buf[at + i] != mki[i]) {
                return false;
            }
        }
        return true;
    }
}
