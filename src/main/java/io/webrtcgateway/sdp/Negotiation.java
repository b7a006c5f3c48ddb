package io.webrtcgateway.sdp;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The outcome of one offer/answer round on both legs, for the media layer: per m-line, whether it is
 * relayed, the codecs with each side's payload type numbers, telephone-event, directions, the SIP peer's
 * RTP address; and the browser's transport (ICE credentials, candidates, fingerprint or SDES keys).
 *
 * <p>Built from the three SDPs the gateway holds after a round, whoever offered:
 * the browser's (its offer or answer), the gateway's toward SIP and the SIP peer's (offer or answer).
 * Outgoing call: browser offer, {@link WebRtcToSip#offer} result, SIP answer. Incoming call: browser
 * answer, {@link WebRtcToSip#answer} result, SIP offer.
 */
public record Negotiation(List<NegotiatedMedia> media, WebRtcTransportParams browserTransport) {

    public Negotiation {
        media = List.copyOf(media);
    }

    /** The first relayed audio section, if any. */
    public Optional<NegotiatedMedia> audio() {
        return media.stream().filter(m -> m.active() && m.media().equals("audio")).findFirst();
    }

    /**
     * One entry per m-line of {@code sipLocal}; a section missing from a shorter answer is inactive.
     *
     * @throws SdpException ANSWER_MISMATCH when the three SDPs do not have the same m-lines, MALFORMED for a
     *                      bad line, and what {@link WebRtcTransportParams#fromBrowser} throws
     */
    public static Negotiation of(SessionDescription browser, SessionDescription sipLocal,
                                 SessionDescription sipRemote) {
        Translation.requireMatchingSections(sipLocal, browser, "browser's SDP");
        Translation.requireMatchingSections(sipLocal, sipRemote, "SIP peer's SDP");
        WebRtcTransportParams transport = WebRtcTransportParams.fromBrowser(browser);
        List<NegotiatedMedia> result = new ArrayList<>();
        for (int i = 0; i < sipLocal.media().size(); i++) {
            MediaDescription local = sipLocal.media().get(i);
            MediaDescription b = Translation.answerSection(browser, i);
            MediaDescription remote = Translation.answerSection(sipRemote, i);
            boolean active = b != null && remote != null && local.port() != 0 && remote.port() != 0 && b.isActive()
                    && MediaProtocol.isSipSide(remote.protocol());
            List<NegotiatedCodec> codecs = active ? codecs(b, local, remote) : List.of();
            active &= codecs.stream().anyMatch(c -> !c.isTelephoneEvent());
            if (!active) {
                codecs = List.of();
            }
            int ptime = remote == null ? 0 : SectionBuilder.ptime(sipRemote, remote);
            if (ptime == 0 && local.media().equals("audio")) {
                ptime = Translation.DEFAULT_PTIME;
            }
            result.add(new NegotiatedMedia(i, local.media(), b == null ? null : b.mid().orElse(null), active, codecs,
                    telephoneEvent(codecs), b == null ? Direction.INACTIVE : Direction.declared(browser, b),
                    remote == null ? Direction.INACTIVE : Direction.effective(sipRemote, remote), ptime,
                    active ? RtpAddress.of(sipRemote, remote) : null, active ? local.port() : 0,
                    b == null ? List.of() : ssrcs(b)));
        }
        return new Negotiation(result, transport);
    }

    /** The SIP peer's codecs that the gateway's SIP SDP and the browser's SDP also have, in the peer's order. */
    private static List<NegotiatedCodec> codecs(MediaDescription browser, MediaDescription local,
                                                MediaDescription remote) {
        List<Codec> browserCodecs = Codec.parseAll(browser);
        List<NegotiatedCodec> codecs = new ArrayList<>();
        for (Translation.Match m : Translation.match(BridgePlan.bridgeable(remote), Codec.parseAll(local))) {
            Codec sip = m.answered();
            Optional<Codec> b = browserCodecs.stream().filter(sip::sameCodecAs).findFirst();
            if (b.isPresent()) {
                codecs.add(new NegotiatedCodec(sip.encodingName(), sip.clockRate(), sip.channels(),
                        b.get().payloadType(), sip.payloadType(), sip.fmtp()));
            }
        }
        return codecs;
    }

    private static NegotiatedCodec telephoneEvent(List<NegotiatedCodec> codecs) {
        NegotiatedCodec first = null;
        Optional<NegotiatedCodec> voice = codecs.stream().filter(c -> !c.isTelephoneEvent()).findFirst();
        for (NegotiatedCodec c : codecs) {
            if (c.isTelephoneEvent()) {
                if (voice.isPresent() && c.clockRate() == voice.get().clockRate()) {
                    return c;
                }
                first = first == null ? c : first;
            }
        }
        return first;
    }

    private static List<Long> ssrcs(MediaDescription m) {
        List<Long> ssrcs = new ArrayList<>();
        for (String value : m.attributeValues("ssrc")) {
            List<String> f = Tokens.split(value);
            long ssrc = f.isEmpty() ? -1 : Tokens.parseUnsigned32(f.get(0));
            if (ssrc < 0) {
                throw SdpException.malformed(SdpException.quote("a=ssrc:" + value)
                        + ": SSRC is not a 32-bit number (RFC 5576)");
            }
            if (!ssrcs.contains(ssrc)) {
                ssrcs.add(ssrc);
            }
        }
        return ssrcs;
    }
}
