package io.webrtcgateway.media.srtp;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import io.webrtcgateway.testsupport.FuzzBudget;
import java.util.Arrays;
import org.junit.jupiter.api.Tag;

/**
 * SRTP/SRTCP unprotect (RFC 3711) with fixed keys, on what a browser or an attacker on the path may send:
 * <ul>
 *   <li>raw bytes: unprotect returns -1 (dropped, counted) or a length inside the packet, never throws, never
 *       touches bytes outside {@code [off, off+len)};</li>
 *   <li>a packet protected by the peer, possibly with one byte changed: unchanged it comes back byte for byte,
 *       changed it is rejected (the HMAC tag covers everything but the encrypted part's keystream).</li>
 * </ul>
 */
@Tag("fuzz")
class SrtpUnprotectFuzzTest {
    private static final SrtpMasterKey GATEWAY = new SrtpMasterKey(bytes(16, 1), bytes(14, 2));
    private static final SrtpMasterKey BROWSER = new SrtpMasterKey(bytes(16, 3), bytes(14, 4));
    private static final int GUARD = 16;

    @FuzzTest(maxDuration = FuzzBudget.MAX_DURATION, maxExecutions = FuzzBudget.EXECUTIONS)
    void unprotectRejectsCleanly(FuzzedDataProvider data) {
        SrtpProfile profile = data.pickValue(SrtpProfile.values());
        SrtpSession gateway = SrtpSession.create(profile, GATEWAY, BROWSER);
        boolean rtcp = data.consumeBoolean();
        if (data.consumeBoolean()) {
            byte[] packet = data.consumeRemainingAsBytes();
            unprotect(gateway, packet, rtcp);
            return;
        }
        // A real packet from the browser's session, then maybe one byte changed.
        SrtpSession browser = SrtpSession.create(profile, BROWSER, GATEWAY);
        int flipAt = data.consumeInt(-1, 2047);
        byte flip = (byte) data.consumeInt(1, 255);
        byte[] plain = data.consumeRemainingAsBytes();
        byte[] b = new byte[plain.length + browser.rtcpOverhead() + browser.rtpOverhead()];
        System.arraycopy(plain, 0, b, 0, plain.length);
        int n = rtcp ? browser.protectRtcp(b, 0, plain.length) : browser.protectRtp(b, 0, plain.length);
        if (n < 0) {
            return; // not an RTP/RTCP packet the sender would protect
        }
        byte[] sent = Arrays.copyOf(b, n);
        boolean changed = flipAt >= 0 && flipAt < n;
        if (changed) {
            sent[flipAt] ^= flip;
        }
        int m = unprotect(gateway, sent, rtcp);
        if (!changed) {
            assertEquals(plain.length, m, "a packet protected by the peer was not accepted");
        } else {
            assertEquals(-1, m, "a packet changed at byte " + flipAt + " was accepted");
        }
    }

    /** Unprotects {@code packet} at an offset inside a guarded buffer; returns the result. */
    private static int unprotect(SrtpSession session, byte[] packet, boolean rtcp) {
        byte[] b = new byte[GUARD + packet.length + GUARD];
        Arrays.fill(b, (byte) 0xa5);
        System.arraycopy(packet, 0, b, GUARD, packet.length);
        int n = rtcp ? session.unprotectRtcp(b, GUARD, packet.length) : session.unprotectRtp(b, GUARD, packet.length);
        assertTrue(n == -1 || (n >= 0 && n <= packet.length), "unprotect returned " + n + " for " + packet.length);
        byte[] guard = new byte[GUARD];
        Arrays.fill(guard, (byte) 0xa5);
        assertArrayEquals(guard, Arrays.copyOfRange(b, 0, GUARD), "wrote before the packet");
        assertArrayEquals(guard, Arrays.copyOfRange(b, GUARD + packet.length, b.length), "wrote past the packet");
        return n;
    }

    private static byte[] bytes(int n, int seed) {
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) {
            b[i] = (byte) (seed * 31 + i * 7);
        }
        return b;
    }
}
