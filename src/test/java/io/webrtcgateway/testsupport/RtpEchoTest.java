package io.webrtcgateway.testsupport;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.Arrays;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class RtpEchoTest {

    private static final long BROWSER_SSRC = 0x1122_3344L;
    private static final long ECHO_SSRC = 0xCAFE_F00DL;

    private DatagramSocket client;

    @BeforeEach
    void open() throws IOException {
        client = new DatagramSocket(new InetSocketAddress(FreePorts.LOOPBACK, 0));
        client.setSoTimeout(5000);
    }

    @AfterEach
    void closeClient() {
        client.close();
    }

    @Test
    void echoesRtpUnchangedToItsSource() throws IOException {
        try (RtpEcho echo = RtpEcho.start()) {
            byte[] rtp = rtp(0, 1000, 160);
            assertArrayEquals(rtp, roundTrip(echo, rtp));
            assertEquals(1, echo.rtpPackets());
            assertEquals(0, echo.rtcpPackets());
            assertEquals(rtp.length, echo.bytes());
            assertEquals(client.getLocalSocketAddress(), echo.lastSource().orElseThrow());
        }
    }

    @Test
    void dropsEveryNthRtpPacketWhenAsked() throws IOException {
        try (RtpEcho echo = RtpEcho.start().dropEvery(3)) {
            for (int seq = 1; seq <= 6; seq++) {
                send(echo, rtp(0, seq, 160));
            }
            byte[] rtcp = {(byte) 0x80, (byte) 201, 0, 1, 1, 2, 3, 4}; // an empty RR: never dropped
            send(echo, rtcp);
            java.util.List<Integer> back = new java.util.ArrayList<>();
            for (int i = 0; i < 5; i++) {
                byte[] buffer = new byte[2048];
                DatagramPacket reply = new DatagramPacket(buffer, buffer.length);
                client.receive(reply);
                back.add(reply.getLength() == rtcp.length ? -1 : ByteBuffer.wrap(buffer).getShort(2) & 0xFFFF);
            }
            assertEquals(java.util.List.of(1, 2, 4, 5, -1), back, "the 3rd and 6th RTP packets left out");
            assertEquals(2, echo.droppedRtpPackets());
            assertEquals(6, echo.rtpPackets(), "all counted as received");
        }
    }

    @Test
    void answersASenderReportWithAReportBlockAboutItsSender() throws IOException {
        try (RtpEcho echo = RtpEcho.rewritingSsrc(ECHO_SSRC).answerSenderReports()) {
            // SR (RFC 3550 §6.4.1): sender 0x11223344, NTP 0x0A0B0C0D.0E0F1011, RTP ts, packet and octet counts.
            ByteBuffer sr = ByteBuffer.allocate(28).put((byte) 0x80).put((byte) 200).putShort((short) 6)
                    .putInt((int) BROWSER_SSRC).putInt(0x0A0B0C0D).putInt(0x0E0F1011).putInt(1234).putInt(5).putInt(800);
            send(echo, sr.array());
            byte[] first = receive();
            byte[] second = receive();
            ByteBuffer rr = ByteBuffer.wrap((first[1] & 0xFF) == 201 ? first : second);
            assertEquals((byte) 0x81, rr.get(0), "V=2, one block");
            assertEquals(7, rr.getShort(2));
            assertEquals(ECHO_SSRC, rr.getInt(4) & 0xFFFF_FFFFL, "from the echo's SSRC");
            assertEquals(BROWSER_SSRC, rr.getInt(8) & 0xFFFF_FFFFL, "about the SR's sender");
            assertEquals(0x0C0D0E0F, rr.getInt(24), "LSR: the NTP timestamp's middle 32 bits");
            assertEquals(0, rr.getInt(28), "DLSR");
            assertEquals(200, ((first[1] & 0xFF) == 201 ? second : first)[1] & 0xFF, "the SR is echoed too");
            assertEquals(1, echo.rtcpPackets());
        }
        assertEquals(null, RtpEcho.receiverReportFor(rtp(0, 1, 160), 172, 1), "no answer to RTP");
    }

    private byte[] receive() throws IOException {
        byte[] buffer = new byte[2048];
        DatagramPacket reply = new DatagramPacket(buffer, buffer.length);
        client.receive(reply);
        return Arrays.copyOf(buffer, reply.getLength());
    }

    @Test
    void rewritesTheRtpSsrcAndNothingElse() throws IOException {
        try (RtpEcho echo = RtpEcho.rewritingSsrc(ECHO_SSRC)) {
            byte[] rtp = rtp(8, 4711, 160);
            byte[] back = roundTrip(echo, rtp);
            assertEquals(ECHO_SSRC, ByteBuffer.wrap(back).getInt(8) & 0xFFFF_FFFFL);
            assertArrayEquals(Arrays.copyOfRange(rtp, 0, 8), Arrays.copyOfRange(back, 0, 8), "header before the SSRC");
            assertArrayEquals(Arrays.copyOfRange(rtp, 12, rtp.length), Arrays.copyOfRange(back, 12, back.length),
                    "payload");
        }
    }

    @Test
    void rewritesTheSenderOfEachPacketInACompoundRtcp() throws IOException {
        // SR with one report block about the remote SSRC 0x55667788, then SDES with one CNAME chunk.
        ByteBuffer sr = ByteBuffer.allocate(52)
                .put((byte) 0x81).put((byte) 200).putShort((short) 12)
                .putInt((int) BROWSER_SSRC)
                .putLong(0x0102030405060708L).putInt(160).putInt(10).putInt(1600) // NTP, RTP ts, counts
                .putInt(0x55667788).putInt(0).putInt(0).putInt(0).putInt(0).putInt(0); // report block
        ByteBuffer sdes = ByteBuffer.allocate(16)
                .put((byte) 0x81).put((byte) 202).putShort((short) 3)
                .putInt((int) BROWSER_SSRC)
                .put((byte) 1).put((byte) 4).put("abcd".getBytes()).put((byte) 0).put((byte) 0);
        byte[] compound = ByteBuffer.allocate(68).put(sr.array()).put(sdes.array()).array();

        try (RtpEcho echo = RtpEcho.rewritingSsrc(ECHO_SSRC)) {
            ByteBuffer back = ByteBuffer.wrap(roundTrip(echo, compound));
            assertEquals(ECHO_SSRC, back.getInt(4) & 0xFFFF_FFFFL, "SR sender");
            assertEquals(0x55667788, back.getInt(28), "the report block still names the stream it reports on");
            assertEquals(ECHO_SSRC, back.getInt(52 + 4) & 0xFFFF_FFFFL, "SDES chunk");
            assertEquals(1, echo.rtcpPackets());
            assertEquals(0, echo.rtpPackets());
        }
    }

    @Test
    void echoesAndCountsWhatIsNotRtp() throws IOException {
        try (RtpEcho echo = RtpEcho.rewritingSsrc(ECHO_SSRC)) {
            byte[] stun = {0x00, 0x01, 0x00, 0x00, 0x21, 0x12, (byte) 0xA4, 0x42, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
            assertArrayEquals(stun, roundTrip(echo, stun));
            byte[] truncated = Arrays.copyOf(rtp(0, 1, 0), 10);
            assertArrayEquals(truncated, roundTrip(echo, truncated));
            assertEquals(2, echo.otherPackets());
            assertEquals(0, echo.rtpPackets());
        }
    }

    @Test
    void countsPacketsAndReleasesItsPort() throws IOException {
        int port;
        try (RtpEcho echo = RtpEcho.start()) {
            port = echo.port();
            for (int seq = 0; seq < 20; seq++) {
                send(echo, rtp(0, seq, 160));
            }
            assertEquals(20, echo.awaitRtpPackets(20, Duration.ofSeconds(5)));
        }
        assertTrue(FreePorts.udpFree(port), "port " + port + " still bound after close()");
    }

    @Test
    void countsPayloadTypesAndReadsTelephoneEvents() throws IOException {
        try (RtpEcho echo = RtpEcho.start()) {
            roundTrip(echo, rtp(0, 1, 160));
            // RFC 4733 §2.3: digit 1 (start, marker), then its end three times; then '#' (11) ended once.
            roundTrip(echo, event(101, 2, 8000, true, 1, false, 160));
            for (int i = 0; i < 3; i++) {
                roundTrip(echo, event(101, 3 + i, 8000, false, 1, true, 800));
            }
            roundTrip(echo, event(101, 6, 9600, true, 11, true, 800));
            assertEquals(java.util.Map.of(0, 1L, 101, 5L), echo.payloadTypes());
            var events = echo.telephoneEvents(101);
            assertEquals(5, events.size());
            assertEquals(new RtpEcho.TelephoneEvent(1, false, 10, 160, 8000, true), events.get(0));
            assertEquals(new RtpEcho.TelephoneEvent(1, true, 10, 800, 8000, false), events.get(1));
            assertEquals(java.util.List.of(1, 11), echo.endedTelephoneEvents(101));
            assertTrue(echo.telephoneEvents(96).isEmpty());
        }
    }

    private static byte[] event(int payloadType, int sequence, int timestamp, boolean marker, int event, boolean end,
            int duration) {
        return ByteBuffer.allocate(16)
                .put((byte) 0x80).put((byte) ((marker ? 0x80 : 0) | payloadType)).putShort((short) sequence)
                .putInt(timestamp).putInt((int) BROWSER_SSRC)
                .put((byte) event).put((byte) ((end ? 0x80 : 0) | 10)).putShort((short) duration)
                .array();
    }

    private byte[] roundTrip(RtpEcho echo, byte[] data) throws IOException {
        send(echo, data);
        byte[] buffer = new byte[2048];
        DatagramPacket reply = new DatagramPacket(buffer, buffer.length);
        client.receive(reply);
        assertEquals(echo.address(), reply.getSocketAddress(), "answered from the echo's own port");
        return Arrays.copyOf(buffer, reply.getLength());
    }

    private void send(RtpEcho echo, byte[] data) throws IOException {
        client.send(new DatagramPacket(data, data.length, echo.address()));
    }

    /** RFC 3550 §5.1 header (V=2, no CSRC/extension) plus a payload of {@code payloadLength} bytes. */
    private static byte[] rtp(int payloadType, int sequence, int payloadLength) {
        ByteBuffer packet = ByteBuffer.allocate(12 + payloadLength)
                .put((byte) 0x80).put((byte) payloadType).putShort((short) sequence)
                .putInt(sequence * 160).putInt((int) BROWSER_SSRC);
        for (int i = 0; i < payloadLength; i++) {
            packet.put((byte) (i * 7));
        }
        return packet.array();
    }
}
