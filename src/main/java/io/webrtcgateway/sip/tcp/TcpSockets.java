package io.webrtcgateway.sip.tcp;

import gov.nist.javax.sip.stack.NIOHandler;
import gov.nist.javax.sip.stack.NioTcpMessageChannel;
import gov.nist.javax.sip.stack.SIPTransactionStack;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.channels.SocketChannel;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;

/**
 * The sockets of the SIP TCP listener, in place of JAIN-SIP's NIOHandler, whose tables are a plain HashMap
 * written by the selector thread and read and written by every sending and timer thread, and whose
 * outgoing connect drops the new socket from its own table again (RestComm/jain-sip #188) and writes to it
 * before its channel is known (usnistgov/jsip #77). Here:
 * <ul>
 * <li>both tables are concurrent: "address:port" to socket (the peer's address and port, for sends), and
 * socket to channel (for the selector's reads and writes);</li>
 * <li>a connection the gateway opens is connected (blocking, gateway's connect timeout), entered in both
 * tables, and only then handed to the selector, so the selector never sees a socket without its channel;</li>
 * <li>one connect per destination at a time: whoever asks meanwhile waits for it and shares the socket;</li>
 * <li>for TLS, each socket's {@link TlsSession}: sends are encrypted through it (a socket the gateway opens
 * gets its client session as it connects, an accepted one its server session from the listener).</li>
 * </ul>
 */
final class TcpSockets extends NIOHandler {
    private final TcpListener listener;
    private final int connectTimeoutMillis;
    /** "address:port" (NIOHandler.makeKey) -> the socket to that peer. */
    private final ConcurrentHashMap<String, SocketChannel> sockets = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<SocketChannel, NioTcpMessageChannel> channels = new ConcurrentHashMap<>();
    /** Sockets this class connected that wait for their channel before the selector may read them. */
    private final Set<SocketChannel> awaitingChannel = ConcurrentHashMap.newKeySet();
    /** The TLS layer of each socket, when the listener is TLS's; removed with the socket's channel. */
    private final ConcurrentHashMap<SocketChannel, TlsSession> tls = new ConcurrentHashMap<>();
    /** Connects under way, by key. */
    private final ConcurrentHashMap<String, CompletableFuture<SocketChannel>> connecting = new ConcurrentHashMap<>();
    private volatile boolean stopped;

    TcpSockets(SIPTransactionStack stack, TcpListener listener, int connectTimeoutMillis) {
        super(stack, listener);
        this.listener = listener;
        this.connectTimeoutMillis = connectTimeoutMillis;
    }

    @Override
    public NioTcpMessageChannel getMessageChannel(SocketChannel socket) {
        return channels.get(socket);
    }

    @Override
    public void putMessageChannel(SocketChannel socket, NioTcpMessageChannel channel) {
        channels.put(socket, channel);
        if (awaitingChannel.remove(socket)) {
            listener.watch(socket);
        }
    }

    @Override
    public void removeMessageChannel(SocketChannel socket) {
        channels.remove(socket);
        tls.remove(socket);
    }

    /** The TLS layer of {@code socket}; null for TCP, or once its channel is gone. */
    TlsSession tls(SocketChannel socket) {
        return socket == null ? null : tls.get(socket);
    }

    /** Gives an accepted socket its (server) TLS layer. */
    void attachTls(SocketChannel socket, TlsSession session) {
        tls.put(socket, session);
    }

    /** Every socket's TLS layer (the handshake audit). */
    Map<SocketChannel, TlsSession> tlsSessions() {
        return tls;
    }

    @Override
    public int getCurrentChannelSize() {
        return channels.size();
    }

    @Override
    protected void putSocket(String key, SocketChannel socket) {
        if (!stopped) {
            sockets.put(key, socket);
        }
    }

    @Override
    protected SocketChannel getSocket(String key) {
        return sockets.get(key);
    }

    @Override
    protected void removeSocket(SocketChannel socket) {
        sockets.values().removeIf(s -> s == socket);
    }

    /** The stack's send path: the socket to {@code receiver:port}, opened if needed, then the bytes queued on it. */
    @Override
    public SocketChannel sendBytes(InetAddress sender, InetAddress receiver, int port, String transport, byte[] bytes,
                                   boolean retry, NioTcpMessageChannel channel) throws IOException {
        if (stopped) {
            return null;
        }
        SocketChannel socket = socketFor(receiver, port, channel);
        if (listener.tls() != null) {
            TlsSession session = tls.get(socket);
            if (session == null) {
                throw new IOException("no TLS session on the connection to " + receiver.getHostAddress() + ":" + port);
            }
            session.send(bytes); // encrypted onto the socket, once the handshake has ended
        } else {
            listener.send(socket, bytes);
        }
        return socket;
    }

    /** A new outgoing channel's socket (its constructor maps the socket to itself right after). */
    @Override
    public SocketChannel createOrReuseSocket(InetAddress address, int port) throws IOException {
        return socketFor(address, port, null);
    }

    /**
     * The open socket to {@code host:port}, or a new one. A new one is entered for {@code owner} (null: the
     * caller maps it itself, and the selector watches it from then on) before the selector sees it.
     */
    SocketChannel socketFor(InetAddress host, int port, NioTcpMessageChannel owner) throws IOException {
        String key = makeKey(host, port);
        while (true) {
            if (stopped) {
                throw new IOException("SIP TCP stopped");
            }
            SocketChannel open = usable(sockets.get(key));
            if (open != null) {
                return open;
            }
            CompletableFuture<SocketChannel> mine = new CompletableFuture<>();
            CompletableFuture<SocketChannel> other = connecting.putIfAbsent(key, mine);
            if (other != null) {
                await(other); // then take it from the table, or connect again if it closed meanwhile
                continue;
            }
            try {
                SocketChannel socket = usable(sockets.get(key)); // a connect that ended just before ours began
                if (socket == null) {
                    socket = connect(host, port);
                    if (owner != null) {
                        channels.put(socket, owner);
                    } else {
                        awaitingChannel.add(socket);
                    }
                    sockets.put(key, socket);
                    if (owner != null) {
                        listener.watch(socket);
                    }
                }
                mine.complete(socket);
                return socket;
            } catch (IOException | RuntimeException e) {
                mine.completeExceptionally(e);
                throw e;
            } finally {
                connecting.remove(key, mine);
            }
        }
    }

    private SocketChannel connect(InetAddress host, int port) throws IOException {
        SocketChannel socket = SocketChannel.open();
        try {
            // From the listening address (JSIP-501), so the peer sees the address it knows.
            socket.socket().bind(new InetSocketAddress(listener.getIpAddress(), 0));
            socket.socket().connect(new InetSocketAddress(host, port), connectTimeoutMillis);
            socket.configureBlocking(false);
            if (listener.tls() != null) {
                // Before the socket is in any table: no send can find it without its TLS layer.
                tls.put(socket, listener.clientTls(socket, TlsContexts.peerName(host), port));
            }
            return socket;
        } catch (IOException | RuntimeException e) {
            socket.close();
            throw new IOException("cannot connect to " + host.getHostAddress() + ":" + port + ": " + e.getMessage(), e);
        }
    }

    private static void await(CompletableFuture<SocketChannel> connect) throws IOException {
        try {
            connect.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while another thread connected");
        } catch (ExecutionException e) {
            throw e.getCause() instanceof IOException io ? io : new IOException(e.getCause());
        }
    }

    private static SocketChannel usable(SocketChannel socket) {
        return socket != null && socket.isOpen() && socket.isConnected() ? socket : null;
    }

    @Override
    public void closeAll() {
        for (SocketChannel s : List.copyOf(sockets.values())) {
            try {
                s.close();
            } catch (IOException ignored) {
                // closing anyway
            }
        }
    }

    @Override
    public void stop() {
        stopped = true;
        for (NioTcpMessageChannel c : List.copyOf(channels.values())) {
            c.close();
        }
        channels.clear();
        tls.clear();
        closeAll();
        sockets.clear();
    }
}
