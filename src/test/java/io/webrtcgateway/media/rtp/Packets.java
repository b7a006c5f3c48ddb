package io.webrtcgateway.media.rtp;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/** Builds RTP and RTCP packets for tests, field by field (independent of the code under test). */
final class Packets {

    private Packets() {}

    static byte[] rtp(int pt, int seq, long ts, int ssrc, int payloadLength) {
        return rtp(pt, seq, ts, ssrc, payloadLength, false);
    }

    static byte[] rtp(int pt, int seq, long ts, int ssrc, int payloadLength, boolean marker) {
        ByteBuffer b = ByteBuffer.allocate(12 + payloadLength);
        b.put((byte) 0x80).put((byte) ((marker ? 0x80 : 0) | pt)).putShort((short) seq).putInt((int) ts).putInt(ssrc);
        for (int i = 0; i < payloadLength; i++) {
            b.put((byte) (0xd5 ^ i));
        }
        return b.array();
    }

    /** RTP with one-byte header extension (RFC 8285) of {@code extWords} 32-bit words, and CSRCs. */
    static byte[] rtpWithExtension(int pt, int seq, long ts, int ssrc, int[] csrcs, int extWords, int payloadLength) {
        ByteBuffer b = ByteBuffer.allocate(12 + 4 * csrcs.length + 4 + 4 * extWords + payloadLength);
        b.put((byte) (0x90 | csrcs.length)).put((byte) pt).putShort((short) seq).putInt((int) ts).putInt(ssrc);
        for (int c : csrcs) {
            b.putInt(c);
        }
        b.putShort((short) 0xBEDE).putShort((short) extWords);
        for (int i = 0; i < extWords; i++) {
            b.putInt(0x10ff0000 | i);
        }
        for (int i = 0; i < payloadLength; i++) {
            b.put((byte) i);
        }
        return b.array();
    }

    /** RFC 4733 telephone-event payload: event, E bit, volume, duration. */
    static byte[] dtmf(int pt, int seq, long ts, int ssrc, int event, boolean end, int duration) {
        ByteBuffer b = ByteBuffer.allocate(16);
        b.put((byte) 0x80).put((byte) pt).putShort((short) seq).putInt((int) ts).putInt(ssrc);
        b.put((byte) event).put((byte) ((end ? 0x80 : 0) | 10)).putShort((short) duration);
        return b.array();
    }

    record Block(int source, int fractionLost, int cumulativeLost, long highestSeq, long jitter, long lsr, long dlsr) {
        static Block about(int source, long highestSeq) {
            return new Block(source, 0, 0, highestSeq, 0, 0, 0);
        }
    }

    static byte[] sr(int sender, long ntpSeconds, long ntpFraction, long rtpTs, long packets, long octets, Block... blocks) {
        ByteBuffer b = ByteBuffer.allocate(28 + 24 * blocks.length);
        b.put((byte) (0x80 | blocks.length)).put((byte) 200).putShort((short) (b.capacity() / 4 - 1)).putInt(sender);
        b.putInt((int) ntpSeconds).putInt((int) ntpFraction).putInt((int) rtpTs).putInt((int) packets).putInt((int) octets);
        putBlocks(b, blocks);
        return b.array();
    }

    static byte[] rr(int sender, Block... blocks) {
        ByteBuffer b = ByteBuffer.allocate(8 + 24 * blocks.length);
        b.put((byte) (0x80 | blocks.length)).put((byte) 201).putShort((short) (b.capacity() / 4 - 1)).putInt(sender);
        putBlocks(b, blocks);
        return b.array();
    }

    private static void putBlocks(ByteBuffer b, Block[] blocks) {
        for (Block k : blocks) {
            b.putInt(k.source()).put((byte) k.fractionLost()).put((byte) (k.cumulativeLost() >> 16))
                    .putShort((short) k.cumulativeLost()).putInt((int) k.highestSeq()).putInt((int) k.jitter())
                    .putInt((int) k.lsr()).putInt((int) k.dlsr());
        }
    }

    static byte[] sdes(int ssrc, String cname) {
        byte[] text = cname.getBytes(StandardCharsets.US_ASCII);
        int chunk = 4 + 2 + text.length + 1;
        chunk = (chunk + 3) & ~3;
        ByteBuffer b = ByteBuffer.allocate(4 + chunk);
        b.put((byte) 0x81).put((byte) 202).putShort((short) (b.capacity() / 4 - 1)).putInt(ssrc);
        b.put((byte) 1).put((byte) text.length).put(text);
        return b.array();
    }

    static byte[] bye(int ssrc) {
        ByteBuffer b = ByteBuffer.allocate(8);
        b.put((byte) 0x81).put((byte) 203).putShort((short) 1).putInt(ssrc);
        return b.array();
    }

    /** Generic NACK (RFC 4585 §6.2.1). */
    static byte[] nack(int sender, int mediaSource, int pid) {
        ByteBuffer b = ByteBuffer.allocate(16);
        b.put((byte) 0x81).put((byte) 205).putShort((short) 3).putInt(sender).putInt(mediaSource)
                .putShort((short) pid).putShort((short) 0);
        return b.array();
    }

    /** transport-cc feedback (draft-holmer-rmcat-transport-wide-cc-extensions, RTPFB FMT 15), minimal body. */
    static byte[] transportCc(int sender, int mediaSource) {
        ByteBuffer b = ByteBuffer.allocate(20);
        b.put((byte) 0x8f).put((byte) 205).putShort((short) 4).putInt(sender).putInt(mediaSource)
                .putInt(0x00010001).putInt(0x00000100);
        return b.array();
    }

    static byte[] pli(int sender, int mediaSource) {
        ByteBuffer b = ByteBuffer.allocate(12);
        b.put((byte) 0x81).put((byte) 206).putShort((short) 2).putInt(sender).putInt(mediaSource);
        return b.array();
    }

    /** REMB (PSFB FMT 15, "REMB" + one SSRC). */
    static byte[] remb(int sender, int ssrc) {
        ByteBuffer b = ByteBuffer.allocate(24);
        b.put((byte) 0x8f).put((byte) 206).putShort((short) 5).putInt(sender).putInt(0)
                .put("REMB".getBytes(StandardCharsets.US_ASCII)).putInt(0x01000100).putInt(ssrc);
        return b.array();
    }

    static byte[] app(int ssrc) {
        ByteBuffer b = ByteBuffer.allocate(12);
        b.put((byte) 0x80).put((byte) 204).putShort((short) 2).putInt(ssrc).put("TEST".getBytes(StandardCharsets.US_ASCII));
        return b.array();
    }

    static byte[] compound(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.writeBytes(p);
        }
        return out.toByteArray();
    }

    static int u16(byte[] b, int at) {
        return ((b[at] & 0xff) << 8) | (b[at + 1] & 0xff);
    }

    static int i32(byte[] b, int at) {
        return ByteBuffer.wrap(b, at, 4).getInt();
    }

    static long u32(byte[] b, int at) {
        return i32(b, at) & 0xffffffffL;
    }
}
