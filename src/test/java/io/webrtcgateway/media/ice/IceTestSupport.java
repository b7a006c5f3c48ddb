package io.webrtcgateway.media.ice;

import io.webrtcgateway.testsupport.FreePorts;
import io.webrtcgateway.testsupport.Poll;

import java.io.IOException;
import java.net.InetAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * ICE on loopback for tests. Every test of the JVM must use these consent values: ice4j reads them once per
 * JVM (see {@link IceSystemProperties}). Other packages' tests that need an IceTransport should use
 * {@link #config()} too.
 */
public final class IceTestSupport {

    public static final InetAddress LOOPBACK = InetAddress.getLoopbackAddress();
    /** Consent checks every 200 ms; a silent peer is reported after about 1.5 s instead of 30 s. */
    public static final Duration CONSENT_INTERVAL = Duration.ofMillis(200);
    public static final Duration CONSENT_TIMEOUT = Duration.ofMillis(1500);

    private static final FreePorts.Range PORTS = FreePorts.udpRange(200);

    private IceTestSupport() {}

    /** 127.0.0.1 only, ports from a range free at start, fast consent; ice4j configured. */
    public static IceConfig config() {
        IceConfig config = IceConfig.onAddresses(List.of(LOOPBACK), PORTS.low(), PORTS.high())
                .withConsent(CONSENT_INTERVAL, CONSENT_TIMEOUT);
        IceSystemProperties.apply(config);
        return config;
    }

    /** A controlling and a controlled transport with each other's credentials and candidates, started. */
    public static Pair connectedPair(IceConfig config) throws IOException {
        Pair pair = new Pair(new IceTransport(config, true), new IceTransport(config, false));
        pair.exchangeAndStart();
        pair.awaitConnected();
        return pair;
    }

    /** Two transports wired back to back; closes both. */
    public record Pair(IceTransport controlling, IceTransport controlled) implements AutoCloseable {
        public void exchangeAndStart() {
            controlling.setRemoteCredentials(controlled.localUfrag(), controlled.localPassword());
            controlled.setRemoteCredentials(controlling.localUfrag(), controlling.localPassword());
            controlled.localCandidates().forEach(controlling::addRemoteCandidate);
            controlling.localCandidates().forEach(controlled::addRemoteCandidate);
            controlled.start();
            controlling.start();
        }

        public void awaitConnected() {
            Poll.until(Duration.ofSeconds(10), "both ICE transports CONNECTED",
                    () -> controlling.state() == IceTransport.State.CONNECTED
                            && controlled.state() == IceTransport.State.CONNECTED);
        }

        @Override
        public void close() {
            controlling.close();
            controlled.close();
        }
    }

    /** Collects datagrams delivered to a receiver (copies: the buffer is reused). */
    public static final class Received implements io.webrtcgateway.media.PacketHandler {
        private final List<byte[]> packets = new CopyOnWriteArrayList<>();
        private final List<String> threads = new CopyOnWriteArrayList<>();

        @Override
        public void onPacket(byte[] buf, int off, int len) {
            byte[] copy = new byte[len];
            System.arraycopy(buf, off, copy, 0, len);
            packets.add(copy);
            threads.add(Thread.currentThread().getName());
        }

        public List<byte[]> packets() {
            return new ArrayList<>(packets);
        }

        public List<String> threads() {
            return new ArrayList<>(threads);
        }

        public int count() {
            return packets.size();
        }
    }
}
