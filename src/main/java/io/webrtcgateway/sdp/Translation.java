package io.webrtcgateway.sdp;

import java.util.ArrayList;
import java.util.List;

/** Steps both translators share: the session frame, and the rules an answer must follow (RFC 3264 §6). */
final class Translation {
    /** RFC 8866 §5.3 allows "-" when there is no session name; SIPp and browsers write it too. */
    static final String SESSION_NAME = "-";
    /** G.711's customary 20 ms, written toward SIP when the browser did not say (RFC 3551 §4.5). */
    static final int DEFAULT_PTIME = 20;

    private Translation() {}

    static SessionDescription session(Origin origin, Connection connection, List<Attribute> attributes,
                                      List<MediaDescription> sections) {
        return new SessionDescription(origin, SESSION_NAME, connection, List.of(new SdpLine('t', "0 0")), List.of(),
                attributes, sections);
    }

    /**
     * An answer has the offer's m-lines, same media types, same order (RFC 3264 §6). One leniency: an answer
     * with fewer m-lines counts the missing trailing ones as rejected, because SIPp's stock scenarios (and
     * some phones) answer with a fixed one-m-line body whatever was offered.
     */
    static void requireMatchingSections(SessionDescription offer, SessionDescription answer, String what) {
        if (answer.media().size() > offer.media().size()) {
            throw new SdpException(SdpException.Reason.ANSWER_MISMATCH, "the " + what + " has "
                    + answer.media().size() + " m-line(s), the offer had " + offer.media().size() + " (RFC 3264 §6)");
        }
        for (int i = 0; i < answer.media().size(); i++) {
            MediaDescription o = offer.media().get(i);
            MediaDescription a = answer.media().get(i);
            if (!o.media().equals(a.media())) {
                throw new SdpException(SdpException.Reason.ANSWER_MISMATCH, "m-line " + (i + 1) + " of the " + what
                        + " " + SdpException.quote(a.mLine()) + " answers " + SdpException.quote(o.mLine())
                        + " (RFC 3264 §6)");
            }
        }
    }

    /** The answer's section at an offer index, or null when the answer stops short (= rejected). */
    static MediaDescription answerSection(SessionDescription answer, int index) {
        return index < answer.media().size() ? answer.media().get(index) : null;
    }

    /** An answered codec and the offered codec it is (matched with {@link Codec#sameCodecAs}). */
    record Match(Codec answered, Codec offered) {}

    /**
     * The answered codecs the offer also has, in answer order, each offered codec at most once. Matching by
     * codec rather than number copes with answers that renumber dynamic payload types (RFC 3264 §6.1).
     */
    static List<Match> match(List<Codec> answered, List<Codec> offered) {
        List<Match> matches = new ArrayList<>();
        for (Codec a : answered) {
            for (Codec o : offered) {
                boolean taken = matches.stream().anyMatch(m -> m.offered.payloadType() == o.payloadType());
                if (!taken && a.sameCodecAs(o)) {
                    matches.add(new Match(a, o));
                    break;
                }
            }
        }
        return matches;
    }

    /** An answer that leaves no audio bridged is no call: NO_COMMON_CODEC (-> 488 or hang up). */
    static void requireAnsweredAudio(List<MediaDescription> written, SessionDescription answer, String what) {
        for (MediaDescription m : written) {
            if (m.media().equals("audio") && m.port() != 0) {
                return;
            }
        }
        for (MediaDescription m : answer.media()) {
            if (m.media().equals("audio")) {
                throw new SdpException(SdpException.Reason.NO_COMMON_CODEC, "the " + what + " "
                        + (m.port() == 0 ? "rejects audio" : "accepts no audio codec the offer has") + ": "
                        + SdpException.quote(m.mLine()) + " (answered: " + BridgePlan.describe(m) + ")");
            }
        }
        throw new SdpException(SdpException.Reason.NO_COMMON_CODEC, "the " + what + " accepts no audio");
    }
}
