package io.webrtcgateway.testsupport;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Free ports on 127.0.0.1, chosen at run time so tests never collide on fixed ports.
 *
 * <p>A port is free when this JVM could bind it a moment ago; the peer binds it a little later. Ports
 * handed out here are remembered, so two peers of one test JVM never get the same one even before
 * either has bound it. Other processes on the machine can still take a port in between; the ranges are
 * drawn at random to keep that unlikely.
 */
public final class FreePorts {

    public static final InetAddress LOOPBACK = InetAddress.getLoopbackAddress();

    /*
     * Both bands lie below Linux's ephemeral range (32768-60999), so outgoing connections of others don't land
     * in them. Single ports have a band of their own: they are never handed back, and scattered over the
     * ranges' band they would leave no 200 consecutive ports free after a few hundred tests.
     *
     * Test JVMs that run side by side (failsafe's forkCount) each take their own slice of both bands, from
     * the system properties it.fork (surefire.forkNumber, 1-based) and it.forks: a port another JVM picked and
     * whose peer has not bound it yet looks free from here, and would otherwise be handed out twice.
     */
    private static final int FORKS = Math.max(1, Integer.getInteger("it.forks", 1));
    private static final int FORK = Math.min(FORKS, Math.max(1, Integer.getInteger("it.fork", 1))) - 1;
    private static final int RANGE_FLOOR = (slice(20000, 29999, FORK) + 1) & ~1; // even: RTP on even ports
    private static final int RANGE_CEILING = slice(20000, 29999, FORK + 1) - 1;
    /** The longest range: SoakBench's 320 calls take 3,840 ports (12 a call), in a network namespace of its own. */
    private static final int MAX_RANGE = Math.min(9000, RANGE_CEILING - RANGE_FLOOR - 2);
    private static final int SINGLE_FLOOR = slice(30000, 32767, FORK);
    private static final int SINGLE_CEILING = slice(30000, 32767, FORK + 1) - 1;

    private static final Set<Integer> handedOut = ConcurrentHashMap.newKeySet();

    private FreePorts() {}

    /** The first port of slice {@code n} of {@code FORKS} equal slices of low..high (n = FORKS: high + 1). */
    private static int slice(int low, int high, int n) {
        return low + (high - low + 1) * n / FORKS;
    }

    /** A port free for TCP. */
    public static int tcp() {
        return pick("TCP", true, false);
    }

    /** A port free for UDP. */
    public static int udp() {
        return pick("UDP", false, true);
    }

    /** A port free for both UDP and TCP: SIP listens on both with one number. */
    public static int udpAndTcp() {
        return pick("both UDP and TCP", true, true);
    }

    /**
     * A free port of the single ports' band. A port the kernel picked with bind(0) lies inside the ephemeral range,
     * and between our check and the peer's bind any outgoing connection on the machine may take it as its
     * source port (a CI run lost Kamailio's TCP listener that way).
     */
    private static synchronized int pick(String what, boolean tcp, boolean udp) {
        ThreadLocalRandom random = ThreadLocalRandom.current();
        for (int attempt = 0; attempt < 200; attempt++) {
            int port = SINGLE_FLOOR + random.nextInt(SINGLE_CEILING - SINGLE_FLOOR + 1);
            if (!handedOut.contains(port) && (!tcp || tcpFree(port)) && (!udp || udpFree(port))
                    && handedOut.add(port)) {
                return port;
            }
        }
        throw new IllegalStateException("no port free for " + what + " on " + LOOPBACK);
    }

    /**
     * A base for SIPp's {@code -mp}: SIPp binds four UDP ports from it (audio RTP and RTCP, video RTP and
     * RTCP) and exits when any is taken, so all four must be free, not only the first.
     */
    public static int sippMedia() {
        return udpRange(4).low();
    }

    /** {@code count} consecutive UDP ports, all free now; the first is even (RTP on even, RFC 3550 §11). */
    public static Range udpRange(int count) {
        if (count < 1 || count > MAX_RANGE) {
            throw new IllegalArgumentException("count must be 1.." + MAX_RANGE + ", not " + count);
        }
        ThreadLocalRandom random = ThreadLocalRandom.current();
        for (int attempt = 0; attempt < 100; attempt++) {
            int low = RANGE_FLOOR + random.nextInt((RANGE_CEILING - RANGE_FLOOR - count) / 2) * 2;
            int high = low + count - 1;
            if (allUdpFree(low, high) && reserve(low, high)) {
                return new Range(low, high);
            }
        }
        throw new IllegalStateException("no " + count + " consecutive free UDP ports on " + LOOPBACK);
    }

    /**
     * Whether some process listens on TCP {@code port} (any local address), from /proc/net/tcp and tcp6.
     * Use this, not {@code !tcpFree}, to wait for a starting peer: tcpFree binds the port for a moment, and a
     * peer binding it in that moment fails with "Address already in use" (kamailio did, twice in CI).
     */
    public static boolean tcpListening(int port) {
        return inProcNet(port, "0A", "tcp", "tcp6"); // 0A: TCP_LISTEN
    }

    /** Whether some process has a UDP socket bound to {@code port}, from /proc/net/udp and udp6; binds nothing. */
    public static boolean udpBound(int port) {
        return inProcNet(port, null, "udp", "udp6");
    }

    /** proc(5): each line's local_address is "ADDR:PORT" in hex, st the socket state in hex. */
    private static boolean inProcNet(int port, String state, String... tables) {
        String hexPort = String.format(":%04X", port);
        for (String table : tables) {
            Path file = Path.of("/proc/net", table);
            if (!Files.exists(file)) {
                continue;
            }
            try {
                for (String line : Files.readAllLines(file)) {
                    String[] f = line.trim().split("\\s+");
                    if (f.length > 3 && f[1].endsWith(hexPort) && (state == null || f[3].equals(state))) {
                        return true;
                    }
                }
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read " + file, e);
            }
        }
        return false;
    }

    public static boolean tcpFree(int port) {
        try (ServerSocket socket = new ServerSocket()) {
            socket.setReuseAddress(false);
            socket.bind(new InetSocketAddress(LOOPBACK, port));
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    public static boolean udpFree(int port) {
        try (DatagramSocket socket = new DatagramSocket(null)) {
            socket.setReuseAddress(false);
            socket.bind(new InetSocketAddress(LOOPBACK, port));
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    private static boolean allUdpFree(int low, int high) {
        for (int port = low; port <= high; port++) {
            if (handedOut.contains(port) || !udpFree(port)) {
                return false;
            }
        }
        return true;
    }

    /**
     * Hands a range from {@link #udpRange} back when whatever used it has stopped: a test JVM starts many
     * gateways, each with a large range, and the pool is finite.
     */
    public static synchronized void release(Range range) {
        for (int port = range.low(); port <= range.high(); port++) {
            handedOut.remove(port);
        }
    }

    private static synchronized boolean reserve(int low, int high) {
        for (int port = low; port <= high; port++) {
            if (handedOut.contains(port)) {
                return false;
            }
        }
        for (int port = low; port <= high; port++) {
            handedOut.add(port);
        }
        return true;
    }

    /** Inclusive port range; {@link #toString()} is the "low-high" form of gateway.media.rtp-port-range. */
    public record Range(int low, int high) {
        @Override
        public String toString() {
            return low + "-" + high;
        }
    }
}
