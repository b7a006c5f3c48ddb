package io.webrtcgateway.testsupport;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.net.SocketException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The far end of a media test on the SIP side: a UDP socket on a free 127.0.0.1 port that sends every
 * datagram back to where it came from, so audio a browser sends through the bridge comes back to it.
 *
 * <pre>
 * try (RtpEcho echo = RtpEcho.rewritingSsrc(0x5EED_0001L)) {
 *     ... the SIP side's SDP says c=IN IP4 127.0.0.1, m=audio echo.port() ...
 *     echo.awaitRtpPackets(50, Duration.ofSeconds(10));
 * }
 * </pre>
 *
 * RTP and RTCP share the port (the rtcp-mux of RFC 5761); they are told apart by the second byte
 * (§4: 192-223 is RTCP). With an SSRC to write, each echoed RTP packet carries it instead of the
 * sender's (RFC 3550 §5.1), and so does each RTCP packet of a compound one as its first SSRC
 * (SR/RR/APP/feedback sender, first SDES chunk, first BYE source; §6.4-6.7): a browser that received its
 * own SSRC back would take it for a collision or a loop (§8.2) and change SSRC. Report blocks inside
 * RTCP still name the sender's own stream, which is what they report on. Anything else (not version 2,
 * too short) is echoed unchanged and counted as other.
 *
 * <p>RTP packets are counted per payload type, and the telephone-events (RFC 4733) among them can be
 * read back: {@link #telephoneEvents(int)} with the payload type the SDP gave them.
 */
public final class RtpEcho implements AutoCloseable {

    private final DatagramSocket socket;
    private final Long ssrc;
    private final Thread thread;
    private final AtomicLong rtp = new AtomicLong();
    private final AtomicLong rtcp = new AtomicLong();
    private final AtomicLong other = new AtomicLong();
    private final AtomicLong bytes = new AtomicLong();
    private final AtomicReference<InetSocketAddress> lastSource = new AtomicReference<>();
    /** Guarded by itself: RTP packets per payload type. */
    private final Map<Integer, Long> byPayloadType = new TreeMap<>();
    /** Guarded by {@link #byPayloadType}: packets of dynamic payload types (96-127), at most {@link #KEPT}. */
    private final List<RtpHeader> dynamic = new ArrayList<>();
    /** Guarded by {@link #byPayloadType}: the header of every RTP packet, at most {@link #KEPT}. */
    private final List<Header> headers = new ArrayList<>();
    private static final int KEPT = 10_000;
    /** Receive and count, but send nothing back: the SIP side's media stops. */
    private volatile boolean paused;
    /** 0: echo every RTP packet; n: leave out every n-th one (counted, not sent back): loss the far end sees. */
    private volatile int dropEvery;
    private final AtomicLong dropped = new AtomicLong();
    /** Also answer each RTCP SR with an RR about its sender (LSR set, DLSR 0): the far end can work out its RTT. */
    private volatile boolean answerSenderReports;

    private RtpEcho(Long ssrc) {
        try {
            this.socket = new DatagramSocket(new InetSocketAddress(FreePorts.LOOPBACK, 0));
        } catch (SocketException e) {
            throw new UncheckedIOException("cannot bind a UDP port on " + FreePorts.LOOPBACK, e);
        }
        this.ssrc = ssrc;
        this.thread = new Thread(this::run, "rtp-echo-" + socket.getLocalPort());
        thread.setDaemon(true);
        thread.start();
    }

    /** Echoes every datagram unchanged. */
    public static RtpEcho start() {
        return new RtpEcho(null);
    }

    /** Echoes with {@code ssrc} (32 bits) as the RTP/RTCP sender. */
    public static RtpEcho rewritingSsrc(long ssrc) {
        if (ssrc < 0 || ssrc > 0xFFFF_FFFFL) {
            throw new IllegalArgumentException("SSRC is 32 bits: " + ssrc);
        }
        return new RtpEcho(ssrc);
    }

    public InetSocketAddress address() {
        return (InetSocketAddress) socket.getLocalSocketAddress();
    }

    public int port() {
        return socket.getLocalPort();
    }

    /** All datagrams echoed so far. */
    public long packets() {
        return rtp.get() + rtcp.get() + other.get();
    }

    public long rtpPackets() {
        return rtp.get();
    }

    public long rtcpPackets() {
        return rtcp.get();
    }

    /** Datagrams that were neither RTP nor RTCP (echoed anyway). */
    public long otherPackets() {
        return other.get();
    }

    public long bytes() {
        return bytes.get();
    }

    /** Where the last datagram came from: the address the far end sends from (symmetric RTP). */
    public Optional<InetSocketAddress> lastSource() {
        return Optional.ofNullable(lastSource.get());
    }

    /** Stops echoing (everything is still received and counted): a far end whose media stopped. */
    public void pause() {
        paused = true;
    }

    public void resume() {
        paused = false;
    }

    /**
     * From now on every {@code n}-th RTP packet received is not echoed (RTCP and the rest still are): packet loss
     * of 1/n, evenly spread, on the way back. 0 echoes everything again.
     */
    public RtpEcho dropEvery(int n) {
        if (n < 0 || n == 1) {
            throw new IllegalArgumentException("drop every n-th packet: n = 0 (none) or at least 2, not " + n);
        }
        dropEvery = n;
        return this;
    }

    /**
     * From now on each RTCP compound starting with an SR is echoed and also answered with an RR (RFC 3550 §6.4.2)
     * holding one report block about the SR's sender: its LSR is the SR's NTP middle 32 bits, DLSR 0 (answered at
     * once). A sender that keeps its SRs' send times measures its round trip to here from it (§6.4.1).
     */
    public RtpEcho answerSenderReports() {
        answerSenderReports = true;
        return this;
    }

    /** RTP packets left out by {@link #dropEvery}. */
    public long droppedRtpPackets() {
        return dropped.get();
    }

    /** RTP headers in arrival order (the first {@code 10,000} packets). */
    public List<Header> rtpHeaders() {
        synchronized (byPayloadType) {
            return List.copyOf(headers);
        }
    }

    /** An RTP packet's header fields (RFC 3550 §5.1), SSRC as received (before any rewriting). */
    public record Header(int payloadType, boolean marker, int sequence, long timestamp, long ssrc) {}

    /** Waits until at least {@code count} RTP packets were echoed; returns the count. */
    public long awaitRtpPackets(long count, Duration timeout) {
        return Poll.until(timeout, count + " RTP packets echoed on port " + port(), rtp::get, n -> n >= count);
    }

    /** RTP packets echoed so far by payload type (in order of payload type). */
    public Map<Integer, Long> payloadTypes() {
        synchronized (byPayloadType) {
            return java.util.Collections.unmodifiableMap(new TreeMap<>(byPayloadType));
        }
    }

    /**
     * The RFC 4733 telephone-event packets of {@code payloadType} echoed so far, in arrival order (a
     * sender repeats each event every packetization interval and sends its end three times, §2.5.1.4).
     */
    public List<TelephoneEvent> telephoneEvents(int payloadType) {
        List<TelephoneEvent> events = new ArrayList<>();
        synchronized (byPayloadType) {
            for (RtpHeader h : dynamic) {
                if (h.payloadType() == payloadType && h.payload().length >= 4) {
                    byte[] p = h.payload();
                    events.add(new TelephoneEvent(p[0] & 0xFF, (p[1] & 0x80) != 0, p[1] & 0x3F,
                            ((p[2] & 0xFF) << 8) | (p[3] & 0xFF), h.timestamp(), h.marker()));
                }
            }
        }
        return events;
    }

    /**
     * The distinct events of {@link #telephoneEvents(int)} that ended (end bit seen), one per RTP
     * timestamp (all packets of one event carry its start timestamp, RFC 4733 §2.3.1), in order.
     */
    public List<Integer> endedTelephoneEvents(int payloadType) {
        List<Integer> ended = new ArrayList<>();
        List<Long> seen = new ArrayList<>();
        for (TelephoneEvent e : telephoneEvents(payloadType)) {
            if (e.end() && !seen.contains(e.timestamp())) {
                seen.add(e.timestamp());
                ended.add(e.event());
            }
        }
        return ended;
    }

    /** One RFC 4733 §2.3 event packet: event code (0-9, 10 '*', 11 '#', 12-15 A-D), E bit, volume, duration. */
    public record TelephoneEvent(int event, boolean end, int volume, int duration, long timestamp, boolean marker) {}

    record RtpHeader(int payloadType, boolean marker, long timestamp, byte[] payload) {}

    private void account(byte[] packet, int length) {
        int payloadType = packet[1] & 0x7F;
        synchronized (byPayloadType) {
            byPayloadType.merge(payloadType, 1L, Long::sum);
            if (headers.size() < KEPT) {
                headers.add(new Header(payloadType, (packet[1] & 0x80) != 0,
                        ((packet[2] & 0xFF) << 8) | (packet[3] & 0xFF), u32(packet, 4), u32(packet, 8)));
            }
            if (payloadType >= 96 && dynamic.size() < KEPT) {
                // RFC 3550 §5.1: 12 bytes plus 4 per CSRC, then an extension if X is set.
                int offset = 12 + 4 * (packet[0] & 0x0F);
                if ((packet[0] & 0x10) != 0 && offset + 4 <= length) {
                    offset += 4 + 4 * (((packet[offset + 2] & 0xFF) << 8) | (packet[offset + 3] & 0xFF));
                }
                byte[] payload = offset <= length ? java.util.Arrays.copyOfRange(packet, offset, Math.min(length, offset + 16))
                        : new byte[0];
                long timestamp = ((packet[4] & 0xFFL) << 24) | ((packet[5] & 0xFF) << 16) | ((packet[6] & 0xFF) << 8)
                        | (packet[7] & 0xFF);
                dynamic.add(new RtpHeader(payloadType, (packet[1] & 0x80) != 0, timestamp, payload));
            }
        }
    }

    @Override
    public void close() {
        socket.close();
        try {
            thread.join(Duration.ofSeconds(5).toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void run() {
        byte[] buffer = new byte[2048];
        DatagramPacket packet = new DatagramPacket(buffer, buffer.length);
        while (!socket.isClosed()) {
            packet.setData(buffer, 0, buffer.length);
            try {
                socket.receive(packet);
            } catch (IOException e) {
                return; // closed
            }
            int length = packet.getLength();
            boolean drop = false;
            switch (classify(buffer, length)) {
                case RTP -> {
                    long n = rtp.incrementAndGet();
                    int every = dropEvery;
                    drop = every > 0 && n % every == 0;
                    account(buffer, length);
                    if (ssrc != null) {
                        putInt(buffer, 8, ssrc);
                    }
                }
                case RTCP -> {
                    rtcp.incrementAndGet();
                    if (answerSenderReports) {
                        answerSenderReport(buffer, length, (InetSocketAddress) packet.getSocketAddress());
                    }
                    if (ssrc != null) {
                        rewriteRtcp(buffer, length, ssrc);
                    }
                }
                case OTHER -> other.incrementAndGet();
            }
            bytes.addAndGet(length);
            lastSource.set((InetSocketAddress) packet.getSocketAddress());
            if (paused) {
                continue;
            }
            if (drop) {
                dropped.incrementAndGet();
                continue;
            }
            try {
                // The packet still holds its source address: it goes back there.
                socket.send(packet);
            } catch (IOException e) {
                if (socket.isClosed()) {
                    return;
                }
                // an ICMP error from an earlier send (the far end went away): keep echoing the others
            }
        }
    }

    /** An RR for a compound whose first packet is an SR (before its SSRC is rewritten for the echo). */
    private void answerSenderReport(byte[] packet, int length, InetSocketAddress to) {
        byte[] rr = receiverReportFor(packet, length, ssrc == null ? 0x5EED_0000L : ssrc);
        if (rr == null) {
            return;
        }
        try {
            socket.send(new DatagramPacket(rr, rr.length, to));
        } catch (IOException e) {
            // the far end went away: the echo goes on for the others
        }
    }

    /**
     * RFC 3550 §6.4.2: an RR from {@code reporter} with one report block about the sender of the SR that starts
     * {@code packet}: no loss, LSR = the SR's NTP timestamp's middle 32 bits, DLSR 0. Null when it is no SR.
     */
    static byte[] receiverReportFor(byte[] packet, int length, long reporter) {
        if (length < 28 || (packet[0] & 0xC0) != 0x80 || (packet[1] & 0xFF) != 200) {
            return null;
        }
        byte[] rr = new byte[32];
        rr[0] = (byte) 0x81; // V=2, one report block
        rr[1] = (byte) 201;
        rr[3] = 7; // 8 words - 1
        putInt(rr, 4, reporter);
        System.arraycopy(packet, 4, rr, 8, 4); // the SR's sender
        System.arraycopy(packet, 10, rr, 24, 4); // LSR: NTP seconds' low half, fraction's high half
        return rr;
    }

    enum Kind { RTP, RTCP, OTHER }

    /** RFC 3550 §5.1 / §6.4 header: version 2; RFC 5761 §4 tells RTCP by its packet type 192-223. */
    static Kind classify(byte[] packet, int length) {
        if (length < 8 || (packet[0] & 0xC0) != 0x80) {
            return Kind.OTHER;
        }
        int type = packet[1] & 0xFF;
        if (type >= 192 && type <= 223) {
            return Kind.RTCP;
        }
        return length >= 12 ? Kind.RTP : Kind.OTHER;
    }

    /** Each packet of a compound RTCP packet: 4-byte header with its length in 32-bit words minus one. */
    static void rewriteRtcp(byte[] packet, int length, long ssrc) {
        int offset = 0;
        while (offset + 8 <= length && (packet[offset] & 0xC0) == 0x80) {
            int words = ((packet[offset + 2] & 0xFF) << 8) | (packet[offset + 3] & 0xFF);
            int type = packet[offset + 1] & 0xFF;
            int count = packet[offset] & 0x1F;
            // An SDES or BYE with no chunk/source has no SSRC at offset 4 to rewrite.
            boolean hasSsrc = !((type == 202 || type == 203) && count == 0);
            if (hasSsrc) {
                putInt(packet, offset + 4, ssrc);
            }
            offset += (words + 1) * 4;
        }
    }

    private static long u32(byte[] p, int at) {
        return ((p[at] & 0xFFL) << 24) | ((p[at + 1] & 0xFF) << 16) | ((p[at + 2] & 0xFF) << 8) | (p[at + 3] & 0xFF);
    }

    private static void putInt(byte[] packet, int offset, long value) {
        packet[offset] = (byte) (value >>> 24);
        packet[offset + 1] = (byte) (value >>> 16);
        packet[offset + 2] = (byte) (value >>> 8);
        packet[offset + 3] = (byte) value;
    }

    @Override
    public String toString() {
        return "RtpEcho(" + address() + ", rtp " + rtp.get() + ", rtcp " + rtcp.get() + ", other " + other.get() + ")";
    }
}
