package io.webrtcgateway.bench.load;

import io.webrtcgateway.media.dtls.DtlsCertificate;
import io.webrtcgateway.media.dtls.DtlsService;
import io.webrtcgateway.media.dtls.PacketKind;
import io.webrtcgateway.media.srtp.SrtpSession;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.time.Duration;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.LongAdder;

/**
 * The media half of the load client: every {@link MediaLeg}'s socket on one selector thread (STUN answers,
 * DTLS, SRTP unprotect, round-trip measurement), and one sender thread that ticks every millisecond and sends
 * the 20 ms packets of the legs in that tick's slot (so 1,000 calls are 50 packets per tick, not a burst of
 * 1,000 every 20 ms) and the ICE checks of legs still checking.
 *
 * <p>Figures come from measurement {@link Window}s: a packet counts in the window its send time falls in;
 * loss is 1 - echoed / sent among those packets, read a grace period after the window closed.
 */
public final class LoadMedia implements AutoCloseable {
    static final int SLOTS = 20;
    /** Round-trip histogram: 10 µs buckets up to 2 s. */
    private static final int BUCKET_NANOS = 10_000;
    private static final int BUCKETS = 200_000;

    private final InetSocketAddress bindTo;
    private final DtlsService dtls;
    private final Selector selector;
    private final ConcurrentLinkedQueue<MediaLeg> toRegister = new ConcurrentLinkedQueue<>();
    @SuppressWarnings("unchecked")
    private final List<MediaLeg>[] slots = new List[SLOTS];
    private final AtomicInteger nextSlot = new AtomicInteger();
    private final Thread receiver;
    private final ScheduledExecutorService sender;
    private final long tieBreaker = Long.MAX_VALUE;
    private volatile boolean running = true;
    private volatile Window window = new Window(Long.MAX_VALUE, Long.MAX_VALUE);
    /**
     * The window before the current one: echoes of its last packets that arrive after the next window started
     * still count in it, so that windows can follow each other without a gap (the soak's one per minute).
     */
    private volatile Window previous = new Window(Long.MAX_VALUE, Long.MAX_VALUE);
    /** Packets a leg sends within this time of its media coming up are not counted in any window (0: all are). */
    private volatile long settleNanos;
    final LongAdder sendErrors = new LongAdder();
    final LongAdder srtpDrops = new LongAdder();
    final LongAdder receiveErrors = new LongAdder();
    final LongAdder datagrams = new LongAdder();
    private volatile Exception lastReceiveError;
    private int tick;

    /** Packets of one measurement period. */
    public static final class Window {
        final long start;
        final long end;
        final AtomicLong sent = new AtomicLong();
        final AtomicLong echoed = new AtomicLong();
        final AtomicLongArray histogram = new AtomicLongArray(BUCKETS + 1);

        Window(long start, long end) {
            this.start = start;
            this.end = end;
        }

        boolean covers(long sendTime) {
            return sendTime >= start && sendTime < end;
        }

        public long sent() {
            return sent.get();
        }

        public long echoed() {
            return echoed.get();
        }

        public double lossPercent() {
            long s = sent.get();
            return s == 0 ? Double.NaN : 100.0 * Math.max(0, s - echoed.get()) / s;
        }

        /** Round trip browser -> gateway -> SIP echo -> gateway -> browser, ms, at percentile p (0-100). */
        public double roundTripMs(double p) {
            long total = 0;
            for (int i = 0; i <= BUCKETS; i++) {
                total += histogram.get(i);
            }
            if (total == 0) {
                return Double.NaN;
            }
            long rank = (long) Math.ceil(p / 100.0 * total);
            long seen = 0;
            for (int i = 0; i <= BUCKETS; i++) {
                seen += histogram.get(i);
                if (seen >= Math.max(1, rank)) {
                    return (i + 1) * BUCKET_NANOS / 1e6;
                }
            }
            return BUCKETS * BUCKET_NANOS / 1e6;
        }
    }

    public LoadMedia(InetSocketAddress bindTo) throws IOException {
        this.bindTo = bindTo;
        // As DTLS server a handshake holds a pool thread while it waits for the gateway's ClientHello: a load
        // generator needs one per call in setup (4 threads made our own client the bottleneck at 64 in flight).
        this.dtls = new DtlsService(DtlsCertificate.generate(), 256, 8192, Duration.ofSeconds(15));
        this.selector = Selector.open();
        for (int i = 0; i < SLOTS; i++) {
            slots[i] = new CopyOnWriteArrayList<>();
        }
        this.receiver = new Thread(this::receiveLoop, "load-media-receive");
        receiver.setDaemon(true);
        receiver.start();
        this.sender = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "load-media-send");
            t.setDaemon(true);
            return t;
        });
        sender.scheduleAtFixedRate(this::tick, 1, 1, TimeUnit.MILLISECONDS);
    }

    DtlsService dtls() {
        return dtls;
    }

    /** A new fake browser's media, ready to write its offer. */
    public MediaLeg newLeg() throws IOException {
        MediaLeg leg = new MediaLeg(this, bindTo, Math.floorMod(nextSlot.getAndIncrement(), SLOTS));
        toRegister.add(leg);
        selector.wakeup();
        slots[leg.slot].add(leg);
        return leg;
    }

    void remove(MediaLeg leg) {
        slots[leg.slot].remove(leg);
    }

    /** Starts counting packets sent from now for {@code length}. */
    public Window startWindow(Duration length) {
        for (List<MediaLeg> slot : slots) {
            for (MediaLeg leg : slot) {
                leg.windowSent.set(0);
                leg.windowEchoed.set(0);
            }
        }
        long now = System.nanoTime();
        Window w = new Window(now, now + length.toNanos());
        previous = window;
        window = w;
        return w;
    }

    /**
     * Leaves out of every window the packets each leg sends in its first {@code settle} of media: a relay may drop
     * a new source's first packet or two (RTP probation), which a run with calls starting all the time would
     * otherwise count as loss of the steady state.
     */
    public void settleTime(Duration settle) {
        settleNanos = settle.toNanos();
    }

    /** Legs that lost packets in the last window, and the worst ones: for finding where loss comes from. */
    public String lossByLeg() {
        int lossy = 0;
        int legs = 0;
        List<String> worst = new java.util.ArrayList<>();
        for (List<MediaLeg> slot : slots) {
            for (MediaLeg leg : slot) {
                long lost = leg.windowSent.get() - leg.windowEchoed.get();
                legs++;
                if (lost > 0) {
                    lossy++;
                    if (worst.size() < 5) {
                        worst.add(leg.local.getPort() + ":" + lost + "/" + leg.windowSent.get());
                    }
                }
            }
        }
        return lossy + " of " + legs + " legs lost packets; some (port:lost/sent): " + worst;
    }

    public int legsWithMedia() {
        int n = 0;
        for (List<MediaLeg> slot : slots) {
            for (MediaLeg leg : slot) {
                if (leg.state() == MediaLeg.State.MEDIA) {
                    n++;
                }
            }
        }
        return n;
    }

    private void tick() {
        try {
            long now = System.nanoTime();
            Window w = window;
            int s = tick;
            tick = (tick + 1) % SLOTS;
            for (MediaLeg leg : slots[s]) {
                MediaLeg.State state = leg.state();
                if (state == MediaLeg.State.MEDIA) {
                    if (leg.sendRtp(now) && w.covers(now) && now - leg.mediaUpAt >= settleNanos) {
                        w.sent.incrementAndGet();
                        leg.windowSent.incrementAndGet();
                    }
                } else if (state == MediaLeg.State.CHECKING || state == MediaLeg.State.ICE_CONNECTED) {
                    // A check every 40 ms until DTLS is done: the nominating check may have been answered
                    // before the peer's own triggered check made the pair valid on its side.
                    if (leg.checkCountdown-- <= 0) {
                        leg.checkCountdown = 1;
                        sendCheck(leg);
                        if (state == MediaLeg.State.ICE_CONNECTED) {
                            leg.resendClientHello();
                        }
                    }
                }
            }
        } catch (RuntimeException e) {
            sendErrors.increment(); // never let the periodic task die
        }
    }

    private void sendCheck(MediaLeg leg) {
        BrowserSdp.Remote a = leg.remoteDescription();
        if (a == null) {
            return;
        }
        int priority = (110 << 24) | (65535 << 8) | 255;
        ByteBuffer check = Stun.bindingRequest(leg.checkTransaction, a.ufrag(), leg.ufrag, a.pwd(), leg.controlling,
                tieBreaker, priority);
        leg.send(check, a.candidate());
    }

    private void receiveLoop() {
        ByteBuffer buf = ByteBuffer.allocate(2048);
        byte[] array = buf.array();
        while (running) {
            try {
                selector.select(100);
                for (MediaLeg leg; (leg = toRegister.poll()) != null; ) {
                    try {
                        leg.channel.register(selector, SelectionKey.OP_READ, leg);
                    } catch (ClosedChannelException e) {
                        // closed before it was registered
                    }
                }
                Iterator<SelectionKey> keys = selector.selectedKeys().iterator();
                while (keys.hasNext()) {
                    SelectionKey key = keys.next();
                    keys.remove();
                    MediaLeg leg = (MediaLeg) key.attachment();
                    if (!key.isValid()) {
                        continue;
                    }
                    for (int i = 0; i < 16; i++) {
                        buf.clear();
                        InetSocketAddress from;
                        try {
                            from = (InetSocketAddress) leg.channel.receive(buf);
                        } catch (IOException e) {
                            key.cancel();
                            break;
                        }
                        if (from == null) {
                            break;
                        }
                        buf.flip();
                        datagrams.increment();
                        handle(leg, from, buf, array);
                    }
                }
            } catch (IOException | RuntimeException e) {
                if (!running) {
                    return;
                }
                receiveErrors.increment();
                lastReceiveError = e;
            }
        }
    }

    private void handle(MediaLeg leg, InetSocketAddress from, ByteBuffer buf, byte[] array) {
        int len = buf.limit();
        if (Stun.isStun(buf)) {
            int type = Stun.type(buf);
            if (type == Stun.BINDING_REQUEST) {
                if (leg.remote == null) {
                    leg.remote = from;
                }
                leg.send(Stun.bindingSuccess(Stun.transactionId(buf), from, leg.pwd), from);
                if (Stun.useCandidate(buf)) {
                    leg.nominated();
                }
            } else if (type == Stun.BINDING_SUCCESS && Arrays.equals(Stun.transactionId(buf), leg.checkTransaction)) {
                leg.iceConnected(from);
            } else if (type == Stun.BINDING_ERROR && Stun.errorCode(buf) == 487) {
                leg.controlling = !leg.controlling;
            }
            return;
        }
        switch (PacketKind.of(array, 0, len)) {
            case DTLS -> leg.dtlsDatagram(array, 0, len);
            case RTP -> {
                SrtpSession s = leg.srtp();
                if (s == null) {
                    return;
                }
                int n = s.unprotectRtp(array, 0, len);
                if (n < 12) {
                    srtpDrops.increment();
                    return;
                }
                leg.rtpReceived++;
                int header = 12 + 4 * (array[0] & 0x0f);
                if ((array[0] & 0x10) != 0 && n >= header + 4) {
                    header += 4 + 4 * (((array[header + 2] & 0xff) << 8) | (array[header + 3] & 0xff));
                }
                if (n < header + 8) {
                    return;
                }
                long sentAt = 0;
                for (int i = 0; i < 8; i++) {
                    sentAt = (sentAt << 8) | (array[header + i] & 0xff);
                }
                Window w = window;
                boolean current = w.covers(sentAt);
                if (!current) {
                    w = previous;
                }
                if (w.covers(sentAt) && sentAt - leg.mediaUpAt >= settleNanos) {
                    long rtt = System.nanoTime() - sentAt;
                    w.echoed.incrementAndGet();
                    if (current) {
                        leg.windowEchoed.incrementAndGet();
                    }
                    w.histogram.incrementAndGet((int) Math.min(BUCKETS, Math.max(0, rtt / BUCKET_NANOS)));
                }
            }
            default -> {
                // RTCP and anything else: not measured
            }
        }
    }

    @Override
    public String toString() {
        return "LoadMedia[datagrams in " + datagrams + ", receive errors " + receiveErrors + " (last " + lastReceiveError
                + "), send errors " + sendErrors + ", SRTP drops " + srtpDrops + "]";
    }

    @Override
    public void close() {
        running = false;
        sender.shutdownNow();
        selector.wakeup();
        try {
            receiver.join(2000);
            selector.close();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (IOException ignored) {
            // nothing left to release
        }
        dtls.close();
    }
}
