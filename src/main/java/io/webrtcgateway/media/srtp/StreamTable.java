package io.webrtcgateway.media.srtp;

/**
 * Per-SSRC state of one direction of an SRTP or SRTCP context (RFC 3711 §3.2.3): the highest packet index
 * accepted and, on the receive side, a 128-packet replay window (RFC 3711 §3.3.2 asks for at least 64;
 * libsrtp and browsers use 128, so video reordered by a few frames is not dropped).
 * Arrays sized once: adding a stream allocates nothing. Past {@link #CAPACITY} SSRCs the least recently used
 * one is forgotten (a new SSRC only enters after its first packet authenticated, so a flood of forged
 * SSRCs cannot evict anything). Not thread-safe: owned by the thread of its direction.
 */
final class StreamTable {
    static final int CAPACITY = 32;
    static final int WINDOW = 128;

    private final int[] ssrcs = new int[CAPACITY];
    /** Highest accepted index: 48-bit ROC||SEQ for SRTP, 31-bit SRTCP index. */
    private final long[] highest = new long[CAPACITY];
    /** Bit i of the window of slot s: index (highest - i) was accepted; words [2s] bits 0-63, [2s+1] 64-127. */
    private final long[] window = new long[CAPACITY * 2];
    private final long[] lastUse = new long[CAPACITY];
    private int size;
    private int lastSlot;
    private long clock;

    /** The slot of {@code ssrc}, or -1. */
    int find(int ssrc) {
        if (lastSlot < size && ssrcs[lastSlot] == ssrc) {
            lastUse[lastSlot] = ++clock;
            return lastSlot;
        }
        for (int i = 0; i < size; i++) {
            if (ssrcs[i] == ssrc) {
                lastUse[i] = ++clock;
                lastSlot = i;
                return i;
            }
        }
        return -1;
    }

    /** Adds {@code ssrc} with {@code index} as its first accepted packet; returns its slot. */
    int add(int ssrc, long index) {
        int slot;
        if (size < CAPACITY) {
            slot = size++;
        } else {
            slot = 0;
            for (int i = 1; i < CAPACITY; i++) {
                if (lastUse[i] < lastUse[slot]) {
                    slot = i;
                }
            }
        }
        ssrcs[slot] = ssrc;
        highest[slot] = index;
        window[2 * slot] = 1;
        window[2 * slot + 1] = 0;
        lastUse[slot] = ++clock;
        lastSlot = slot;
        return slot;
    }

    long highest(int slot) {
        return highest[slot];
    }

    /** For the send side, which keeps no window: remembers the highest index sent. */
    void advance(int slot, long index) {
        if (index > highest[slot]) {
            highest[slot] = index;
        }
    }

    /** RFC 3711 §3.3.2: true if {@code index} was already accepted or is older than the window. */
    boolean isReplay(int slot, long index) {
        long age = highest[slot] - index;
        if (age < 0) {
            return false;
        }
        if (age >= WINDOW) {
            return true;
        }
        long word = window[2 * slot + (int) (age >>> 6)];
        return (word & (1L << (age & 63))) != 0;
    }

    /** Records {@code index} as accepted (after its tag verified). */
    void accept(int slot, long index) {
        long delta = index - highest[slot];
        int w = 2 * slot;
        if (delta > 0) {
            long lo = window[w];
            long hi = window[w + 1];
            if (delta >= WINDOW) {
                lo = 0;
                hi = 0;
            } else if (delta >= 64) {
                hi = lo << (delta - 64);
                lo = 0;
            } else {
                hi = (hi << delta) | (lo >>> (64 - delta));
                lo = lo << delta;
            }
            window[w] = lo | 1;
            window[w + 1] = hi;
            highest[slot] = index;
        } else {
            long age = -delta;
            window[w + (int) (age >>> 6)] |= 1L << (age & 63);
        }
    }
}
