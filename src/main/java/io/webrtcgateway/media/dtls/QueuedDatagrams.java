package io.webrtcgateway.media.dtls;

import io.webrtcgateway.media.PacketSender;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.bouncycastle.tls.DatagramTransport;

/**
 * The datagram transport bctls runs on: receives from a bounded queue that the ICE receive thread fills
 * without blocking ({@link #offer}), sends through the leg's {@link PacketSender}. Closing wakes a blocked
 * receive, which then fails, so a handshake thread never outlives its transport.
 */
final class QueuedDatagrams implements DatagramTransport {
    /** A DTLS record never needs more than one path MTU; a larger datagram is not DTLS we can use. */
    static final int RECEIVE_LIMIT = 2048;
    /** Handshake flights are fragmented to fit this, leaving room for TURN and IPv6 headers on a 1280 path. */
    static final int SEND_LIMIT = 1200;
    static final int QUEUE_CAPACITY = 32;

    private static final byte[] CLOSED = new byte[0];

    /** DTLS record content type of alerts (RFC 5246 §6.2.1); the record header is never encrypted in 1.2. */
    private static final byte ALERT = 21;

    private final ArrayBlockingQueue<byte[]> queue = new ArrayBlockingQueue<>(QUEUE_CAPACITY);
    private final PacketSender sender;
    private volatile boolean closed;
    private volatile boolean alertsMuted;

    QueuedDatagrams(PacketSender sender) {
        this.sender = sender;
    }

    /** From the receive thread: never blocks; false when full or closed (the datagram is dropped). */
    boolean offer(byte[] datagram) {
        return !closed && queue.offer(datagram);
    }

    boolean hasPending() {
        byte[] head = queue.peek();
        return head != null && head != CLOSED;
    }

    @Override
    public int getReceiveLimit() {
        return RECEIVE_LIMIT;
    }

    @Override
    public int getSendLimit() {
        return SEND_LIMIT;
    }

    /** {@code waitMillis} 0 means wait until a datagram or close (the bctls contract); -1 on timeout. */
    @Override
    public int receive(byte[] buf, int off, int len, int waitMillis) throws IOException {
        if (closed) {
            throw new IOException("DTLS transport closed");
        }
        byte[] d;
        try {
            d = waitMillis == 0 ? queue.take() : queue.poll(waitMillis, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted waiting for a DTLS datagram");
        }
        if (d == null) {
            return -1;
        }
        if (d == CLOSED) {
            queue.offer(CLOSED); // wake the next receive as well
            throw new IOException("DTLS transport closed");
        }
        int n = Math.min(len, d.length);
        System.arraycopy(d, 0, buf, off, n);
        return n;
    }

    @Override
    public void send(byte[] buf, int off, int len) {
        if (closed || (alertsMuted && len > 0 && buf[off] == ALERT)) {
            return;
        }
        sender.send(buf, off, len);
    }

    /**
     * Once the keys are out, bctls answers a malformed record with a fatal alert (only bad_record_mac is
     * dropped silently), and a browser that receives one tears the whole transport down. One spoofed
     * datagram must not end a call, so alerts stay in until {@link #unmuteAlerts} (our own close_notify).
     */
    void muteAlerts() {
        alertsMuted = true;
    }

    void unmuteAlerts() {
        alertsMuted = false;
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            queue.clear();
            queue.offer(CLOSED);
        }
    }
}
