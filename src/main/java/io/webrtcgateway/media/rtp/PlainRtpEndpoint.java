package io.webrtcgateway.media.rtp;

import io.webrtcgateway.media.PacketHandler;
import io.webrtcgateway.media.srtp.SrtpSession;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.channels.SelectionKey;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One m-line's RTP toward the SIP side: an RTP and an RTCP socket from the port range (RTCP on the
 * RTP socket when the SIP SDP has {@code a=rtcp-mux}, RFC 5761), the peer's addresses from its SDP, the
 * {@link SourcePolicy}, and receiving on one {@link UdpReceiveLoops} thread.
 *
 * <p>Plain RTP, or SRTP/SRTCP when the SIP SDP keyed it (SDES, {@link #setSrtp}; docs/sip.md "SRTP toward SIP
 * Server"): then what the handlers get and what the senders give stays clear RTP, and the endpoint unprotects
 * each accepted datagram in the loop's buffer and protects each outgoing one in a buffer of its own (the
 * caller's packet is left as it was: the DTMF injector sends its end packet three times).
 *
 * <p>Threads: datagrams are delivered to the handlers on the endpoint's loop thread; {@link #sendRtp} and
 * {@link #sendRtcp} may be called from any thread, but each of them by one thread at a time (each keeps a
 * reusable wrapper for the caller's array); {@link #setRemote} from any thread.
 */
public final class PlainRtpEndpoint implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(PlainRtpEndpoint.class);

    private final PortPair ports;
    private final UdpReceiveLoops.Loop loop;
    private final SourcePolicy policy;
    private final Socket rtpSocket;
    private final Socket rtcpSocket;
    private final AtomicBoolean started = new AtomicBoolean();
    private final AtomicBoolean closed = new AtomicBoolean();
    /** Guarded by {@code keys}. */
    private final List<SelectionKey> keys = new ArrayList<>(2);

    /** Replaced whole by {@link #setRemote}; the loop re-arms latching/learning when the generation changes. */
    private volatile Remote remote = new Remote(null, null, false, 0);

    private final LongAdder foreignSource = new LongAdder();
    private final LongAdder noDestination = new LongAdder();
    private final LongAdder sendFailures = new LongAdder();
    /** SDES keys of the SIP side, null for plain RTP; replaced whole on a rekey (re-INVITE). */
    private volatile SrtpSession srtp;
    /** The keys before the last rekey, still accepted for what was in flight; null when there is none. */
    private volatile Rekey rekey;

    /**
     * After a rekey the peer goes on sending under its old key until our answer reaches it: those packets are
     * still taken with the old session, until the first packet under the new key authenticates or
     * {@link #REKEY_GRACE_NANOS} have passed, whichever comes first (RFC 4568 §6.4 and §7.1.4: keep the old
     * key until the new one is in use). Sending switches at once: the peer has our new key in the answer.
     */
    private record Rekey(SrtpSession previous, long untilNanos) {}

    static final long REKEY_GRACE_NANOS = 2_000_000_000L;
    /** {@link #REKEY_GRACE_NANOS}; shorter in tests. */
    private volatile long rekeyGraceNanos = REKEY_GRACE_NANOS;

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
     * whether it multiplexes RTCP. Called again on each re-INVITE: re-arms latching; with {@code learning},
     * starts learning again only if an address changed (a hold or a session refresh keeps what was learnt).
     */
    public void setRemote(InetSocketAddress rtp, InetSocketAddress rtcp, boolean rtcpMux) {
        Remote old = remote;
        InetSocketAddress rtcpAddress = rtcpMux ? rtp : rtcp;
        if (policy.learning() && old.generation > 0 && Objects.equals(old.rtp, rtp)
                && Objects.equals(old.rtcp, rtcpAddress) && old.rtcpMux == rtcpMux) {
            return;
        }
        remote = new Remote(rtp, rtcpAddress, rtcpMux, old.generation + 1);
    }

    /**
     * SRTP toward the SIP peer with these keys (SDES, RFC 4568), or plain RTP with null. A re-INVITE that changes
     * the keys installs a new session; what arrives under the old one for a moment after is still taken
     * ({@link Rekey}).
     */
    public void setSrtp(SrtpSession session) {
        SrtpSession old = srtp;
        rekey = old != null && session != null && old != session
                ? new Rekey(old, System.nanoTime() + rekeyGraceNanos) : null;
        srtp = session;
    }

    /** For tests: how long the keys before a rekey stay accepted at most. */
    void rekeyGrace(java.time.Duration grace) {
        rekeyGraceNanos = grace.toNanos();
    }

    /** The SIP side's SRTP session, or null for plain RTP. */
    public SrtpSession srtp() {
        return srtp;
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
        if (policy.learning()) {
            // The RTCP socket follows the RTP one: its own latch counts only while RTP is on a learnt source.
            Latch rtp = rtpSocket.latch;
            if (rtp == null || rtp.generation != r.generation) {
                return r.rtcp;
            }
        }
        Latch latch = rtcpSocket.latch;
        return latch != null && latch.generation == r.generation ? latch.address : r.rtcp;
    }

    /** Sends one RTP packet; false (and counted) when there is no destination yet or the send failed. */
    public boolean sendRtp(byte[] b, int off, int len) {
        Remote r = remote;
        if (r.rtpSentSince == 0 && r.rtp != null) {
            long now = System.nanoTime();
            r.rtpSentSince = now == 0 ? 1 : now; // 0 means "nothing sent yet"
        }
        SrtpSession keys = srtp;
        if (keys != null) {
            int n = rtpSocket.protect(keys, b, off, len, false);
            return n > 0 && send(rtpSocket, rtpSocket.sendWrapper(rtpSocket.protectBuffer, 0, n), rtpDestination());
        }
        return send(rtpSocket, rtpSocket.sendWrapper(b, off, len), rtpDestination());
    }

    /** Sends one RTCP packet, on the RTP socket under rtcp-mux. */
    public boolean sendRtcp(byte[] b, int off, int len) {
        Socket via = remote.rtcpMux ? rtpSocket : rtcpSocket;
        SrtpSession keys = srtp;
        if (keys != null) {
            int n = rtcpSocket.protect(keys, b, off, len, true);
            return n > 0 && send(via, rtcpSocket.sendWrapper(rtcpSocket.protectBuffer, 0, n), rtcpDestination());
        }
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

    /** One SDP of the SIP side (one generation). */
    private static final class Remote {
        final InetSocketAddress rtp;
        final InetSocketAddress rtcp;
        final boolean rtcpMux;
        final long generation;
        /**
         * System.nanoTime() of the first RTP packet sent under this SDP, 0 before: {@code learning}'s silence is
         * counted from there. Written by the sending thread (a race between two senders only moves it by a few
         * microseconds), read by the loop thread.
         */
        volatile long rtpSentSince;

        Remote(InetSocketAddress rtp, InetSocketAddress rtcp, boolean rtcpMux, long generation) {
            this.rtp = rtp;
            this.rtcp = rtcp;
            this.rtcpMux = rtcpMux;
            this.generation = generation;
        }
    }

    /** A learnt destination, valid only for the SDP generation it was learnt under. */
    private record Latch(InetSocketAddress address, long generation) {}

    /** One of the two sockets with its latching or learning state. */
    private final class Socket implements DatagramReceiver {
        final DatagramChannel channel;
        final boolean rtcpPort;
        /** The learnt destination; written by the loop thread, read by senders. */
        volatile Latch latch;

        // Loop thread only.
        /** {@code learning}, RTP socket only; else null. */
        private final SourceLearning learning;
        private long generation = -1;
        private int accepted;
        private long firstAcceptedNanos;
        private boolean latchFixed;
        /** System.nanoTime() of the last SRTP drop logged; 0: none yet (loop thread only). */
        private long srtpDropLogged;

        // Sender thread only (one at a time, see class comment).
        private byte[] wrappedArray;
        private ByteBuffer wrapper;
        /** SRTP: where outgoing packets are protected (the largest relayed packet plus the SRTP tailroom). */
        private final byte[] protectBuffer = new byte[MediaRelay.MAX_BROWSER_PACKET + MediaRelay.SENDER_TAILROOM];

        /** Copies the packet into {@link #protectBuffer} and protects it there; its length, or -1 (counted). */
        int protect(SrtpSession keys, byte[] b, int off, int len, boolean rtcp) {
            if (len < 0 || len > MediaRelay.MAX_BROWSER_PACKET || off < 0 || off > b.length - len) {
                return -1;
            }
            System.arraycopy(b, off, protectBuffer, 0, len);
            return rtcp ? keys.protectRtcp(protectBuffer, 0, len) : keys.protectRtp(protectBuffer, 0, len);
        }

        Socket(DatagramChannel channel, boolean rtcpPort) {
            this.channel = channel;
            this.rtcpPort = rtcpPort;
            this.learning = policy.learning() && !rtcpPort
                    ? new SourceLearning(policy.learnPackets(), policy.learnSilence()) : null;
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
            boolean rtcp = rtcpPort || RtpPacket.looksLikeRtcp(buf, off, len);
            if (!(policy.learning() ? acceptLearning(source, buf, off, len, rtcp) : accept(source))) {
                foreignSource.increment();
                return;
            }
            SrtpSession keys = srtp;
            if (keys != null) {
                // RFC 3711 §3.3/§3.4: authenticated, replay-checked and decrypted in place; a failure is counted
                // by the session (auth, replay, malformed) and the datagram goes no further.
                int clear = -1;
                Rekey r = rekey;
                if (r != null && System.nanoTime() - r.untilNanos > 0) {
                    rekey = r = null; // the old keys had their time
                }
                if (r != null) {
                    // In flight under the old keys? A refusal there is not counted and changes nothing (state
                    // moves only for authenticated packets); the new keys then decide and count.
                    clear = rtcp ? r.previous.tryUnprotectRtcp(buf, off, len)
                            : r.previous.tryUnprotectRtp(buf, off, len);
                }
                if (clear < 0) {
                    clear = rtcp ? keys.unprotectRtcp(buf, off, len) : keys.unprotectRtp(buf, off, len);
                    if (r != null && clear >= 0) {
                        rekey = null; // the new keys are in use
                    }
                }
                if (clear < 0) {
                    logSrtpDrop(buf, off, len, source, rtcp);
                    return;
                }
                len = clear;
            }
            if (rtcp) {
                rtcpHandler.onPacket(buf, off, len);
            } else {
                rtpHandler.onPacket(buf, off, len);
            }
        }

        /**
         * A datagram the SIP side's SRTP session refused (counted there): the first one of this socket, then at most
         * one a minute, at INFO with what an operator needs to tell a wrong key from stray traffic.
         */
        private void logSrtpDrop(byte[] buf, int off, int len, InetSocketAddress source, boolean rtcp) {
            long now = System.nanoTime();
            if (srtpDropLogged != 0 && now - srtpDropLogged < 60_000_000_000L) {
                return;
            }
            srtpDropLogged = now == 0 ? 1 : now;
            LOG.info("SIP-side SRTP on port {}: dropped a {}-byte {} datagram from {} (first bytes {}): it failed"
                            + " authentication, was replayed or is not SRTP; counted in the call's sipSrtp stats",
                    rtcpPort ? ports.rtcpPort() : ports.rtpPort(), len, rtcp ? "RTCP" : "RTP", source,
                    Bytes.hex(buf, off, Math.min(len, 4)));
        }

        /** {@code learning}: see {@link SourceLearning}; the RTCP socket follows what the RTP socket learnt. */
        private boolean acceptLearning(InetSocketAddress source, byte[] buf, int off, int len, boolean rtcp) {
            Remote r = remote;
            if (r.generation != generation) {
                generation = r.generation;
                latch = null;
                if (learning != null) {
                    learning.restart(r.rtp);
                }
            }
            if (learning == null) {
                if (r.rtcp == null) {
                    return false;
                }
                Latch rtp = rtpSocket.latch;
                if (rtp != null && rtp.generation == generation
                        && rtp.address.getAddress().equals(source.getAddress())) {
                    Latch current = latch;
                    if (current == null || current.generation != generation || !current.address.equals(source)) {
                        latch = new Latch(source, generation);
                    }
                    return true;
                }
                return source.getAddress().equals(r.rtcp.getAddress());
            }
            boolean rtp = !rtcp && len >= RtpPacket.FIXED_HEADER && RtpPacket.version(buf, off) == 2;
            boolean before = learning.learntAnother();
            boolean ok = learning.accept(source, rtp, rtp ? RtpPacket.ssrc(buf, off) : 0,
                    rtp ? RtpPacket.sequence(buf, off) : 0, System.nanoTime(), r.rtpSentSince);
            if (learning.learntAnother()) {
                Latch current = latch;
                InetSocketAddress to = learning.destination();
                if (current == null || !current.address.equals(to)) {
                    latch = new Latch(to, generation);
                    LOG.info("SIP-side RTP on port {}: now sending to {}, which sent {} packets in sequence while the"
                            + " SDP's {} sent nothing", ports.rtpPort(), to, policy.learnPackets(), r.rtp);
                }
            } else if (before) {
                latch = null;
                LOG.info("SIP-side RTP on port {}: back to the SDP's {}, which sends now", ports.rtpPort(), r.rtp);
            }
            return ok;
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
