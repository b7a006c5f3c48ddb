package io.webrtcgateway.bench.load;

import io.webrtcgateway.media.dtls.DtlsFailure;
import io.webrtcgateway.media.dtls.DtlsListener;
import io.webrtcgateway.media.dtls.DtlsRole;
import io.webrtcgateway.media.dtls.DtlsSrtpKeys;
import io.webrtcgateway.media.dtls.DtlsTransport;
import io.webrtcgateway.media.srtp.SrtpSession;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.security.SecureRandom;
import java.util.concurrent.CompletableFuture;

/**
 * One fake browser's media: a UDP socket with one host candidate, ICE (as the offerer the controlling agent,
 * checks with USE-CANDIDATE; as the answerer the controlled one; answers to the peer's checks either way),
 * DTLS-SRTP with our own bctls and SRTP code, and a PCMU stream of 20 ms packets whose payload carries the send
 * time, so the echo coming back through the SIP side gives the round trip. Created by {@link LoadMedia}; its
 * threads drive it.
 */
public final class MediaLeg implements AutoCloseable {
    enum State { OFFERED, CHECKING, ICE_CONNECTED, MEDIA, FAILED, CLOSED }

    private static final SecureRandom RANDOM = new SecureRandom();
    private static final String ICE_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    static final int PAYLOAD = 160;

    final LoadMedia media;
    final DatagramChannel channel;
    final InetSocketAddress local;
    final String ufrag = randomIce(8);
    final String pwd = randomIce(24);
    final long ssrc = RANDOM.nextInt() & 0xffffffffL;
    final int slot;
    /** The gateway's SDP. Written by the signaling thread before the state leaves OFFERED; read by the loops after. */
    private volatile BrowserSdp.Remote peer;
    private volatile State state = State.OFFERED;
    /** Where ICE, DTLS and SRTP go: the candidate whose check succeeded, or whoever checked us first. */
    volatile InetSocketAddress remote;
    /** Flipped on a 487 Role Conflict (RFC 8445 §7.2.5.1). Set by the signaling thread before checks start. */
    volatile boolean controlling = true;
    // Receive thread only.
    private boolean nominated;
    private boolean dtlsClientStarted;
    /**
     * Our first ClientHello, resent every 40 ms until the peer's first DTLS datagram arrives, as a browser would:
     * WebRTC starts its DTLS retransmissions at 50 ms, bctls at 1 s, and Janus drops a ClientHello that comes
     * right after the answer to its nominating check, before it has set up its DTLS (1 % or more of its calls from
     * SIP then took 1 s longer).
     */
    private volatile byte[] clientHello;
    private volatile boolean dtlsHeard;
    private volatile DtlsTransport dtls;
    private volatile SrtpSession srtp;
    private volatile DtlsRole dtlsRole;
    final CompletableFuture<Void> mediaUp = new CompletableFuture<>();
    volatile long mediaUpAt;
    /** Set by {@link #stopSending()}: no more RTP from this leg (the call is about to be hung up). */
    private volatile boolean muted;
    // Sender thread only.
    private final byte[] out = new byte[12 + PAYLOAD + 64];
    private final ByteBuffer outBuffer = ByteBuffer.wrap(out);
    private int seq = RANDOM.nextInt(0x10000);
    private int timestamp = RANDOM.nextInt();
    int checkCountdown;
    /** Packets of the current window: sent (sender thread), echoed (receive thread). */
    final java.util.concurrent.atomic.AtomicLong windowSent = new java.util.concurrent.atomic.AtomicLong();
    final java.util.concurrent.atomic.AtomicLong windowEchoed = new java.util.concurrent.atomic.AtomicLong();
    final byte[] checkTransaction = new byte[12];
    /** RTP packets received and decrypted, whatever window. Written by the receive thread only. */
    volatile long rtpReceived;

    MediaLeg(LoadMedia media, InetSocketAddress bindTo, int slot) throws IOException {
        this.media = media;
        this.slot = slot;
        this.channel = DatagramChannel.open();
        channel.bind(new InetSocketAddress(bindTo.getAddress(), 0));
        channel.configureBlocking(false);
        this.local = (InetSocketAddress) channel.getLocalAddress();
        RANDOM.nextBytes(checkTransaction);
    }

    /** The offer to hand to the gateway's signaling. */
    public String offer() {
        return BrowserSdp.offer(local, ufrag, pwd, media.dtls().certificate().fingerprint(), ssrc);
    }

    /** The gateway's answer: ICE checks start on the sender thread's next round, DTLS as its a=setup says. */
    public void answer(String sdp) {
        BrowserSdp.Remote a = BrowserSdp.Remote.parse(sdp);
        // We offered actpass (RFC 5763 §5): an "active" answerer is the DTLS client, so we serve.
        start(a, a.setup().equals("passive") ? DtlsRole.CLIENT : DtlsRole.SERVER);
    }

    /**
     * A call to us: the answer to the gateway's {@code offer}. The offerer is the controlling ICE agent (RFC 8445
     * §6.1.1), and we answer a=setup:active, so we are the DTLS client once our check succeeded.
     */
    public String answerOffer(String offer) {
        BrowserSdp.Remote o = BrowserSdp.Remote.parse(offer);
        controlling = false;
        start(o, DtlsRole.CLIENT);
        return BrowserSdp.answer(local, ufrag, pwd, media.dtls().certificate().fingerprint(), ssrc, o.mid());
    }

    private void start(BrowserSdp.Remote remoteSdp, DtlsRole role) {
        this.peer = remoteSdp;
        this.dtlsRole = role;
        this.dtls = media.dtls().newTransport(this::sendRaw, new DtlsListener() {
            @Override
            public void onHandshakeComplete(DtlsSrtpKeys keys) {
                srtp = keys.newSrtpSession();
                // Before the state: the sender counts a packet by how long after this it was sent.
                mediaUpAt = System.nanoTime();
                state = State.MEDIA;
                mediaUp.complete(null);
            }

            @Override
            public void onHandshakeFailed(DtlsFailure failure) {
                state = State.FAILED;
                mediaUp.completeExceptionally(new IllegalStateException("DTLS: " + failure));
            }
        });
        if (role == DtlsRole.SERVER) {
            dtls.start(DtlsRole.SERVER, remoteSdp.fingerprints());
        }
        state = State.CHECKING;
    }

    State state() {
        return state;
    }

    /** Completes when DTLS-SRTP is up (media flows from the next send tick), fails when DTLS failed. */
    public CompletableFuture<Void> mediaUp() {
        return mediaUp;
    }

    BrowserSdp.Remote remoteDescription() {
        return peer;
    }

    /** A check of ours succeeded: the pair is valid (and nominated, if we are controlling). Receive thread. */
    void iceConnected(InetSocketAddress from) {
        if (state != State.CHECKING) {
            return;
        }
        remote = from;
        state = State.ICE_CONNECTED;
        startDtlsClient();
    }

    /** The controlling peer nominated the pair (USE-CANDIDATE in its check). Receive thread. */
    void nominated() {
        nominated = true;
        startDtlsClient();
    }

    /**
     * As DTLS client, once ICE is done on our side: our check succeeded and, when we are controlled, the peer
     * has nominated the pair (RFC 8445 §8.1.1): before that Janus drops it (and even just after, at times: see
     * {@link #clientHello}).
     */
    private void startDtlsClient() {
        if (dtlsRole == DtlsRole.CLIENT && !dtlsClientStarted && state == State.ICE_CONNECTED
                && (controlling || nominated)) {
            dtlsClientStarted = true;
            dtls.start(DtlsRole.CLIENT, peer.fingerprints());
        }
    }

    void dtlsDatagram(byte[] buf, int off, int len) {
        dtlsHeard = true;
        DtlsTransport t = dtls;
        if (t != null) {
            t.receive(buf, off, len);
        }
    }

    SrtpSession srtp() {
        return srtp;
    }

    /** DTLS and STUN out; from the DTLS pool or the loop threads. */
    void sendRaw(byte[] buf, int off, int len) {
        if (dtlsRole == DtlsRole.CLIENT && clientHello == null) {
            clientHello = java.util.Arrays.copyOfRange(buf, off, off + len);
        }
        InetSocketAddress to = remote;
        if (to == null) {
            BrowserSdp.Remote a = peer;
            if (a == null) {
                return;
            }
            to = a.candidate();
        }
        try {
            channel.send(ByteBuffer.wrap(buf, off, len), to);
        } catch (IOException e) {
            media.sendErrors.increment();
        }
    }

    /** Sender thread, every 40 ms while ICE is connected and DTLS not up. */
    void resendClientHello() {
        byte[] hello = clientHello;
        InetSocketAddress to = remote;
        if (hello != null && !dtlsHeard && to != null) {
            send(ByteBuffer.wrap(hello), to);
        }
    }

    void send(ByteBuffer datagram, InetSocketAddress to) {
        try {
            channel.send(datagram, to);
        } catch (IOException e) {
            media.sendErrors.increment();
        }
    }

    /** One 20 ms PCMU packet: header, then the send time and our SSRC in the payload. Sender thread only. */
    boolean sendRtp(long now) {
        SrtpSession s = srtp;
        InetSocketAddress to = remote;
        if (s == null || to == null || state != State.MEDIA || muted) {
            return false;
        }
        out[0] = (byte) 0x80;
        out[1] = 0;
        out[2] = (byte) (seq >>> 8);
        out[3] = (byte) seq;
        out[4] = (byte) (timestamp >>> 24);
        out[5] = (byte) (timestamp >>> 16);
        out[6] = (byte) (timestamp >>> 8);
        out[7] = (byte) timestamp;
        out[8] = (byte) (ssrc >>> 24);
        out[9] = (byte) (ssrc >>> 16);
        out[10] = (byte) (ssrc >>> 8);
        out[11] = (byte) ssrc;
        for (int i = 0; i < 8; i++) {
            out[12 + i] = (byte) (now >>> (56 - 8 * i));
        }
        seq = (seq + 1) & 0xffff;
        timestamp += PAYLOAD;
        int n = s.protectRtp(out, 0, 12 + PAYLOAD);
        if (n < 0) {
            return false;
        }
        outBuffer.clear().limit(n);
        send(outBuffer, to);
        return true;
    }

    /**
     * Sends no more RTP, while still receiving: called a little before the hang-up, so that the echoes of the
     * last packets come back before the call ends instead of counting as lost.
     */
    public void stopSending() {
        muted = true;
    }

    /** Whether any RTP came back (the SIP side's echo of ours): media flowed both ways. */
    public boolean echoed() {
        return rtpReceived > 0;
    }

    /** Lost more than half of what it sent in the last window. */
    public boolean mostlyLost() {
        long sent = windowSent.get();
        return sent > 0 && sent - windowEchoed.get() > sent / 2;
    }

    @Override
    public String toString() {
        DtlsTransport t = dtls;
        return "MediaLeg[" + local + " state=" + state + " remote=" + remote + " controlling=" + controlling
                + " dtls=" + (t == null ? "-" : t.state() + "/" + dtlsRole) + " window sent/echoed=" + windowSent + "/"
                + windowEchoed + " srtp=" + (srtp == null ? "-" : srtp.counters()) + "]";
    }

    @Override
    public void close() {
        state = State.CLOSED;
        DtlsTransport t = dtls;
        if (t != null) {
            t.close();
        }
        media.remove(this);
        try {
            channel.close();
        } catch (IOException ignored) {
            // closing a datagram channel does not fail in a way that matters here
        }
    }

    private static String randomIce(int length) {
        StringBuilder s = new StringBuilder(length);
        for (int i = 0; i < length; i++) {
            s.append(ICE_CHARS.charAt(RANDOM.nextInt(ICE_CHARS.length())));
        }
        return s.toString();
    }
}
