package io.webrtcgateway.sdp;

import io.webrtcgateway.sdp.BridgePlan.PlannedSection;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Plain SIP SDP to browser SDP: a SIP peer's offer to the gateway's offer to the browser (incoming calls),
 * and a SIP peer's answer to the gateway's answer to the browser's offer (outgoing calls). Pure functions.
 *
 * <p>What the browser gets: every bridged section on the gateway's one ICE/DTLS transport (a=group:BUNDLE,
 * a=rtcp-mux, the gateway's ice-ufrag/ice-pwd/fingerprint/setup or SDES crypto in each bridged section,
 * its candidates in the first one), the bridged codecs with a=rtpmap/a=fmtp, "ccm fir" and "nack pli"
 * feedback for video (so a SIP phone's keyframe requests reach the browser), the SIP side's a=ptime, the
 * direction (c=0.0.0.0 hold read as "not receiving", RFC 3264 §8.4), and an a=msid so the browser
 * groups the gateway's tracks into one stream (RFC 8830).
 */
public final class SipToWebRtc {
    /** The msid stream id of every track the gateway sends to a browser. */
    static final String STREAM_ID = "webrtc-gateway";
    /** Keyframe requests the gateway relays; NACK, REMB and transport-cc would need a sender that acts on them. */
    private static final List<String> VIDEO_FEEDBACK = List.of("ccm fir", "nack pli");

    private SipToWebRtc() {}

    /** {@link #offer(SessionDescription, WebRtcTransportParams, Origin, List)} for a new session: mids "0", "1", ... */
    public static SessionDescription offer(SessionDescription sipOffer, WebRtcTransportParams local, Origin origin) {
        return offer(sipOffer, local, origin, List.of());
    }

    /**
     * The offer to the browser for a SIP peer's offer. Profile UDP/TLS/RTP/SAVPF with DTLS keying, RTP/SAVPF
     * with SDES only (RFC 5764 §8 reserves UDP/TLS for DTLS). {@code previousMids}: the mids this browser
     * session already uses, by m-line index (a re-offer must keep them, RFC 8843); later m-lines get
     * unused numbers. {@code local.setup} is normally ACTPASS (RFC 5763 §5).
     *
     * @throws SdpException MALFORMED, NO_AUDIO, UNSUPPORTED_PROFILE, NO_COMMON_CODEC (-> 488 to the SIP peer)
     */
    public static SessionDescription offer(SessionDescription sipOffer, WebRtcTransportParams local, Origin origin,
                                           List<String> previousMids) {
        return offer(sipOffer, local, origin, previousMids, SipSrtp.OFF);
    }

    /**
     * {@link #offer(SessionDescription, WebRtcTransportParams, Origin, List)} bridging the SIP offer's sections as
     * {@code srtp} allows ({@link BridgePlan#ofSipOffer(SessionDescription, SipSrtp)}): the SIP side's keying
     * never reaches the browser, which has its own (DTLS-SRTP).
     */
    public static SessionDescription offer(SessionDescription sipOffer, WebRtcTransportParams local, Origin origin,
                                           List<String> previousMids, SipSrtp srtp) {
        BridgePlan plan = BridgePlan.ofSipOffer(sipOffer, srtp);
        List<String> mids = mids(sipOffer.media().size(), previousMids);
        String profile = local.fingerprint() != null ? MediaProtocol.WEBRTC_DTLS : MediaProtocol.WEBRTC_LEGACY;
        List<String> group = new ArrayList<>();
        List<MediaDescription> sections = new ArrayList<>();
        for (PlannedSection p : plan.sections()) {
            MediaDescription m = p.section();
            String mid = mids.get(p.index());
            if (!p.bridged()) {
                sections.add(rejected(m, MediaProtocol.isRtp(m.protocol()) ? profile : m.protocol(), mid));
                continue;
            }
            List<Codec> codecs = new ArrayList<>();
            for (Codec c : p.codecs()) {
                codecs.add(c.withRtcpFeedback(isVideo(m, c) ? VIDEO_FEEDBACK : List.of()));
            }
            sections.add(section(m.media(), profile, local, group.isEmpty(), mid, p.index(),
                    Direction.effective(sipOffer, m), codecs, sipOffer, m, true));
            group.add(mid);
        }
        return Translation.session(origin, null, List.of(bundle(group)), sections);
    }

    /**
     * The answer to a browser's offer for the SIP peer's answer to the INVITE offer made from it by
     * {@link WebRtcToSip#offer}. Mids, BUNDLE group (minus rejected sections) and profile are the offer's
     * ("answer in kind": RTP/SAVPF stays RTP/SAVPF). Codecs: the SIP answer's, in its order, as far as the
     * browser offered them, under the browser's payload type numbers. {@code local} must fit the offer:
     * DTLS only if the browser offered a fingerprint (then active/passive, RFC 4145 §4: see
     * {@link SetupRole#answerFor}), SDES only if it offered a=crypto (then exactly one line, RFC 4568 §5.1.2).
     *
     * @throws SdpException MALFORMED, ANSWER_MISMATCH, NO_COMMON_CODEC, and whatever the offer fails with
     * @throws IllegalArgumentException when {@code local} does not fit the browser's offer
     */
    public static SessionDescription answer(SessionDescription browserOffer, SessionDescription sipAnswer,
                                            WebRtcTransportParams local, Origin origin) {
        BridgePlan plan = BridgePlan.ofWebRtcOffer(browserOffer);
        requireKeyingFits(WebRtcTransportParams.fromBrowser(browserOffer), local);
        Translation.requireMatchingSections(browserOffer, sipAnswer, "SIP answer");
        List<List<Codec>> answered = new ArrayList<>();
        List<String> accepted = new ArrayList<>();
        for (PlannedSection p : plan.sections()) {
            MediaDescription s = Translation.answerSection(sipAnswer, p.index());
            List<Codec> codecs = new ArrayList<>();
            if (p.bridged() && s != null && s.port() != 0 && MediaProtocol.isSipSide(s.protocol())) {
                BridgePlan.requireConnection(sipAnswer, s);
                for (Translation.Match match : Translation.match(BridgePlan.bridgeable(s), p.codecs())) {
                    Codec offered = match.offered();
                    // The browser's number; the SIP peer's fmtp (what it will receive); feedback the browser offered.
                    codecs.add(match.answered().withPayloadType(offered.payloadType())
                            .withRtcpFeedback(isVideo(p.section(), offered) ? keyframeFeedback(offered) : List.of()));
                }
            }
            boolean accept = BridgedCodecs.hasMediaCodec(codecs);
            answered.add(accept ? codecs : null);
            if (accept) {
                accepted.add(p.section().mid().orElse(null));
            }
        }
        // The answer's group: the offer's mids that were accepted, in the offer's order (RFC 8843).
        List<String> group = new ArrayList<>();
        for (String mid : browserOffer.bundleGroup()) {
            if (accepted.contains(mid)) {
                group.add(mid);
            }
        }
        String tagged = group.isEmpty() ? null : group.get(0);
        List<MediaDescription> sections = new ArrayList<>();
        boolean candidatesWritten = false;
        for (PlannedSection p : plan.sections()) {
            MediaDescription m = p.section();
            String mid = m.mid().orElse(null);
            List<Codec> codecs = answered.get(p.index());
            if (codecs == null) {
                sections.add(rejected(m, m.protocol(), mid));
                continue;
            }
            MediaDescription s = sipAnswer.media().get(p.index());
            boolean withCandidates = !candidatesWritten && (tagged == null || tagged.equals(mid));
            candidatesWritten |= withCandidates;
            Direction direction = Direction.effective(sipAnswer, s).answering(Direction.declared(browserOffer, m));
            sections.add(section(m.media(), m.protocol(), local, withCandidates, mid, p.index(), direction, codecs,
                    sipAnswer, s, m.hasAttribute("rtcp-mux")));
        }
        Translation.requireAnsweredAudio(sections, sipAnswer, "SIP answer");
        return Translation.session(origin, null, group.isEmpty() ? List.of() : List.of(bundle(group)), sections);
    }

    /** A bridged section toward the browser; {@code sipSource}/{@code sipSection} supply ptime and maxptime. */
    private static MediaDescription section(String media, String profile, WebRtcTransportParams local,
                                            boolean withCandidates, String mid, int index, Direction direction,
                                            List<Codec> codecs, SessionDescription sipSource,
                                            MediaDescription sipSection, boolean rtcpMux) {
        SectionBuilder b = new SectionBuilder(media, local.defaultPort(), profile)
                .connection(Connection.of(local.defaultAddress()));
        if (withCandidates) {
            local.candidates().forEach(c -> b.attribute("candidate", c));
        }
        b.attribute("ice-ufrag", local.iceUfrag()).attribute("ice-pwd", local.icePwd())
                .attribute("ice-options", "trickle");
        if (local.fingerprint() != null) {
            b.attribute("fingerprint", local.fingerprint().attributeValue())
                    .attribute("setup", local.setup().attributeValue());
        }
        local.crypto().forEach(c -> b.attribute("crypto", c));
        if (mid != null) {
            b.attribute("mid", mid);
        }
        b.flag(direction.attributeName()).attribute("msid", STREAM_ID + " " + media + index);
        if (rtcpMux) {
            b.flag("rtcp-mux");
        }
        return b.codecs(codecs, true)
                .packetTimes(SectionBuilder.ptime(sipSource, sipSection),
                        SectionBuilder.maxptime(sipSource, sipSection))
                .build();
    }

    private static MediaDescription rejected(MediaDescription m, String protocol, String mid) {
        SectionBuilder b = SectionBuilder.rejected(m, protocol).connection(Connection.of("0.0.0.0"));
        if (mid != null) {
            b.attribute("mid", mid);
        }
        return b.build();
    }

    private static Attribute bundle(List<String> mids) {
        return new Attribute("group", "BUNDLE" + (mids.isEmpty() ? "" : " " + String.join(" ", mids)));
    }

    private static boolean isVideo(MediaDescription m, Codec c) {
        return m.media().equals("video") && !c.isTelephoneEvent();
    }

    /** The browser's offered keyframe feedback for a codec, as written in {@link #VIDEO_FEEDBACK}. */
    private static List<String> keyframeFeedback(Codec offered) {
        List<String> kept = new ArrayList<>();
        for (String fb : offered.rtcpFeedback()) {
            String normalized = String.join(" ", Tokens.split(fb)).toLowerCase(Locale.ROOT);
            if (VIDEO_FEEDBACK.contains(normalized) && !kept.contains(normalized)) {
                kept.add(normalized);
            }
        }
        return kept;
    }

    /** Previous mids by index; new indexes get the smallest unused decimal number, at least their index. */
    private static List<String> mids(int count, List<String> previous) {
        List<String> mids = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            if (i < previous.size()) {
                mids.add(previous.get(i));
                continue;
            }
            int n = i;
            while (mids.contains(Integer.toString(n)) || previous.contains(Integer.toString(n))) {
                n++;
            }
            mids.add(Integer.toString(n));
        }
        return mids;
    }

    private static void requireKeyingFits(WebRtcTransportParams browser, WebRtcTransportParams local) {
        if (local.fingerprint() != null) {
            if (browser.fingerprint() == null) {
                throw new IllegalArgumentException("the browser offered no DTLS fingerprint: answer with SDES");
            }
            if (!local.setup().canAnswer(browser.setup())) {
                throw new IllegalArgumentException("a=setup:" + local.setup().attributeValue()
                        + " cannot answer a=setup:" + browser.setup().attributeValue() + " (RFC 4145 §4)");
            }
        }
        if (!local.crypto().isEmpty()) {
            if (browser.crypto().isEmpty()) {
                throw new IllegalArgumentException("the browser offered no a=crypto: answer with DTLS");
            }
            if (local.crypto().size() != 1 || local.fingerprint() != null) {
                throw new IllegalArgumentException("an answer uses one keying: one a=crypto line or a fingerprint");
            }
        }
    }
}
