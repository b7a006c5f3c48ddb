package io.webrtcgateway.sdp;

import io.webrtcgateway.media.srtp.SdesCrypto;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Which m-lines of an offer the gateway bridges, and with which codecs. Both translators and the caller
 * derive it from the same offer, so they agree: the caller allocates one SIP-side RTP port per bridged
 * section ({@link #bridgedCount()}), in m-line order, before translating.
 *
 * <p>Translated SDPs keep every m-line, in order (RFC 3264 §6 and §8: an answer mirrors the offer's
 * m-lines, and later offers may not remove any), so m-line index i means the same stream on both legs.
 * A section that is not bridged is written with port 0.
 *
 * <p>Building a plan checks that at least one audio section is bridged, else throws {@link SdpException}
 * with the most specific reason: NO_AUDIO, UNSUPPORTED_PROFILE or NO_COMMON_CODEC (-> SIP 488).
 */
public record BridgePlan(List<PlannedSection> sections) {

    /**
     * One m-line of the offer. {@code codecs}: the offered codecs the bridge relays, in offer order
     * (empty when not bridged). {@code rejection}: why it is not bridged, for logs, and
     * {@code rejectionReason} the code when it is one the caller may report (both null when bridged).
     * {@code sipCrypto}: in a SIP offer, the a=crypto value (RFC 4568) the gateway accepts for this section, the
     * first usable one in offer order; null when the section is bridged as plain RTP (and in browser offers).
     */
    public record PlannedSection(int index, MediaDescription section, boolean bridged, List<Codec> codecs,
                                 SdpException.Reason rejectionReason, String rejection, String sipCrypto) {
        public PlannedSection {
            codecs = List.copyOf(codecs);
        }
    }

    public BridgePlan {
        sections = List.copyOf(sections);
    }

    public int bridgedCount() {
        return (int) sections.stream().filter(PlannedSection::bridged).count();
    }

    public PlannedSection section(int index) {
        return sections.get(index);
    }

    /** Position of a bridged section among the bridged ones (its index in the caller's port list). */
    int portSlot(int index) {
        int slot = 0;
        for (int i = 0; i < index; i++) {
            if (sections.get(i).bridged) {
                slot++;
            }
        }
        return slot;
    }

    /**
     * A browser's offer. Bridged: active audio/video sections with a WebRTC profile (UDP/TLS/RTP/SAVPF or
     * RTP/SAVPF), at least one bridgeable codec, and on the one transport the gateway runs per call: the
     * first BUNDLE group (RFC 8843), or, in an offer without BUNDLE, the first such audio section only.
     */
    public static BridgePlan ofWebRtcOffer(SessionDescription offer) {
        List<String> group = offer.bundleGroup();
        List<PlannedSection> planned = new ArrayList<>();
        boolean unbundledAudioTaken = false;
        for (int i = 0; i < offer.media().size(); i++) {
            MediaDescription m = offer.media().get(i);
            Verdict v;
            if (!m.isActive()) {
                v = Verdict.no(null, "rejected in the offer (port 0)");
            } else if (!MediaProtocol.isAudioOrVideo(m.media())) {
                v = Verdict.no(null, "\"" + m.media() + "\" media is not bridged");
            } else if (!MediaProtocol.isBrowserSide(m.protocol())) {
                v = Verdict.no(SdpException.Reason.UNSUPPORTED_PROFILE, "profile " + m.protocol()
                        + " is not a WebRTC profile (expected UDP/TLS/RTP/SAVPF or RTP/SAVPF)");
            } else if (!group.isEmpty() && !group.contains(m.mid().orElse(""))) {
                v = Verdict.no(null, "not in the BUNDLE group (the gateway runs one transport per call)");
            } else if (group.isEmpty() && (unbundledAudioTaken || !m.media().equals("audio"))) {
                v = Verdict.no(null, "without BUNDLE the gateway bridges the first audio section only");
            } else {
                v = codecs(m, bridgeable(m));
                unbundledAudioTaken |= v.bridged && group.isEmpty();
            }
            planned.add(new PlannedSection(i, m, v.bridged, v.codecs, v.reason, v.why, null));
        }
        requireAudio(planned, "offer");
        return new BridgePlan(planned);
    }

    /** {@link #ofSipOffer(SessionDescription, SipSrtp)} with SRTP toward SIP off: plain RTP only. */
    public static BridgePlan ofSipOffer(SessionDescription offer) {
        return ofSipOffer(offer, SipSrtp.OFF);
    }

    /**
     * A SIP peer's offer. Bridged: audio/video sections with a port, a plain RTP profile (RTP/AVP or
     * RTP/AVPF) and at least one bridgeable codec. Toward the browser all bridged sections share one
     * BUNDLE transport, one RTP session (RFC 8843), where a payload type must mean one codec: a later
     * section's payload type that an earlier section uses for another codec is left out.
     *
     * <p>Keying ({@code srtp}, docs/sip.md "SRTP toward SIP Server"): an RTP/SAVP(F) section is bridged only when
     * this call may carry SDES keys and one of its a=crypto lines is usable; an RTP/AVP(F) section is bridged as
     * plain RTP, or, when it carries a usable a=crypto and keys are allowed, as best-effort SRTP; with
     * {@code REQUIRED} every section needs a usable a=crypto. Refusals name the problem (a=crypto lines each with
     * theirs), so the 488 can say it.
     */
    public static BridgePlan ofSipOffer(SessionDescription offer, SipSrtp srtp) {
        List<PlannedSection> planned = new ArrayList<>();
        Map<Integer, Codec> bundlePayloadTypes = new HashMap<>();
        for (int i = 0; i < offer.media().size(); i++) {
            MediaDescription m = offer.media().get(i);
            Verdict v;
            if (m.port() == 0) {
                v = Verdict.no(null, "rejected in the offer (port 0)");
            } else if (!MediaProtocol.isAudioOrVideo(m.media())) {
                v = Verdict.no(null, "\"" + m.media() + "\" media is not bridged");
            } else if (!MediaProtocol.isSipSide(m.protocol())) {
                v = Verdict.no(SdpException.Reason.UNSUPPORTED_PROFILE, "profile " + m.protocol()
                        + " is not supported on the SIP side (expected RTP/AVP or RTP/SAVP)");
            } else if ((v = keying(m, srtp)).reason != null) {
                // refused for its keying: v says why
            } else {
                String crypto = v.crypto;
                requireConnection(offer, m);
                List<Codec> usable = new ArrayList<>();
                for (Codec c : bridgeable(m)) {
                    Codec earlier = bundlePayloadTypes.get(c.payloadType());
                    if (earlier == null || earlier.sameCodecAs(c)) {
                        usable.add(c);
                    }
                }
                v = codecs(m, usable).withCrypto(crypto);
                if (v.bridged) {
                    v.codecs.forEach(c -> bundlePayloadTypes.putIfAbsent(c.payloadType(), c));
                }
            }
            planned.add(new PlannedSection(i, m, v.bridged, v.codecs, v.reason, v.why, v.crypto));
        }
        requireAudio(planned, "offer");
        return new BridgePlan(planned);
    }

    /**
     * How a SIP offer's section is keyed: a verdict with {@code crypto} (the a=crypto value to accept, null for
     * plain RTP) and no reason, or a refusal with its reason.
     */
    private static Verdict keying(MediaDescription m, SipSrtp srtp) {
        boolean secure = MediaProtocol.isSecureSipSide(m.protocol());
        List<String> lines = m.attributeValues("crypto");
        if (!srtp.keysAllowed()) {
            if (secure) {
                return Verdict.no(SdpException.Reason.UNSUPPORTED_PROFILE, "profile " + m.protocol()
                        + " is SRTP keyed in the SDP (a=crypto), refused: " + srtp.whyNoKeys());
            }
            if (srtp.mode() == SipSrtp.Mode.REQUIRED) {
                return Verdict.no(SdpException.Reason.UNSUPPORTED_PROFILE,
                        "SRTP is required (gateway.sip.srtp = required), but " + srtp.keysRefused());
            }
            return Verdict.plain(null);
        }
        if (lines.isEmpty()) {
            if (secure) {
                return Verdict.no(SdpException.Reason.MISSING_KEYING, "profile " + m.protocol()
                        + " without a=crypto: SRTP toward SIP is keyed with SDES (RFC 4568) only");
            }
            if (srtp.mode() == SipSrtp.Mode.REQUIRED) {
                return Verdict.no(SdpException.Reason.UNSUPPORTED_PROFILE, "profile " + m.protocol()
                        + " without a=crypto is plain RTP, refused: gateway.sip.srtp = required");
            }
            return Verdict.plain(null);
        }
        List<String> problems = new ArrayList<>();
        for (String line : lines) {
            try {
                SdesCrypto.parse(line);
                return Verdict.plain(line); // RFC 4568 §7.1.2: the first usable line, the offerer's preference
            } catch (IllegalArgumentException e) {
                problems.add(withoutKeys(SdpException.quote("a=crypto:" + line) + ": " + e.getMessage()));
            }
        }
        if (!secure && srtp.mode() == SipSrtp.Mode.OPTIONAL) {
            return Verdict.plain(null); // best-effort SRTP whose keys we cannot use: answered as plain RTP
        }
        return Verdict.no(SdpException.Reason.MISSING_KEYING, "no usable a=crypto in " + m.protocol() + " section: "
                + String.join("; ", problems));
    }

    /**
     * A message about an a=crypto line without its key material: it goes into logs and back in the 488, and the
     * key is a secret even when it is unusable (base64 runs of 16 characters or more are masked).
     */
    static String withoutKeys(String text) {
        return text.replaceAll("[A-Za-z0-9+/]{16,}={0,2}", "<key>");
    }

    /** The offered codecs the bridge relays, in offer order. */
    static List<Codec> bridgeable(MediaDescription m) {
        List<Codec> codecs = new ArrayList<>();
        for (Codec c : Codec.parseAll(m)) {
            if (BridgedCodecs.accepts(m.media(), c)) {
                codecs.add(c);
            }
        }
        return codecs;
    }

    /** A section must have a c= line, its own or the session's (RFC 8866 §5.7), to send media anywhere. */
    static void requireConnection(SessionDescription sdp, MediaDescription m) {
        if (sdp.connectionOf(m) == null) {
            throw SdpException.malformed(SdpException.quote(m.mLine())
                    + ": no c= line in the section or at session level (RFC 8866 §5.7)");
        }
    }

    private static Verdict codecs(MediaDescription m, List<Codec> usable) {
        if (!BridgedCodecs.hasMediaCodec(usable)) {
            return Verdict.no(SdpException.Reason.NO_COMMON_CODEC,
                    "no codec the gateway bridges (offered: " + describe(m) + ")");
        }
        return new Verdict(true, usable, null, null, null);
    }

    static String describe(MediaDescription m) {
        List<Codec> all = Codec.parseAll(m);
        if (all.isEmpty()) {
            return String.join(" ", m.formats());
        }
        List<String> names = new ArrayList<>();
        all.forEach(c -> names.add(c.payloadType() + " " + c.rtpmap()));
        return String.join(", ", names);
    }

    /**
     * Throws unless some audio section is bridged, with the reason of the first audio section that was in
     * use (UNSUPPORTED_PROFILE, NO_COMMON_CODEC), else NO_AUDIO.
     */
    static void requireAudio(List<PlannedSection> planned, String what) {
        Optional<PlannedSection> firstAudio = Optional.empty();
        for (PlannedSection p : planned) {
            if (p.section.media().equals("audio")) {
                if (p.bridged) {
                    return;
                }
                if (firstAudio.isEmpty() && p.section.isActive()) {
                    firstAudio = Optional.of(p);
                }
            }
        }
        if (firstAudio.isEmpty()) {
            boolean any = planned.stream().anyMatch(p -> p.section.media().equals("audio"));
            throw new SdpException(SdpException.Reason.NO_AUDIO, any
                    ? "every audio section of the " + what + " is rejected (port 0)"
                    : "the " + what + " has no audio section");
        }
        PlannedSection p = firstAudio.get();
        SdpException.Reason reason = p.rejectionReason() != null ? p.rejectionReason() : SdpException.Reason.NO_AUDIO;
        throw new SdpException(reason, SdpException.quote(p.section.mLine()) + ": " + p.rejection);
    }

    private record Verdict(boolean bridged, List<Codec> codecs, SdpException.Reason reason, String why,
                           String crypto) {
        static Verdict no(SdpException.Reason reason, String why) {
            return new Verdict(false, List.of(), reason, why, null);
        }

        /** Keying accepted ({@code crypto} null: plain RTP); codecs still to be checked. */
        static Verdict plain(String crypto) {
            return new Verdict(false, List.of(), null, null, crypto);
        }

        Verdict withCrypto(String c) {
            return new Verdict(bridged, codecs, reason, why, c);
        }
    }
}
