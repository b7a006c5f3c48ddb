package io.webrtcgateway.media.ice;

import org.ice4j.socket.IceSocketWrapper;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.net.BindException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketAddress;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ThreadLocalRandom;

/**
 * The UDP socket of one host candidate, and the demultiplexer on it.
 *
 * <p>ice4j's STUN stack reads each socket with its own thread (a {@code Connector}, started when the socket is
 * added to the agent's {@code StunStack}) through {@link #receive(DatagramPacket)}. That thread is the only
 * reader: here it loops over datagrams, hands payload (DTLS, SRTP, SRTCP) straight to the {@link Sink} on the
 * same thread, and returns only for STUN, which ice4j then processes. So there is one thread per socket,
 * no queue, no hand-off, and no allocation per payload datagram in this code.
 *
 * <p>A {@link DatagramSocket} rather than a {@code DatagramChannel}: a channel is closed for good when a thread
 * blocked in it, or sending on it, is interrupted, and senders here are other layers' threads. The JDK's socket
 * adaptor wraps each datagram in a small ByteBuffer; that is the only per-packet allocation on this path.
 */
final class HostSocket extends IceSocketWrapper {

    private static final Logger LOG = LoggerFactory.getLogger(HostSocket.class);

    /** Largest datagram delivered; one byte more is read so that a longer (truncated) one can be told apart. */
    static final int MAX_DATAGRAM = 2048;
    private static final int STUN_MAGIC_COOKIE = 0x2112A442;
    private static final byte[] NO_DATA = new byte[0];
    private static final int BINDING_ERROR_RESPONSE = 0x0111;
    private static final int ERROR_CODE = 0x0009;
    private static final int ROLE_CONFLICT = 487;
    private static final int MAX_REASON = 80;

    /** Where payload goes: the ICE generation this socket belongs to. */
    interface Sink {
        /** Whether payload from this source belongs to the session (see IceGeneration#accepts). */
        boolean accepts(HostSocket socket, InetAddress address, int port);

        /** Called on this socket's reader thread; must not keep {@code buf}. */
        void deliver(byte[] buf, int off, int len);
    }

    private final DatagramSocket socket;
    private final InetSocketAddress local;
    private final Sink sink;

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

    /** Written by the reader thread; read by ice4j's thread that processes the same response, after it. */
    private volatile ErrorResponse lastErrorResponse;

    /** Reader thread only. */
    private final byte[] rxBuf = new byte[MAX_DATAGRAM + 1];
    /** Reader thread only. */
    private final DatagramPacket rxPacket = new DatagramPacket(rxBuf, rxBuf.length);

    /** Guarded by itself: the packet reused for payload sends. */
    private final DatagramPacket txPacket = new DatagramPacket(NO_DATA, 0);

    private static final VarHandle COUNTER = MethodHandles.arrayElementVarHandle(long[].class);
    private static final int PACKETS_IN = 0;
    private static final int BYTES_IN = 1;
    private static final int STUN_IN = 2;
    private static final int DROPPED_IN = 3;
    private static final int RECEIVER_ERRORS = 4;
    /** Written by the reader thread only, with opaque stores (no fence on the packet path); read by counters(). */
    private final long[] rx = new long[5];
    // Guarded by txPacket.
    private long packetsOut;
    private long bytesOut;
    private long sendErrors;

    private HostSocket(DatagramSocket socket, Sink sink) {
        this.socket = socket;
        this.local = (InetSocketAddress) socket.getLocalSocketAddress();
        this.sink = sink;
    }

    /**
     * Binds a port of {@code [portMin, portMax]} on {@code address}, starting at a random port and walking up:
     * ports are shared with other calls and the SIP-side RTP, so a busy one is skipped, and a port just freed
     * is unlikely to be taken again at once (late packets of an ended call then find nobody).
     */
    static HostSocket bind(InetAddress address, int portMin, int portMax, Sink sink) throws IOException {
        int size = portMax - portMin + 1;
        int start = ThreadLocalRandom.current().nextInt(size);
        for (int i = 0; i < size; i++) {
            int port = portMin + (start + i) % size;
            DatagramSocket s = new DatagramSocket(null);
            try {
                s.setReuseAddress(false);
                s.bind(new InetSocketAddress(address, port));
                return new HostSocket(s, sink);
            } catch (BindException e) {
                s.close();
            } catch (IOException | RuntimeException e) {
                s.close();
                throw e;
            }
        }
        throw new BindException("no free UDP port in " + portMin + "-" + portMax + " on " + address.getHostAddress());
    }

    InetSocketAddress localAddress() {
        return local;
    }

    /**
     * Called by ice4j's Connector thread in a loop. Returns the next STUN message in {@code p}; everything else
     * is delivered or dropped here. Throws only when the socket is closed (which ends the Connector).
     */
    @Override
    public void receive(DatagramPacket p) throws IOException {
        while (true) {
            rxPacket.setData(rxBuf, 0, rxBuf.length);
            socket.receive(rxPacket);
            int len = rxPacket.getLength();
            if (len > MAX_DATAGRAM) {
                count(DROPPED_IN, 1);
                continue;
            }
            int first = rxBuf[0] & 0xFF;
            // RFC 7983 §7: the first byte tells STUN (0-3), DTLS (20-63) and RTP/RTCP (128-191) apart.
            if (first < 4) {
                if (len >= 20 && readInt(rxBuf, 4) == STUN_MAGIC_COOKIE && len <= p.getData().length - p.getOffset()) {
                    count(STUN_IN, 1);
                    if (readShort(rxBuf, 0) == BINDING_ERROR_RESPONSE) {
                        noteErrorResponse(len);
                    }
                    System.arraycopy(rxBuf, 0, p.getData(), p.getOffset(), len);
                    p.setLength(len);
                    p.setAddress(rxPacket.getAddress());
                    p.setPort(rxPacket.getPort());
                    return;
                }
                count(DROPPED_IN, 1);
            } else if ((first >= 20 && first <= 63) || (first >= 128 && first <= 191)) {
                deliver(len);
            } else {
                count(DROPPED_IN, 1);
            }
        }
    }

    /**
     * Keeps the ERROR-CODE of a Binding error response before ice4j sees it: ice4j fails the pair on any error
     * but 487 (a role conflict, which it resolves itself, RFC 8445 §7.2.5.1) without telling which one.
     */
    private void noteErrorResponse(int len) {
        ErrorResponse e = parseErrorResponse(rxBuf, len, (InetSocketAddress) rxPacket.getSocketAddress(),
                System.nanoTime());
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

    private void deliver(int len) {
        try {
            if (!sink.accepts(this, rxPacket.getAddress(), rxPacket.getPort())) {
                count(DROPPED_IN, 1);
                return;
            }
            count(PACKETS_IN, 1);
            count(BYTES_IN, len);
            sink.deliver(rxBuf, 0, len);
        } catch (StackOverflowError | RuntimeException e) {
            // One bad packet must not end the reader: the socket would go deaf for the rest of the call.
            long n = count(RECEIVER_ERRORS, 1);
            if (n == 1 || n % 1000 == 0) {
                LOG.warn("ICE {}: receiver failed on a {}-byte packet ({} so far)", local, len, n, e);
            }
        }
    }

    /** Sends payload to {@code to} (the selected remote); never throws. */
    void sendPayload(byte[] buf, int off, int len, InetSocketAddress to) {
        synchronized (txPacket) {
            txPacket.setData(buf, off, len);
            txPacket.setSocketAddress(to);
            try {
                socket.send(txPacket);
                packetsOut++;
                bytesOut += len;
            } catch (IOException | RuntimeException e) {
                if (++sendErrors == 1 && !socket.isClosed()) {
                    LOG.warn("ICE {}: send to {} failed", local, to, e);
                }
            } finally {
                txPacket.setData(NO_DATA);
            }
        }
    }

    /** ice4j's sends (connectivity checks, responses, STUN requests). */
    @Override
    public void send(DatagramPacket p) throws IOException {
        socket.send(p);
    }

    /** Closes the socket, which frees the port and ends the Connector thread; idempotent. */
    @Override
    public void close() {
        socket.close();
    }

    boolean isClosed() {
        return socket.isClosed();
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
        return socket;
    }

    /** Reader thread only. */
    private long count(int counter, long n) {
        long value = (long) COUNTER.getOpaque(rx, counter) + n;
        COUNTER.setOpaque(rx, counter, value);
        return value;
    }

    private long read(int counter) {
        return (long) COUNTER.getOpaque(rx, counter);
    }

    Counters counters() {
        synchronized (txPacket) {
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

    private static int readInt(byte[] b, int off) {
        return ((b[off] & 0xFF) << 24) | ((b[off + 1] & 0xFF) << 16) | ((b[off + 2] & 0xFF) << 8) | (b[off + 3] & 0xFF);
    }

    @Override
    public String toString() {
        return "HostSocket[" + local + "]";
    }
}
