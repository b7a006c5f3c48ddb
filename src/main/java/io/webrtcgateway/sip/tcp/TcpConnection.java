package io.webrtcgateway.sip.tcp;

import gov.nist.javax.sip.stack.NioTcpMessageChannel;
import java.io.IOException;
import java.net.InetAddress;
import java.nio.channels.SocketChannel;
import java.util.concurrent.atomic.AtomicBoolean;
import javax.net.ssl.SSLException;

/**
 * One SIP TCP connection: JAIN-SIP's NIO channel (the selector thread reads it, the stack's thread pool
 * parses and processes its messages), plus what the gateway bounds:
 * <ul>
 * <li>over TLS, every chunk read is decrypted by the socket's {@link TlsSession} first, and every message
 * sent is encrypted by it ({@link TcpSockets#sendBytes});</li>
 * <li>every chunk read goes through {@link SipStreamFraming} before the parser, which refuses an oversized
 * or unframeable message by closing the connection;</li>
 * <li>for an accepted connection, when its messages began and ended, so that {@link TcpListener} can
 * close it on gateway.sip.tcp.read-timeout and idle-timeout, and its place in {@link InboundConnections}
 * is given back exactly once when it closes;</li>
 * <li>a send on a connection the peer closed opens a new one before anything is written to it (JAIN-SIP's
 * own path writes first and maps the new socket to its channel afterwards, so the selector can find no
 * channel, drop the data and stop watching the socket for good: RestComm/jain-sip #188, usnistgov/jsip #77).</li>
 * </ul>
 */
final class TcpConnection extends NioTcpMessageChannel {
    private final TcpListener listener;
    /** Null in the instant JAIN-SIP's constructor already runs our overrides; see {@link #addBytes}. */
    private final SipStreamFraming framing;
    /** The accepted socket (null: the gateway opened this connection). */
    private final SocketChannel accepted;
    private final InetAddress source;
    /** Whether {@link #source} was a SIP Server or trusted source when the connection was accepted. */
    private final boolean trusted;
    private final long openedNanos;
    /** Holds a place in {@link InboundConnections} until it closes. */
    private final AtomicBoolean holdsPlace = new AtomicBoolean();
    /** Set by the selector thread (reads) and senders; read by the listener's audit. */
    private volatile long lastMessageNanos;
    private volatile long messageStartNanos;
    private volatile boolean midMessage;
    private volatile boolean anyMessageIn;

    /** Accepted by {@code listener} from {@code socket} (its selector thread). */
    TcpConnection(TcpListener listener, SocketChannel socket, boolean trusted) throws IOException {
        super(listener, socket);
        this.messageProcessor = listener; // JAIN-SIP sets it after this constructor for its own channels
        this.listener = listener;
        this.framing = new SipStreamFraming(listener.maxMessageBytes());
        this.accepted = socket;
        this.source = peerAddress;
        this.trusted = trusted;
        this.openedNanos = System.nanoTime();
        this.lastMessageNanos = openedNanos;
    }

    /** Opened by the gateway toward {@code host:port} (to SIP Server, or a dialog's peer). */
    TcpConnection(TcpListener listener, InetAddress host, int port) throws IOException {
        super(host, port, listener.getSIPStack(), listener);
        this.isCached = true;
        this.listener = listener;
        this.framing = new SipStreamFraming(listener.maxMessageBytes());
        this.accepted = null;
        this.source = host;
        this.trusted = true;
        this.openedNanos = System.nanoTime();
        this.lastMessageNanos = openedNanos;
    }

    InetAddress source() {
        return source;
    }

    boolean trusted() {
        return trusted;
    }

    /** The socket accepted from the peer; null: the gateway opened this connection. */
    SocketChannel accepted() {
        return accepted;
    }

    /** Takes its place in the connection table: from now on, closing it gives the place back. */
    void holdPlace() {
        holdsPlace.set(true);
    }

    /**
     * Why the connection must close at {@code now}, or null. A message must arrive whole within
     * {@code readTimeout} of its first byte, a new connection's first message within {@code readTimeout} of
     * connecting; with no message either way for {@code idleTimeout} the connection is idle.
     */
    String expiry(long now, long readTimeoutNanos, long idleTimeoutNanos) {
        if (midMessage && now - messageStartNanos > readTimeoutNanos) {
            return "read-timeout";
        }
        if (!anyMessageIn && now - openedNanos > readTimeoutNanos) {
            return "read-timeout";
        }
        if (now - lastMessageNanos > idleTimeoutNanos) {
            return "idle-timeout";
        }
        return null;
    }

    /**
     * Closes a connection refused at accept without closing its socket here: JAIN-SIP registers the socket
     * with its selector right after, which would fail loudly on a closed one. Shut down both ways, the
     * selector reads its end at once and closes it, and the peer sees its FIN.
     */
    void refuseAtAccept() {
        try {
            socketChannel.shutdownOutput();
            socketChannel.shutdownInput();
        } catch (IOException e) {
            close();
        }
    }

    @Override
    public boolean isSecure() {
        return processor().tls() != null;
    }

    /**
     * The CRLF answering a peer's double-CRLF keepalive (RFC 5626 §4.4.1). JAIN-SIP also feeds its parser a
     * double CRLF of its own when a read fails, to end a half-read message, and then answers that too: on a
     * TLS connection already closed that would fail loudly, so then nothing is sent.
     */
    @Override
    public void sendSingleCLRF() throws Exception {
        TcpListener processor = processor();
        if (processor.tls() != null) {
            TlsSession session = processor.sockets().tls(socketChannel);
            if (session == null || session.over()) {
                return;
            }
        }
        super.sendSingleCLRF();
    }

    /** {@link #listener}, also while JAIN-SIP's constructor still runs (it sets messageProcessor first). */
    private TcpListener processor() {
        return listener != null ? listener : (TcpListener) messageProcessor;
    }

    /**
     * What the selector read: over TLS decrypted first ({@link TlsSession}: a failure closes the connection,
     * and is not fed to the parser), then framed and parsed.
     */
    @Override
    protected void addBytes(byte[] bytes) throws Exception {
        TcpListener processor = processor();
        if (processor.tls() != null) {
            TlsSession session = processor.sockets().tls(socketChannel);
            if (session == null) {
                throw new SSLException("no TLS session for " + peerAddress.getHostAddress() + ":" + peerPort);
            }
            bytes = session.receive(bytes);
            if (bytes.length == 0) {
                return; // handshake, or part of a record
            }
        }
        SipStreamFraming f = framing;
        if (f != null) { // null only while our own constructor has not finished (an outbound peer speaking first)
            long now = System.nanoTime();
            boolean wasMid = f.midMessage();
            int completed;
            try {
                completed = f.feed(bytes);
            } catch (SipStreamFraming.Refused e) {
                listener.refused(this, e.reason(), e.getMessage());
                // Not an IOException: JAIN-SIP would then terminate the half-read message and process it.
                throw e;
            }
            if (completed > 0) {
                lastMessageNanos = now;
                anyMessageIn = true;
            }
            if (f.midMessage() && (!wasMid || completed > 0)) {
                messageStartNanos = now;
            }
            midMessage = f.midMessage();
        }
        super.addBytes(bytes);
    }

    @Override
    protected void sendMessage(byte[] msg, boolean isClient) throws IOException {
        reopenIfClosed();
        lastMessageNanos = System.nanoTime();
        super.sendMessage(msg, isClient);
    }

    @Override
    public void sendMessage(byte[] message, InetAddress receiverAddress, int receiverPort, boolean retry)
            throws IOException {
        if (receiverAddress.equals(peerAddress) && receiverPort == peerPort) {
            reopenIfClosed();
        }
        lastMessageNanos = System.nanoTime();
        super.sendMessage(message, receiverAddress, receiverPort, retry);
    }

    /**
     * If the peer closed this connection, a new one to the same address and port, ready in the selector
     * before the message is written (RFC 3261 §18.1.1: a request may open a new connection; §18.2.2: a
     * response falls back to one), and this channel cached again for later requests. Serialized with
     * {@link #close} (the selector thread closing the old socket must not see the new one half-way) and with
     * other senders, so two of them open one connection, not two.
     */
    private synchronized void reopenIfClosed() throws IOException {
        SocketChannel current = socketChannel;
        if (current != null && current.isOpen() && current.isConnected()) {
            return;
        }
        SocketChannel fresh = listener.sockets().socketFor(peerAddress, peerPort, this);
        if (current != null) {
            listener.sockets().removeMessageChannel(current);
        }
        socketChannel = fresh;
        mySock = fresh.socket();
        listener.recache(this);
    }

    /** Synchronized with {@link #reopenIfClosed}: JAIN-SIP's close reads {@code socketChannel} several times. */
    @Override
    protected synchronized void close(boolean removeSocket, boolean stopKeepAliveTask) {
        SocketChannel closing = socketChannel;
        super.close(removeSocket, stopKeepAliveTask);
        if (closing == accepted && accepted != null && holdsPlace.compareAndSet(true, false)) {
            listener.released(this);
        }
    }
}
