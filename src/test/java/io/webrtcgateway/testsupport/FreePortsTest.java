package io.webrtcgateway.testsupport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

class FreePortsTest {

    @Test
    void sipPortsAreFreeForBothTransportsAndNeverHandedOutTwice() {
        Set<Integer> seen = new HashSet<>();
        for (int i = 0; i < 20; i++) {
            int port = FreePorts.udpAndTcp();
            assertTrue(FreePorts.udpFree(port) && FreePorts.tcpFree(port));
            assertTrue(seen.add(port), "handed out twice: " + port);
        }
        assertNotEquals(FreePorts.tcp(), FreePorts.udp());
    }

    /** Single ports are never handed back: they must not fragment the band the 200-port ranges come from. */
    @Test
    void manySinglePortsLeaveRoomForRanges() {
        for (int i = 0; i < 500; i++) {
            FreePorts.tcp();
        }
        for (int i = 0; i < 30; i++) {
            FreePorts.release(FreePorts.udpRange(200));
        }
    }

    @Test
    void rangeIsContiguousFreeAndStartsEven() {
        FreePorts.Range range = FreePorts.udpRange(50);

        assertEquals(49, range.high() - range.low());
        assertEquals(0, range.low() % 2);
        for (int p = range.low(); p <= range.high(); p++) {
            assertTrue(FreePorts.udpFree(p), "port " + p);
        }
        assertEquals(range.low() + "-" + range.high(), range.toString());
    }

    @Test
    void listeningAndBoundAreSeenWithoutBindingThePort() throws Exception {
        int tcp = FreePorts.tcp();
        assertFalse(FreePorts.tcpListening(tcp));
        try (java.net.ServerSocket server = new java.net.ServerSocket(tcp, 1, FreePorts.LOOPBACK)) {
            assertTrue(FreePorts.tcpListening(tcp));
            assertFalse(FreePorts.udpBound(tcp));
        }
        assertFalse(FreePorts.tcpListening(tcp));
        int udp = FreePorts.udp();
        assertFalse(FreePorts.udpBound(udp));
        try (java.net.DatagramSocket socket = new java.net.DatagramSocket(udp, FreePorts.LOOPBACK)) {
            assertTrue(FreePorts.udpBound(udp));
            assertFalse(FreePorts.tcpListening(udp));
        }
        assertFalse(FreePorts.udpBound(udp));
    }
}
