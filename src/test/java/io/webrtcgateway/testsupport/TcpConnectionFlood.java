package io.webrtcgateway.testsupport;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * An attacker holding many raw TCP connections to one port, from several loopback source addresses: every
 * other connection sends the first lines of a request and stops half-way (a slow or broken sender), the
 * others send nothing. With {@code keepUp}, each connection the server closes is opened again at once, so
 * the server's table stays as full as the attacker can make it for as long as the flood runs. One thread
 * watches every connection for the server's close.
 *
 * <pre>
 * try (TcpConnectionFlood flood = TcpConnectionFlood.start(sipPort, List.of("127.0.0.3", "127.0.0.4"), 200, true)) {
 *     ... the server's threads, caps, and a bystander, meanwhile ...
 * }
 * </pre>
 */
public final class TcpConnectionFlood implements AutoCloseable {
    /** Half a SIP request: its headers never end. */
    static final byte[] HALF_REQUEST = ("INVITE sip:1001@127.0.0.1 SIP/2.0\r\n"
            + "Via: SIP/2.0/TCP 127.0.0.3:5060;branch=z9hG4bKhalf\r\nMax-Forwards: 70\r\nFrom: <sip:x@127.0.0.3>;tag=1\r\n")
            .getBytes(StandardCharsets.US_ASCII);

    private final int port;
    private final List<String> sources;
    private final boolean keepUp;
    private final Selector selector;
    private final Thread watcher;
    private final AtomicInteger opened = new AtomicInteger();
    private final AtomicInteger closedByServer = new AtomicInteger();
    private final AtomicInteger failedConnects = new AtomicInteger();
    /** Guarded by this. */
    private final List<SocketChannel> channels = new ArrayList<>();
    private volatile boolean stopping;

    private TcpConnectionFlood(int port, List<String> sources, boolean keepUp) throws IOException {
        this.port = port;
        this.sources = List.copyOf(sources);
        this.keepUp = keepUp;
        this.selector = Selector.open();
        this.watcher = new Thread(this::watch, "tcp-flood-" + port);
        this.watcher.setDaemon(true);
    }

    /** Opens {@code connections} connections to 127.0.0.1:{@code port}, spread over {@code sources}. */
    public static TcpConnectionFlood start(int port, List<String> sources, int connections, boolean keepUp) {
        try {
            TcpConnectionFlood flood = new TcpConnectionFlood(port, sources, keepUp);
            List<SocketChannel> first = new ArrayList<>();
            for (int i = 0; i < connections; i++) {
                SocketChannel c = flood.open(i);
                if (c != null) {
                    first.add(c);
                }
            }
            for (SocketChannel c : first) {
                c.register(flood.selector, SelectionKey.OP_READ, c.socket().getLocalPort());
            }
            flood.watcher.start();
            return flood;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Connection {@code n}: from source {@code n % sources}, half-written when {@code n} is odd. */
    private SocketChannel open(int n) {
        SocketChannel c = null;
        try {
            c = SocketChannel.open();
            c.bind(new InetSocketAddress(sources.get(n % sources.size()), 0));
            c.socket().connect(new InetSocketAddress("127.0.0.1", port), 5000);
            if (n % 2 == 1) {
                c.write(ByteBuffer.wrap(HALF_REQUEST));
            }
            c.configureBlocking(false);
            synchronized (this) {
                channels.add(c);
            }
            opened.incrementAndGet();
            return c;
        } catch (IOException e) {
            failedConnects.incrementAndGet();
            if (c != null) {
                try {
                    c.close();
                } catch (IOException ignored) {
                    // closing anyway
                }
            }
            return null;
        }
    }

    private void watch() {
        ByteBuffer buffer = ByteBuffer.allocate(4096);
        int next = 1_000_000;
        while (!stopping) {
            try {
                selector.select(100);
                for (SelectionKey key : selector.selectedKeys()) {
                    SocketChannel c = (SocketChannel) key.channel();
                    boolean closed;
                    try {
                        buffer.clear();
                        closed = c.read(buffer) < 0;
                    } catch (IOException reset) {
                        closed = true;
                    }
                    if (closed) {
                        key.cancel();
                        c.close();
                        synchronized (this) {
                            channels.remove(c);
                        }
                        closedByServer.incrementAndGet();
                        if (keepUp && !stopping) {
                            SocketChannel again = open(next++);
                            if (again != null) {
                                again.register(selector, SelectionKey.OP_READ);
                            }
                        }
                    }
                }
                selector.selectedKeys().clear();
            } catch (IOException e) {
                if (!stopping) {
                    throw new UncheckedIOException(e);
                }
            }
        }
    }

    /** Connections opened so far (reopened ones included). */
    public int opened() {
        return opened.get();
    }

    /** Connections the server closed (or reset). */
    public int closedByServer() {
        return closedByServer.get();
    }

    /** Connections the attacker holds open now (as far as it knows). */
    public synchronized int open() {
        return channels.size();
    }

    /** Connects that failed (refused, timed out). */
    public int failedConnects() {
        return failedConnects.get();
    }

    @Override
    public void close() {
        stopping = true;
        selector.wakeup();
        try {
            watcher.join(5000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        synchronized (this) {
            for (SocketChannel c : channels) {
                try {
                    c.close();
                } catch (IOException ignored) {
                    // closing anyway
                }
            }
            channels.clear();
        }
        try {
            selector.close();
        } catch (IOException ignored) {
            // closing anyway
        }
    }
}
