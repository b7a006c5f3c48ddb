package io.webrtcgateway.media.rtp;

import io.webrtcgateway.media.PacketHandler;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.channels.SelectionKey;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.LongAdder;

/**
 * One m-line's plain RTP toward the SIP side: an RTP and an RTCP socket from the port range (RTCP on the
 * RTP socket when the SIP SDP has {@code a=rtcp-mux}, RFC 5761), the peer's addresses from its SDP, the
 * {@link SourcePolicy}, and receiving on one {@link UdpReceiveLoops} thread.
 *
 * <p>Threads: datagrams are delivered to the handlers on the endpoint's loop thread; {@link #sendRtp} and
 * {@link #sendRtcp} may be called from any thread, but each of them by one thread at a time (each keeps a
 * reusable wrapper for the caller's array); {@link #setRemote} from any thread.
 */
public final class PlainRtpEndpoint implements AutoCloseable {

    private final PortPair ports;
    private final UdpReceiveLoops.Loop loop;
    private final SourcePolicy policy;
    private final Socket rtpSocket;
    private final Socket rtcpSocket;
    private final AtomicBoolean started = new AtomicBoolean();
    private final AtomicBoolean closed = new AtomicBoolean();
    /** Guarded by {@code keys}. */
    private final List<SelectionKey> keys = new ArrayList<>(2);

    /** Replaced whole by {@link #setRemote}; the loop re-arms latching when the generation changes. */
    private volatile Remote remote = new Remote(null, null, false, 0);

    private final LongAdder foreignSource = new LongAdder();
    private final LongAdder noDestination = new LongAdder();
    private final LongAdder sendFailures = new LongAdder();

    private PacketHandler rtpHandler;
    private PacketHandler rtcpHandler;

    private PlainRtpEndpoint(PortPair ports, UdpReceiveLoops.Loop loop, SourcePolicy policy) {
        this.ports = ports;
        this.loop = loop;
        this.policy = policy;
        this.rtpSocket = new Socket(ports.rtp(), false);
        this.rtcpSocket = new Socket(ports.rtcp(), true);
    }

    /** Takes a port pair; nothing is received until {@link #start}. Close it in every path. */
    public static PlainRtpEndpoint open(RtpPortAllocator allocator, UdpReceiveLoops loops, SourcePolicy policy)
            throws IOException {
        PortPair pair = allocator.allocate();
        try {
            return new PlainRtpEndpoint(pair, loops.leastLoaded(), policy);
        } catch (RuntimeException | Error e) {
            pair.close();
            throw e;
        }
    }

    /**
     * Starts receiving. RTP goes to {@code rtp}; RTCP (from the RTCP socket, or demultiplexed from the RTP
     * socket by packet type, RFC 5761 §4) to {@code rtcp}. Both run on this endpoint's loop thread.
     */
    public void start(PacketHandler rtp, PacketHandler rtcp) throws IOException {
        if (!started.compareAndSet(false, true)) {
            throw new IllegalStateException("already started");
        }
        this.rtpHandler = rtp;
        this.rtcpHandler = rtcp;
        synchronized (keys) {
            if (closed.get()) {
                throw new IOException("endpoint closed");
            }
            keys.add(loop.register(ports.rtp(), rtpSocket));
            keys.add(loop.register(ports.rtcp(), rtcpSocket));
        }
    }

    /**
     * The SIP peer's addresses from its SDP ({@code c=}/{@code m=} port, {@code a=rtcp} or port + 1) and
     * whether it multiplexes RTCP. Called again on each re-INVITE: re-arms latching.
     */
    public void setRemote(InetSocketAddress rtp, InetSocketAddress rtcp, boolean rtcpMux) {
        Remote old = remote;
        remote = new Remote(rtp, rtcpMux ? rtp : rtcp, rtcpMux, old.generation + 1);
    }

    public int localRtpPort() {
        return ports.rtpPort();
    }

    public int localRtcpPort() {
        return ports.rtcpPort();
    }

    public String loopName() {
        return loop.toString();
    }

    /** Where RTP goes now: the latched source, else the SDP's address; null when neither is known. */
    public InetSocketAddress rtpDestination() {
        Remote r = remote;
        Latch latch = rtpSocket.latch;
        return latch != null && latch.generation == r.generation ? latch.address : r.rtp;
    }

    public InetSocketAddress rtcpDestination() {
        Remote r = remote;
        if (r.rtcpMux) {
            return rtpDestination();
        }
        Latch latch = rtcpSocket.latch;
        return latch != null && latch.generation == r.generation ? latch.address : r.rtcp;
    }

    /** Sends one RTP packet; false (and counted) when there is no destination yet or the send failed. */
    public boolean sendRtp(byte[] b, int off, int len) {
        return send(rtpSocket, rtpSocket.sendWrapper(b, off, len), rtpDestination());
    }

    /** Sends one RTCP packet, on the RTP socket under rtcp-mux. */
    public boolean sendRtcp(byte[] b, int off, int len) {
        Socket via = remote.rtcpMux ? rtpSocket : rtcpSocket;
        return send(via, rtcpSocket.sendWrapper(b, off, len), rtcpDestination());
    }

    private boolean send(Socket via, ByteBuffer data, InetSocketAddress to) {
        if (to == null) {
            noDestination.increment();
            return false;
        }
        try {
            via.channel.send(data, to);
            return true;
        } catch (IOException | RuntimeException e) {
            sendFailures.increment();
            return false;
        }
    }

    /** Datagrams dropped because they came from an address the {@link SourcePolicy} does not accept. */
    public long droppedForeignSource() {
        return foreignSource.sum();
    }

    public long droppedNoDestination() {
        return noDestination.sum();
    }

    public long sendFailures() {
        return sendFailures.sum();
    }

    /**
     * Stops receiving and gives the ports back, whatever state the endpoint is in; idempotent. From another
     * thread the ports are free when it returns; from the endpoint's own handler, right after.
     */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        List<SelectionKey> registered;
        synchronized (keys) {
            registered = List.copyOf(keys);
            keys.clear();
        }
        if (registered.isEmpty()) {
            ports.close();
            return;
        }
        try {
            loop.deregister(registered, ports::close);
        } catch (RuntimeException | Error e) {
            ports.close();
            throw e;
        }
    }

    public boolean isClosed() {
        return closed.get();
    }

    @Override
    public String toString() {
        return "PlainRtpEndpoint[" + ports + " -> " + rtpDestination() + "]";
    }

    private record Remote(InetSocketAddress rtp, InetSocketAddress rtcp, boolean rtcpMux, long generation) {}

    /** A learnt destination, valid only for the SDP generation it was learnt under. */
    private record Latch(InetSocketAddress address, long generation) {}

    /** One of the two sockets with its latching state. */
    private final class Socket implements DatagramReceiver {
        final DatagramChannel channel;
        final boolean rtcpPort;
        /** The learnt destination; written by the loop thread, read by senders. */
        volatile Latch latch;

        // Loop thread only.
        private long generation = -1;
        private int accepted;
        private long firstAcceptedNanos;
        private boolean latchFixed;

        // Sender thread only (one at a time, see class comment).
        private byte[] wrappedArray;
        private ByteBuffer wrapper;

        Socket(DatagramChannel channel, boolean rtcpPort) {
            this.channel = channel;
            this.rtcpPort = rtcpPort;
        }

        ByteBuffer sendWrapper(byte[] b, int off, int len) {
            if (b != wrappedArray) {
                wrapper = ByteBuffer.wrap(b);
                wrappedArray = b;
            }
            wrapper.limit(off + len).position(off);
            return wrapper;
        }

        @Override
        public void onDatagram(byte[] buf, int off, int len, InetSocketAddress source) {
            if (!accept(source)) {
                foreignSource.increment();
                return;
            }
            if (rtcpPort || RtpPacket.looksLikeRtcp(buf, off, len)) {
                rtcpHandler.onPacket(buf, off, len);
            } else {
                rtpHandler.onPacket(buf, off, len);
            }
        }

        private boolean accept(InetSocketAddress source) {
            Remote r = remote;
            if (r.generation != generation) {
                generation = r.generation;
                accepted = 0;
                latchFixed = false;
            }
            if (policy.strictSource()) {
                InetSocketAddress expected = rtcpPort && !r.rtcpMux ? r.rtcp : r.rtp;
                if (expected == null || !expected.getAddress().equals(source.getAddress())) {
                    return false;
                }
            }
            if (!policy.latching()) {
                return true;
            }
            Latch current = latch;
            boolean same = current != null && current.generation == generation && current.address.equals(source);
            if (latchFixed) {
                return same;
            }
            long now = System.nanoTime();
            if (accepted == 0) {
                firstAcceptedNanos = now;
            } else if (accepted >= policy.latchPackets() || now - firstAcceptedNanos >= policy.latchWindow().toNanos()) {
                latchFixed = true;
                return same;
            }
            accepted++;
            if (!same) {
                latch = new Latch(source, generation);
            }
            return true;
        }
    }
}
