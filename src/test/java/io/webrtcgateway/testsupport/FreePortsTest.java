package io.webrtcgateway.testsupport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.TimeUnit;
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

    /**
     * Another test JVM's ports are never handed out here: a child JVM takes 3,000 of the 10,000 ports of the
     * ranges' band and holds them; 30 ranges of 200 taken here all miss them (drawn at random, each would
     * overlap with a probability of about 0.32 without the shared lock file: all 30 miss once in 100,000). Not
     * more: other test JVMs hold ranges too (a second fork, another run), and the child needs 3,000 in a row.
     */
    @Test
    void portsHeldByAnotherTestJvmAreNotHandedOut() throws Exception {
        Process child = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), HoldsARange.class.getName(), "3000")
                .redirectError(ProcessBuilder.Redirect.INHERIT).start();
        try (BufferedReader out = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8))) {
            String line = out.readLine(); // "low-high", once the child holds the range
            assertNotNull(line, "the child JVM took no range");
            String[] bounds = line.trim().split("-");
            int low = Integer.parseInt(bounds[0]);
            int high = Integer.parseInt(bounds[1]);
            assertEquals(2999, high - low);
            for (int i = 0; i < 30; i++) {
                FreePorts.Range mine = FreePorts.udpRange(200);
                assertTrue(mine.high() < low || mine.low() > high, mine + " overlaps the child's " + line);
                FreePorts.release(mine);
            }
        } finally {
            child.getOutputStream().close(); // the child exits when its stdin closes
            assertTrue(child.waitFor(30, TimeUnit.SECONDS), "the child JVM exits");
        }
    }

    /** The child JVM of {@link #portsHeldByAnotherTestJvmAreNotHandedOut}: takes a range, prints it, holds it. */
    static final class HoldsARange {
        public static void main(String[] args) throws IOException {
            System.out.println(FreePorts.udpRange(Integer.parseInt(args[0])));
            System.out.flush();
            while (System.in.read() >= 0) {
                // hold the range until the parent closes our stdin
            }
        }
    }
}
