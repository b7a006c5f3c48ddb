package io.webrtcgateway.sdp;

import io.webrtcgateway.sdp.BridgePlan.PlannedSection;
import java.util.ArrayList;
import java.util.List;

/**
 * Browser SDP to plain SIP SDP: the browser's offer to the gateway's INVITE offer (outgoing calls), and the
 * browser's answer to the gateway's answer toward SIP (incoming calls). Pure functions.
 *
 * <p>What the SIP side gets: one session-level c= with the gateway's RTP address, {@code RTP/AVP} m-lines
 * with the gateway's ports, the bridged codecs with their payload types, a=rtpmap (static types too),
 * a=fmtp, a=ptime (the browser's, else 20 ms for audio), a=maxptime if given, and an explicit direction.
 * With SRTP toward SIP the profile and a=crypto come from {@link SipMediaEndpoint} (docs/sip.md "SRTP toward
 * SIP Server"). Nothing of ICE, DTLS, the browser's SDES, BUNDLE, mid, msid, ssrc, extmap, rtcp-fb or rtcp-mux: a plain RTP peer has
 * no use for them and some reject what they do not know.
 */
public final class WebRtcToSip {
    private WebRtcToSip() {}

    /**
     * The INVITE offer for a browser's offer. {@code local} carries one RTP port per section
     * {@link BridgePlan#ofWebRtcOffer} bridges. Directions are kept as the browser wrote them.
     *
     * @throws SdpException MALFORMED, NO_AUDIO, UNSUPPORTED_PROFILE, NO_COMMON_CODEC, MISSING_ICE, MISSING_KEYING
     */
    public static SessionDescription offer(SessionDescription browserOffer, SipMediaEndpoint local, Origin origin) {
        BridgePlan plan = BridgePlan.ofWebRtcOffer(browserOffer);
        // Refuse an offer the media layer could not connect before a SIP peer is bothered with it.
        WebRtcTransportParams.fromBrowser(browserOffer);
        local.requirePortsFor(plan);
        List<MediaDescription> sections = new ArrayList<>();
        for (PlannedSection p : plan.sections()) {
            MediaDescription m = p.section();
            if (!p.bridged()) {
                sections.add(rejected(m));
                continue;
            }
            sections.add(section(browserOffer, m, local.port(plan, p.index()), p.codecs(),
                    Direction.declared(browserOffer, m),
                    local.secureProfile() ? MediaProtocol.SECURE : MediaProtocol.PLAIN, local.cryptoOf(p.index())));
        }
        return Translation.session(origin, Connection.of(local.address()), List.of(), sections);
    }

    /**
     * The answer toward SIP for the browser's answer to the offer {@link SipToWebRtc#offer} made from
     * {@code sipOffer}. {@code local} carries one RTP port per section {@link BridgePlan#ofSipOffer}
     * bridges (the ports chosen when the offer came in; those of sections the browser rejected go unused).
     * Codecs: the browser's, in its order, under the SIP offer's payload type numbers (RFC 3264 §6.1).
     *
     * @throws SdpException MALFORMED, ANSWER_MISMATCH, NO_COMMON_CODEC, MISSING_ICE, MISSING_KEYING, and
     *                      whatever the SIP offer itself fails with
     */
    public static SessionDescription answer(SessionDescription sipOffer, SessionDescription browserAnswer,
                                            SipMediaEndpoint local, Origin origin) {
        return answer(sipOffer, browserAnswer, local, origin, SipSrtp.OFF);
    }

    /**
     * {@link #answer(SessionDescription, SessionDescription, SipMediaEndpoint, Origin)} keyed as {@code srtp}
     * allows ({@link BridgePlan#ofSipOffer(SessionDescription, SipSrtp)}): each section keeps the offer's profile
     * (RTP/SAVP answered RTP/SAVP, RTP/AVP with RTP/AVP) and carries {@code local}'s a=crypto for it, the
     * answer to the offered line the plan accepted (RFC 4568 §7.1.2).
     */
    public static SessionDescription answer(SessionDescription sipOffer, SessionDescription browserAnswer,
                                            SipMediaEndpoint local, Origin origin, SipSrtp srtp) {
        BridgePlan plan = BridgePlan.ofSipOffer(sipOffer, srtp);
        local.requirePortsFor(plan);
        Translation.requireMatchingSections(sipOffer, browserAnswer, "browser's answer");
        WebRtcTransportParams.fromBrowser(browserAnswer);
        List<MediaDescription> sections = new ArrayList<>();
        for (PlannedSection p : plan.sections()) {
            MediaDescription offered = p.section();
            MediaDescription b = Translation.answerSection(browserAnswer, p.index());
            List<Codec> codecs = new ArrayList<>();
            if (p.bridged() && b != null && b.isActive()) {
                for (Translation.Match match : Translation.match(BridgePlan.bridgeable(b), p.codecs())) {
                    // The number the SIP peer offered; the browser's fmtp (what the browser will receive).
                    codecs.add(match.answered().withPayloadType(match.offered().payloadType())
                            .withRtcpFeedback(List.of()));
                }
            }
            if (!BridgedCodecs.hasMediaCodec(codecs)) {
                sections.add(SectionBuilder.rejected(offered, offered.protocol()).build());
                continue;
            }
            Direction direction = Direction.declared(browserAnswer, b)
                    .answering(Direction.effective(sipOffer, offered));
            String profile = MediaProtocol.isSecureSipSide(offered.protocol())
                    ? offered.protocol().toUpperCase(java.util.Locale.ROOT) : MediaProtocol.PLAIN;
            List<String> crypto = p.sipCrypto() == null ? List.of() : local.cryptoOf(p.index());
            if (p.sipCrypto() != null && crypto.isEmpty()) {
                // (a delayed offer's "answer" is our own offer toward SIP: then it carries one line per suite)
                throw new IllegalArgumentException("section " + p.index() + " accepts an offered a=crypto: the answer"
                        + " needs ours");
            }
            sections.add(section(browserAnswer, b, local.port(plan, p.index()), codecs, direction, profile, crypto));
        }
        Translation.requireAnsweredAudio(sections, browserAnswer, "browser's answer");
        return Translation.session(origin, Connection.of(local.address()), List.of(), sections);
    }

    private static MediaDescription section(SessionDescription source, MediaDescription m, int port, List<Codec> codecs,
                                            Direction direction, String profile, List<String> crypto) {
        int ptime = SectionBuilder.ptime(source, m);
        if (ptime == 0 && m.media().equals("audio")) {
            ptime = Translation.DEFAULT_PTIME;
        }
        SectionBuilder b = new SectionBuilder(m.media(), port, profile)
                .codecs(codecs, false)
                .packetTimes(ptime, SectionBuilder.maxptime(source, m))
                .flag(direction.attributeName());
        crypto.forEach(c -> b.attribute("crypto", c));
        return b.build();
    }

    /** Port 0 keeps the m-line so indexes stay aligned; RTP profiles become RTP/AVP, others stay as offered. */
    private static MediaDescription rejected(MediaDescription m) {
        String protocol = MediaProtocol.isRtp(m.protocol()) ? MediaProtocol.PLAIN : m.protocol();
        return SectionBuilder.rejected(m, protocol).build();
    }
}
