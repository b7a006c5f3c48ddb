package io.webrtcgateway.media.rtp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.webrtcgateway.testsupport.FreePorts;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
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

    /**
     * RTP bleed: with ports handed out in order, whoever saw one call's port (or just one free port) knew the
     * next call's. Now consecutive calls get pairs that are rarely neighbours: out of 49 successive draws
     * from 500 pairs about one lands next to the one before by chance (the old allocator: all 49).
     */
    @Test
    void consecutiveAllocationsAreNotNeighbours() throws Exception {
        FreePorts.Range range = FreePorts.udpRange(1000);
        RtpPortAllocator allocator = new RtpPortAllocator(FreePorts.LOOPBACK, range.low(), range.high());
        List<PortPair> held = new ArrayList<>();
        try {
            int neighbours = 0;
            int previous = -1;
            for (int i = 0; i < 50; i++) {
                PortPair p = allocator.allocate();
                held.add(p);
                if (previous >= 0 && Math.abs(p.rtpPort() - previous) == 2) {
                    neighbours++;
                }
                previous = p.rtpPort();
            }
            // P(>= 8 of 49 draws next to the previous one) under uniform draws is below 1e-9.
            assertTrue(neighbours < 8, neighbours + " of 49 successive pairs were neighbours");
        } finally {
            held.forEach(PortPair::close);
        }
    }

    /**
     * Each free pair is equally likely, pairs in use are never handed out again until released, and a
     * released pair goes back among the candidates. A seeded Random makes the figures repeatable; production
     * uses SecureRandom.
     */
    @Test
    void drawsUniformlyAmongTheFreePairsOnly() throws Exception {
        FreePorts.Range range = FreePorts.udpRange(80); // 40 pairs
        RtpPortAllocator allocator = new RtpPortAllocator(FreePorts.LOOPBACK, range.low(), range.high(),
                new Random(1234));
        int total = allocator.pairsTotal();
        List<PortPair> held = new ArrayList<>();
        Set<Integer> heldPorts = new HashSet<>();
        try {
            for (int i = 0; i < total / 2; i++) {
                PortPair p = allocator.allocate();
                held.add(p);
                assertTrue(heldPorts.add(p.rtpPort()), "handed out twice: " + p.rtpPort());
            }
            int freePairs = total - held.size();
            int draws = 200 * freePairs;
            java.util.Map<Integer, Integer> counts = new java.util.HashMap<>();
            for (int i = 0; i < draws; i++) {
                try (PortPair p = allocator.allocate()) {
                    assertTrue(!heldPorts.contains(p.rtpPort()), "pair in use handed out: " + p.rtpPort());
                    counts.merge(p.rtpPort(), 1, Integer::sum);
                }
            }
            assertEquals(freePairs, counts.size(), "every free pair drawn: " + counts);
            double expected = (double) draws / freePairs;
            double chiSquare = counts.values().stream().mapToDouble(n -> (n - expected) * (n - expected) / expected).sum();
            // 19 degrees of freedom: 43.8 is the 0.1 % critical value.
            assertTrue(chiSquare < 43.8, "chi-square " + chiSquare + " over " + counts);
            assertEquals(held.size(), allocator.pairsInUse());
        } finally {
            held.forEach(PortPair::close);
        }
        assertEquals(0, allocator.pairsInUse());
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
