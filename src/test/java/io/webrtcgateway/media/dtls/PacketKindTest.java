package io.webrtcgateway.media.dtls;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class PacketKindTest {

    private static PacketKind of(int... bytes) {
        byte[] b = new byte[bytes.length];
        for (int i = 0; i < b.length; i++) {
            b[i] = (byte) bytes[i];
        }
        return PacketKind.of(b, 0, b.length);
    }

    @Test
    void firstByteRangesOfRfc7983() {
        assertEquals(PacketKind.STUN, of(0, 1));
        assertEquals(PacketKind.STUN, of(1, 1));
        assertEquals(PacketKind.STUN, of(3));
        assertEquals(PacketKind.UNKNOWN, of(4));
        assertEquals(PacketKind.ZRTP, of(16));
        assertEquals(PacketKind.DTLS, of(20));
        assertEquals(PacketKind.DTLS, of(22, 0xfe, 0xfd));
        assertEquals(PacketKind.DTLS, of(63));
        assertEquals(PacketKind.TURN_CHANNEL, of(64));
        assertEquals(PacketKind.TURN_CHANNEL, of(79));
        assertEquals(PacketKind.UNKNOWN, of(80));
        assertEquals(PacketKind.UNKNOWN, of(127));
        assertEquals(PacketKind.UNKNOWN, of(192));
        assertEquals(PacketKind.UNKNOWN, of(255));
        assertEquals(PacketKind.UNKNOWN, of());
        assertEquals(PacketKind.UNKNOWN, of(0x80));
    }

    @Test
    void rtcpByPacketTypeRfc5761() {
        assertEquals(PacketKind.RTP, of(0x80, 0));        // PCMU
        assertEquals(PacketKind.RTP, of(0x80, 0x80 | 111)); // Opus with marker
        assertEquals(PacketKind.RTP, of(0x80, 96));
        assertEquals(PacketKind.RTCP, of(0x80, 200));     // SR
        assertEquals(PacketKind.RTCP, of(0x81, 201));     // RR
        assertEquals(PacketKind.RTCP, of(0x8f, 206));     // PSFB
        assertEquals(PacketKind.RTCP, of(0x80, 192));
        assertEquals(PacketKind.RTCP, of(0x80, 223));
        assertEquals(PacketKind.RTP, of(0x80, 224));
        assertEquals(PacketKind.RTP, of(0xbf, 191));
    }

    @Test
    void offsetIsHonoured() {
        byte[] b = {0, 0, (byte) 0x80, (byte) 200};
        assertEquals(PacketKind.RTCP, PacketKind.of(b, 2, 2));
        assertEquals(PacketKind.STUN, PacketKind.of(b, 0, 4));
    }
}
