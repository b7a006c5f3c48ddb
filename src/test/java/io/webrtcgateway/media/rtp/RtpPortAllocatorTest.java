package io.webrtcgateway.media.rtp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.webrtcgateway.testsupport.FreePorts;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class RtpPortAllocatorTest {

    @Test
    void handsOutEvenOddPairsInsideTheRange() throws Exception {
        FreePorts.Range range = FreePorts.udpRange(9); // even low: 4 pairs
        RtpPortAllocator allocator = new RtpPortAllocator(FreePorts.LOOPBACK, range.low() - 1, range.high());
        List<PortPair> pairs = new ArrayList<>();
        try {
            for (int i = 0; i < 4; i++) {
                PortPair pair = allocator.allocate();
                pairs.add(pair);
                assertEquals(0, pair.rtpPort() % 2);
                assertEquals(pair.rtpPort() + 1, pair.rtcpPort());
                assertTrue(pair.rtpPort() >= range.low() && pair.rtcpPort() <= range.high());
                assertEquals(pair.rtpPort(), ((InetSocketAddress) pair.rtp().getLocalAddress()).getPort());
                assertEquals(pair.rtcpPort(), ((InetSocketAddress) pair.rtcp().getLocalAddress()).getPort());
            }
            assertEquals(4, allocator.pairsTotal());
            assertEquals(4, allocator.pairsInUse());
            assertEquals(0, allocator.pairsFree());
        } finally {
            pairs.forEach(PortPair::close);
        }
        assertEquals(0, allocator.pairsInUse());
        assertEquals(4, allocator.pairsFree());
    }

    @Test
    void exhaustionIsAClearException() throws Exception {
        FreePorts.Range range = FreePorts.udpRange(4);
        RtpPortAllocator allocator = new RtpPortAllocator(FreePorts.LOOPBACK, range.low(), range.high());
        try (PortPair a = allocator.allocate(); PortPair b = allocator.allocate()) {
            assertNotEquals(a.rtpPort(), b.rtpPort());
            RtpPortsExhaustedException e = assertThrows(RtpPortsExhaustedException.class, allocator::allocate);
            assertTrue(e.getMessage().contains(range.toString()), e.getMessage());
            assertTrue(e.getMessage().contains("2 of 2 pairs in use"), e.getMessage());
        }
        try (PortPair again = allocator.allocate()) {
            assertEquals(1, allocator.pairsInUse());
        }
    }

    @Test
    void skipsPortsTheOsRefuses() throws Exception {
        FreePorts.Range range = FreePorts.udpRange(6);
        RtpPortAllocator allocator = new RtpPortAllocator(FreePorts.LOOPBACK, range.low(), range.high());
        // someone else holds the RTCP port of the first pair and the RTP port of the second
        try (DatagramSocket squatter1 = new DatagramSocket(new InetSocketAddress(FreePorts.LOOPBACK, range.low() + 1));
             DatagramSocket squatter2 = new DatagramSocket(new InetSocketAddress(FreePorts.LOOPBACK, range.low() + 2))) {
            try (PortPair pair = allocator.allocate()) {
                assertEquals(range.low() + 4, pair.rtpPort());
                assertEquals(1, allocator.pairsInUse(), "refused pairs are not counted as in use");
                RtpPortsExhaustedException e = assertThrows(RtpPortsExhaustedException.class, allocator::allocate);
                assertTrue(e.getMessage().contains("refused by the OS"), e.getMessage());
            }
        }
        assertEquals(0, allocator.pairsInUse());
        try (PortPair pair = allocator.allocate()) {
            assertTrue(pair.rtpPort() >= range.low());
        }
    }

    @Test
    void closeReturnsPortsOnceAndTheyBindAgain() throws Exception {
        FreePorts.Range range = FreePorts.udpRange(2);
        RtpPortAllocator allocator = new RtpPortAllocator(FreePorts.LOOPBACK, range.low(), range.high());
        PortPair pair = allocator.allocate();
        pair.close();
        pair.close();
        assertEquals(0, allocator.pairsInUse());
        assertTrue(FreePorts.udpFree(range.low()) && FreePorts.udpFree(range.low() + 1));
        try (PortPair again = allocator.allocate()) {
            assertEquals(range.low(), again.rtpPort());
        }
    }

    @Test
    void rejectsRangesWithoutAPair() {
        assertThrows(IllegalArgumentException.class, () -> new RtpPortAllocator(FreePorts.LOOPBACK, 20001, 20001));
        assertThrows(IllegalArgumentException.class, () -> new RtpPortAllocator(FreePorts.LOOPBACK, 20001, 20002));
        assertThrows(IllegalArgumentException.class, () -> new RtpPortAllocator(FreePorts.LOOPBACK, 30000, 20000));
        assertThrows(IllegalArgumentException.class, () -> new RtpPortAllocator(FreePorts.LOOPBACK, 0, 70000));
        assertEquals(1, new RtpPortAllocator(FreePorts.LOOPBACK, 20001, 20003).pairsTotal());
    }

    @Test
    void concurrentAllocationNeverHandsOutAPortTwice() throws Exception {
        FreePorts.Range range = FreePorts.udpRange(200);
        RtpPortAllocator allocator = new RtpPortAllocator(FreePorts.LOOPBACK, range.low(), range.high());
        Set<Integer> seen = ConcurrentHashMap.newKeySet();
        List<PortPair> all = new ArrayList<>();
        ExecutorService pool = Executors.newFixedThreadPool(8);
        try {
            List<Future<List<PortPair>>> futures = new ArrayList<>();
            for (int t = 0; t < 8; t++) {
                futures.add(pool.submit(() -> {
                    List<PortPair> mine = new ArrayList<>();
                    for (int i = 0; i < 12; i++) {
                        PortPair p = allocator.allocate();
                        mine.add(p);
                        assertTrue(seen.add(p.rtpPort()), "port handed out twice: " + p.rtpPort());
                    }
                    return mine;
                }));
            }
            for (Future<List<PortPair>> f : futures) {
                all.addAll(f.get(30, TimeUnit.SECONDS));
            }
            assertEquals(96, allocator.pairsInUse());
        } finally {
            all.forEach(PortPair::close);
            pool.shutdownNow();
        }
        assertEquals(0, allocator.pairsInUse());
    }
}
