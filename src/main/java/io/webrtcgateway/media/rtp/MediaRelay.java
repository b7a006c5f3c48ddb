package io.webrtcgateway.media.rtp;

import io.webrtcgateway.media.PacketSender;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.Objects;
import java.util.concurrent.ScheduledExecutorService;
import java.util.function.LongSupplier;

/**
 * One m-line's relay between the browser leg (already SRTP-unprotected / to be protected by the layer
 * below {@link PacketSender}) and the SIP leg's {@link PlainRtpEndpoint}. Each packet goes through named
 * steps: gate, validate, payload type map, source/numbering rewrite, stats, send; RTCP: gate, validate,
 * translate ({@link RtcpTranslator}), send. A packet that fails a step is dropped and counted, never thrown.
 *
 * <p>Threads: SIP -> browser runs on the endpoint's receive-loop thread; browser -> SIP on whatever thread
 * calls {@link #fromBrowser}, one at a time (the browser transport's receive thread). The two directions
 * share no mutable state except through volatile publication; no lock is shared with other calls. Steady
 * state allocates nothing: the browser -> SIP copy goes into buffers of this relay, SIP -> browser is
 * rewritten in the loop's receive buffer.
 *
 * <p>Plug-in order for the integrator: open the endpoint, create the relay, {@link #start()}, put the SIP
 * SDP's addresses in with {@link #updateSipRemote}, and {@link #allowMedia()} once ICE and DTLS are up
 * (SPEC §6: no packets before); on re-INVITE {@link #updateSipRemote} again (and
 * {@link #setPayloadTypes} if the numbers changed); on the end of the call {@link #close()}.
 */
public final class MediaRelay implements AutoCloseable {

    /** Largest packet taken from the browser side (libwebrtc stays under ~1,250 bytes). */
    static final int MAX_BROWSER_PACKET = 2048;
    /**
     * Room guaranteed after a packet handed to the browser-side senders, so SRTP can append its tag, MKI and
     * SRTCP index in place (at most 4 + 128 + 10 bytes, RFC 3711 §3.1/§3.4) instead of copying.
     */
    public static final int SENDER_TAILROOM = 256;

    public enum Kind { AUDIO, VIDEO }

    /**
     * @param ssrcTowardSip            SSRC of every RTP packet and RTCP report sent to the SIP side
     * @param ssrcTowardBrowser        the same toward the browser (what the gateway's SDP to it may signal)
     * @param browserToSip             payload types the browser sends -> the SIP side's numbers
     * @param sipToBrowser             payload types the SIP side sends -> the browser's numbers
     * @param stripExtensionsTowardSip remove RTP header extensions (RFC 8285) the plain SIP side did not negotiate
     * @param forwardKeyframeRequests  let PLI/FIR pass both ways (video)
     */
    public record Config(Kind kind, int ssrcTowardSip, int ssrcTowardBrowser, PayloadTypeMap browserToSip,
                         PayloadTypeMap sipToBrowser, boolean stripExtensionsTowardSip, boolean forwardKeyframeRequests) {
        public Config {
            Objects.requireNonNull(kind, "kind");
            Objects.requireNonNull(browserToSip, "browserToSip");
            Objects.requireNonNull(sipToBrowser, "sipToBrowser");
        }

        /** Audio: extensions stripped toward SIP, no keyframe requests; SIP -> browser map is the reverse. */
        public static Config audio(int ssrcTowardSip, int ssrcTowardBrowser, PayloadTypeMap browserToSip) {
            return new Config(Kind.AUDIO, ssrcTowardSip, ssrcTowardBrowser, browserToSip, browserToSip.reversed(),
                    true, false);
        }

        /** Video passthrough (VP8/H.264): PLI/FIR relayed so either side can ask for a keyframe. */
        public static Config video(int ssrcTowardSip, int ssrcTowardBrowser, PayloadTypeMap browserToSip) {
            return new Config(Kind.VIDEO, ssrcTowardSip, ssrcTowardBrowser, browserToSip, browserToSip.reversed(),
                    true, true);
        }
    }

    /** Per-call media stats for admin and metrics; {@code kind} is the m-line's media, "audio" or "video". */
    public record Stats(String kind, StreamStats.Snapshot browserToSip, StreamStats.Snapshot sipToBrowser) {}

    private final PlainRtpEndpoint sip;
    private final PacketSender browserRtp;
    private final PacketSender browserRtcp;
    private final RelayDirection toSip;
    private final RelayDirection toBrowser;
    private final RtcpTranslator rtcp;
    private final LongSupplier nanoClock;
    private final Kind kind;
    private final boolean keyframeRequests;
    private final TelephoneEventInjector events;

    /** Opened by the integrator once ICE and DTLS are up (SPEC §6). */
    private volatile boolean mediaAllowed;

    // Browser -> SIP thread only.
    private final byte[] toSipRtp = new byte[MAX_BROWSER_PACKET];
    private final byte[] toSipRtcp = new byte[MAX_BROWSER_PACKET];
    private final byte[] keyframeRequest = new byte[RtcpPacket.KEYFRAME_REQUEST + SENDER_TAILROOM];

    /**
     * @param browserRtp  sends RTP toward the browser (SRTP-protects it); called on the SIP endpoint's loop
     *                    thread with at least {@link #SENDER_TAILROOM} spare bytes after the packet, which
     *                    it may overwrite (protect in place)
     * @param browserRtcp sends RTCP toward the browser (SRTCP); may be the same sender if it demultiplexes
     */
    public MediaRelay(PlainRtpEndpoint sip, PacketSender browserRtp, PacketSender browserRtcp, Config config) {
        this(sip, browserRtp, browserRtcp, config, System::nanoTime);
    }

    MediaRelay(PlainRtpEndpoint sip, PacketSender browserRtp, PacketSender browserRtcp, Config config,
            LongSupplier nanoClock) {
        this.sip = Objects.requireNonNull(sip, "sip");
        this.browserRtp = Objects.requireNonNull(browserRtp, "browserRtp");
        this.browserRtcp = Objects.requireNonNull(browserRtcp, "browserRtcp");
        boolean audio = config.kind() == Kind.AUDIO;
        this.toSip = new RelayDirection("browser->sip", config.ssrcTowardSip(), audio, config.browserToSip(),
                config.stripExtensionsTowardSip());
        this.toBrowser = new RelayDirection("sip->browser", config.ssrcTowardBrowser(), audio, config.sipToBrowser(),
                false);
        this.nanoClock = nanoClock;
        this.kind = config.kind();
        this.keyframeRequests = config.forwardKeyframeRequests();
        this.events = new TelephoneEventInjector(sip, toSip.rewriter);
        this.rtcp = new RtcpTranslator(nanoClock.getAsLong(), config.forwardKeyframeRequests());
    }

    /** Starts receiving from the SIP side (packets are counted as gated until {@link #allowMedia()}). */
    public void start() throws IOException {
        sip.start(this::fromSipRtp, this::fromSipRtcp);
    }

    public void allowMedia() {
        mediaAllowed = true;
    }

    /** Closes the gate again (e.g. ICE failed / restarting); packets are dropped and counted as gated. */
    public void blockMedia() {
        mediaAllowed = false;
    }

    public boolean mediaAllowed() {
        return mediaAllowed;
    }

    /**
     * The SIP peer's addresses from its SDP (first answer, or a re-INVITE's). Re-arms latching and lets the
     * next SIP-side SSRC take over at once (a re-INVITE is when media servers switch source).
     */
    public void updateSipRemote(InetSocketAddress rtp, InetSocketAddress rtcp, boolean rtcpMux) {
        sip.setRemote(rtp, rtcp, rtcpMux);
        toBrowser.rewriter.expectSourceChange();
    }

    /** After a browser renegotiation that may restart its sending stream. */
    public void browserSourceMayChange() {
        toSip.rewriter.expectSourceChange();
    }

    /** New payload type numbers after a re-negotiation; packets already in flight use either map. */
    public void setPayloadTypes(PayloadTypeMap browserToSip, PayloadTypeMap sipToBrowser) {
        toSip.payloadTypes = Objects.requireNonNull(browserToSip);
        toBrowser.payloadTypes = Objects.requireNonNull(sipToBrowser);
    }

    /** Hook for the SRTP layer (any thread): a browser packet failed authentication. */
    public void srtpAuthFailure() {
        toSip.stats.srtpAuthFailure();
    }

    /** Hook for the SRTP layer (any thread): a replayed browser packet. */
    public void srtpReplay() {
        toSip.stats.srtpReplay();
    }

    public Kind kind() {
        return kind;
    }

    /** Whether the SIP side negotiated telephone-event (RFC 4733) on this m-line. */
    public boolean canSendTelephoneEvents() {
        return toSip.payloadTypes.telephoneEventOut() >= 0;
    }

    /**
     * Sends DTMF {@code digits} to the SIP side as RFC 4733 events in this relay's stream (see
     * {@link TelephoneEventInjector}), paced on {@code timer}. False when telephone-event was not negotiated,
     * too many digits are waiting, or the relay is closed.
     */
    public boolean sendTelephoneEvents(String digits, int durationMs, ScheduledExecutorService timer) {
        PayloadTypeMap map = toSip.payloadTypes;
        int pt = map.telephoneEventOut();
        return pt >= 0 && events.send(digits, durationMs, pt, map.telephoneEventClockRate(), timer);
    }

    public Stats stats() {
        return new Stats(kind == Kind.AUDIO ? "audio" : "video", toSip.snapshot(0),
                toBrowser.snapshot(sip.droppedForeignSource()));
    }

    public PlainRtpEndpoint sipEndpoint() {
        return sip;
    }

    /**
     * Whether a compound RTCP packet from the browser (after SRTCP) belongs to this m-line: sent by the
     * browser source this relay forwards, or about the stream it sends to the browser. BUNDLE carries every
     * m-line's RTCP on one transport, so the integrator must tell them apart by SSRC (RFC 8843 §9.2).
     */
    public boolean ownsBrowserRtcp(byte[] b, int off, int len) {
        if (off < 0 || len <= 0 || off + len > b.length || !RtcpPacket.isValidCompound(b, off, len)) {
            return false;
        }
        StreamRewriter.Mapping source = toSip.rewriter.mapping();
        return RtcpPacket.concerns(b, off, len, source != null, source == null ? 0 : source.inSsrc(),
                toBrowser.rewriter.outSsrc());
    }

    /**
     * One packet from the browser, after SRTP/SRTCP unprotect. {@code rtcp} as the transport demultiplexed
     * it (RFC 5761 §4). The buffer is copied, not kept. Never throws for a bad packet.
     */
    public void fromBrowser(byte[] b, int off, int len, boolean isRtcp) {
        RelayDirection d = toSip;
        if (!mediaAllowed) {
            d.stats.gated();
            return;
        }
        try {
            if (len <= 0 || len > MAX_BROWSER_PACKET || off < 0 || off + len > b.length) {
                d.stats.malformed();
                return;
            }
            long now = nanoClock.getAsLong();
            if (isRtcp) {
                if (!RtcpPacket.isValidCompound(b, off, len)) {
                    d.stats.malformed();
                    return;
                }
                byte[] out = toSipRtcp;
                System.arraycopy(b, off, out, 0, len);
                int n = rtcp.translate(out, 0, len, d, toBrowser, true, now);
                if (n > 0) {
                    if (sip.sendRtcp(out, 0, n)) {
                        d.stats.rtcpForwarded(n);
                    } else {
                        d.stats.sendFailed();
                    }
                }
            } else {
                if (RtpPacket.headerLength(b, off, len) < 0) {
                    d.stats.malformed();
                    return;
                }
                TelephoneEventInjector inj = events;
                inj.enter();
                try {
                    if (inj.engaged() && !inj.admit()) {
                        d.stats.gated(); // gateway-generated DTMF owns the stream for now
                        return;
                    }
                    byte[] out = toSipRtp;
                    System.arraycopy(b, off, out, 0, len);
                    int n = d.rtp(out, 0, len, now);
                    if (n > 0 && !sip.sendRtp(out, 0, n)) {
                        d.stats.sendFailed();
                    }
                    if (n > 0 && d.newSource && keyframeRequests) {
                        requestKeyframeFromBrowser();
                    }
                } finally {
                    inj.exit();
                }
            }
        } catch (RuntimeException e) {
            d.stats.malformed(); // a bug must not reach the transport's loop; the packet is lost, the call goes on
        }
    }

    private void fromSipRtp(byte[] b, int off, int len) {
        RelayDirection d = toBrowser;
        if (!mediaAllowed) {
            d.stats.gated();
            return;
        }
        if (off + len + SENDER_TAILROOM > b.length || RtpPacket.headerLength(b, off, len) < 0) {
            d.stats.malformed();
            return;
        }
        int n = d.rtp(b, off, len, nanoClock.getAsLong());
        if (n > 0) {
            browserRtp.send(b, off, n);
        }
    }

    private void fromSipRtcp(byte[] b, int off, int len) {
        RelayDirection d = toBrowser;
        if (!mediaAllowed) {
            d.stats.gated();
            return;
        }
        if (off + len + SENDER_TAILROOM > b.length || !RtcpPacket.isValidCompound(b, off, len)) {
            d.stats.malformed();
            return;
        }
        int n = rtcp.translate(b, off, len, d, toSip, false, nanoClock.getAsLong());
        if (n > 0) {
            browserRtcp.send(b, off, n);
            d.stats.rtcpForwarded(n);
        }
    }

    /**
     * The SIP side has just started receiving the browser's video, mid-stream: what the browser sent before
     * the gate opened (DTLS not done yet) and the new source's probation packet were dropped, so the first
     * keyframe may be incomplete, and a plain RTP/AVP peer may never ask for another (no RTCP feedback,
     * RFC 4585). A decoder can only start at a keyframe, so ask the browser for one on its behalf.
     */
    private void requestKeyframeFromBrowser() {
        StreamRewriter.Mapping source = toSip.rewriter.mapping();
        int n = RtcpPacket.writeKeyframeRequest(keyframeRequest, 0, toBrowser.rewriter.outSsrc(), source.inSsrc());
        browserRtcp.send(keyframeRequest, 0, n);
    }

    /** Stops the SIP side and returns its ports. The browser-side senders belong to the integrator. */
    @Override
    public void close() {
        mediaAllowed = false;
        events.close();
        sip.close();
    }
}
