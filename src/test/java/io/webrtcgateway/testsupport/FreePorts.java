package io.webrtcgateway.testsupport;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Free ports on 127.0.0.1, chosen at run time so tests never collide on fixed ports.
 *
 * <p>A port is free when this JVM could bind it a moment ago; the peer binds it a little later. Ports
 * handed out here are remembered, so two peers of one test JVM never get the same one even before
 * either has bound it. Other test JVMs on the machine (failsafe's forks, another clone's test run, a benchmark)
 * are kept out the same way through a lock file shared by all of them: each port or range handed out holds a
 * byte-range lock (fcntl) on {@code <java.io.tmpdir>/webrtc-gateway-test-ports-<user>.lock} at the port's
 * offset, released with the range, or when the JVM exits, whatever way it ends. A fresh-clone run failed on
 * that: a test run in another directory handed out the same SIP port, and the second gateway's bind failed.
 * Processes that do not take ports from here can still take one in between; the ports are drawn at random
 * to keep that unlikely.
 */
public final class FreePorts {

    public static final InetAddress LOOPBACK = InetAddress.getLoopbackAddress();

    /*
     * Both bands lie below Linux's ephemeral range (32768-60999), so outgoing connections of others don't land
     * in them. Single ports have a band of their own: they are never handed back, and scattered over the
     * ranges' band they would leave no 200 consecutive ports free after a few hundred tests.
     */
    private static final int RANGE_FLOOR = 20000;
    private static final int RANGE_CEILING = 29999;
    /** The longest range: SoakBench's 320 calls take 3,840 ports (12 a call), in a network namespace of its own. */
    private static final int MAX_RANGE = 9000;
    private static final int SINGLE_FLOOR = 30000;
    private static final int SINGLE_CEILING = 32767;

    /** The lock file shared by every test JVM of this user on the machine; byte N stands for port N. */
    private static final FileChannel LOCKS = openLocks();
    /** This JVM's locks on LOCKS, by the first port they cover. */
    private static final Map<Integer, FileLock> locks = new ConcurrentHashMap<>();

    private static final Set<Integer> handedOut = ConcurrentHashMap.newKeySet();

    private FreePorts() {}

    private static FileChannel openLocks() {
        Path file = Path.of(System.getProperty("java.io.tmpdir"),
                "webrtc-gateway-test-ports-" + System.getProperty("user.name") + ".lock");
        try {
            return FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot open the test port lock file " + file, e);
        }
    }

    /**
     * Locks ports low..high for this JVM against every other test JVM; false when another holds any of them.
     * Caller holds the class lock and has checked that this JVM holds none of them.
     */
    private static boolean lockAcrossJvms(int low, int high) {
        try {
            FileLock lock = LOCKS.tryLock(low, high - low + 1L, false);
            if (lock == null) {
                return false;
            }
            locks.put(low, lock);
            return true;
        } catch (OverlappingFileLockException e) {
            return false; // this JVM holds some of them already
        } catch (IOException e) {
            throw new UncheckedIOException("cannot lock ports " + low + "-" + high + " in the test port lock file", e);
        }
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
                    && lockAcrossJvms(port, port)) {
                handedOut.add(port);
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
        FileLock lock = locks.remove(range.low());
        if (lock != null) {
            try {
                lock.release();
            } catch (IOException e) {
                throw new UncheckedIOException("cannot unlock ports " + range, e);
            }
        }
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
        if (!lockAcrossJvms(low, high)) {
            return false;
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
