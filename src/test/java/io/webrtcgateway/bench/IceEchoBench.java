package io.webrtcgateway.bench;

import io.webrtcgateway.media.PacketSender;
import io.webrtcgateway.media.ice.IceConfig;
import io.webrtcgateway.media.ice.IceSystemProperties;
import io.webrtcgateway.media.ice.IceTransport;
import io.webrtcgateway.media.rtp.UdpReceiveLoops;
import io.webrtcgateway.testsupport.Poll;
import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.channels.SelectionKey;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Test;

/**
 * The browser side's receive path on its own (run: {@code mvn -B verify -Pbench -Dit.test=IceEchoBench}, or
 * {@code main} with {@code -Dbench.iceLoops=true|false}): N gateway {@link IceTransport}s, each connected by
 * real ICE to a browser-side transport on loopback; then the browser transports are closed and plain sockets
 * take their addresses, so the load costs no ICE machinery. Each "browser" sends a 172-byte RTP-looking datagram
 * every 20 ms; the gateway transport's receiver sends it straight back through the transport's sender (one
 * receive and one send per packet, as in a relay leg, without SRTP). Prints the CPU per echoed packet of the
 * threads that read the gateway transports' sockets (the shared loops, and every thread a gateway transport
 * started: its loop or ice4j's reader; ice4j's shared pools and GC are left out) and the round trip p50/p99.
 * On this 2-core machine under other jobs' load, ICE setup of 200+ pairs in one JVM did not always finish
 * (old and new code alike), hence the default of 100.
 *
 * <p>{@code bench.iceLoops=true}: the transports share one {@link UdpReceiveLoops} (what the gateway does);
 * false: each transport's own (before: ice4j's reader thread per socket read the socket).
 */
class IceEchoBench {

    private static final int[] STREAMS = Arrays.stream(System.getProperty("bench.streams", "100")
            .split(",")).mapToInt(s -> Integer.parseInt(s.trim())).toArray();
    private static final int SECONDS = Integer.getInteger("bench.seconds", 10);
    private static final int LOOPS = Integer.getInteger("bench.loops", 2);
    private static final boolean SHARED_LOOPS = Boolean.parseBoolean(System.getProperty("bench.iceLoops", "true"));
    /** Below the ephemeral range and below RtpRelayBench's ports. */
    private static final int PORT_LOW = Integer.getInteger("bench.icePortLow", 5000);
    private static final int PORT_HIGH = Integer.getInteger("bench.icePortHigh", 11999);
    private static final int PACKET = 172;
    private static final long PTIME_NANOS = TimeUnit.MILLISECONDS.toNanos(20);
    private static final int SLOTS = 20;
    private static final InetAddress LOOPBACK = InetAddress.getLoopbackAddress();
    private static final com.sun.management.ThreadMXBean THREADS =
            (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

    public static void main(String[] args) throws Exception {
        new IceEchoBench().echo();
    }

    @Test
    void echo() throws Exception {
        // Consent far apart: plain sockets, which do not answer it, replace the browser transports.
        IceConfig config = IceConfig.onAddresses(List.of(LOOPBACK), PORT_LOW, PORT_HIGH)
                .withConsent(Duration.ofSeconds(60), Duration.ofSeconds(600));
        IceSystemProperties.apply(config);
        List<String> rows = new ArrayList<>();
        for (int n : STREAMS) {
            String row = run(config, n);
            rows.add(row);
            System.out.println(row);
        }
        StringBuilder table = new StringBuilder(String.format("%nIceEchoBench: %s, %d s per step, 172-byte datagrams "
                + "every 20 ms per transport, echoed by the gateway transport%n%n| transports | echoed | lost "
                + "| round trip p50 / p99 (µs) | gateway CPU µs per echoed packet (receive loops + threads the gateway transports started) "
                + "| gateway CPU | load average | gateway dropped in / out (whole run) |%n|---|---|---|---|---|---|---|---|%n",
                SHARED_LOOPS ? LOOPS + " shared receive loop thread(s)" : "a receive thread per transport", SECONDS));
        rows.forEach(r -> table.append(r).append('\n'));
        System.out.println(table);
        Path out = Path.of(System.getProperty("it.buildDir", "target"), "bench", "ice-echo.md");
        Files.createDirectories(out.getParent());
        Files.writeString(out, table);
    }

    private static String run(IceConfig config, int n) throws Exception {
        List<AutoCloseable> resources = new ArrayList<>();
        UdpReceiveLoops shared = SHARED_LOOPS ? new UdpReceiveLoops("bench-ice", LOOPS) : null;
        TimestampSink sinks = new TimestampSink(PACKET); // round trips: the echo comes back to the sender
        List<Thread> generatorThreads = new ArrayList<>();
        try {
            IceTransport[] gateways = new IceTransport[n];
            IceTransport[] browsers = new IceTransport[n];
            java.util.Set<Long> gatewayThreads = new java.util.HashSet<>();
            if (shared != null) {
                Arrays.stream(shared.threadIds()).forEach(gatewayThreads::add);
            }
            for (int i = 0; i < n; i++) {
                java.util.Set<Long> before = threadIds();
                gateways[i] = SHARED_LOOPS ? new IceTransport(config, false, null, shared)
                        : new IceTransport(config, false);
                resources.add(gateways[i]);
                // the threads this transport started: its socket readers (ice4j's pools are shared, left out)
                java.util.Set<Long> started = threadIds();
                started.removeAll(before);
                gatewayThreads.addAll(started);
                browsers[i] = new IceTransport(config, true);
                resources.add(browsers[i]);
                IceTransport g = gateways[i];
                IceTransport b = browsers[i];
                b.setRemoteCredentials(g.localUfrag(), g.localPassword());
                g.setRemoteCredentials(b.localUfrag(), b.localPassword());
                g.localCandidates().forEach(b::addRemoteCandidate);
                b.localCandidates().forEach(g::addRemoteCandidate);
                g.start();
                b.start();
                PacketSender back = g.sender();
                g.setReceiver(back::send);
            }
            Poll.until(Duration.ofSeconds(60 + n / 10), n + " ICE pairs CONNECTED", () -> {
                for (IceTransport g : gateways) {
                    if (g.state() != IceTransport.State.CONNECTED) {
                        return false;
                    }
                }
                return true;
            });
            // The browser transports' addresses now belong to plain sockets on one receive loop of the load's:
            // the echoes cost the gateway its send, not a wake-up of a thread per browser (real browsers are
            // elsewhere).
            UdpReceiveLoops peerLoop = new UdpReceiveLoops("bench-peer", 1);
            resources.add(peerLoop);
            DatagramChannel[] peers = new DatagramChannel[n];
            InetSocketAddress[] targets = new InetSocketAddress[n];
            for (int i = 0; i < n; i++) {
                InetSocketAddress browserAddress = gateways[i].stats().remoteAddress();
                targets[i] = gateways[i].stats().localAddress();
                browsers[i].close();
                DatagramChannel ch = DatagramChannel.open(StandardProtocolFamily.INET)
                        .setOption(StandardSocketOptions.SO_REUSEADDR, false);
                resources.add(ch);
                Poll.until(Duration.ofSeconds(10), "the browser transport's port " + browserAddress + " free", () -> {
                    try {
                        ch.bind(browserAddress);
                        return true;
                    } catch (java.io.IOException e) {
                        return false;
                    }
                });
                UdpReceiveLoops.Loop loop = peerLoop.leastLoaded();
                SelectionKey key = loop.register(ch, sinks);
                resources.add(() -> loop.deregister(List.of(key), () -> { }));
                peers[i] = ch;
            }
            Generator[] generators = {new Generator(peers, targets, 0, 2), new Generator(peers, targets, 1, 2)};
            for (Generator g : generators) {
                Thread t = new Thread(g, "bench-generator");
                generatorThreads.add(t);
                t.start();
            }
            for (Generator g : generators) {
                g.phase = 1;
            }
            sinks.phase = 1;
            awaitNanos(TimeUnit.SECONDS.toNanos(2));
            String load0 = loadAverage();
            long gw0 = cpu(gatewayThreads);
            long wall0 = System.nanoTime();
            sinks.phase = 2;
            for (Generator g : generators) {
                g.phase = 2;
            }
            awaitNanos(TimeUnit.SECONDS.toNanos(SECONDS));
            for (Generator g : generators) {
                g.phase = 3;
            }
            long wall = System.nanoTime() - wall0;
            long gwCpu = cpu(gatewayThreads) - gw0;
            Poll.until(Duration.ofSeconds(5), "in-flight packets to settle", sinks::settled);
            long sent = Arrays.stream(generators).mapToLong(g -> g.sentInMeasure).sum();
            long received = sinks.received();
            double[] rtt = sinks.percentiles(0.5, 0.99);
            long droppedIn = 0;
            long droppedOut = 0;
            int notConnected = 0;
            for (IceTransport g : gateways) {
                if (g.state() != IceTransport.State.CONNECTED) {
                    notConnected++;
                }
                droppedIn += g.stats().droppedIn();
                droppedOut += g.stats().droppedOut();
            }
            if (notConnected > 0) {
                System.out.println(notConnected + " gateway transport(s) no longer CONNECTED");
            }
            return String.format("| %,d | %,d | %.3f %% | %.0f / %.0f | %.2f | %.0f %% | %s -> %s | %d / %d |", n,
                    received, sent == 0 ? 100.0 : 100.0 * (sent - received) / sent, rtt[0], rtt[1],
                    received == 0 ? 0 : gwCpu / 1000.0 / received, 100.0 * gwCpu / wall, load0, loadAverage(),
                    droppedIn, droppedOut);
        } finally {
            generatorThreads.forEach(t -> t.interrupt());
            for (Thread t : generatorThreads) {
                t.join(5000);
            }
            for (int i = resources.size() - 1; i >= 0; i--) {
                resources.get(i).close();
            }
            if (shared != null) {
                shared.close();
            }
        }
    }

    private static java.util.Set<Long> threadIds() {
        java.util.Set<Long> ids = new java.util.HashSet<>();
        for (Thread t : Thread.getAllStackTraces().keySet()) {
            ids.add(t.getId());
        }
        return ids;
    }

    private static long cpu(java.util.Set<Long> ids) {
        long sum = 0;
        for (long id : ids) {
            sum += Math.max(0, THREADS.getThreadCpuTime(id));
        }
        return sum;
    }

    private static String loadAverage() {
        try {
            return Files.readString(Path.of("/proc/loadavg")).split(" ")[0];
        } catch (java.io.IOException e) {
            return "?";
        }
    }

    private static void awaitNanos(long nanos) {
        long deadline = System.nanoTime() + nanos;
        for (long left = nanos; left > 0; left = deadline - System.nanoTime()) {
            LockSupport.parkNanos(left);
        }
    }

    /** One datagram per peer every 20 ms, spread over the 20 ms; payload: phase and send time. */
    private static final class Generator implements Runnable {
        final DatagramChannel[] peers;
        final InetSocketAddress[] targets;
        final int first;
        final int stride;
        volatile int phase;
        volatile long sentInMeasure;
        private final ByteBuffer buffer = ByteBuffer.allocate(PACKET);

        Generator(DatagramChannel[] peers, InetSocketAddress[] targets, int first, int stride) {
            this.peers = peers;
            this.targets = targets;
            this.first = first;
            this.stride = stride;
            buffer.put(0, (byte) 0x80);
        }

        @Override
        public void run() {
            long start = System.nanoTime();
            long sent = 0;
            int n = peers.length;
            for (long tick = 0; !Thread.currentThread().isInterrupted(); tick++) {
                for (int slot = 0; slot < SLOTS && !Thread.currentThread().isInterrupted(); slot++) {
                    long deadline = start + tick * PTIME_NANOS + slot * (PTIME_NANOS / SLOTS);
                    for (long left = deadline - System.nanoTime(); left > 0; left = deadline - System.nanoTime()) {
                        LockSupport.parkNanos(left);
                    }
                    int p = phase;
                    if (p == 0 || p == 3) {
                        continue;
                    }
                    for (int i = slot * stride + first; i < n; i += SLOTS * stride) {
                        buffer.clear();
                        buffer.put(17, (byte) p);
                        buffer.putLong(20, System.nanoTime());
                        try {
                            peers[i].send(buffer, targets[i]);
                        } catch (java.io.IOException e) {
                            return; // closed: the step is over
                        }
                        if (p == 2) {
                            sent++;
                        }
                    }
                    sentInMeasure = sent;
                }
            }
        }
    }
}
