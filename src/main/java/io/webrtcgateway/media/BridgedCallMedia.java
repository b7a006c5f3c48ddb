package io.webrtcgateway.media;

import io.webrtcgateway.call.CallMedia;
import io.webrtcgateway.error.ErrorCode;
import io.webrtcgateway.error.GatewayException;
import io.webrtcgateway.media.dtls.DtlsCertificate;
import io.webrtcgateway.media.dtls.DtlsFailure;
import io.webrtcgateway.media.dtls.DtlsFingerprint;
import io.webrtcgateway.media.dtls.DtlsListener;
import io.webrtcgateway.media.dtls.DtlsRole;
import io.webrtcgateway.media.dtls.DtlsSetup;
import io.webrtcgateway.media.dtls.DtlsSrtpKeys;
import io.webrtcgateway.media.dtls.DtlsTransport;
import io.webrtcgateway.media.dtls.PacketKind;
import io.webrtcgateway.media.ice.IceTransport;
import io.webrtcgateway.media.rtp.MediaRelay;
import io.webrtcgateway.media.rtp.PayloadTypeMap;
import io.webrtcgateway.media.rtp.PlainRtpEndpoint;
import io.webrtcgateway.media.rtp.RtpPortsExhaustedException;
import io.webrtcgateway.media.rtp.StreamStats;
import io.webrtcgateway.media.srtp.SdesCrypto;
import io.webrtcgateway.media.srtp.SrtpSession;
import io.webrtcgateway.sdp.Attribute;
import io.webrtcgateway.sdp.BridgePlan;
import io.webrtcgateway.sdp.Direction;
import io.webrtcgateway.sdp.Fingerprint;
import io.webrtcgateway.sdp.GatewayOffer;
import io.webrtcgateway.sdp.MediaDescription;
import io.webrtcgateway.sdp.NegotiatedCodec;
import io.webrtcgateway.sdp.NegotiatedMedia;
import io.webrtcgateway.sdp.Negotiation;
import io.webrtcgateway.sdp.Origin;
import io.webrtcgateway.sdp.SdpException;
import io.webrtcgateway.sdp.SdpParser;
import io.webrtcgateway.sdp.SdpWriter;
import io.webrtcgateway.sdp.SessionDescription;
import io.webrtcgateway.sdp.SetupRole;
import io.webrtcgateway.sdp.SipMediaEndpoint;
import io.webrtcgateway.sdp.SipSrtp;
import io.webrtcgateway.sdp.SipToWebRtc;
import io.webrtcgateway.sdp.WebRtcToSip;
import io.webrtcgateway.sdp.WebRtcTransportParams;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One call's media bridge, the one place where the layers are plugged together:
 * <pre>
 * browser ⇄ ICE ⇄ demux (RFC 7983) ⇄ DTLS (keys) / SRTP-SRTCP ⇄ MediaRelay per m-line ⇄ PlainRtpEndpoint ⇄ SIP side
 * </pre>
 * SDP for both legs comes from the pure {@code sdp} translators with this call's ports, ICE credentials
 * and DTLS certificate (the instance's when the call began). Nothing is forwarded before ICE and DTLS (or SDES
 * keys) are up (SPEC §6). With SRTP toward SIP (gateway.sip.srtp) each SIP-side endpoint also holds its m-line's
 * SDES session ({@link SipKeying}): browser SRTP is decrypted on the way in, re-encrypted with the SIP leg's keys
 * on the way out, and the other way round.
 *
 * <p>SDP methods run on the call's executor. Packets run on the ICE receive thread (browser -> SIP) and
 * the RTP receive loops (SIP -> browser); they share only volatile references and one per-call lock around
 * SRTP protect (its send context is single-threaded; audio and video relays may sit on two loops).
 */
final class BridgedCallMedia implements CallMedia {
    private static final Logger LOG = LoggerFactory.getLogger(BridgedCallMedia.class);
    private static final Set<String> DIRECTIONS = Set.of("sendrecv", "sendonly", "recvonly", "inactive");
    /** The port given the translator for a re-offered section its answer rejects (port 0 is written instead). */
    private static final int UNUSED_PORT = 9;

    private final MediaEngine engine;
    private final String callId;
    /**
     * The instance's certificate when the call began, kept to its end although the instance's may be replaced
     * (DtlsService.replaceCertificate): its handshake shows it and every a=fingerprint the call writes (first
     * answer or offer, ICE-restart and legacy re-answers) announces it, so a re-answer never names a certificate
     * the call's DTLS association does not have.
     */
    private final DtlsCertificate certificate;
    private final Object protectLock = new Object();
    /**
     * The SIP-side endpoint of each m-line that has had one (index as in both legs' SDPs, which keep every
     * m-line in order): every endpoint the call opened, each closed with it. Kept when a re-offer disables the
     * stream, so enabling it again reuses the port.
     */
    private final Map<Integer, PlainRtpEndpoint> endpointByMline = new HashMap<>();
    private volatile List<MediaRelay> relays = List.of();
    /** Browser payload type -> relay (BUNDLE demux); null entries drop. */
    private volatile MediaRelay[] relayByPayloadType = new MediaRelay[128];
    private volatile SrtpSession srtp;
    private volatile Consumer<State> stateListener = s -> { };
    private volatile State state = State.NEW;
    /** Encoding name of the first negotiated audio codec; written on the call's executor. */
    private volatile String audioCodec;

    // Confined to the call's executor (and set before the transports that read them start).
    private IceTransport ice;
    private DtlsTransport dtls;
    private DtlsRole dtlsRole;
    private List<DtlsFingerprint> remoteFingerprints = List.of();
    private SdesCrypto localCrypto;
    private SessionDescription browserSdp;
    private SessionDescription sipLocal;
    private SessionDescription sipRemote;
    private WebRtcTransportParams localParams;
    private Origin browserOrigin;
    private Origin sipOrigin;
    /** SDES keys of the SIP leg; replaced once the SIP transport is known ({@link #sipTransport}). */
    private SipKeying sipKeys;
    private boolean iceStarted;
    /** Remote candidates given to the current ICE generation (gateway.limits.max-candidates-per-call). */
    private int remoteCandidates;
    private volatile boolean closed;
    private long droppedBeforeKeys;

    BridgedCallMedia(MediaEngine engine, String callId) {
        this.engine = engine;
        this.callId = callId;
        this.certificate = engine.dtls().certificate();
        long sid = engine.nextSessionId();
        this.browserOrigin = Origin.of("webrtc-gateway", sid, 1, "127.0.0.1");
        this.sipOrigin = Origin.of("webrtc-gateway", sid, 1, engine.sipMediaAddress());
        this.sipKeys = new SipKeying(engine.sipSrtpFor(null), engine.random());
    }

    @Override
    public void sipTransport(String transport) {
        sipKeys = new SipKeying(engine.sipSrtpFor(transport), engine.random());
    }

    /** The SIP leg's SDP endpoint: our address, these ports, and SDES a=crypto values by m-line. */
    private SipMediaEndpoint sipEndpoint(List<Integer> ports, Map<Integer, List<String>> crypto, boolean secure) {
        return new SipMediaEndpoint(engine.sipMediaAddress(), ports, crypto, secure);
    }

    // ---- outgoing: browser offers ---------------------------------------------------------------------

    @Override
    public String sipOfferFor(String browserOffer) {
        SessionDescription offer = parse(browserOffer);
        BridgePlan plan = BridgePlan.ofWebRtcOffer(offer);
        WebRtcTransportParams browser = WebRtcTransportParams.fromBrowser(offer);
        checkCandidateCount(browser.candidates()); // before any port is taken
        sipKeys.requireOfferable();
        List<Integer> bridged = bridgedIndexes(plan);
        List<Integer> ports = openEndpoints(bridged);
        sipLocal = WebRtcToSip.offer(offer, sipEndpoint(ports, sipKeys.offerLines(bridged), sipKeys.offersSecureProfile()),
                sipOrigin);
        browserSdp = offer;
        openIce(false, browser);
        if (browser.fingerprint() != null) {
            // We answer the browser's setup (actpass -> active: we are the DTLS client, RFC 5763 §5).
            SetupRole ours = SetupRole.answerFor(browser.setup());
            dtlsRole = DtlsSetup.parse(ours.attributeValue()).localRole();
            remoteFingerprints = List.of(toDtls(browser.fingerprint()));
            localParams = WebRtcTransportParams.dtls(ice.localUfrag(), ice.localPassword(), fingerprint(), ours,
                    ice.localCandidates());
        } else {
            SdesCrypto remote = SdesCrypto.firstSupported(browser.crypto()).orElseThrow(() -> new SdpException(
                    SdpException.Reason.MISSING_KEYING, "no supported a=crypto suite in the browser's offer"));
            localCrypto = remote.answer(engine.random());
            srtp = SrtpSession.fromSdes(localCrypto, remote);
            localParams = WebRtcTransportParams.sdes(ice.localUfrag(), ice.localPassword(), localCrypto.attributeValue(),
                    ice.localCandidates());
        }
        return SdpWriter.write(sipLocal);
    }

    @Override
    public String browserAnswerFor(String sipAnswer) {
        SessionDescription answer = parse(sipAnswer);
        Map<Integer, SipKeying.Keys> keys = sipKeys.answered(sipLocal, answer); // checked before anything changes
        SessionDescription forBrowser = SipToWebRtc.answer(browserSdp, answer, localParams, browserOrigin);
        browserOrigin = browserOrigin.nextVersion();
        sipRemote = answer;
        sipKeys.commit(keys);
        applyNegotiation(Negotiation.of(browserSdp, sipLocal, sipRemote));
        startIce();
        return SdpWriter.write(forBrowser);
    }

    // ---- incoming: SIP Server offers ------------------------------------------------------------------

    @Override
    public String browserOfferFor(String sipOffer) {
        SessionDescription offer;
        List<Integer> ports;
        if (sipOffer == null) {
            // Delayed offer (RFC 3261 §13.2.1): the browser gets our offer of every bridged codec; what it
            // accepts becomes our offer in the 200 OK, answered in the ACK.
            sipKeys.requireOfferable();
            ports = openEndpoints(List.of(0));
            offer = GatewayOffer.audio(sipEndpoint(ports, sipKeys.offerLines(List.of(0)),
                    sipKeys.offersSecureProfile()), sipOrigin);
            gatewayOffer = offer;
        } else {
            offer = parse(sipOffer);
            ports = openEndpoints(bridgedIndexes(BridgePlan.ofSipOffer(offer, sipKeys.policy())));
            sipRemote = offer;
        }
        openIce(true, null);
        localParams = WebRtcTransportParams.dtls(ice.localUfrag(), ice.localPassword(), fingerprint(),
                SetupRole.ACTPASS, ice.localCandidates());
        SessionDescription forBrowser = SipToWebRtc.offer(offer, localParams, browserOrigin, List.of(),
                sipKeys.policy());
        browserOrigin = browserOrigin.nextVersion();
        pendingPorts = ports;
        return SdpWriter.write(forBrowser);
    }

    private List<Integer> pendingPorts = List.of();
    /** Delayed offer: the SDP the browser's offer was made from (never sent as such), else null. */
    private SessionDescription gatewayOffer;

    @Override
    public String sipAnswerFor(String browserAnswer) {
        SessionDescription answer = parse(browserAnswer);
        WebRtcTransportParams browser = WebRtcTransportParams.fromBrowser(answer);
        checkCandidateCount(browser.candidates());
        if (browser.fingerprint() == null) {
            throw new SdpException(SdpException.Reason.MISSING_KEYING, "the answer to a DTLS-SRTP offer needs a=fingerprint");
        }
        dtlsRole = DtlsSetup.offererRole(DtlsSetup.parse(browser.setup().attributeValue()));
        remoteFingerprints = List.of(toDtls(browser.fingerprint()));
        // Delayed offer: the "answer" to our own offer is our offer toward SIP; SIP's answer comes later.
        SessionDescription offer = gatewayOffer != null ? gatewayOffer : sipRemote;
        // Our keys: a delayed offer's 200 offers the lines of the gateway's offer; else the answer to SIP's lines.
        Map<Integer, SipKeying.Keys> keys = gatewayOffer != null ? Map.of()
                : sipKeys.answer(BridgePlan.ofSipOffer(offer, sipKeys.policy()));
        Map<Integer, List<String>> crypto = gatewayOffer != null ? cryptoLines(gatewayOffer) : SipKeying.lines(keys);
        sipLocal = WebRtcToSip.answer(offer, answer, sipEndpoint(pendingPorts, crypto, false), sipOrigin,
                sipKeys.policy());
        browserSdp = answer;
        ice.setRemoteCredentials(browser.iceUfrag(), browser.icePwd());
        addCandidates(browser.candidates());
        if (gatewayOffer == null) {
            sipKeys.commit(keys);
            applyNegotiation(Negotiation.of(browserSdp, sipLocal, sipRemote));
        }
        startIce();
        return SdpWriter.write(sipLocal);
    }

    // ---- re-negotiation -------------------------------------------------------------------------------

    @Override
    public String answerSipReoffer(String sipOffer) {
        if (sipOffer == null) {
            // Delayed-offer re-INVITE (3PCC): offer what we have, a new version of it.
            sipOrigin = sipOrigin.nextVersion();
            sipLocal = withCrypto(withOrigin(sipLocal, sipOrigin), sipKeys.linesInForce());
            return SdpWriter.write(sipLocal);
        }
        SessionDescription offer = parse(sipOffer);
        BridgePlan plan = BridgePlan.ofSipOffer(offer, sipKeys.policy());
        List<Integer> ports = reofferPorts(plan);
        // A re-offer keeping the peer's key keeps ours; a new key of the peer's gets a new one (SipKeying).
        Map<Integer, SipKeying.Keys> keys = sipKeys.answer(plan);
        SessionDescription answer = WebRtcToSip.answer(offer, browserSdp,
                sipEndpoint(ports, SipKeying.lines(keys), false), sipOrigin.nextVersion(), sipKeys.policy());
        sipOrigin = sipOrigin.nextVersion();
        sipLocal = answer;
        sipRemote = offer;
        sipKeys.commit(keys);
        applyNegotiation(Negotiation.of(browserSdp, sipLocal, sipRemote));
        return SdpWriter.write(sipLocal);
    }

    @Override
    public String sipReoffer(boolean hold) {
        sipOrigin = sipOrigin.nextVersion();
        // RFC 3264 §8.4: hold is a re-offer with sendonly on the held streams; resume offers sendrecv again.
        // SRTP: the keys in force, one line each (RFC 4568 §7.1.4), not the first offer's alternatives.
        sipLocal = withDirection(withCrypto(withOrigin(sipLocal, sipOrigin), sipKeys.linesInForce()),
                hold ? Direction.SENDONLY : Direction.SENDRECV);
        return SdpWriter.write(sipLocal);
    }

    @Override
    public void applySipReanswer(String sipAnswer) {
        SessionDescription answer = parse(sipAnswer);
        Negotiation negotiation = Negotiation.of(browserSdp, sipLocal, answer);
        if (negotiation.audio().isEmpty()) {
            // Checked before anything changes: a refused answer leaves the media as it was.
            throw new SdpException(SdpException.Reason.NO_COMMON_CODEC,
                    "the SIP answer leaves no audio bridged (no codec of our offer, or audio rejected)");
        }
        Map<Integer, SipKeying.Keys> keys = sipKeys.answered(sipLocal, answer);
        sipRemote = answer;
        sipKeys.commit(keys);
        applyNegotiation(negotiation);
    }

    @Override
    public String answerBrowserReoffer(String browserOffer) {
        SessionDescription offer = parse(browserOffer);
        WebRtcTransportParams browser = WebRtcTransportParams.fromBrowser(offer);
        WebRtcTransportParams previous = WebRtcTransportParams.fromBrowser(browserSdp);
        if (!browser.iceUfrag().equals(previous.iceUfrag())) {
            checkCandidateCount(browser.candidates());
            // ICE restart (RFC 8445 §9): new credentials both ways, same DTLS association.
            try {
                ice.restart(false);
            } catch (IOException e) {
                throw new GatewayException(ErrorCode.INTERNAL, "ICE restart failed: " + e.getMessage());
            }
            ice.setRemoteCredentials(browser.iceUfrag(), browser.icePwd());
            remoteCandidates = 0; // a new ICE generation
            addCandidates(browser.candidates());
            ice.start();
        }
        // Keep our DTLS role: a re-offer says actpass again, but the association stays as it is.
        SetupRole ours = dtlsRole == DtlsRole.CLIENT ? SetupRole.ACTIVE : SetupRole.PASSIVE;
        localParams = localCrypto != null
                ? WebRtcTransportParams.sdes(ice.localUfrag(), ice.localPassword(), localCrypto.attributeValue(),
                        ice.localCandidates())
                : WebRtcTransportParams.dtls(ice.localUfrag(), ice.localPassword(), fingerprint(), ours,
                        ice.localCandidates());
        SessionDescription forBrowser = SipToWebRtc.answer(offer, sipRemote, localParams, browserOrigin);
        browserOrigin = browserOrigin.nextVersion();
        browserSdp = offer;
        relays.forEach(MediaRelay::browserSourceMayChange);
        return SdpWriter.write(forBrowser);
    }

    @Override
    public void addBrowserCandidate(String candidate, int mLineIndex) {
        if (ice == null) {
            throw new GatewayException(ErrorCode.WRONG_STATE, "no ICE transport yet");
        }
        int mlines = browserMediaSections();
        if (mLineIndex < 0 || mLineIndex >= mlines) {
            // BUNDLE: every candidate is the one transport's, whatever its index; but an index must name an m-line.
            throw new GatewayException(ErrorCode.BAD_REQUEST, "sdpMLineIndex " + mLineIndex
                    + " names no m-line of the call's offer (it has " + mlines + ")");
        }
        if (candidate == null) {
            ice.endOfRemoteCandidates();
            return;
        }
        if (remoteCandidates >= engine.maxCandidatesPerCall()) {
            throw new GatewayException(ErrorCode.BAD_REQUEST, "this call has " + remoteCandidates
                    + " remote ICE candidates already, the most gateway.limits.max-candidates-per-call allows");
        }
        try {
            ice.addRemoteCandidate(candidate);
            remoteCandidates++;
        } catch (IllegalArgumentException e) {
            throw new GatewayException(ErrorCode.BAD_REQUEST, e.getMessage());
        }
    }

    /** m-lines of the browser's SDP; before its answer to our offer, of that offer (the same m-lines). */
    private int browserMediaSections() {
        SessionDescription sdp = browserSdp != null ? browserSdp : gatewayOffer != null ? gatewayOffer : sipRemote;
        return sdp == null ? 1 : sdp.media().size();
    }

    /** A browser's SDP with more candidates than a call takes is refused as a whole (BAD_SDP), before anything. */
    private void checkCandidateCount(List<String> candidates) {
        if (candidates.size() > engine.maxCandidatesPerCall()) {
            throw new SdpException(SdpException.Reason.TOO_LARGE, "the SDP has " + candidates.size()
                    + " ICE candidates; at most " + engine.maxCandidatesPerCall()
                    + " (gateway.limits.max-candidates-per-call)");
        }
    }

    /** An SDP from outside, bounded (gateway.limits.max-sdp-bytes, max-media-sections) before it is parsed. */
    private SessionDescription parse(String sdp) {
        return SdpParser.parse(sdp, engine.sdpLimits());
    }

    @Override
    public boolean sendDtmf(String digits, int durationMs) {
        List<MediaRelay> all = relays;
        MediaRelay audio = all.stream().filter(r -> r.kind() == MediaRelay.Kind.AUDIO).findFirst().orElse(null);
        if (audio == null || !audio.canSendTelephoneEvents()) {
            return false;
        }
        if (!audio.mediaAllowed()) {
            // SPEC §6: nothing goes to the SIP side before ICE and DTLS are up.
            throw new GatewayException(ErrorCode.WRONG_STATE, "the call's media is not up yet (ICE/DTLS); "
                    + "send DTMF once it is");
        }
        if (!audio.sendTelephoneEvents(digits, durationMs, engine.timers())) {
            throw new GatewayException(ErrorCode.WRONG_STATE, "too many DTMF digits are still waiting to be sent; "
                    + "try again when they are out");
        }
        return true;
    }

    @Override
    public Activity activity() {
        long fromBrowser = 0;
        long fromSip = 0;
        for (MediaRelay r : relays) {
            MediaRelay.Stats st = r.stats();
            fromBrowser += received(st.browserToSip());
            fromSip += received(st.sipToBrowser());
        }
        boolean oneWay = notSendrecv(sipLocal) || notSendrecv(sipRemote) || notSendrecv(browserSdp);
        return new Activity(fromBrowser, fromSip, oneWay);
    }

    /**
     * Packets that came from the side's accepted source, whether or not they could be forwarded (gated: also
     * the browser's audio held back while the gateway sends DTMF in its place).
     */
    private static long received(StreamStats.Snapshot s) {
        return s.packets() + s.rtcpPackets() + s.drops().unknownSsrc() + s.drops().unknownPayloadType()
                + s.drops().gated();
    }

    /** Hold in either direction (RFC 3264 §8.4): some active section is sendonly, recvonly or inactive. */
    private static boolean notSendrecv(SessionDescription sdp) {
        if (sdp == null) {
            return false;
        }
        for (MediaDescription m : sdp.media()) {
            if (m.isActive() && Direction.effective(sdp, m) != Direction.SENDRECV) {
                return true;
            }
        }
        return false;
    }

    @Override
    public void onState(Consumer<State> listener) {
        stateListener = listener;
    }

    @Override
    public void onDtmf(Consumer<Character> listener) {
        // RFC 4733 from the SIP side is relayed to the browser in the media (telephone-event mapped).
    }

    @Override
    public String codec() {
        return audioCodec;
    }

    @Override
    public Map<String, Object> stats() {
        Map<String, Object> s = new LinkedHashMap<>();
        s.put("media", state.name().toLowerCase());
        if (ice != null) {
            s.put("ice", ice.stats());
        }
        if (dtls != null) {
            s.put("dtls", dtls.state().name().toLowerCase());
        }
        SrtpSession keys = srtp;
        if (keys != null) {
            s.put("srtp", Map.of("profile", keys.profile().name(), "authFailures", keys.counters().authFailures(),
                    "replayDropped", keys.counters().replayDropped()));
        }
        s.put("droppedBeforeKeys", droppedBeforeKeys);
        List<Map<String, Object>> sipSrtp = sipKeys.stats();
        if (!sipSrtp.isEmpty()) {
            s.put("sipSrtp", sipSrtp); // SRTP toward SIP, per keyed m-line
        }
        List<Object> streams = new ArrayList<>();
        for (MediaRelay r : relays) {
            streams.add(r.stats());
        }
        s.put("streams", streams);
        return s;
    }

    @Override
    public List<StreamCounters> counters() {
        List<MediaRelay> all = relays;
        List<StreamCounters> out = new ArrayList<>(all.size());
        for (MediaRelay r : all) {
            MediaRelay.Stats st = r.stats();
            out.add(new StreamCounters(st.kind(), flow(st.browserToSip()), flow(st.sipToBrowser())));
        }
        return out;
    }

    private static Flow flow(StreamStats.Snapshot s) {
        return new Flow(s.packets(), s.bytes(), s.lost(), s.jitterMs(), s.rttMs());
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (ice != null) {
            ice.close();
        }
        if (dtls != null) {
            dtls.close();
        }
        for (MediaRelay r : relays) {
            r.close();
        }
        for (PlainRtpEndpoint e : endpointByMline.values()) {
            e.close();
        }
        LOG.debug("call {}: media closed", callId);
    }

    // ---- plumbing -------------------------------------------------------------------------------------

    /** Opens a SIP-side endpoint for each of these m-lines; their RTP ports, in the same order. */
    private List<Integer> openEndpoints(List<Integer> mlines) {
        List<Integer> ports = new ArrayList<>();
        for (int index : mlines) {
            ports.add(openEndpoint(index).localRtpPort());
        }
        return ports;
    }

    private PlainRtpEndpoint openEndpoint(int mline) {
        try {
            PlainRtpEndpoint e = PlainRtpEndpoint.open(engine.ports(), engine.loops(), engine.sipSourcePolicy());
            endpointByMline.put(mline, e);
            return e;
        } catch (IOException e) {
            if (e instanceof RtpPortsExhaustedException) {
                engine.portsExhausted();
            }
            throw new GatewayException(ErrorCode.TOO_MANY_CALLS, "no media ports: " + e.getMessage());
        }
    }

    private static List<Integer> bridgedIndexes(BridgePlan plan) {
        return plan.sections().stream().filter(BridgePlan.PlannedSection::bridged)
                .map(BridgePlan.PlannedSection::index).toList();
    }

    /**
     * A SIP re-offer may add m-lines, disable one (port 0) or enable one again (RFC 3264 §8): one RTP port per
     * section it bridges, in order. The browser's session stays as it is, so a section only gets media when
     * the browser has that m-line active: then its endpoint's port (opened now if the m-line never had one,
     * e.g. video SIP Server first declined); else the translator answers it with port 0 and the number given
     * here is never written.
     */
    private List<Integer> reofferPorts(BridgePlan plan) {
        List<Integer> ports = new ArrayList<>();
        for (int index : bridgedIndexes(plan)) {
            MediaDescription b = index < browserSdp.media().size() ? browserSdp.media().get(index) : null;
            PlainRtpEndpoint e = endpointByMline.get(index);
            if (e == null && b != null && b.isActive()) {
                e = openEndpoint(index);
            }
            ports.add(e == null ? UNUSED_PORT : e.localRtpPort());
        }
        return ports;
    }

    private void openIce(boolean controlling, WebRtcTransportParams browser) {
        try {
            ice = new IceTransport(engine.ice(), controlling, null, engine.loops());
        } catch (IOException e) {
            if (e instanceof java.net.BindException) {
                engine.portsExhausted(); // HostSocket: no free port of the range on an ICE address
            }
            throw new GatewayException(ErrorCode.TOO_MANY_CALLS, "no ICE ports: " + e.getMessage());
        }
        ice.setReceiver(this::fromBrowser);
        ice.onStateChange(this::onIceState);
        if (browser != null) {
            ice.setRemoteCredentials(browser.iceUfrag(), browser.icePwd());
            addCandidates(browser.candidates());
        }
    }

    private void addCandidates(List<String> candidates) {
        for (String c : candidates) {
            try {
                ice.addRemoteCandidate(c);
                remoteCandidates++;
            } catch (IllegalArgumentException e) {
                LOG.debug("call {}: candidate ignored: {}", callId, e.getMessage());
            }
        }
    }

    private void startIce() {
        if (iceStarted) {
            return;
        }
        iceStarted = true;
        if (dtlsRole != null) {
            dtls = engine.dtls().newTransport(certificate, ice.sender(), new DtlsListener() {
                @Override
                public void onHandshakeComplete(DtlsSrtpKeys keys) {
                    srtp = keys.newSrtpSession();
                    relays.forEach(MediaRelay::allowMedia);
                    LOG.info("call {}: DTLS-SRTP up ({})", callId, keys.profile());
                    setState(State.CONNECTED);
                }

                @Override
                public void onHandshakeFailed(DtlsFailure failure) {
                    LOG.info("call {}: DTLS failed: {}", callId, failure);
                    setState(State.FAILED);
                }
            });
        }
        setState(State.CONNECTING); // before the checks start: CONNECTED can only come after it
        ice.start();
    }

    private void onIceState(IceTransport.State s) {
        switch (s) {
            case CONNECTED -> {
                DtlsTransport d = dtls;
                if (d != null && d.state() == DtlsTransport.State.NEW) {
                    d.start(dtlsRole, remoteFingerprints);
                } else if (srtp != null) {
                    // SDES (keys came with the SDP), or ICE back after a restart: the DTLS keys stay (RFC 8842)
                    relays.forEach(MediaRelay::allowMedia);
                    setState(State.CONNECTED);
                }
            }
            // Consent lost (RFC 7675) or checks failed: the call decides whether the browser may still restart.
            case FAILED, DISCONNECTED -> setState(State.INTERRUPTED);
            default -> { }
        }
    }

    private void setState(State s) {
        if (closed || state == s || state == State.FAILED) {
            return;
        }
        state = s;
        stateListener.accept(s);
    }

    private void applyNegotiation(Negotiation negotiation) {
        List<MediaRelay> current = new ArrayList<>(relays);
        MediaRelay[] byPt = new MediaRelay[128];
        String codec = null;
        for (NegotiatedMedia m : negotiation.media()) {
            if (m.sipLocalRtpPort() == 0) {
                continue; // not bridged now: its relay (if any) gets no browser packets, the SIP side sends none
            }
            if (codec == null && m.active() && m.media().equals("audio")) {
                codec = m.codecs().stream().filter(c -> !c.isTelephoneEvent()).map(NegotiatedCodec::encodingName)
                        .findFirst().orElse(null);
            }
            PlainRtpEndpoint endpoint = endpointByMline.get(m.index());
            if (!m.active() || endpoint == null || endpoint.localRtpPort() != m.sipLocalRtpPort()) {
                continue;
            }
            endpoint.setSrtp(sipKeys.session(m.index())); // SDES keys of this m-line, or null: plain RTP
            PayloadTypeMap.Builder map = PayloadTypeMap.builder();
            for (NegotiatedCodec c : m.codecs()) {
                if (c.isTelephoneEvent()) {
                    map.telephoneEvent(c.browserPayloadType(), c.sipPayloadType(), c.clockRate());
                } else {
                    map.map(c.browserPayloadType(), c.sipPayloadType(), c.clockRate());
                }
            }
            PayloadTypeMap browserToSip = map.build();
            MediaRelay relay = current.stream().filter(r -> r.sipEndpoint() == endpoint).findFirst().orElse(null);
            if (relay == null) {
                int ssrcToSip = engine.random().nextInt();
                int ssrcToBrowser = engine.random().nextInt();
                relay = new MediaRelay(endpoint, this::protectRtpToBrowser, this::protectRtcpToBrowser,
                        m.media().equals("video") ? MediaRelay.Config.video(ssrcToSip, ssrcToBrowser, browserToSip)
                                : MediaRelay.Config.audio(ssrcToSip, ssrcToBrowser, browserToSip));
                try {
                    relay.start();
                } catch (IOException e) {
                    throw new GatewayException(ErrorCode.INTERNAL, "media relay not started: " + e.getMessage());
                }
                if (srtp != null && state == State.CONNECTED) {
                    relay.allowMedia();
                }
                current.add(relay);
            } else {
                relay.setPayloadTypes(browserToSip, browserToSip.reversed());
            }
            var remote = m.sipRemote();
            if (remote != null && !remote.isUnspecified()) {
                relay.updateSipRemote(new InetSocketAddress(remote.address(), remote.rtpPort()),
                        new InetSocketAddress(remote.address(), remote.rtcpPort()), false);
            }
            for (NegotiatedCodec c : m.codecs()) {
                if (c.browserPayloadType() >= 0 && c.browserPayloadType() < 128) {
                    byPt[c.browserPayloadType()] = relay;
                }
            }
        }
        relays = List.copyOf(current);
        relayByPayloadType = byPt;
        if (codec != null) {
            audioCodec = codec;
        }
    }

    /** ICE receive thread: one datagram from the browser. */
    private void fromBrowser(byte[] b, int off, int len) {
        switch (PacketKind.of(b, off, len)) {
            case DTLS -> {
                DtlsTransport d = dtls;
                if (d != null) {
                    d.receive(b, off, len);
                }
            }
            case RTP -> {
                SrtpSession keys = srtp;
                if (keys == null) {
                    droppedBeforeKeys++;
                    return;
                }
                int n = keys.unprotectRtp(b, off, len);
                if (n < 0) {
                    return; // counted by the SRTP session (auth, replay, malformed)
                }
                MediaRelay relay = relayByPayloadType[b[off + 1] & 0x7f];
                if (relay != null) {
                    relay.fromBrowser(b, off, n, false);
                }
            }
            case RTCP -> {
                SrtpSession keys = srtp;
                if (keys == null) {
                    droppedBeforeKeys++;
                    return;
                }
                int n = keys.unprotectRtcp(b, off, len);
                if (n > 0) {
                    rtcpFromBrowser(b, off, n);
                }
            }
            default -> {
                // STUN is ICE's; anything else was counted by the ICE layer
            }
        }
    }

    /**
     * BUNDLE carries the RTCP of every m-line on the one transport (RFC 8843 §9.2): a compound goes to each
     * relay whose streams it is about (its sender, report blocks, PLI/FIR), so video feedback reaches the
     * video relay. Each relay copies it and keeps only what concerns it; one nobody claims goes to the first
     * (audio) relay, which counts what it cannot use.
     */
    private void rtcpFromBrowser(byte[] b, int off, int n) {
        List<MediaRelay> all = relays;
        if (all.isEmpty()) {
            return;
        }
        if (all.size() == 1) {
            all.get(0).fromBrowser(b, off, n, true);
            return;
        }
        boolean claimed = false;
        for (MediaRelay r : all) {
            if (r.ownsBrowserRtcp(b, off, n)) {
                r.fromBrowser(b, off, n, true);
                claimed = true;
            }
        }
        if (!claimed) {
            all.get(0).fromBrowser(b, off, n, true);
        }
    }

    /** RTP receive loop: protect in place (the relay leaves tailroom) and send on the ICE pair. */
    private void protectRtpToBrowser(byte[] b, int off, int len) {
        SrtpSession keys = srtp;
        if (keys == null) {
            return;
        }
        synchronized (protectLock) {
            int n = keys.protectRtp(b, off, len);
            if (n > 0) {
                ice.sender().send(b, off, n);
            }
        }
    }

    private void protectRtcpToBrowser(byte[] b, int off, int len) {
        SrtpSession keys = srtp;
        if (keys == null) {
            return;
        }
        synchronized (protectLock) {
            int n = keys.protectRtcp(b, off, len);
            if (n > 0) {
                ice.sender().send(b, off, n);
            }
        }
    }

    /** Ours for the browser: the call's certificate, whatever the instance's is now. */
    private Fingerprint fingerprint() {
        String[] parts = certificate.fingerprint().split(" ", 2);
        return new Fingerprint(parts[0], parts[1]);
    }

    /**
     * The browser's a=fingerprint for the DTLS layer. The SDP layer takes any hash name and hex pairs; a hash
     * we cannot compute or a value of the wrong length is the browser's mistake, answered like a missing
     * fingerprint, not an internal error (found by WsRequestFuzzTest).
     */
    static DtlsFingerprint toDtls(Fingerprint f) {
        try {
            return DtlsFingerprint.parse(f.attributeValue());
        } catch (IllegalArgumentException e) {
            throw new SdpException(SdpException.Reason.MISSING_KEYING, "unusable a=fingerprint: " + e.getMessage());
        }
    }

    /**
     * The same SDP with {@code direction} on every active media section (replacing any direction attribute
     * there or at session level, which would otherwise apply to sections without one, RFC 8866 §6.7).
     */
    static SessionDescription withDirection(SessionDescription sdp, Direction direction) {
        List<MediaDescription> media = new ArrayList<>();
        for (MediaDescription m : sdp.media()) {
            if (!m.isActive()) {
                media.add(m);
                continue;
            }
            List<Attribute> attributes = new ArrayList<>(withoutDirection(m.attributes()));
            attributes.add(Attribute.flag(direction.attributeName()));
            media.add(new MediaDescription(m.media(), m.port(), m.portCount(), m.protocol(), m.formats(),
                    m.connection(), m.otherLines(), attributes));
        }
        return new SessionDescription(sdp.origin(), sdp.sessionName(), sdp.connection(), sdp.timing(),
                sdp.otherLines(), withoutDirection(sdp.attributes()), media);
    }

    private static List<Attribute> withoutDirection(List<Attribute> attributes) {
        return attributes.stream().filter(a -> !DIRECTIONS.contains(a.name().toLowerCase(Locale.ROOT)))
                .toList();
    }

    /** The a=crypto values of each section of {@code sdp} that has some, by m-line index. */
    static Map<Integer, List<String>> cryptoLines(SessionDescription sdp) {
        Map<Integer, List<String>> lines = new HashMap<>();
        for (int i = 0; i < sdp.media().size(); i++) {
            List<String> values = sdp.media().get(i).attributeValues("crypto");
            if (!values.isEmpty()) {
                lines.put(i, values);
            }
        }
        return lines;
    }

    /**
     * The same SDP with the a=crypto lines of each section that has some replaced by {@code lines} of its index
     * (a re-offer repeats only the keys in force); sections without an entry keep theirs.
     */
    static SessionDescription withCrypto(SessionDescription sdp, Map<Integer, List<String>> lines) {
        if (lines.isEmpty()) {
            return sdp;
        }
        List<MediaDescription> media = new ArrayList<>();
        for (int i = 0; i < sdp.media().size(); i++) {
            MediaDescription m = sdp.media().get(i);
            List<String> ours = lines.get(i);
            if (ours == null || !m.isActive()) {
                media.add(m);
                continue;
            }
            List<Attribute> attributes = new ArrayList<>(m.attributes().stream()
                    .filter(a -> !a.name().equalsIgnoreCase("crypto")).toList());
            ours.forEach(c -> attributes.add(new Attribute("crypto", c)));
            media.add(new MediaDescription(m.media(), m.port(), m.portCount(), m.protocol(), m.formats(),
                    m.connection(), m.otherLines(), attributes));
        }
        return new SessionDescription(sdp.origin(), sdp.sessionName(), sdp.connection(), sdp.timing(),
                sdp.otherLines(), sdp.attributes(), media);
    }

    /** The same SDP under a new o= line (its version bumped for a re-offer, RFC 3264 §8). */
    static SessionDescription withOrigin(SessionDescription sdp, Origin origin) {
        return new SessionDescription(origin, sdp.sessionName(), sdp.connection(), sdp.timing(), sdp.otherLines(),
                sdp.attributes(), sdp.media());
    }
}
