package io.webrtcgateway.bench;

import io.webrtcgateway.media.PacketSender;
import io.webrtcgateway.media.rtp.DatagramReceiver;
import io.webrtcgateway.media.rtp.MediaRelay;
import io.webrtcgateway.media.rtp.PayloadTypeMap;
import io.webrtcgateway.media.rtp.PlainRtpEndpoint;
import io.webrtcgateway.media.rtp.RtpPortAllocator;
import io.webrtcgateway.media.rtp.SourcePolicy;
import io.webrtcgateway.media.rtp.UdpReceiveLoops;
import io.webrtcgateway.testsupport.Poll;
import java.io.IOException;
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
 * Figures for issue 3 (run: {@code mvn -B verify -Pbench -Dit.test=RtpRelayBench}; prints a table, writes
 * target/bench/rtp-relay.csv). N concurrent G.711 calls, 20 ms packets of 172 bytes, both directions at
 * once, through {@link PlainRtpEndpoint} + {@link MediaRelay} on loopback, with a pass-through in place of
 * SRTP and of ICE (a plain UDP socket per call on the same receive loops stands for the browser transport).
 *
 * <pre>
 *  SIP peers --RTP--> endpoint (loop) -> relay -> "browser transport" socket --> browser peers
 *  browser peers --RTP--> "browser transport" socket (loop) -> relay.fromBrowser -> endpoint --> SIP peers
 * </pre>
 *
 * For each N: loss (packets that never arrived / sent, in the measured window), one-way latency p50/p99
 * through the relay (send timestamp in the payload, same clock), the same for the direct peer-to-peer
 * path at the same packet rate (so "added" = relay minus direct), and CPU per relayed packet from the
 * receive-loop threads' CPU time (syscalls included). The load generator and the sinks run in the same
 * JVM on the same 2 cores: their CPU is printed too. Not a test: it asserts nothing about speed.
 */
class RtpRelayBench {

    private static final int[] STREAMS = Arrays.stream(System.getProperty("bench.streams", "100,250,500,1000,1500,2000")
            .split(",")).mapToInt(s -> Integer.parseInt(s.trim())).toArray();
    private static final int SECONDS = Integer.getInteger("bench.seconds", 10);
    private static final int LOOPS = Integer.getInteger("bench.loops", 2);
    private static final int PEER_SOCKETS = 16;
    private static final int GENERATORS = Integer.getInteger("bench.generators", 2);
    private static final int PACKET = 172;
    private static final long PTIME_NANOS = TimeUnit.MILLISECONDS.toNanos(20);
    private static final int SLOTS = 20;
    private static final InetAddress LOOPBACK = InetAddress.getLoopbackAddress();
    private static final com.sun.management.ThreadMXBean THREADS =
            (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

    /** Below the band FreePorts hands to tests (20000-32767) and the ephemeral range: other tests keep theirs. */
    private static final int PORT_LOW = Integer.getInteger("bench.portLow", 12000);
    private static final int PORT_HIGH = Integer.getInteger("bench.portHigh", 19999);

    private static final int TO_BROWSER = 0;
    private static final int TO_SIP = 1;

    /** Outside Maven, to choose the JVM flags (JFR, -XX:AutoBoxCacheMax): java -cp test-classes:classes:deps ... */
    public static void main(String[] args) throws Exception {
        new RtpRelayBench().g711CallsBothWays();
    }

    @Test
    void g711CallsBothWays() throws Exception {
        double logicNanos = relayLogicOnly();
        List<String> rows = new ArrayList<>();
        List<String> csv = new ArrayList<>();
        csv.add("streams,mode,sent,received,loss_pct,p50_us,p99_us,max_us,gw_cpu_us_per_packet,gw_cpu_pct,"
                + "load_cpu_pct,send_rate_pps,loadavg");
        int largestClean = 0;
        boolean generatorLimited = false;
        for (int n : STREAMS) {
            Result relayed = run(n, true);
            Result direct = run(n, false);
            if (relayed.lossPercent() < 0.1 && relayed.rateOk()) {
                largestClean = Math.max(largestClean, n);
            }
            generatorLimited |= !relayed.rateOk();
            rows.add(String.format("| %,d | %,d | %.3f %% | %.0f / %.0f | %.0f / %.0f | %.0f / %.0f | %.2f | %.0f %% | %.0f %% | %s |",
                    n, relayed.sent, relayed.lossPercent(), relayed.p50, relayed.p99, direct.p50, direct.p99,
                    relayed.p50 - direct.p50, relayed.p99 - direct.p99, relayed.gwMicrosPerPacket, relayed.gwCpuPercent,
                    relayed.loadCpuPercent, relayed.loadAverage)
                    + (relayed.rateOk() ? "" : " generator fell behind (" + relayed.sendRate + " of " + relayed.targetRate + " pps)"));
            csv.add(relayed.csv(n, "relay"));
            csv.add(direct.csv(n, "direct"));
            System.out.println(rows.get(rows.size() - 1));
        }
        StringBuilder table = new StringBuilder(String.format("%nRtpRelayBench: G.711 20 ms, 172-byte packets, both directions, "
                + "%d s per step, %d receive loop thread(s), %d cores; SRTP/ICE replaced by pass-through%n%n", SECONDS, LOOPS,
                Runtime.getRuntime().availableProcessors()));
        table.append("| calls | packets sent (both ways) | loss | one-way p50 / p99 via relay (µs) | direct p50 / p99 (µs) "
                + "| added p50 / p99 (µs) | relay CPU µs/packet (syscalls incl.) | relay threads CPU | load generator + sinks CPU "
                + "| machine load average (1 min) |\n");
        table.append("|---|---|---|---|---|---|---|---|---|---|\n");
        rows.forEach(r -> table.append(r).append('\n'));
        table.append(String.format("%nrelay logic alone (validate, copy, rewrite, stats; no syscall): %.0f ns/packet%n", logicNanos));
        table.append(String.format("largest N with < 0.1 %% loss: %,d%s%n", largestClean,
                generatorLimited ? " (the load generator could not send more on this machine)" : ""));
        System.out.println(table);
        Path out = Path.of(System.getProperty("it.buildDir", "target"), "bench", "rtp-relay.csv");
        Files.createDirectories(out.getParent());
        csv.add("logic_ns_per_packet," + String.format("%.0f", logicNanos));
        csv.add("largest_clean_streams," + largestClean);
        Files.write(out, csv);
    }

    /** The relay's own work per packet, without any socket: the browser -> SIP path to a SIP side not yet known. */
    private static double relayLogicOnly() throws IOException {
        try (UdpReceiveLoops loops = new UdpReceiveLoops("bench-logic", 1)) {
            RtpPortAllocator ports = new RtpPortAllocator(LOOPBACK, PORT_LOW, PORT_HIGH);
            PlainRtpEndpoint endpoint = PlainRtpEndpoint.open(ports, loops, SourcePolicy.SDP);
            try (MediaRelay relay = new MediaRelay(endpoint, (b, o, l) -> { }, (b, o, l) -> { },
                    MediaRelay.Config.audio(1, 2, PayloadTypeMap.builder().map(0, 0, 8000).build()))) {
                relay.allowMedia();
                byte[] p = new byte[PACKET];
                p[0] = (byte) 0x80;
                ByteBuffer header = ByteBuffer.wrap(p);
                header.putInt(8, 0x1234);
                long best = Long.MAX_VALUE;
                int n = 2_000_000;
                for (int round = 0; round < 5; round++) {
                    long cpu = THREADS.getCurrentThreadCpuTime();
                    for (int i = 0; i < n; i++) {
                        int seq = round * n + i;
                        header.putShort(2, (short) seq);
                        header.putInt(4, seq * 160);
                        relay.fromBrowser(p, 0, PACKET, false);
                    }
                    best = Math.min(best, THREADS.getCurrentThreadCpuTime() - cpu);
                }
                return best / (double) n;
            }
        }
    }

    private record Result(long sent, long received, double p50, double p99, double max, double gwMicrosPerPacket,
                          double gwCpuPercent, double loadCpuPercent, long sendRate, long targetRate, String loadAverage) {
        double lossPercent() {
            return sent == 0 ? 100 : 100.0 * (sent - received) / sent;
        }

        boolean rateOk() {
            return sendRate >= targetRate * 0.98;
        }

        String csv(int n, String mode) {
            return String.format("%d,%s,%d,%d,%.4f,%.0f,%.0f,%.0f,%.3f,%.1f,%.1f,%d,%s", n, mode, sent, received,
                    lossPercent(), p50, p99, max, gwMicrosPerPacket, gwCpuPercent, loadCpuPercent, sendRate, loadAverage);
        }
    }

    /** One step: N calls through the relay ({@code viaRelay}) or peer to peer at the same rate. */
    private static Result run(int n, boolean viaRelay) throws Exception {
        Sinks sinks = new Sinks();
        List<AutoCloseable> resources = new ArrayList<>();
        try (UdpReceiveLoops gw = new UdpReceiveLoops("bench-gw", LOOPS);
             UdpReceiveLoops peerLoop = new UdpReceiveLoops("bench-peer", 1)) {
            DatagramChannel[] sipPeers = new DatagramChannel[PEER_SOCKETS];
            DatagramChannel[] browserPeers = new DatagramChannel[PEER_SOCKETS];
            for (int k = 0; k < PEER_SOCKETS; k++) {
                sipPeers[k] = peerSocket(peerLoop, sinks, resources);
                browserPeers[k] = peerSocket(peerLoop, sinks, resources);
            }
            InetSocketAddress[] sipTargets = new InetSocketAddress[n];
            InetSocketAddress[] browserTargets = new InetSocketAddress[n];
            List<MediaRelay> relays = new ArrayList<>();
            RtpPortAllocator ports = new RtpPortAllocator(LOOPBACK, PORT_LOW, PORT_HIGH);
            for (int i = 0; i < n; i++) {
                DatagramChannel sipPeer = sipPeers[i % PEER_SOCKETS];
                DatagramChannel browserPeer = browserPeers[i % PEER_SOCKETS];
                if (!viaRelay) {
                    sipTargets[i] = (InetSocketAddress) browserPeer.getLocalAddress();
                    browserTargets[i] = (InetSocketAddress) sipPeer.getLocalAddress();
                    continue;
                }
                PlainRtpEndpoint endpoint = PlainRtpEndpoint.open(ports, gw, SourcePolicy.SDP);
                DatagramChannel browserTransport = DatagramChannel.open(StandardProtocolFamily.INET)
                        .bind(new InetSocketAddress(LOOPBACK, 0));
                PassThroughSender toBrowser = new PassThroughSender(browserTransport,
                        (InetSocketAddress) browserPeer.getLocalAddress());
                MediaRelay relay = new MediaRelay(endpoint, toBrowser, toBrowser,
                        MediaRelay.Config.audio(0x5000 + i, 0x6000 + i, PayloadTypeMap.builder().map(0, 0, 8000).build()));
                relays.add(relay);
                resources.add(relay);
                resources.add(browserTransport);
                relay.start();
                relay.updateSipRemote((InetSocketAddress) sipPeer.getLocalAddress(), null, true);
                relay.allowMedia();
                UdpReceiveLoops.Loop loop = gw.leastLoaded();
                SelectionKey key = loop.register(browserTransport, (b, o, l, src) -> relay.fromBrowser(b, o, l, false));
                resources.add(() -> loop.deregister(List.of(key), () -> { }));
                sipTargets[i] = new InetSocketAddress(LOOPBACK, endpoint.localRtpPort());
                browserTargets[i] = (InetSocketAddress) browserTransport.getLocalAddress();
            }

            List<Generator> generators = new ArrayList<>();
            List<Thread> genThreads = new ArrayList<>();
            for (int g = 0; g < GENERATORS; g++) {
                Generator generator = new Generator(n, g, GENERATORS, sipPeers, browserPeers, sipTargets, browserTargets);
                generators.add(generator);
                Thread t = new Thread(generator, "bench-generator-" + g);
                genThreads.add(t);
                t.start();
            }
            try {
                // warm-up: JIT, source probation, socket buffers
                generators.forEach(g -> g.phase = 1);
                sinks.phase = 1;
                String load0 = loadAverage();
                awaitNanos(TimeUnit.SECONDS.toNanos(2));

                long[] gwIds = gw.threadIds();
                long[] loadIds = concat(peerLoop.threadIds(), genThreads.stream().mapToLong(Thread::getId).toArray());
                long gwCpu0 = cpu(gwIds);
                long loadCpu0 = cpu(loadIds);
                long relayed0 = relayed(relays);
                long wall0 = System.nanoTime();
                sinks.phase = 2;
                generators.forEach(g -> g.phase = 2);
                awaitNanos(TimeUnit.SECONDS.toNanos(SECONDS));
                generators.forEach(g -> g.phase = 3);
                long wall = System.nanoTime() - wall0;
                long gwCpu = cpu(gwIds) - gwCpu0;
                long loadCpu = cpu(loadIds) - loadCpu0;
                long relayed = relayed(relays) - relayed0;
                // drain: what is still in flight after the last send of the window
                Poll.until(Duration.ofSeconds(5), "in-flight packets to settle", sinks::settled);
                long sent = generators.stream().mapToLong(g -> g.sentInMeasure).sum();
                long received = sinks.received();
                double[] latency = sinks.percentiles(0.5, 0.99, 1.0);
                long rate = Math.round(sent / (wall / 1e9));
                long target = Math.round(2.0 * n * 1e9 / PTIME_NANOS);
                return new Result(sent, received, latency[0], latency[1], latency[2],
                        relayed == 0 ? 0 : gwCpu / 1000.0 / relayed, 100.0 * gwCpu / wall, 100.0 * loadCpu / wall, rate, target,
                        load0 + " -> " + loadAverage());
            } finally {
                generators.forEach(g -> g.running = false);
                for (Thread t : genThreads) {
                    t.join(5000);
                }
                for (int i = resources.size() - 1; i >= 0; i--) {
                    resources.get(i).close();
                }
            }
        }
    }

    private static String loadAverage() {
        try {
            return Files.readString(Path.of("/proc/loadavg")).split(" ")[0];
        } catch (IOException e) {
            return "?";
        }
    }

    private static long relayed(List<MediaRelay> relays) {
        long n = 0;
        for (MediaRelay r : relays) {
            MediaRelay.Stats s = r.stats();
            n += s.browserToSip().packets() + s.sipToBrowser().packets();
        }
        return n;
    }

    private static DatagramChannel peerSocket(UdpReceiveLoops loop, Sinks sinks, List<AutoCloseable> resources)
            throws IOException {
        DatagramChannel ch = DatagramChannel.open(StandardProtocolFamily.INET).bind(new InetSocketAddress(LOOPBACK, 0));
        ch.setOption(StandardSocketOptions.SO_RCVBUF, 4 << 20);
        ch.setOption(StandardSocketOptions.SO_SNDBUF, 4 << 20);
        resources.add(ch);
        UdpReceiveLoops.Loop l = loop.leastLoaded();
        SelectionKey key = l.register(ch, sinks);
        resources.add(() -> l.deregister(List.of(key), () -> { }));
        return ch;
    }

    private static void awaitNanos(long nanos) {
        long deadline = System.nanoTime() + nanos;
        for (long left = nanos; left > 0; left = deadline - System.nanoTime()) {
            LockSupport.parkNanos(left);
        }
    }

    private static long cpu(long[] ids) {
        long sum = 0;
        for (long v : THREADS.getThreadCpuTime(ids)) {
            sum += Math.max(0, v);
        }
        return sum;
    }

    private static long[] concat(long[] a, long[] b) {
        long[] c = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, c, a.length, b.length);
        return c;
    }

    /** Stand-in for SRTP protect + ICE send: the packet goes out unchanged to the browser peer. */
    private static final class PassThroughSender implements PacketSender {
        private final DatagramChannel channel;
        private final InetSocketAddress to;
        private byte[] wrapped;
        private ByteBuffer wrapper;

        PassThroughSender(DatagramChannel channel, InetSocketAddress to) {
            this.channel = channel;
            this.to = to;
        }

        @Override
        public void send(byte[] buf, int off, int len) {
            if (buf != wrapped) {
                wrapper = ByteBuffer.wrap(buf);
                wrapped = buf;
            }
            wrapper.limit(off + len).position(off);
            try {
                channel.send(wrapper, to);
            } catch (IOException e) {
                // counted as loss at the sink
            }
        }
    }

    /**
     * Sends one packet per call per direction every 20 ms, the calls spread evenly over the 20 ms (real
     * calls are not in phase). Payload: call index, direction, phase, send time.
     */
    private static final class Generator implements Runnable {
        final int n;
        final int first;
        final int stride;
        final DatagramChannel[] sipPeers;
        final DatagramChannel[] browserPeers;
        final InetSocketAddress[] sipTargets;
        final InetSocketAddress[] browserTargets;
        volatile int phase;
        volatile boolean running = true;
        volatile long sentInMeasure;
        private final byte[] packet = new byte[PACKET];
        private final ByteBuffer buffer = ByteBuffer.wrap(packet);
        private final int[] seq;

        Generator(int n, int first, int stride, DatagramChannel[] sipPeers, DatagramChannel[] browserPeers,
                InetSocketAddress[] sipTargets, InetSocketAddress[] browserTargets) {
            this.n = n;
            this.first = first;
            this.stride = stride;
            this.sipPeers = sipPeers;
            this.browserPeers = browserPeers;
            this.sipTargets = sipTargets;
            this.browserTargets = browserTargets;
            this.seq = new int[2 * n];
            packet[0] = (byte) 0x80;
        }

        @Override
        public void run() {
            long start = System.nanoTime();
            long sent = 0;
            for (long tick = 0; running; tick++) {
                for (int slot = 0; slot < SLOTS && running; slot++) {
                    awaitUntil(start + tick * PTIME_NANOS + slot * (PTIME_NANOS / SLOTS));
                    int p = phase;
                    if (p == 0 || p == 3) {
                        continue;
                    }
                    for (int i = slot * stride + first; i < n; i += SLOTS * stride) {
                        send(sipPeers[i % PEER_SOCKETS], sipTargets[i], i, TO_BROWSER, p);
                        send(browserPeers[i % PEER_SOCKETS], browserTargets[i], i, TO_SIP, p);
                        if (p == 2) {
                            sent += 2;
                        }
                    }
                    sentInMeasure = sent;
                }
            }
        }

        private void send(DatagramChannel from, InetSocketAddress to, int call, int direction, int p) {
            int s = seq[2 * call + direction]++;
            buffer.clear();
            buffer.put(1, (byte) 0);
            buffer.putShort(2, (short) s);
            buffer.putInt(4, s * 160);
            buffer.putInt(8, 0x10000 + 2 * call + direction); // SSRC
            buffer.putInt(12, call);
            buffer.put(16, (byte) direction);
            buffer.put(17, (byte) p);
            buffer.putLong(20, System.nanoTime());
            try {
                from.send(buffer, to);
            } catch (IOException e) {
                // counted as loss
            }
        }

        private void awaitUntil(long deadline) {
            for (long left = deadline - System.nanoTime(); left > 0; left = deadline - System.nanoTime()) {
                LockSupport.parkNanos(left);
            }
        }
    }

    /** Receives at the peers: counts the measured phase's packets and their one-way latency (1 µs buckets). */
    private static final class Sinks implements DatagramReceiver {
        volatile int phase;
        private final MicrosHistogram histogram = new MicrosHistogram();
        private volatile long received;
        private long lastSeen = -1;

        @Override
        public void onDatagram(byte[] buf, int off, int len, InetSocketAddress source) {
            if (len != PACKET || buf[off + 17] != 2 || phase != 2) {
                return;
            }
            long sentAt = 0;
            for (int i = 0; i < 8; i++) {
                sentAt = (sentAt << 8) | (buf[off + 20 + i] & 0xff);
            }
            long micros = (System.nanoTime() - sentAt) / 1000;
            histogram.record(micros);
            received = received + 1; // one writer: the peer loop thread
        }

        long received() {
            return received;
        }

        /** True once two checks in a row saw the same count. */
        boolean settled() {
            long now = received;
            boolean same = now == lastSeen;
            lastSeen = now;
            return same;
        }

        double[] percentiles(double... qs) {
            return histogram.percentiles(qs);
        }
    }
}
