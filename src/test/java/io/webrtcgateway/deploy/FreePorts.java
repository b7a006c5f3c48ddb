package io.webrtcgateway.deploy;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.util.HashSet;
import java.util.Set;

/**
 * Loopback ports that are free right now, for servers a test starts. A port is handed out once per JVM, so
 * two calls never return the same port even before the first one is bound.
 */
public final class FreePorts {

    private static final InetAddress LOOPBACK = InetAddress.getLoopbackAddress();
    /** Guarded by the class monitor. */
    private static final Set<Integer> handedOut = new HashSet<>();

    private FreePorts() {}

    /** A TCP port free on 127.0.0.1. */
    public static synchronized int tcp() {
        for (int attempt = 0; attempt < 100; attempt++) {
            int port = ephemeralTcp();
            if (handedOut.add(port)) {
                return port;
            }
        }
        throw new IllegalStateException("no free TCP port found");
    }

    /** A port free for both TCP and UDP on 127.0.0.1 (a SIP listener binds both, RFC 3261 section 18). */
    public static synchronized int tcpAndUdp() {
        for (int attempt = 0; attempt < 100; attempt++) {
            int port = ephemeralTcp();
            if (!handedOut.contains(port) && udpFree(port)) {
                handedOut.add(port);
                return port;
            }
        }
        throw new IllegalStateException("no port free for both TCP and UDP found");
    }

    /** The first of {@code count} consecutive UDP ports that are all free, e.g. for an RTP port range. */
    public static synchronized int udpRange(int count) {
        for (int attempt = 0; attempt < 100; attempt++) {
            int first;
            try (DatagramSocket probe = new DatagramSocket(new InetSocketAddress(LOOPBACK, 0))) {
                first = probe.getLocalPort();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            if (first + count > 65535) {
                continue;
            }
            boolean allFree = true;
            for (int p = first; p < first + count && allFree; p++) {
                allFree = !handedOut.contains(p) && udpFree(p);
            }
            if (allFree) {
                for (int p = first; p < first + count; p++) {
                    handedOut.add(p);
                }
                return first;
            }
        }
        throw new IllegalStateException("no range of " + count + " free UDP ports found");
    }

    private static int ephemeralTcp() {
        try (ServerSocket socket = new ServerSocket()) {
            socket.setReuseAddress(true);
            socket.bind(new InetSocketAddress(LOOPBACK, 0));
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static boolean udpFree(int port) {
        try (DatagramSocket socket = new DatagramSocket(new InetSocketAddress(LOOPBACK, port))) {
            return true;
        } catch (IOException e) {
            return false;
        }
    }
}
