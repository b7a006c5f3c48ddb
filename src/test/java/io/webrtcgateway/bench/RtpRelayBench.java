package io.webrtcgateway.bench;

import io.webrtcgateway.media.PacketSender;
import io.webrtcgateway.media.dtls.PacketKind;
import io.webrtcgateway.media.rtp.MediaRelay;
import io.webrtcgateway.media.rtp.PayloadTypeMap;
import io.webrtcgateway.media.rtp.PlainRtpEndpoint;
import io.webrtcgateway.media.rtp.RtpPortAllocator;
import io.webrtcgateway.media.rtp.SourcePolicy;
import io.webrtcgateway.media.rtp.UdpReceiveLoops;
import io.webrtcgateway.media.srtp.SrtpMasterKey;
import io.webrtcgateway.media.srtp.SrtpProfile;
import io.webrtcgateway.media.srtp.SrtpSession;
import io.webrtcgateway.testsupport.Poll;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

/**
 * Figures for issue 3 (run: {@code mvn -B verify -Pbench -Dit.test=RtpRelayBench}; prints a table, writes
 * target/bench/rtp-relay.csv). N concurrent G.711 calls, 20 ms packets of 172 bytes, both directions at
 * once, through {@link PlainRtpEndpoint} + {@link MediaRelay} on loopback, with the gateway's SRTP
 * ({@link SrtpSession}, AES_CM_128_HMAC_SHA1_80, one per call) toward the browser side as
 * {@code BridgedCallMedia} does it, and a plain UDP socket per call on the same receive loops in place of
 * the ICE transport (whose host socket is one such channel on those loops). {@code -Dbench.srtp=false}
 * relays without SRTP.
 *
 * <pre>
 *  SIP peers --RTP--> endpoint (loop) -> relay -> SRTP protect -> "browser transport" socket --> browser peers
 *  browser peers --SRTP--> "browser transport" socket (loop) -> demux, SRTP unprotect -> relay -> endpoint --> SIP peers
 * </pre>
 *
 * For each N: loss (packets that never arrived / sent, in the measured window), one-way latency p50/p99
 * through the relay (send timestamp in the payload, same clock), the same for the direct peer-to-peer
 * path at the same packet rate (so "added" = relay minus direct), and CPU per relayed packet from the
 * receive-loop threads' CPU time (syscalls included; the median of one-second samples). The load generator and the sinks run in the same JVM on the same 2 cores: their CPU is
 * printed too. {@code -Dbench.niceLoad=19} lowers the generator threads' priority (they stand for peers on
 * other machines), {@code -Dbench.relayCpus} / {@code -Dbench.loadCpus} pin relay and load to CPUs: neither
 * helps once relay and load together need both cores (docs/media.md, "Measured").
 * {@code -Dbench.layout=dedicated} gives the relay one loop alone on CPU 0 and the load one never-sleeping
 * thread alone on the last CPU: what one relay core carries. The kernel's own cost of a relayed packet's two
 * system calls is measured first and printed with the table. Not a test: it asserts nothing about speed.
 */
class RtpRelayBench {

    private static final int[] STREAMS = Arrays.stream(System.getProperty("bench.streams", "100,250,500,1000,1500,2000")
            .split(",")).mapToInt(s -> Integer.parseInt(s.trim())).toArray();
    private static final int SECONDS = Integer.getInteger("bench.seconds", 10);
    /**
     * {@code shared} (default): relay loops and load threads go wherever the scheduler puts them, the whole
     * machine's figure. {@code dedicated}: one relay loop alone on CPU 0, the load one thread that never sleeps
     * (sends, calls evenly spaced, and receives) alone on the last CPU: what one relay core carries when the
     * peers cost it nothing, as on a gateway whose load comes over the network.
     */
    private static final boolean DEDICATED = switch (System.getProperty("bench.layout", "shared")) {
        case "shared" -> false;
        case "dedicated" -> true;
        default -> throw new IllegalArgumentException("bench.layout must be shared or dedicated, not "
                + System.getProperty("bench.layout"));
    };
    private static final int LOOPS = Integer.getInteger("bench.loops", DEDICATED ? 1 : 2);
    private static final int PEER_SOCKETS = 16;
    private static final int GENERATORS = DEDICATED ? 1 : Integer.getInteger("bench.generators", 2);
    private static final boolean SRTP = Boolean.parseBoolean(System.getProperty("bench.srtp", "true"));
    private static final int NICE_LOAD = Integer.getInteger("bench.niceLoad", 0);
    /** CPU lists (taskset syntax) for the relay's loop threads and for the load (generators, sinks); unset: any. */
    private static final String RELAY_CPUS = System.getProperty("bench.relayCpus", DEDICATED ? "0" : null);
    private static final String LOAD_CPUS = System.getProperty("bench.loadCpus",
            DEDICATED ? String.valueOf(Runtime.getRuntime().availableProcessors() - 1) : null);
    private static final int SSRC_TOWARD_SIP = 0x5000;
    private static final int SSRC_TOWARD_BROWSER = 0x6000;
    private static final int PACKET = 172;
    private static final long PTIME_NANOS = TimeUnit.MILLISECONDS.toNanos(20);
    /**
     * Send slots per 20 ms: the calls are spread over them, and a slot's packets leave back to back (20: 1 ms
     * slots, at 1,000 calls bursts of 100 packets). Finer slots are closer to independent calls but cost the
     * relay more CPU per packet on this machine (fewer packets per wake-up: 13.2 against 11.4 µs at 500 calls
     * with 100 slots), so the default stays the one of the earlier runs.
     */
    private static final int SLOTS = Integer.getInteger("bench.slots", 20);
    private static final InetAddress LOOPBACK = InetAddress.getLoopbackAddress();
    private static final com.sun.management.ThreadMXBean THREADS =
            (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

    /** Below the band FreePorts hands to tests (20000-32767) and the ephemeral range: other tests keep theirs. */
    private static final int PORT_LOW = Integer.getInteger("bench.portLow", 12000);
    private static final int PORT_HIGH = Integer.getInteger("bench.portHigh", 19999);

    /** Sockets the syscall floor cycles through: about a 1,000-call relay's (two per call) and its peers'. */
    private static final int FLOOR_SOCKETS = 4000;

    private static final int TO_BROWSER = 0;
    private static final int TO_SIP = 1;

    /** Outside Maven, to choose the JVM flags (JFR, -XX:AutoBoxCacheMax): java -cp test-classes:classes:deps ... */
    public static void main(String[] args) throws Exception {
        new RtpRelayBench().g711CallsBothWays();
    }

    @Test
    void g711CallsBothWays() throws Exception {
        double logicNanos = relayLogicOnly(false, false);
        double srtpPathNanos = relayLogicOnly(true, false);
        double floorNanos = io.webrtcgateway.media.srtp.SrtpBench.jcaProtectFloorNanos();
        double syscallMicros = syscallFloorMicros(FLOOR_SOCKETS);
        List<String> rows = new ArrayList<>();
        List<String> csv = new ArrayList<>();
        csv.add("streams,mode,sent,received,loss_pct,p50_us,p99_us,max_us,gw_cpu_us_per_packet,"
                + "gw_cpu_us_per_packet_median_1s,gw_cpu_pct,"
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
                    relayed.p50 - direct.p50, relayed.p99 - direct.p99, relayed.gwMedianMicrosPerPacket, relayed.gwCpuPercent,
                    relayed.loadCpuPercent, relayed.loadAverage)
                    + (relayed.rateOk() ? "" : " generator fell behind (" + relayed.sendRate + " of " + relayed.targetRate + " pps)"));
            csv.add(relayed.csv(n, "relay"));
            csv.add(direct.csv(n, "direct"));
            System.out.println(rows.get(rows.size() - 1));
        }
        StringBuilder table = new StringBuilder(String.format("%nRtpRelayBench: G.711 20 ms, 172-byte packets, both directions, "
                + "%d s per step, %d receive loop thread(s), %d cores; %s toward the browser side, ICE socket replaced "
                + "by a plain one; %s; relay threads on CPUs %s, load on %s%n%n",
                SECONDS, LOOPS,
                Runtime.getRuntime().availableProcessors(), SRTP ? "SRTP" : "no SRTP",
                DEDICATED ? "dedicated layout: the load is one thread that never sleeps, calls evenly spaced"
                        : String.format("shared layout: %d generator thread(s) at nice %d, %d send slots per 20 ms, "
                                + "one receiving thread", GENERATORS, NICE_LOAD, SLOTS),
                RELAY_CPUS == null ? "any" : RELAY_CPUS, LOAD_CPUS == null ? "any" : LOAD_CPUS));
        table.append("| calls | packets sent (both ways) | loss | one-way p50 / p99 via relay (µs) | direct p50 / p99 (µs) "
                + "| added p50 / p99 (µs) | relay CPU µs/packet, all in (median of 1 s samples) "
                + "| relay threads CPU | load generator + sinks CPU "
                + "| machine load average (1 min) |\n");
        table.append("|---|---|---|---|---|---|---|---|---|---|\n");
        rows.forEach(r -> table.append(r).append('\n'));
        table.append(String.format("%nrelay logic alone (validate, copy, rewrite, stats; no syscall): %.0f ns/packet%n", logicNanos));
        table.append(String.format("browser -> SIP path without its syscalls (demux, SRTP unprotect, relay logic): %.0f ns/packet, "
                + "%.1fx the JCA SRTP protect floor measured now (%.0f ns)%n", srtpPathNanos, srtpPathNanos / floorNanos, floorNanos));
        table.append(String.format("one sendto + one recvfrom on loopback, %,d sockets in turn, one thread that never waits "
                + "(the system calls of a relayed packet, and nothing else): %.2f µs%n", FLOOR_SOCKETS, syscallMicros));
        table.append(String.format("largest N with < 0.1 %% loss: %,d%s%n", largestClean,
                generatorLimited ? " (the load generator could not send more on this machine)" : ""));
        System.out.println(table);
        Path out = Path.of(System.getProperty("it.buildDir", "target"), "bench", "rtp-relay.csv");
        Files.createDirectories(out.getParent());
        csv.add("logic_ns_per_packet," + String.format("%.0f", logicNanos));
        csv.add("srtp_path_ns_per_packet," + String.format("%.0f", srtpPathNanos));
        csv.add("jca_srtp_protect_floor_ns," + String.format("%.0f", floorNanos));
        csv.add("syscall_floor_us_per_packet," + String.format("%.2f", syscallMicros));
        csv.add("largest_clean_streams," + largestClean);
        Files.write(out, csv);
    }

    /**
     * What the kernel alone charges a relayed packet on this machine: socket k sends a 172-byte datagram to
     * socket j, which receives it at once, cycling through {@code sockets} sockets so their kernel state is
     * as cold as a relay's with that many (two sockets: 3.9 µs; 4,000: 5.1 µs here). No selector and no
     * wake-up: the one thread never sleeps. Median of 5 rounds of 100,000, after 2 of warm-up.
     */
    static double syscallFloorMicros(int sockets) throws IOException {
        DatagramChannel[] channels = new DatagramChannel[sockets];
        InetSocketAddress[] addresses = new InetSocketAddress[sockets];
        try {
            for (int i = 0; i < sockets; i++) {
                channels[i] = DatagramChannel.open(StandardProtocolFamily.INET).bind(new InetSocketAddress(LOOPBACK, 0));
                channels[i].configureBlocking(false);
                addresses[i] = (InetSocketAddress) channels[i].getLocalAddress();
            }
            ByteBuffer out = ByteBuffer.allocateDirect(PACKET);
            ByteBuffer in = ByteBuffer.allocateDirect(2048);
            int perRound = 100_000;
            double[] micros = new double[5];
            for (int round = -2; round < micros.length; round++) {
                long t0 = System.nanoTime();
                for (int i = 0; i < perRound; i++) {
                    int from = i % sockets;
                    int to = (int) ((i * 7L + 1) % sockets);
                    out.clear();
                    channels[from].send(out, addresses[to]);
                    in.clear();
                    if (channels[to].receive(in) == null) {
                        throw new IllegalStateException("a loopback datagram did not arrive at once");
                    }
                }
                if (round >= 0) {
                    micros[round] = (System.nanoTime() - t0) / 1000.0 / perRound;
                }
            }
            Arrays.sort(micros);
            return micros[micros.length / 2];
        } finally {
            for (DatagramChannel ch : channels) {
                if (ch != null) {
                    ch.close();
                }
            }
        }
    }

    /**
     * The gateway's own work per packet, without any socket: the browser -> SIP path to a SIP side not yet
     * known (the relay does everything but the send). With {@code srtp}, BridgedCallMedia's steps before
     * the relay too: demultiplex (RFC 7983) and SRTP unprotect of packets the browser's session protected
     * beforehand (outside the timing). With {@code sipSrtp}, the SIP side is keyed too (SDES, gateway.sip.srtp):
     * the endpoint copies and SRTP-protects each packet before the send it cannot make (no destination yet), as
     * {@code SipSrtpBench} compares. Median CPU time per packet of 9 rounds.
     */
    static double relayLogicOnly(boolean srtp, boolean sipSrtp) throws IOException {
        try (UdpReceiveLoops loops = new UdpReceiveLoops("bench-logic", 1)) {
            RtpPortAllocator ports = new RtpPortAllocator(LOOPBACK, PORT_LOW, PORT_HIGH);
            PlainRtpEndpoint endpoint = PlainRtpEndpoint.open(ports, loops, SourcePolicy.SDP);
            try (MediaRelay relay = new MediaRelay(endpoint, (b, o, l) -> { }, (b, o, l) -> { },
                    MediaRelay.Config.audio(1, 2, PayloadTypeMap.builder().map(0, 0, 8000).build()))) {
                relay.allowMedia();
                java.util.Random random = new java.util.Random(7);
                SrtpMasterKey gwKey = randomKey(random);
                SrtpMasterKey browserKey = randomKey(random);
                SrtpSession gateway = SrtpSession.create(SrtpProfile.AES_CM_128_HMAC_SHA1_80, gwKey, browserKey);
                SrtpSession browser = SrtpSession.create(SrtpProfile.AES_CM_128_HMAC_SHA1_80, browserKey, gwKey);
                if (sipSrtp) {
                    endpoint.setSrtp(SrtpSession.create(SrtpProfile.AES_CM_128_HMAC_SHA1_80, randomKey(random),
                            randomKey(random)));
                }
                int batch = 10_000;
                int stride = PACKET + 16;
                byte[] packets = new byte[batch * stride];
                int[] lengths = new int[batch];
                int rounds = 9;
                int perRound = 200_000;
                double[] nanos = new double[rounds];
                int seq = 0;
                for (int round = -3; round < rounds; round++) { // three rounds of warm-up
                    long cpu = 0;
                    for (int done = 0; done < perRound; done += batch) {
                        for (int i = 0; i < batch; i++, seq++) {
                            int off = i * stride;
                            ByteBuffer h = ByteBuffer.wrap(packets, off, stride);
                            h.put(off, (byte) 0x80).put(off + 1, (byte) 0).putShort(off + 2, (short) seq)
                                    .putInt(off + 4, seq * 160).putInt(off + 8, 0x1234);
                            lengths[i] = srtp ? browser.protectRtp(packets, off, PACKET) : PACKET;
                        }
                        long t0 = THREADS.getCurrentThreadCpuTime();
                        for (int i = 0; i < batch; i++) {
                            int off = i * stride;
                            if (!srtp) {
                                relay.fromBrowser(packets, off, lengths[i], false);
                            } else if (PacketKind.of(packets, off, lengths[i]) == PacketKind.RTP) {
                                int plain = gateway.unprotectRtp(packets, off, lengths[i]);
                                if (plain > 0) {
                                    relay.fromBrowser(packets, off, plain, false);
                                }
                            }
                        }
                        cpu += THREADS.getCurrentThreadCpuTime() - t0;
                    }
                    if (round >= 0) {
                        nanos[round] = cpu / (double) perRound;
                    }
                }
                if (gateway.counters().authFailures() + gateway.counters().replayDropped()
                        + gateway.counters().malformedDropped() > 0) {
                    throw new IllegalStateException("SRTP round trip failed: " + gateway.counters());
                }
                Arrays.sort(nanos);
                return nanos[rounds / 2];
            }
        }
    }

    private record Result(long sent, long received, double p50, double p99, double max, double gwMicrosPerPacket,
                          double gwMedianMicrosPerPacket,
                          double gwCpuPercent, double loadCpuPercent, long sendRate, long targetRate, String loadAverage) {
        double lossPercent() {
            return sent == 0 ? 100 : 100.0 * (sent - received) / sent;
        }

        boolean rateOk() {
            return sendRate >= targetRate * 0.98;
        }

        String csv(int n, String mode) {
            return String.format("%d,%s,%d,%d,%.4f,%.0f,%.0f,%.0f,%.3f,%.3f,%.1f,%.1f,%d,%s", n, mode, sent,
                    received, lossPercent(), p50, p99, max, gwMicrosPerPacket, gwMedianMicrosPerPacket, gwCpuPercent,
                    loadCpuPercent, sendRate, loadAverage);
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
                sipPeers[k] = peerSocket(DEDICATED ? null : peerLoop, sinks, resources);
                browserPeers[k] = peerSocket(DEDICATED ? null : peerLoop, sinks, resources);
            }
            InetSocketAddress[] sipTargets = new InetSocketAddress[n];
            InetSocketAddress[] browserTargets = new InetSocketAddress[n];
            // per call: the gateway's SRTP session toward the browser and the browser's own (keys swapped)
            boolean srtp = SRTP && viaRelay;
            SrtpSession[] browserSessions = srtp ? new SrtpSession[n] : null;
            sinks.browserSessions = browserSessions;
            java.util.Random keys = new java.util.Random(n);
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
                SrtpSession gwSession = null;
                if (srtp) {
                    SrtpMasterKey gwKey = randomKey(keys);
                    SrtpMasterKey browserKey = randomKey(keys);
                    gwSession = SrtpSession.create(SrtpProfile.AES_CM_128_HMAC_SHA1_80, gwKey, browserKey);
                    browserSessions[i] = SrtpSession.create(SrtpProfile.AES_CM_128_HMAC_SHA1_80, browserKey, gwKey);
                }
                BrowserSideSender toBrowser = new BrowserSideSender(browserTransport,
                        (InetSocketAddress) browserPeer.getLocalAddress(), gwSession);
                MediaRelay relay = new MediaRelay(endpoint, toBrowser, toBrowser, MediaRelay.Config.audio(
                        SSRC_TOWARD_SIP + i, SSRC_TOWARD_BROWSER + i, PayloadTypeMap.builder().map(0, 0, 8000).build()));
                relays.add(relay);
                resources.add(relay);
                resources.add(browserTransport);
                relay.start();
                relay.updateSipRemote((InetSocketAddress) sipPeer.getLocalAddress(), null, true);
                relay.allowMedia();
                UdpReceiveLoops.Loop loop = gw.leastLoaded();
                SrtpSession unprotect = gwSession;
                // BridgedCallMedia.fromBrowser's steps for RTP: demultiplex (RFC 7983), unprotect, relay
                SelectionKey key = loop.register(browserTransport, (b, o, l, src) -> {
                    if (unprotect == null) {
                        relay.fromBrowser(b, o, l, false);
                    } else if (PacketKind.of(b, o, l) == PacketKind.RTP) {
                        int plain = unprotect.unprotectRtp(b, o, l);
                        if (plain > 0) {
                            relay.fromBrowser(b, o, plain, false);
                        }
                    }
                });
                resources.add(() -> loop.deregister(List.of(key), () -> { }));
                sipTargets[i] = new InetSocketAddress(LOOPBACK, endpoint.localRtpPort());
                browserTargets[i] = (InetSocketAddress) browserTransport.getLocalAddress();
            }

            List<Generator> generators = new ArrayList<>();
            List<Thread> genThreads = new ArrayList<>();
            for (int g = 0; g < GENERATORS; g++) {
                Generator generator = new Generator(n, g, GENERATORS, sipPeers, browserPeers, sipTargets, browserTargets,
                        browserSessions);
                generators.add(generator);
                Runnable load = DEDICATED ? new SpinningLoad(generator, sinks, concat(sipPeers, browserPeers)) : generator;
                Thread t = new Thread(load, "bench-gen-" + g);
                genThreads.add(t);
                t.start();
            }
            if (NICE_LOAD > 0) {
                BenchThreads.named("bench-gen-").renice(NICE_LOAD);
            }
            if (RELAY_CPUS != null) {
                BenchThreads.named("bench-gw-").pin(RELAY_CPUS);
            }
            if (LOAD_CPUS != null) {
                BenchThreads.named("bench-gen-").pin(LOAD_CPUS);
                BenchThreads.named("bench-peer-").pin(LOAD_CPUS);
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
                // one CPU-per-packet sample per second, for a median that one descheduled second can't move
                double[] perSecond = new double[SECONDS];
                long sampleCpu = gwCpu0;
                long sampleRelayed = relayed0;
                for (int second = 0; second < SECONDS; second++) {
                    awaitNanos(wall0 + TimeUnit.SECONDS.toNanos(second + 1) - System.nanoTime());
                    long c = cpu(gwIds);
                    long r = relayed(relays);
                    perSecond[second] = r == sampleRelayed ? 0 : (c - sampleCpu) / 1000.0 / (r - sampleRelayed);
                    sampleCpu = c;
                    sampleRelayed = r;
                }
                generators.forEach(g -> g.phase = 3);
                long wall = System.nanoTime() - wall0;
                long gwCpu = cpu(gwIds) - gwCpu0;
                long loadCpu = cpu(loadIds) - loadCpu0;
                long relayed = relayed(relays) - relayed0;
                Arrays.sort(perSecond);
                // drain: what is still in flight after the last send of the window
                Poll.until(Duration.ofSeconds(5), "in-flight packets to settle", sinks::settled);
                long sent = generators.stream().mapToLong(g -> g.sentInMeasure).sum();
                long received = sinks.received();
                double[] latency = sinks.percentiles(0.5, 0.99, 1.0);
                long rate = Math.round(sent / (wall / 1e9));
                long target = Math.round(2.0 * n * 1e9 / PTIME_NANOS);
                double perPacket = relayed == 0 ? 0 : gwCpu / 1000.0 / relayed;
                return new Result(sent, received, latency[0], latency[1], latency[2], perPacket,
                        viaRelay ? perSecond[SECONDS / 2] : 0,
                        100.0 * gwCpu / wall, 100.0 * loadCpu / wall, rate, target, load0 + " -> " + loadAverage());
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
        if (loop == null) {
            return ch;
        }
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

    private static DatagramChannel[] concat(DatagramChannel[] a, DatagramChannel[] b) {
        DatagramChannel[] c = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, c, a.length, b.length);
        return c;
    }

    private static long[] concat(long[] a, long[] b) {
        long[] c = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, c, a.length, b.length);
        return c;
    }

    private static SrtpMasterKey randomKey(java.util.Random random) {
        byte[] key = new byte[16];
        byte[] salt = new byte[14];
        random.nextBytes(key);
        random.nextBytes(salt);
        return new SrtpMasterKey(key, salt);
    }

    /**
     * BridgedCallMedia.protectRtpToBrowser's steps: SRTP protect in place (the relay leaves tailroom), then the
     * ICE socket's send; here a plain socket, unchanged packets with {@code srtp} null.
     */
    private static final class BrowserSideSender implements PacketSender {
        private final DatagramChannel channel;
        private final InetSocketAddress to;
        private final SrtpSession srtp;
        private byte[] wrapped;
        private ByteBuffer wrapper;

        BrowserSideSender(DatagramChannel channel, InetSocketAddress to, SrtpSession srtp) {
            this.channel = channel;
            this.to = to;
            this.srtp = srtp;
        }

        @Override
        public void send(byte[] buf, int off, int len) {
            if (srtp != null) {
                len = srtp.protectRtp(buf, off, len);
                if (len < 0) {
                    return;
                }
            }
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
        /** Per call, the browser's SRTP session (null: no SRTP). */
        final SrtpSession[] browserSessions;
        volatile int phase;
        volatile boolean running = true;
        volatile long sentInMeasure;
        private final byte[] packet = new byte[PACKET + 16];
        private final ByteBuffer buffer = ByteBuffer.wrap(packet);
        private final int[] seq;

        Generator(int n, int first, int stride, DatagramChannel[] sipPeers, DatagramChannel[] browserPeers,
                InetSocketAddress[] sipTargets, InetSocketAddress[] browserTargets, SrtpSession[] browserSessions) {
            this.n = n;
            this.first = first;
            this.stride = stride;
            this.sipPeers = sipPeers;
            this.browserPeers = browserPeers;
            this.sipTargets = sipTargets;
            this.browserTargets = browserTargets;
            this.browserSessions = browserSessions;
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
            int len = PACKET;
            if (direction == TO_SIP && browserSessions != null) {
                len = browserSessions[call].protectRtp(packet, 0, PACKET);
            }
            buffer.limit(len);
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

    /**
     * The dedicated layout's load: one thread that never sleeps, so it neither delays a send nor leaves a
     * received packet waiting (the sink's own delay stays out of the figures: 8-16 µs direct p99). Call i's
     * packets leave at start + k x 20 ms + i x 20 ms / n, each call in its own phase as independent phones are,
     * not in bursts; both directions of a call at once. Receiving runs between sends.
     */
    private static final class SpinningLoad implements Runnable {
        /** Sends before the sockets get a look, so a late sender catches up without starving the receives. */
        private static final int SEND_BUDGET = 32;
        private final Generator g;
        private final Sinks sinks;
        private final Selector selector;
        private final byte[] received = new byte[2048];
        private final ByteBuffer receiveBuffer = ByteBuffer.wrap(received);
        private final Consumer<SelectionKey> onReady = this::onReady;

        SpinningLoad(Generator g, Sinks sinks, DatagramChannel[] peers) throws IOException {
            this.g = g;
            this.sinks = sinks;
            selector = Selector.open();
            for (DatagramChannel ch : peers) {
                ch.configureBlocking(false);
                ch.register(selector, SelectionKey.OP_READ, ch);
            }
        }

        @Override
        public void run() {
            int n = g.n;
            long start = System.nanoTime();
            long sent = 0;
            try (Selector s = selector) {
                for (long k = 0; g.running; ) {
                    long now = System.nanoTime();
                    for (int budget = SEND_BUDGET; budget > 0 && start + k * PTIME_NANOS / n <= now; budget--, k++) {
                        int p = g.phase;
                        if (p == 0 || p == 3) {
                            continue;
                        }
                        int i = (int) (k % n);
                        g.send(g.sipPeers[i % PEER_SOCKETS], g.sipTargets[i], i, TO_BROWSER, p);
                        g.send(g.browserPeers[i % PEER_SOCKETS], g.browserTargets[i], i, TO_SIP, p);
                        if (p == 2) {
                            sent += 2;
                            g.sentInMeasure = sent;
                        }
                    }
                    s.selectNow(onReady);
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        private void onReady(SelectionKey key) {
            DatagramChannel ch = (DatagramChannel) key.attachment();
            for (int i = 0; i < 32; i++) {
                receiveBuffer.clear();
                try {
                    InetSocketAddress source = (InetSocketAddress) ch.receive(receiveBuffer);
                    if (source == null) {
                        return;
                    }
                    sinks.onDatagram(received, 0, receiveBuffer.position(), source);
                } catch (IOException e) {
                    return; // closed at the end of the step
                }
            }
        }
    }

    /** Receives at the peers, one-way latency: what reaches a browser peer is decrypted first. */
    private static final class Sinks extends TimestampSink {
        /** Per call, the browser's SRTP session (null: no SRTP). */
        volatile SrtpSession[] browserSessions;

        Sinks() {
            super(PACKET);
        }

        @Override
        int unwrap(byte[] buf, int off, int len) {
            SrtpSession[] sessions = browserSessions;
            if (sessions != null && len > 12) {
                int call = ((buf[off + 8] & 0xff) << 24 | (buf[off + 9] & 0xff) << 16 | (buf[off + 10] & 0xff) << 8
                        | (buf[off + 11] & 0xff)) - SSRC_TOWARD_BROWSER;
                if (call >= 0 && call < sessions.length) {
                    return sessions[call].unprotectRtp(buf, off, len);
                }
            }
            return len;
        }
    }
}
