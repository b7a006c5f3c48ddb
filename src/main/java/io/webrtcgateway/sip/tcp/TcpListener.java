package io.webrtcgateway.sip.tcp;

import gov.nist.core.HostPort;
import gov.nist.javax.sip.stack.ConnectionOrientedMessageChannel;
import gov.nist.javax.sip.stack.MessageChannel;
import gov.nist.javax.sip.stack.NioTcpMessageChannel;
import gov.nist.javax.sip.stack.NioTcpMessageProcessor;
import gov.nist.javax.sip.stack.SIPStackTimerTask;
import gov.nist.javax.sip.stack.SIPTransactionStack;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The gateway's SIP TCP listener: JAIN-SIP's NIO processor (one selector thread for every connection, not a
 * thread or two per connection as its default processor has), with {@link TcpSockets} for its socket tables,
 * {@link TcpConnection} for every connection, and what JAIN-SIP's NIO side lacks (its MAX_CONNECTIONS and
 * READ_TIMEOUT apply to the blocking processor only):
 * <ul>
 * <li>the connection caps of {@link InboundConnections}, checked as each connection is accepted: one over a
 * cap is shut down at once and counted;</li>
 * <li>read and idle timeouts: an audit on the stack's timer closes accepted connections whose message (or
 * first message) did not arrive in time, or that carried nothing for the idle timeout.</li>
 * </ul>
 * Connections the gateway opened itself (to SIP Server) are not audited: the keepalive uses them, and SIP
 * Server may close them as it likes.
 */
final class TcpListener extends NioTcpMessageProcessor {
    private static final Logger LOG = LoggerFactory.getLogger(TcpListener.class);
    /** Connections the kernel queues before the selector accepts them (capped by net.core.somaxconn). */
    private static final int ACCEPT_BACKLOG = 1024;

    private final SipTcpTransport transport;
    /** Null: plain TCP. Else this is the TLS listening point and every connection has a {@link TlsSession}. */
    private final TlsContexts tls;
    private final TcpSockets sockets;
    /** Accepted connections that hold a place, by their accepted socket (audited). */
    private final ConcurrentHashMap<SocketChannel, TcpConnection> accepted = new ConcurrentHashMap<>();
    private final Audit audit = new Audit();

    TcpListener(InetAddress address, SIPTransactionStack stack, int port, SipTcpTransport transport) {
        this(address, stack, port, transport, null);
    }

    /** With {@code tls}: the TLS listening point (JAIN-SIP transport "TLS"). */
    TcpListener(InetAddress address, SIPTransactionStack stack, int port, SipTcpTransport transport, TlsContexts tls) {
        super(address, stack, port);
        this.transport = transport;
        this.tls = tls;
        if (tls != null) {
            super.transport = "TLS"; // JAIN-SIP's field: Via transport, channel keys, getTransport()
        }
        this.sockets = new TcpSockets(stack, this, transport.connectTimeoutMillis());
        this.nioHandler = sockets;
    }

    TcpSockets sockets() {
        return sockets;
    }

    /** Null for TCP. */
    TlsContexts tls() {
        return tls;
    }

    @Override
    public boolean isSecure() {
        return tls != null;
    }

    /** The TLS layer of a connection the gateway opens to {@code peerName} ({@link TcpSockets}). */
    TlsSession clientTls(SocketChannel socket, String peerName, int port) {
        return new TlsSession(tls.clientEngine(peerName, port), peerName + ":" + port, bytes -> send(socket, bytes),
                transport.tlsOutcome());
    }

    int maxMessageBytes() {
        return transport.maxMessageBytes();
    }

    /**
     * A connection was accepted (JAIN-SIP's selector thread, which registers it for reading right after).
     * Over a cap it is shut down before anything is read from it.
     */
    @Override
    public NioTcpMessageChannel createMessageChannel(NioTcpMessageProcessor processor, SocketChannel client)
            throws IOException {
        NioTcpMessageChannel known = sockets.getMessageChannel(client);
        if (known != null) {
            return known;
        }
        InetAddress source = client.socket().getInetAddress();
        boolean trusted = transport.trusted(source);
        TcpConnection connection = new TcpConnection(this, client, trusted);
        sockets.putMessageChannel(client, connection);
        InboundConnections.Admission admission = transport.connections().admit(source, trusted);
        if (admission == InboundConnections.Admission.ADMITTED) {
            if (tls != null) {
                InetSocketAddress from = (InetSocketAddress) client.socket().getRemoteSocketAddress();
                String peer = from == null ? "?" : from.getAddress().getHostAddress() + ":" + from.getPort();
                sockets.attachTls(client, new TlsSession(tls.serverEngine(), peer, bytes -> send(client, bytes),
                        transport.tlsOutcome()));
            }
            connection.holdPlace();
            accepted.put(client, connection);
        } else {
            transport.closed(admission.reason);
            transport.logRefusal(source, admission.reason);
            connection.refuseAtAccept();
        }
        return connection;
    }

    @Override
    public MessageChannel createMessageChannel(HostPort target) throws IOException {
        InetAddress host = target.getInetAddress();
        if (tls != null) {
            // The hop's host name goes with the address (no lookup either way): the server's certificate is
            // checked against it (TlsContexts.peerName).
            host = InetAddress.getByAddress(target.getHost().getHostname(), host.getAddress());
        }
        return outgoing(MessageChannel.getKey(target, getTransport()), host, target.getPort());
    }

    @Override
    public MessageChannel createMessageChannel(InetAddress host, int port) throws IOException {
        return outgoing(MessageChannel.getKey(host, port, getTransport()), host, port);
    }

    /**
     * The cached channel to {@code host:port}, or a new {@link TcpConnection} to it (cached as JAIN-SIP caches its
     * own). Not under this processor's lock, as JAIN-SIP's is: connecting may block for the connect timeout, and
     * the selector thread takes that lock to forget every channel that closes. Two senders racing to a new
     * destination share one socket ({@link TcpSockets#socketFor}); the first channel cached wins.
     */
    private MessageChannel outgoing(String key, InetAddress host, int port) throws IOException {
        ConnectionOrientedMessageChannel cached = messageChannels.get(key);
        if (cached != null) {
            return cached;
        }
        TcpConnection fresh = new TcpConnection(this, host, port);
        cached = messageChannels.putIfAbsent(key, fresh);
        return cached != null ? cached : fresh;
    }

    /** A channel that opened a new socket after its last one closed is the one to use again. */
    void recache(TcpConnection connection) {
        messageChannels.putIfAbsent(connection.getKey(), connection);
    }

    /** Lets the selector read {@code socket}, whose channel is in the table by now. */
    void watch(SocketChannel socket) {
        changeRequests.add(new ChangeRequest(socket, ChangeRequest.REGISTER, SelectionKey.OP_READ));
        selector.wakeup();
    }

    /** An accepted connection closed. */
    void released(TcpConnection connection) {
        accepted.remove(connection.accepted(), connection);
        transport.connections().release(connection.source(), connection.trusted());
    }

    /** {@code connection} sent what the parser must not see ({@link SipStreamFraming}); it is closed next. */
    void refused(TcpConnection connection, String reason, String what) {
        transport.closed(reason);
        LOG.debug("SIP TCP connection from {} closed: {}", connection.getPeerAddress(), what);
    }

    /**
     * JAIN-SIP's own start, with an accept backlog: it binds with Java's default of 50, and when a burst of
     * connects overflows that the kernel drops the SYNs, SIP Server's among them (retried after 1 s, 3 s, ...).
     * The selector accepts them as fast as they come; the caps then decide.
     */
    @Override
    public void start() throws IOException {
        selector = Selector.open();
        channel = ServerSocketChannel.open();
        channel.configureBlocking(false);
        channel.socket().bind(new InetSocketAddress(getIpAddress(), getPort()), ACCEPT_BACKLOG);
        channel.register(selector, SelectionKey.OP_ACCEPT);
        selectorThread = new Thread(createProcessorTask(),
                "NioSelector-" + getTransport() + "-" + getIpAddress().getHostAddress() + '/' + getPort());
        selectorThread.start();
        long tick = transport.auditTickMillis();
        getSIPStack().getTimer().scheduleWithFixedDelay(audit, tick, tick);
    }

    @Override
    public void stop() {
        try {
            getSIPStack().getTimer().cancel(audit);
        } catch (RuntimeException e) {
            LOG.debug("audit not cancelled: {}", e.toString());
        }
        super.stop();
    }

    /**
     * Closes the accepted connections past their read or idle timeout, and connections either way whose TLS
     * handshake did not end within the handshake timeout. On the stack's timer thread.
     */
    private void audit(long now) {
        if (tls != null) {
            long handshake = transport.handshakeTimeoutNanos();
            for (Map.Entry<SocketChannel, TlsSession> e : List.copyOf(sockets.tlsSessions().entrySet())) {
                TlsSession session = e.getValue();
                if (session.handshakeOverdue(now, handshake)) {
                    session.handshakeTimedOut("no TLS handshake within " + handshake / 1_000_000 + " ms");
                    LOG.debug("SIP TLS connection with {} closed: handshake timeout", session.peer());
                    close(e.getKey());
                }
            }
        }
        long read = transport.readTimeoutNanos();
        long idle = transport.idleTimeoutNanos();
        for (TcpConnection c : List.copyOf(accepted.values())) {
            String expiry = c.expiry(now, read, idle);
            if (expiry != null) {
                // The tables are concurrent (TcpSockets), so closing off the selector thread is safe; the
                // selector forgets the socket's key when it next selects.
                transport.closed(expiry);
                LOG.debug("SIP TCP connection from {} closed: {}", c.getPeerAddress(), expiry);
                c.close();
            }
        }
    }

    /** Closes {@code socket} through its channel (which gives back its place), or alone if it has none. */
    private void close(SocketChannel socket) {
        NioTcpMessageChannel channel = sockets.getMessageChannel(socket);
        if (channel != null) {
            channel.close();
        } else {
            sockets.removeMessageChannel(socket);
            try {
                socket.close();
            } catch (IOException ignored) {
                // closing anyway
            }
        }
    }

    private final class Audit extends SIPStackTimerTask {
        @Override
        public void runTask() {
            try {
                audit(System.nanoTime());
            } catch (RuntimeException e) {
                LOG.warn("SIP TCP audit failed", e);
            }
        }

        @Override
        public Object getThreadHash() {
            return null;
        }
    }
}
