package io.webrtcgateway.media.rtp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.webrtcgateway.testsupport.FuzzBudget;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;

/**
 * RTCP compound parsing and rewriting as the relay does it (MediaRelay): {@link RtcpPacket#isValidCompound}
 * as the gate, then {@link RtcpPacket#concerns} (BUNDLE demultiplexing), the SDES chunk walk and
 * {@link RtcpTranslator#translate} in both directions. A compound that passes the gate must never make the
 * later steps read or write outside it, and what is forwarded is itself a valid compound.
 */
@Tag("fuzz")
class RtcpFuzzTest {
    private static final int BROWSER = 0xB0B0B0B0;
    private static final int SIP = 0x51000002;

    @FuzzTest(maxDuration = FuzzBudget.MAX_DURATION, maxExecutions = FuzzBudget.EXECUTIONS)
    void translatesAnyCompound(byte[] input) {
        int off = 2;
        byte[] b = guarded(input, off);
        if (!RtcpPacket.isValidCompound(b, off, input.length)) {
            return;
        }
        // The rest only ever sees validated compounds.
        RtcpPacket.concerns(b, off, input.length, true, BROWSER, 0x0a11);
        RtcpPacket.concerns(b, off, input.length, false, 0, SIP);
        for (int p = off; p < off + input.length; p = RtcpPacket.next(b, p)) {
            if (RtcpPacket.packetType(b, p) == RtcpPacket.SDES) {
                int c = RtcpPacket.firstSdesChunk(p);
                for (int i = 0; i < RtcpPacket.count(b, p); i++) {
                    c = RtcpPacket.nextSdesChunk(b, p, c);
                    assertTrue(c <= p + RtcpPacket.lengthBytes(b, p), "SDES chunk walk ran past its packet");
                }
            }
        }
        for (boolean fromBrowser : new boolean[] {true, false}) {
            byte[] copy = guarded(input, off);
            Relay relay = new Relay();
            RelayDirection own = fromBrowser ? relay.toSip : relay.toBrowser;
            RelayDirection reverse = fromBrowser ? relay.toBrowser : relay.toSip;
            int n = relay.translator.translate(copy, off, input.length, own, reverse, fromBrowser, relay.now);
            assertTrue(n >= 0 && n <= input.length, "translated length " + n + " of " + input.length);
            checkGuards(copy, off, input.length);
            if (n > 0) {
                assertTrue(RtcpPacket.isValidCompound(copy, off, n), "forwarded an invalid compound");
            }
        }
    }

    /** Both directions with a stream each way, as after the first packets of a call. */
    private static final class Relay {
        final long epoch = TimeUnit.SECONDS.toNanos(77);
        long now = epoch + TimeUnit.SECONDS.toNanos(3);
        final RelayDirection toSip = new RelayDirection("browser->sip", 0x0a11, true, PayloadTypeMap.identity(8000),
                false);
        final RelayDirection toBrowser = new RelayDirection("sip->browser", 0x0b22, true,
                PayloadTypeMap.identity(8000), false);
        final RtcpTranslator translator = new RtcpTranslator(epoch, true);

        Relay() {
            for (int i = 0; i < 2; i++) {
                byte[] a = Packets.rtp(0, 1000 + i, 50_000 + 160 * i, BROWSER, 160);
                toSip.rtp(a, 0, a.length, now);
                byte[] c = Packets.rtp(0, 200 + i, 7_000 + 160 * i, SIP, 160);
                toBrowser.rtp(c, 0, c.length, now);
                now += TimeUnit.MILLISECONDS.toNanos(20);
            }
        }
    }

    private static byte[] guarded(byte[] input, int off) {
        byte[] b = new byte[off + input.length + 8];
        Arrays.fill(b, (byte) 0x5a);
        System.arraycopy(input, 0, b, off, input.length);
        return b;
    }

    private static void checkGuards(byte[] b, int off, int len) {
        for (int i = 0; i < off; i++) {
            assertEquals(0x5a, b[i], "wrote before the compound");
        }
        for (int i = off + len; i < b.length; i++) {
            assertEquals(0x5a, b[i], "wrote past the compound");
        }
    }
}
