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
 * Nothing of ICE, DTLS, SDES, BUNDLE, mid, msid, ssrc, extmap, rtcp-fb or rtcp-mux: a plain RTP peer has
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
                    Direction.declared(browserOffer, m)));
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
        BridgePlan plan = BridgePlan.ofSipOffer(sipOffer);
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
            sections.add(section(browserAnswer, b, local.port(plan, p.index()), codecs, direction));
        }
        Translation.requireAnsweredAudio(sections, browserAnswer, "browser's answer");
        return Translation.session(origin, Connection.of(local.address()), List.of(), sections);
    }

    private static MediaDescription section(SessionDescription source, MediaDescription m, int port, List<Codec> codecs,
                                            Direction direction) {
        int ptime = SectionBuilder.ptime(source, m);
        if (ptime == 0 && m.media().equals("audio")) {
            ptime = Translation.DEFAULT_PTIME;
        }
        return new SectionBuilder(m.media(), port, MediaProtocol.PLAIN)
                .codecs(codecs, false)
                .packetTimes(ptime, SectionBuilder.maxptime(source, m))
                .flag(direction.attributeName())
                .build();
    }

    /** Port 0 keeps the m-line so indexes stay aligned; RTP profiles become RTP/AVP, others stay as offered. */
    private static MediaDescription rejected(MediaDescription m) {
        String protocol = MediaProtocol.isRtp(m.protocol()) ? MediaProtocol.PLAIN : m.protocol();
        return SectionBuilder.rejected(m, protocol).build();
    }
}
