package io.webrtcgateway.media.rtp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import io.webrtcgateway.testsupport.FuzzBudget;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;

/**
 * RTP header parsing and the relay's per-packet steps (MediaRelay: {@link RtpPacket#headerLength} as the gate,
 * then {@link RelayDirection#rtp}: payload type map, SSRC/numbering rewrite, stats, extension strip), on a
 * sequence of packets from fuzz input, both directions. Whatever arrives: no exception, nothing written
 * outside the packet, and a forwarded packet is still valid RTP.
 */
@Tag("fuzz")
class RtpFuzzTest {

    @FuzzTest(maxDuration = FuzzBudget.MAX_DURATION, maxExecutions = FuzzBudget.EXECUTIONS)
    void relaysAnyPacketSequence(FuzzedDataProvider data) {
        PayloadTypeMap browserToSip = PayloadTypeMap.identity(8000);
        RelayDirection toSip = new RelayDirection("browser->sip", 0x0a11, data.consumeBoolean(), browserToSip, true);
        RelayDirection toBrowser = new RelayDirection("sip->browser", 0x0b22, true, browserToSip.reversed(), false);
        long now = TimeUnit.SECONDS.toNanos(1000);
        for (int packets = 0; packets < 64 && data.remainingBytes() > 0; packets++) {
            RelayDirection d = data.consumeBoolean() ? toSip : toBrowser;
            now += data.consumeInt(0, 100_000_000);
            byte[] packet = data.consumeBytes(data.consumeInt(0, MediaRelay.MAX_BROWSER_PACKET));
            relay(d, packet, now);
        }
    }

    private static void relay(RelayDirection d, byte[] packet, long now) {
        int len = packet.length;
        // The relay's buffers: the packet at an offset, with the sender tailroom after it (guarded).
        int off = 3;
        byte[] b = new byte[off + len + MediaRelay.SENDER_TAILROOM];
        Arrays.fill(b, (byte) 0x5a);
        System.arraycopy(packet, 0, b, off, len);
        RtpPacket.looksLikeRtcp(b, off, len);
        int header = RtpPacket.headerLength(b, off, len);
        if (header < 0) {
            return;
        }
        assertTrue(header >= RtpPacket.FIXED_HEADER && header <= len);
        int n = d.rtp(b, off, len, now);
        for (int i = 0; i < off; i++) {
            assertEquals(0x5a, b[i], "wrote before the packet");
        }
        for (int i = off + len; i < b.length; i++) {
            assertEquals(0x5a, b[i], "wrote past the packet");
        }
        if (n > 0) {
            assertTrue(n <= len);
            assertTrue(RtpPacket.headerLength(b, off, n) >= 0, "forwarded packet is no longer valid RTP");
        }
    }
}
