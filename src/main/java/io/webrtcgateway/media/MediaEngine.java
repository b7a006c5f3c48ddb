package io.webrtcgateway.media;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.webrtcgateway.call.CallMedia;
import io.webrtcgateway.call.CallMediaFactory;
import io.webrtcgateway.config.GatewayConfig;
import io.webrtcgateway.media.dtls.DtlsCertificate;
import io.webrtcgateway.media.dtls.DtlsCertificateFiles;
import io.webrtcgateway.media.dtls.DtlsFailure;
import io.webrtcgateway.media.dtls.DtlsService;
import io.webrtcgateway.media.ice.IceConfig;
import io.webrtcgateway.media.ice.IceRemoteDeny;
import io.webrtcgateway.media.ice.IceSystemProperties;
import io.webrtcgateway.media.rtp.RtpPortAllocator;
import io.webrtcgateway.media.rtp.SourcePolicy;
import io.webrtcgateway.media.rtp.UdpReceiveLoops;
import io.webrtcgateway.limits.CapacityRefusals;
import io.webrtcgateway.sdp.SdpLimits;
import io.webrtcgateway.sdp.SipSrtp;
import java.io.IOException;
import java.net.InetAddress;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.Executor;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The media resources of one gateway instance, owned by the application lifecycle: the DTLS certificate
 * (generated, or from gateway.media.dtls's files and rotated when they change) and handshake pool, ICE
 * settings, the SIP-side port allocator and receive loops. It makes one {@link BridgedCallMedia} per call.
 */
public final class MediaEngine implements CallMediaFactory, AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(MediaEngine.class);

    private final IceConfig ice;
    private final DtlsService dtls;
    /** gateway.media.dtls's files and their watch; null when the certificate was generated at start. */
    private final DtlsCertificateFiles certificateFiles;
    private final RtpPortAllocator ports;
    private final UdpReceiveLoops loops;
    private final SourcePolicy sipSourcePolicy;
    private final String sipMediaAddress;
    private final Executor events;
    /** Paces gateway-generated DTMF packets (one tiny task per packet); owned and shut down here. */
    private final ScheduledThreadPoolExecutor timers;
    private final SecureRandom random = new SecureRandom();
    /** gateway.limits: what the SDPs and candidates of one call may hold. */
    private final GatewayConfig.Inputs inputs;
    private final SdpLimits sdpLimits;
    /** gateway.sip.srtp and srtp-over-insecure-transport. */
    private final GatewayConfig.Sip.Srtp sipSrtp;
    private final AtomicLong sessionIds = new AtomicLong(System.currentTimeMillis());
    /** gateway_capacity_refusals_total{limit="rtp-ports"}: calls that found no free port in the range. */
    private final Counter portsExhausted;

    /**
     * @param inputs          bounds on the SDPs and candidates of a call (gateway.limits)
     * @param sipSrtp         SRTP toward SIP Server (gateway.sip.srtp)
     * @param sipMediaAddress the address written in SDP toward SIP Server (where it sends RTP)
     * @param events          where media callbacks are delivered (each call then posts to its own executor)
     * @param meters          the instance's registry (docs/metrics.md, ICE)
     */
    public MediaEngine(GatewayConfig.Media config, GatewayConfig.Inputs inputs, GatewayConfig.Sip.Srtp sipSrtp,
                       String sipMediaAddress, InetAddress sipBindAddress, Executor events, MeterRegistry meters)
            throws IOException {
        this.inputs = inputs;
        this.sipSrtp = sipSrtp;
        this.sdpLimits = new SdpLimits(inputs.maxSdpBytes(), inputs.maxMediaSections());
        this.ice = IceConfig.from(config);
        registerIceMeters(ice.remoteDeny(), meters);
        IceSystemProperties.apply(ice);
        this.certificateFiles = config.dtls().configured() ? new DtlsCertificateFiles(config.dtls()) : null;
        DtlsCertificate certificate = certificateFiles != null ? certificateFiles.first() : DtlsCertificate.generate();
        this.dtls = new DtlsService(certificate, Math.max(4, 4 * Runtime.getRuntime().availableProcessors()), 1024,
                Duration.ofSeconds(10));
        registerDtlsMeters(meters);
        registerHandshakeMeters(meters);
        this.ports = new RtpPortAllocator(sipBindAddress, config.rtpPortMin(), config.rtpPortMax());
        registerPortMeters(meters);
        this.portsExhausted = CapacityRefusals.counter(meters, CapacityRefusals.Limit.RTP_PORTS);
        this.loops = new UdpReceiveLoops("media", config.receiveThreads());
        this.sipSourcePolicy = sourcePolicy(config);
        this.sipMediaAddress = sipMediaAddress;
        this.events = events;
        this.timers = new ScheduledThreadPoolExecutor(1, r -> {
            Thread t = new Thread(r, "media-timer");
            t.setDaemon(true);
            return t;
        });
        LOG.info("media: DTLS certificate {} ({}), RTP ports {}-{} on {}, SDP address {}, SIP-side sources {}, {} receive "
                        + "thread(s), ICE {}", certificate.fingerprint(), certificateFiles != null ? "from files" : "generated",
                config.rtpPortMin(), config.rtpPortMax(), sipBindAddress.getHostAddress(), sipMediaAddress,
                config.sipSource().configName(), config.receiveThreads(), ice.remoteDeny());
        if (certificateFiles != null) {
            certificateFiles.start(dtls);
        }
    }

    static SourcePolicy sourcePolicy(GatewayConfig.Media config) {
        GatewayConfig.SipSource s = config.sipSource();
        if (s == GatewayConfig.SipSource.LEARNING) {
            return SourcePolicy.learning(config.learnPackets(), config.learnSilence());
        }
        return s.latching()
                ? new SourcePolicy(true, s.strict(), config.latchPackets(), config.latchWindow())
                : new SourcePolicy(false, s.strict(), 0, Duration.ZERO);
    }

    /** docs/metrics.md, "ICE": what gateway.media.ice-remote-deny kept ICE from doing. */
    private static void registerIceMeters(IceRemoteDeny deny, MeterRegistry meters) {
        for (IceRemoteDeny.Reason reason : IceRemoteDeny.Reason.values()) {
            FunctionCounter.builder("gateway.ice.remote.candidates.refused", deny, d -> d.candidatesRefused(reason))
                    .description("remote ICE candidates never checked: their address is denied")
                    .tag("reason", reason.label()).register(meters);
        }
        FunctionCounter.builder("gateway.ice.stun.refused", deny, IceRemoteDeny::stunDropped)
                .description("STUN datagrams dropped unanswered: they came from a denied address")
                .tag("direction", "in").register(meters);
        FunctionCounter.builder("gateway.ice.stun.refused", deny, IceRemoteDeny::sendsRefused)
                .description("STUN datagrams to a denied address stopped at the socket")
                .tag("direction", "out").register(meters);
    }

    /** docs/metrics.md, "DTLS": rotations of gateway.media.dtls's certificate (always 0 when it is generated). */
    private void registerDtlsMeters(MeterRegistry meters) {
        FunctionCounter.builder("gateway.dtls.certificate.reloads", this,
                        e -> e.certificateFiles == null ? 0 : e.certificateFiles.reloadsApplied())
                .description("changes of the DTLS certificate files taken: new calls get the new certificate")
                .tag("result", "applied").register(meters);
        FunctionCounter.builder("gateway.dtls.certificate.reloads", this,
                        e -> e.certificateFiles == null ? 0 : e.certificateFiles.reloadsRefused())
                .description("changes of the DTLS certificate files refused: new calls keep the certificate in use")
                .tag("result", "refused").register(meters);
    }

    /**
     * docs/metrics.md, "DTLS": handshakes that ended without keys, by why ({@link DtlsFailure.Reason}); a call's
     * DTLS failure also ends it (gateway_call_media_failures_total{cause="dtls-failed"}).
     */
    private void registerHandshakeMeters(MeterRegistry meters) {
        for (DtlsFailure.Reason reason : DtlsFailure.Reason.values()) {
            FunctionCounter.builder("gateway.dtls.handshake.failures", dtls, d -> d.counters().failures(reason))
                    .description("DTLS handshakes with browsers that ended without keys, by reason")
                    .tag("reason", reason.name().toLowerCase(Locale.ROOT).replace('_', '-')).register(meters);
        }
    }

    /**
     * docs/metrics.md, "Call media": the SIP-side RTP/RTCP port pairs of gateway.media.rtp-port-range in use, and how
     * many the range holds.
     */
    private void registerPortMeters(MeterRegistry meters) {
        Gauge.builder("gateway.rtp.port.pairs.used", ports, RtpPortAllocator::pairsInUse)
                .description("SIP-side RTP/RTCP port pairs of gateway.media.rtp-port-range in use").register(meters);
        Gauge.builder("gateway.rtp.port.pairs.limit", ports, RtpPortAllocator::pairsTotal)
                .description("RTP/RTCP port pairs gateway.media.rtp-port-range holds").register(meters);
    }

    /** A call found no free port of gateway.media.rtp-port-range (SIP side or ICE): counted. */
    void portsExhausted() {
        portsExhausted.increment();
    }

    /** The DTLS certificate new calls get now ({@code sha-256 AB:CD:...}): for operators (admin API). */
    public String dtlsFingerprint() {
        return dtls.certificate().fingerprint();
    }

    /** Whether that certificate comes from gateway.media.dtls's files (else it was generated at start). */
    public boolean dtlsCertificateFromFiles() {
        return certificateFiles != null;
    }

    @Override
    public CallMedia create(String callId) {
        return new BridgedCallMedia(this, callId);
    }

    /**
     * How a call whose SIP messages travel over {@code transport} ("udp", "tcp", "tls"; null: not known) may key
     * its SIP leg: SDES keys only over TLS unless gateway.sip.srtp-over-insecure-transport (RFC 4568 §8.3: the
     * keys are as secret as the signalling that carries them).
     */
    SipSrtp sipSrtpFor(String transport) {
        return sipSrtpFor(sipSrtp, transport);
    }

    static SipSrtp sipSrtpFor(GatewayConfig.Sip.Srtp sipSrtp, String transport) {
        SipSrtp.Mode mode = switch (sipSrtp.mode()) {
            case OFF -> SipSrtp.Mode.OFF;
            case OPTIONAL -> SipSrtp.Mode.OPTIONAL;
            case REQUIRED -> SipSrtp.Mode.REQUIRED;
        };
        if (mode == SipSrtp.Mode.OFF || sipSrtp.overInsecureTransport() || "tls".equalsIgnoreCase(transport)) {
            return new SipSrtp(mode, null);
        }
        return new SipSrtp(mode, "SDES keys (a=crypto) go into SDP only over SIP over TLS, and this call's SIP "
                + "transport is " + (transport == null ? "not known" : transport.toLowerCase(java.util.Locale.ROOT))
                + " (gateway.sip.srtp-over-insecure-transport = false)");
    }

    IceConfig ice() {
        return ice;
    }

    DtlsService dtls() {
        return dtls;
    }

    RtpPortAllocator ports() {
        return ports;
    }

    UdpReceiveLoops loops() {
        return loops;
    }

    SourcePolicy sipSourcePolicy() {
        return sipSourcePolicy;
    }

    String sipMediaAddress() {
        return sipMediaAddress;
    }

    Executor events() {
        return events;
    }

    ScheduledExecutorService timers() {
        return timers;
    }

    SecureRandom random() {
        return random;
    }

    /** How an SDP from outside is bounded before it is parsed. */
    SdpLimits sdpLimits() {
        return sdpLimits;
    }

    /** Remote ICE candidates one call's ICE generation takes at most. */
    int maxCandidatesPerCall() {
        return inputs.maxCandidatesPerCall();
    }

    long nextSessionId() {
        return sessionIds.incrementAndGet();
    }

    /** Ports in use / total, for readiness and metrics. */
    public int portPairsInUse() {
        return ports.pairsInUse();
    }

    public int portPairsTotal() {
        return ports.pairsTotal();
    }

    @Override
    public void close() {
        if (certificateFiles != null) {
            certificateFiles.close();
        }
        timers.shutdownNow();
        loops.close();
        dtls.close();
    }
}
