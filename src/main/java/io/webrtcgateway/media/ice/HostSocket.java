package io.webrtcgateway.media.ice;

import io.webrtcgateway.media.rtp.DatagramReceiver;
import io.webrtcgateway.media.rtp.UdpReceiveLoops;
import org.ice4j.socket.IceSocketWrapper;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.net.BindException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketAddress;
import java.net.SocketException;
import java.net.StandardProtocolFamily;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.channels.SelectionKey;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The UDP socket of one host candidate, and the demultiplexer on it.
 *
 * <p>The socket is a non-blocking {@link DatagramChannel} read by one of the instance's {@link UdpReceiveLoops}
 * threads, like the SIP side's RTP sockets: payload (DTLS, SRTP, SRTCP) goes to the {@link Sink} on that thread,
 * with no queue and no hand-off; a loop serves thousands of sockets and reads every socket that is ready after
 * one wake-up. STUN (connectivity checks, consent, RFC 7675) is copied into a small queue that ice4j's reader
 * thread for this socket (its {@code Connector}, which calls {@link #receive(DatagramPacket)}) takes from; STUN
 * is a few datagrams per second, payload is 50 per second per stream and direction. Before, that reader thread
 * read the socket itself with a blocking receive: the kernel woke one thread per payload datagram (measured
 * below, docs/media.md "Relay cost").
 *
 * <p>Non-blocking: the JDK closes a channel when a thread blocked in it, or sending on it, is interrupted (that
 * is why a {@link DatagramSocket} was used before), but it only installs that interrupt hook for blocking
 * operations. A send that finds no room in the socket buffer drops the datagram (counted), as UDP would.
 */
final class HostSocket extends IceSocketWrapper implements DatagramReceiver {

    private static final Logger LOG = LoggerFactory.getLogger(HostSocket.class);

    /** Largest datagram delivered; a longer one is dropped (the loop reads whole datagrams, up to 64 KB). */
    static final int MAX_DATAGRAM = 2048;
    /** STUN datagrams waiting for ice4j's reader; beyond, dropped (a flood must not grow memory). */
    private static final int STUN_QUEUE = 64;
    private static final int BINDING_ERROR_RESPONSE = 0x0111;
    private static final int ERROR_CODE = 0x0009;
    private static final int ROLE_CONFLICT = 487;
    private static final int MAX_REASON = 80;

    /** Where payload goes: the ICE generation this socket belongs to. */
    interface Sink {
        /** Whether payload from this source belongs to the session (see IceGeneration#accepts). */
        boolean accepts(HostSocket socket, InetAddress address, int port);

        /** Called on the socket's receive-loop thread; must not block nor keep {@code buf}. */
        void deliver(byte[] buf, int off, int len);
    }

    /** A STUN datagram on its way to ice4j's reader thread. */
    private record Stun(byte[] data, InetSocketAddress source) {}

    private static final Stun CLOSED = new Stun(new byte[0], null);

    private final DatagramChannel channel;
    private final InetSocketAddress local;
    private final Sink sink;
    /** Remote addresses never answered nor sent to; the configured STUN servers are exempt from it. */
    private final IceRemoteDeny deny;
    private final List<InetSocketAddress> stunServers;
    private final UdpReceiveLoops.Loop loop;
    private final BlockingQueue<Stun> stunIn = new ArrayBlockingQueue<>(STUN_QUEUE);
    private final AtomicBoolean closed = new AtomicBoolean();
    /** Set once by {@link #bind}, before any other thread sees this socket. */
    private SelectionKey key;

    /**
     * A Binding error response as it arrived (RFC 5389 §15.6 ERROR-CODE), for telling why ice4j failed a pair
     * (IceGeneration#onPairChange).
     */
    record ErrorResponse(InetSocketAddress from, int code, String reason, long atNanos) {
        @Override
        public String toString() {
            return code + (reason.isEmpty() ? "" : " " + reason);
        }
    }

    /** Written by ice4j's reader thread in {@link #receive} just before it processes the same response. */
    private volatile ErrorResponse lastErrorResponse;

    /** Guards the send buffer and the send counters. */
    private final Object txLock = new Object();

    private static final VarHandle COUNTER = MethodHandles.arrayElementVarHandle(long[].class);
    private static final int PACKETS_IN = 0;
    private static final int BYTES_IN = 1;
    private static final int STUN_IN = 2;
    private static final int DROPPED_IN = 3;
    private static final int RECEIVER_ERRORS = 4;
    /** Written by the loop thread only, with opaque stores (no fence on the packet path); read by counters(). */
    private final long[] rx = new long[5];
    // Guarded by txLock.
    private long packetsOut;
    private long bytesOut;
    private long sendErrors;
    /**
     * Payload is copied here and sent from it: the JDK would copy a heap buffer into a temporary direct one
     * anyway, and callers use different arrays (each receive loop's, the DTLS threads'), so wrapping each would
     * allocate.
     */
    private final ByteBuffer txBuffer = ByteBuffer.allocateDirect(MAX_DATAGRAM);

    private HostSocket(DatagramChannel channel, IceConfig config, Sink sink, UdpReceiveLoops.Loop loop)
            throws IOException {
        this.channel = channel;
        this.local = (InetSocketAddress) channel.getLocalAddress();
        this.deny = config.remoteDeny();
        this.stunServers = config.stunServers();
        this.sink = sink;
        this.loop = loop;
    }

    /**
     * Binds a port of the config's range on {@code address}, starting at a random port and walking up:
     * ports are shared with other calls and the SIP-side RTP, so a busy one is skipped, and a port just freed
     * is unlikely to be taken again at once (late packets of an ended call then find nobody). The socket is read
     * by {@code loop} from now on (payload is dropped until the sink accepts its source).
     */
    static HostSocket bind(IceConfig config, InetAddress address, Sink sink, UdpReceiveLoops.Loop loop)
            throws IOException {
        int portMin = config.portMin();
        int portMax = config.portMax();
        int size = portMax - portMin + 1;
        int start = ThreadLocalRandom.current().nextInt(size);
        StandardProtocolFamily family = address instanceof Inet6Address ? StandardProtocolFamily.INET6
                : StandardProtocolFamily.INET;
        for (int i = 0; i < size; i++) {
            int port = portMin + (start + i) % size;
            DatagramChannel c = DatagramChannel.open(family);
            try {
                c.setOption(StandardSocketOptions.SO_REUSEADDR, false);
                c.bind(new InetSocketAddress(address, port));
            } catch (BindException e) {
                c.close();
                continue;
            } catch (IOException | RuntimeException e) {
                c.close();
                throw e;
            }
            try {
                HostSocket socket = new HostSocket(c, config, sink, loop);
                socket.key = loop.register(c, socket);
                return socket;
            } catch (IOException | RuntimeException e) {
                c.close();
                throw e;
            }
        }
        throw new BindException("no free UDP port in " + portMin + "-" + portMax + " on " + address.getHostAddress());
    }

    InetSocketAddress localAddress() {
        return local;
    }

    /**
     * The loop thread, for every datagram. RFC 7983 §7: the first byte tells STUN (0-3), DTLS (20-63) and
     * RTP/RTCP (128-191) apart.
     */
    @Override
    public void onDatagram(byte[] buf, int off, int len, InetSocketAddress source) {
        if (len > MAX_DATAGRAM) {
            count(DROPPED_IN, 1);
            return;
        }
        int first = buf[off] & 0xFF;
        if (first < 4) {
            if (deny.inDeniedBlock(source.getAddress())) {
                // Neither answered nor learnt as a peer-reflexive candidate (which ice4j would check).
                deny.countStunDropped();
                count(DROPPED_IN, 1);
                return;
            }
            if (StunShape.wellFormed(buf, off, len) && !closed.get()
                    && stunIn.offer(new Stun(Arrays.copyOfRange(buf, off, off + len), source))) {
                count(STUN_IN, 1);
                return;
            }
            count(DROPPED_IN, 1);
        } else if ((first >= 20 && first <= 63) || (first >= 128 && first <= 191)) {
            deliver(buf, off, len, source);
        } else {
            count(DROPPED_IN, 1);
        }
    }

    /**
     * Called by ice4j's Connector thread in a loop: the next STUN message, in {@code p}. Throws only when the
     * socket is closed (which ends the Connector).
     */
    @Override
    public void receive(DatagramPacket p) throws IOException {
        while (true) {
            Stun stun;
            try {
                stun = stunIn.take();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new SocketException("interrupted");
            }
            if (closed.get()) {
                stunIn.offer(CLOSED); // any other reader ends too
                throw new SocketException("Socket closed");
            }
            int len = stun.data.length;
            if (len > p.getData().length - p.getOffset()) {
                count(DROPPED_IN, 1);
                continue;
            }
            if (readShort(stun.data, 0) == BINDING_ERROR_RESPONSE) {
                noteErrorResponse(stun);
            }
            System.arraycopy(stun.data, 0, p.getData(), p.getOffset(), len);
            p.setLength(len);
            p.setSocketAddress(stun.source);
            return;
        }
    }

    /**
     * Keeps the ERROR-CODE of a Binding error response before ice4j sees it: ice4j fails the pair on any error
     * but 487 (a role conflict, which it resolves itself, RFC 8445 §7.2.5.1) without telling which one.
     */
    private void noteErrorResponse(Stun stun) {
        ErrorResponse e = parseErrorResponse(stun.data, stun.data.length, stun.source, System.nanoTime());
        if (e != null && e.code() != ROLE_CONFLICT) {
            lastErrorResponse = e;
        }
    }

    /** The newest Binding error response (other than 487) received on this socket, or null. */
    ErrorResponse lastErrorResponse() {
        return lastErrorResponse;
    }

    /** The ERROR-CODE of a STUN message (RFC 5389 §15.6: class in the low 3 bits, then number), or null. */
    static ErrorResponse parseErrorResponse(byte[] b, int len, InetSocketAddress from, long atNanos) {
        int end = Math.min(len, 20 + readShort(b, 2));
        int at = 20;
        while (at + 4 <= end) {
            int type = readShort(b, at);
            int length = readShort(b, at + 2);
            int value = at + 4;
            if (value + length > end) {
                return null;
            }
            if (type == ERROR_CODE && length >= 4) {
                int code = (b[value + 2] & 0x07) * 100 + (b[value + 3] & 0xFF);
                StringBuilder reason = new StringBuilder();
                String text = new String(b, value + 4, length - 4, StandardCharsets.UTF_8);
                // The peer's text goes to a log line: printable characters only, and not too many.
                text.codePoints().limit(MAX_REASON)
                        .forEach(c -> reason.appendCodePoint(c < 0x20 || c == 0x7F ? '?' : c));
                return new ErrorResponse(from, code, reason.toString().strip(), atNanos);
            }
            at = value + ((length + 3) & ~3);
        }
        return null;
    }

    private void deliver(byte[] buf, int off, int len, InetSocketAddress source) {
        try {
            if (!sink.accepts(this, source.getAddress(), source.getPort())) {
                count(DROPPED_IN, 1);
                return;
            }
            count(PACKETS_IN, 1);
            count(BYTES_IN, len);
            sink.deliver(buf, off, len);
        } catch (StackOverflowError | RuntimeException e) {
            // One bad packet must not reach the loop (other calls' sockets share it), nor end this socket.
            long n = count(RECEIVER_ERRORS, 1);
            if (n == 1 || n % 1000 == 0) {
                LOG.warn("ICE {}: receiver failed on a {}-byte packet ({} so far)", local, len, n, e);
            }
        }
    }

    /** Sends payload to {@code to} (the selected remote); never throws, never blocks. */
    void sendPayload(byte[] buf, int off, int len, InetSocketAddress to) {
        synchronized (txLock) {
            try {
                ByteBuffer data;
                if (len <= txBuffer.capacity()) {
                    data = txBuffer.clear();
                    data.put(buf, off, len).flip();
                } else {
                    data = ByteBuffer.wrap(buf, off, len); // larger than any packet this gateway sends
                }
                if (channel.send(data, to) > 0) {
                    packetsOut++;
                    bytesOut += len;
                } else {
                    sendErrors++; // no room in the socket's send buffer: dropped
                }
            } catch (IOException | RuntimeException e) {
                if (++sendErrors == 1 && channel.isOpen()) {
                    LOG.warn("ICE {}: send to {} failed", local, to, e);
                }
            }
        }
    }

    /**
     * ice4j's sends (connectivity checks, responses, STUN requests): rare, so a wrapper each. A destination in
     * a denied block is refused here whatever path led ice4j to it (none should: candidates there are never
     * added, STUN from there never reaches ice4j); it is dropped as if lost, counted and logged.
     */
    @Override
    public void send(DatagramPacket p) throws IOException {
        SocketAddress to = p.getSocketAddress();
        if (to instanceof InetSocketAddress target && deny.inDeniedBlock(target.getAddress())
                && !stunServers.contains(target)) {
            deny.countSendRefused();
            LOG.warn("ICE {}: refused to send {} bytes to {} (gateway.media.ice-remote-deny)", local, p.getLength(),
                    target);
            return;
        }
        channel.send(ByteBuffer.wrap(p.getData(), p.getOffset(), p.getLength()), to);
    }

    /**
     * Stops reading, frees the port (once the loop has let go of the channel: from another thread before this
     * returns) and ends the Connector thread; idempotent.
     */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        stunIn.offer(CLOSED); // if full, the reader is not waiting and sees `closed` at its next take
        loop.deregister(List.of(key), this::closeChannel);
    }

    private void closeChannel() {
        try {
            channel.close();
        } catch (IOException e) {
            LOG.debug("ICE {}: close", local, e);
        }
    }

    boolean isClosed() {
        return closed.get();
    }

    @Override
    public InetAddress getLocalAddress() {
        return local.getAddress();
    }

    @Override
    public int getLocalPort() {
        return local.getPort();
    }

    @Override
    public SocketAddress getLocalSocketAddress() {
        return local;
    }

    @Override
    public Socket getTCPSocket() {
        return null;
    }

    /** ice4j uses this only to tell UDP from TCP; nothing else may read from it. */
    @Override
    public DatagramSocket getUDPSocket() {
        return channel.socket();
    }

    /** Loop thread only. */
    private long count(int counter, long n) {
        long value = (long) COUNTER.getOpaque(rx, counter) + n;
        COUNTER.setOpaque(rx, counter, value);
        return value;
    }

    private long read(int counter) {
        return (long) COUNTER.getOpaque(rx, counter);
    }

    Counters counters() {
        synchronized (txLock) {
            return new Counters(read(PACKETS_IN), read(BYTES_IN), packetsOut, bytesOut, read(DROPPED_IN), sendErrors,
                    read(RECEIVER_ERRORS), read(STUN_IN));
        }
    }

    /** A snapshot of this socket's traffic. */
    record Counters(long packetsIn, long bytesIn, long packetsOut, long bytesOut, long droppedIn, long sendErrors,
                    long receiverErrors, long stunIn) {
        static final Counters ZERO = new Counters(0, 0, 0, 0, 0, 0, 0, 0);

        Counters plus(Counters o) {
            return new Counters(packetsIn + o.packetsIn, bytesIn + o.bytesIn, packetsOut + o.packetsOut,
                    bytesOut + o.bytesOut, droppedIn + o.droppedIn, sendErrors + o.sendErrors,
                    receiverErrors + o.receiverErrors, stunIn + o.stunIn);
        }
    }

    private static int readShort(byte[] b, int off) {
        return ((b[off] & 0xFF) << 8) | (b[off + 1] & 0xFF);
    }

    @Override
    public String toString() {
        return "HostSocket[" + local + "]";
    }
}
