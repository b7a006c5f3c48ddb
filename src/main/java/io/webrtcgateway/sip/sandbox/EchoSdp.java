package io.webrtcgateway.sip.sandbox;

import java.util.List;
import java.util.Locale;
import java.util.Set;

import io.webrtcgateway.sdp.Codec;
import io.webrtcgateway.sdp.Direction;
import io.webrtcgateway.sdp.MediaDescription;
import io.webrtcgateway.sdp.SdpException;
import io.webrtcgateway.sdp.SdpParser;
import io.webrtcgateway.sdp.SessionDescription;

/**
 * The echo number's side of the offer/answer (RFC 3264): it takes the offer's first plain-RTP audio
 * section and the first real audio codec in it (whatever it is: packets are sent back unread), plus a
 * telephone-event format of the same clock rate if offered (RFC 4733 §7.1.1). Other m-lines are
 * refused with port 0, as §6 requires an answer to keep every m-line. The direction mirrors the offer's
 * (sendonly is answered recvonly, §6.1), and the answer says whether the echo may send.
 */
final class EchoSdp {
    /** Formats that are not a voice codec of their own: never chosen as "the" codec. */
    private static final Set<String> NOT_A_VOICE_CODEC =
            Set.of("telephone-event", "cn", "red", "rtx", "ulpfec", "flexfec", "flexfec-03");

    /** {@code sends}: whether the answer lets the echo send (the offerer wants to receive). */
    record Answer(String sdp, boolean sends) {}

    private EchoSdp() {}

    /** Throws {@link SdpException} for an unusable offer: malformed, no plain RTP audio, no voice codec. */
    static Answer answer(String offer, String host, int port, long sessionId, long version) {
        SessionDescription sdp = SdpParser.parse(offer);
        int chosen = -1;
        for (int i = 0; i < sdp.media().size() && chosen < 0; i++) {
            MediaDescription m = sdp.media().get(i);
            if (m.media().equals("audio") && m.port() != 0 && isPlainRtp(m.protocol())) {
                chosen = i;
            }
        }
        if (chosen < 0) {
            throw new SdpException(SdpException.Reason.NO_AUDIO, "no RTP/AVP audio section with a port in the offer");
        }
        MediaDescription audio = sdp.media().get(chosen);
        List<Codec> codecs = Codec.parseAll(audio);
        Codec voice = codecs.stream()
                .filter(c -> !NOT_A_VOICE_CODEC.contains(c.encodingName().toLowerCase(Locale.ROOT)))
                .findFirst()
                .orElseThrow(() -> new SdpException(SdpException.Reason.NO_COMMON_CODEC, "no voice codec offered"));
        Codec events = codecs.stream()
                .filter(c -> c.isTelephoneEvent() && c.clockRate() == voice.clockRate())
                .findFirst().orElse(null);
        Direction direction = Direction.effective(sdp, audio).reverse();

        StringBuilder out = header(host, sessionId, version);
        for (int i = 0; i < sdp.media().size(); i++) {
            MediaDescription m = sdp.media().get(i);
            if (i != chosen) {
                out.append("m=").append(m.media()).append(" 0 ").append(m.protocol()).append(' ')
                        .append(m.formats().get(0)).append("\r\n");
                continue;
            }
            out.append("m=audio ").append(port).append(' ').append(m.protocol()).append(' ').append(voice.payloadType());
            if (events != null) {
                out.append(' ').append(events.payloadType());
            }
            out.append("\r\n");
            format(out, voice);
            if (events != null) {
                format(out, events);
            }
            audio.attribute("ptime").ifPresent(p -> out.append("a=ptime:").append(p).append("\r\n"));
            out.append("a=").append(direction.attributeName()).append("\r\n");
        }
        return new Answer(out.toString(), direction.sends());
    }

    /** For an INVITE without an offer (RFC 3261 §13.2.1 delayed offer): the offer goes in our 2xx. */
    static String offer(String host, int port, long sessionId, long version) {
        return header(host, sessionId, version)
                .append("m=audio ").append(port).append(" RTP/AVP 0 8 101\r\n")
                .append("a=rtpmap:0 PCMU/8000\r\n")
                .append("a=rtpmap:8 PCMA/8000\r\n")
                .append("a=rtpmap:101 telephone-event/8000\r\n")
                .append("a=fmtp:101 0-15\r\n")
                .append("a=sendrecv\r\n")
                .toString();
    }

    /** Whether the answer in an ACK (to our offer) lets the echo send: the answerer wants to receive. */
    static boolean answerLetsUsSend(String answer) {
        SessionDescription sdp = SdpParser.parse(answer);
        for (MediaDescription m : sdp.media()) {
            if (m.media().equals("audio") && m.port() != 0) {
                return Direction.effective(sdp, m).receives();
            }
        }
        return false;
    }

    private static boolean isPlainRtp(String protocol) {
        String p = protocol.toUpperCase(Locale.ROOT);
        return p.equals("RTP/AVP") || p.equals("RTP/AVPF");
    }

    private static StringBuilder header(String host, long sessionId, long version) {
        String addressType = host.contains(":") ? "IP6" : "IP4";
        return new StringBuilder()
                .append("v=0\r\n")
                .append("o=sandbox ").append(sessionId).append(' ').append(version).append(" IN ").append(addressType)
                .append(' ').append(host).append("\r\n")
                .append("s=sandbox echo\r\n")
                .append("c=IN ").append(addressType).append(' ').append(host).append("\r\n")
                .append("t=0 0\r\n");
    }

    private static void format(StringBuilder out, Codec codec) {
        out.append("a=rtpmap:").append(codec.payloadType()).append(' ').append(codec.rtpmap()).append("\r\n");
        if (codec.fmtp() != null) {
            out.append("a=fmtp:").append(codec.payloadType()).append(' ').append(codec.fmtp()).append("\r\n");
        }
    }
}
