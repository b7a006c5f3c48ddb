package io.webrtcgateway.sdp;

import java.util.Locale;

/**
 * The codecs the media bridge relays end to end without transcoding (SPEC §6): Opus, G.722, PCMU, PCMA
 * and telephone-event for audio; VP8 and H.264 for video. Everything else is left out of translated SDP:
 * browser-only repair formats (rtx, red, ulpfec, flexfec) mean nothing to a SIP peer, and a codec only one
 * side can decode would need a transcoder.
 */
final class BridgedCodecs {
    private BridgedCodecs() {}

    static boolean accepts(String media, Codec codec) {
        String name = codec.encodingName().toLowerCase(Locale.ROOT);
        int clock = codec.clockRate();
        return switch (media) {
            case "audio" -> switch (name) {
                case "opus" -> clock == 48000;
                case "g722", "pcmu", "pcma" -> clock == 8000 && codec.channels() == 1;
                // RFC 4733 §2.1: any clock rate (browsers offer 8000 and 48000).
                case "telephone-event" -> true;
                default -> false;
            };
            case "video" -> (name.equals("vp8") || name.equals("h264")) && clock == 90000;
            default -> false;
        };
    }

    /** True if the list can carry media: telephone-event alone carries no voice. */
    static boolean hasMediaCodec(java.util.List<Codec> codecs) {
        return codecs.stream().anyMatch(c -> !c.isTelephoneEvent());
    }
}
