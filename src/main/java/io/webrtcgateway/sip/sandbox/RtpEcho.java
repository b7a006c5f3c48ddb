package io.webrtcgateway.sip.sandbox;

import java.io.IOException;
import java.net.BindException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.StandardProtocolFamily;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedSelectorException;
import java.nio.channels.DatagramChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The echo number's media: an RTP socket on an even port and its RTCP socket on the next one (RFC 3550
 * §11), on the sandbox's address. Every RTP packet is sent back to where it came from (symmetric RTP,
 * RFC 4961), unchanged, while the answered direction lets the echo send; RTCP is read and dropped: sent
 * back, the peer's own reports would look like a remote party with its SSRC. One thread per echo call,
 * serving both sockets; {@link #close()} frees both ports before returning.
 */
final class RtpEcho implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(RtpEcho.class);
    private static final int BIND_ATTEMPTS = 20;
    /** Larger than any RTP packet on a 1500-byte MTU; bigger datagrams are truncated, which does not matter here. */
    private static final int MAX_PACKET = 2048;

    private final DatagramChannel rtp;
    private final DatagramChannel rtcp;
    private final Selector selector;
    private final Thread thread;
    private final AtomicLong rtpReceived = new AtomicLong();
    private final AtomicLong rtpEchoed = new AtomicLong();
    private final AtomicLong rtcpReceived = new AtomicLong();
    private volatile boolean sending = true;
    private volatile boolean closed;

    private RtpEcho(DatagramChannel rtp, DatagramChannel rtcp, Selector selector, String name) {
        this.rtp = rtp;
        this.rtcp = rtcp;
        this.selector = selector;
        this.thread = new Thread(this::run, name);
        this.thread.setDaemon(true);
    }

    /** Binds an even/odd port pair chosen by the OS on {@code host} and starts echoing. */
    static RtpEcho open(InetAddress host) throws IOException {
        StandardProtocolFamily family = host instanceof java.net.Inet6Address ? StandardProtocolFamily.INET6 : StandardProtocolFamily.INET;
        for (int attempt = 0; attempt < BIND_ATTEMPTS; attempt++) {
            DatagramChannel rtp = DatagramChannel.open(family);
            DatagramChannel rtcp = null;
            try {
                rtp.bind(new InetSocketAddress(host, 0));
                int port = ((InetSocketAddress) rtp.getLocalAddress()).getPort();
                if (port % 2 != 0 || port == 65535) {
                    rtp.close();
                    continue;
                }
                rtcp = DatagramChannel.open(family);
                rtcp.bind(new InetSocketAddress(host, port + 1));
                Selector selector = Selector.open();
                rtp.configureBlocking(false).register(selector, SelectionKey.OP_READ);
                rtcp.configureBlocking(false).register(selector, SelectionKey.OP_READ);
                RtpEcho echo = new RtpEcho(rtp, rtcp, selector, "sandbox-echo-" + port);
                echo.thread.start();
                return echo;
            } catch (BindException e) {
                rtp.close();
                if (rtcp != null) {
                    rtcp.close();
                }
            } catch (IOException | RuntimeException e) {
                rtp.close();
                if (rtcp != null) {
                    rtcp.close();
                }
                throw e;
            }
        }
        throw new BindException("no free even/odd UDP port pair on " + host.getHostAddress() + " for the echo");
    }

    int port() {
        try {
            return ((InetSocketAddress) rtp.getLocalAddress()).getPort();
        } catch (IOException e) {
            return -1;
        }
    }

    /** Whether received RTP is sent back: off while the answer says recvonly or inactive (hold). */
    void sending(boolean on) {
        sending = on;
    }

    long rtpReceived() {
        return rtpReceived.get();
    }

    long rtpEchoed() {
        return rtpEchoed.get();
    }

    long rtcpReceived() {
        return rtcpReceived.get();
    }

    private void run() {
        ByteBuffer buffer = ByteBuffer.allocate(MAX_PACKET);
        try {
            while (!closed) {
                selector.select();
                for (SelectionKey key : selector.selectedKeys()) {
                    DatagramChannel channel = (DatagramChannel) key.channel();
                    SocketAddress source;
                    while (!closed && (source = receive(channel, buffer)) != null) {
                        if (channel == rtcp) {
                            rtcpReceived.incrementAndGet();
                            continue;
                        }
                        rtpReceived.incrementAndGet();
                        if (sending) {
                            buffer.flip();
                            if (channel.send(buffer, source) > 0) {
                                rtpEchoed.incrementAndGet();
                            }
                        }
                    }
                }
                selector.selectedKeys().clear();
            }
        } catch (ClosedSelectorException e) {
            // closed under us: done
        } catch (IOException e) {
            if (!closed) {
                log.info("sandbox echo on port {} stopped: {}", port(), e.toString());
            }
        } finally {
            closeQuietly();
        }
    }

    private static SocketAddress receive(DatagramChannel channel, ByteBuffer buffer) throws IOException {
        buffer.clear();
        try {
            return channel.receive(buffer);
        } catch (java.net.PortUnreachableException e) {
            return null; // an ICMP error from an earlier send; the next read works again
        }
    }

    /** Stops the thread and frees both ports; returns once they are free (or after a second). */
    @Override
    public void close() {
        closed = true;
        selector.wakeup();
        if (Thread.currentThread() != thread) {
            try {
                thread.join(TimeUnit.SECONDS.toMillis(1));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        closeQuietly();
    }

    /**
     * The selector is closed first: a channel registered with a selector keeps its socket open until the
     * selector lets go of it (java.nio.channels.spi.AbstractSelectableChannel).
     */
    private synchronized void closeQuietly() {
        for (AutoCloseable c : new AutoCloseable[] {selector, rtp, rtcp}) {
            try {
                c.close();
            } catch (Exception e) {
                log.debug("closing echo socket: {}", e.toString());
            }
        }
    }
}
