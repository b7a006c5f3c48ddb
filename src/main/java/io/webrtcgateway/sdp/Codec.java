package io.webrtcgateway.sdp;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * One RTP payload format of a media section: a=rtpmap (or the RFC 3551 static assignment), its a=fmtp
 * parameters (null when none) and its a=rtcp-fb values without the payload type ("nack pli").
 * {@code channels} is 1 unless the rtpmap says more.
 */
public record Codec(int payloadType, String encodingName, int clockRate, int channels, String fmtp,
                    List<String> rtcpFeedback) {

    public Codec {
        if (payloadType < 0 || payloadType > 127 || encodingName == null || encodingName.isEmpty()
                || clockRate <= 0 || channels <= 0) {
            throw new IllegalArgumentException("invalid codec " + payloadType + " " + encodingName + "/" + clockRate);
        }
        rtcpFeedback = List.copyOf(rtcpFeedback);
    }

    public boolean isTelephoneEvent() {
        return encodingName.equalsIgnoreCase("telephone-event");
    }

    public Codec withPayloadType(int pt) {
        return new Codec(pt, encodingName, clockRate, channels, fmtp, rtcpFeedback);
    }

    public Codec withRtcpFeedback(List<String> feedback) {
        return new Codec(payloadType, encodingName, clockRate, channels, fmtp, feedback);
    }

    /** The a=rtpmap value without the payload type: "PCMU/8000", "opus/48000/2". */
    public String rtpmap() {
        return encodingName + "/" + clockRate + (channels > 1 ? "/" + channels : "");
    }

    /**
     * Whether two payload formats are the same codec, whatever their payload type numbers (RFC 3264 §6.1
     * lets an answer renumber dynamic types). Names compare case-insensitively (RFC 4855 §3); Opus is
     * always "/2" (RFC 7587 §7); H.264 also needs the same packetization-mode and profile (RFC 6184 §8.2.2:
     * the level may differ).
     */
    public boolean sameCodecAs(Codec other) {
        if (!encodingName.equalsIgnoreCase(other.encodingName) || clockRate != other.clockRate) {
            return false;
        }
        String name = encodingName.toLowerCase(Locale.ROOT);
        if (!name.equals("opus") && channels != other.channels) {
            return false;
        }
        if (name.equals("h264")) {
            return h264PacketizationMode().equals(other.h264PacketizationMode())
                    && h264Profile().equals(other.h264Profile());
        }
        return true;
    }

    /** fmtp parameters as name -> value, names lower-cased; parameters without '=' map to "". */
    public Map<String, String> fmtpParameters() {
        Map<String, String> params = new LinkedHashMap<>();
        if (fmtp != null) {
            for (String p : fmtp.split(";")) {
                String param = p.trim();
                if (!param.isEmpty()) {
                    int eq = param.indexOf('=');
                    String key = (eq < 0 ? param : param.substring(0, eq)).trim().toLowerCase(Locale.ROOT);
                    params.put(key, eq < 0 ? "" : param.substring(eq + 1).trim());
                }
            }
        }
        return params;
    }

    private String h264PacketizationMode() {
        return fmtpParameters().getOrDefault("packetization-mode", "0");
    }

    /** profile_idc and profile-iop of profile-level-id (RFC 6184 §8.1; default 420010). */
    private String h264Profile() {
        String id = fmtpParameters().getOrDefault("profile-level-id", "420010");
        return (id.length() >= 4 ? id.substring(0, 4) : id).toLowerCase(Locale.ROOT);
    }

    /**
     * The payload formats of an RTP media section, in m= line order, each payload type once. Payload types
     * without an rtpmap that are not static assignments are left out (nobody can tell what they are). A malformed rtpmap,
     * fmtp or rtcp-fb throws {@link SdpException}. Non-RTP sections give an empty list.
     */
    public static List<Codec> parseAll(MediaDescription section) {
        if (!MediaProtocol.isRtp(section.protocol())) {
            return List.of();
        }
        Map<Integer, String[]> rtpmaps = new LinkedHashMap<>();
        Map<Integer, String> fmtps = new LinkedHashMap<>();
        Map<Integer, List<String>> feedback = new LinkedHashMap<>();
        List<String> feedbackForAll = new ArrayList<>();
        for (Attribute a : section.attributes()) {
            String name = a.name().toLowerCase(Locale.ROOT);
            if (!name.equals("rtpmap") && !name.equals("fmtp") && !name.equals("rtcp-fb")) {
                continue;
            }
            String value = a.value() == null ? "" : a.value();
            int space = indexOfBlank(value);
            String ptText = space < 0 ? value : value.substring(0, space);
            String rest = space < 0 ? "" : value.substring(space + 1).trim();
            if (name.equals("rtcp-fb") && ptText.equals("*")) {
                // RFC 4585 §4.2: "*" applies to every payload type of the section.
                requireNonEmpty(a, rest, "<feedback type>");
                feedbackForAll.add(rest);
                continue;
            }
            int pt = Tokens.parseUnsigned(ptText);
            if (pt < 0 || pt > 127) {
                throw SdpException.malformed(SdpException.quote(a.toString())
                        + ": payload type \"" + ptText + "\" is not a number from 0 to 127");
            }
            switch (name) {
                case "rtpmap" -> {
                    if (rtpmaps.put(pt, rtpmap(a, rest)) != null) {
                        throw SdpException.malformed(SdpException.quote(a.toString())
                                + ": second rtpmap for payload type " + pt);
                    }
                }
                case "fmtp" -> {
                    requireNonEmpty(a, rest, "<format specific parameters>");
                    fmtps.putIfAbsent(pt, rest);
                }
                default -> {
                    requireNonEmpty(a, rest, "<feedback type>");
                    feedback.computeIfAbsent(pt, k -> new ArrayList<>()).add(rest);
                }
            }
        }
        List<Codec> codecs = new ArrayList<>();
        boolean[] seen = new boolean[128];
        for (String format : section.formats()) {
            int pt = Tokens.parseUnsigned(format);
            if (seen[pt]) {
                continue; // listed twice: meaningless, and a hostile m= line could repeat it thousands of times
            }
            seen[pt] = true;
            String[] map = rtpmaps.get(pt);
            if (map == null) {
                map = STATIC_PAYLOAD_TYPES.get(pt);
            }
            if (map == null) {
                continue;
            }
            List<String> fb = new ArrayList<>(feedbackForAll);
            fb.addAll(feedback.getOrDefault(pt, List.of()));
            codecs.add(new Codec(pt, map[0], Integer.parseInt(map[1]), map.length > 2 ? Integer.parseInt(map[2]) : 1,
                    fmtps.get(pt), fb));
        }
        return codecs;
    }

    /** "PCMU/8000" or "opus/48000/2" -> {name, clock, channels?}; numbers checked. */
    private static String[] rtpmap(Attribute a, String encoding) {
        String[] parts = encoding.split("/", -1);
        if (parts.length < 2 || parts.length > 3 || parts[0].isEmpty() || indexOfBlank(encoding) >= 0) {
            throw SdpException.malformed(SdpException.quote(a.toString())
                    + ": expected <payload type> <encoding name>/<clock rate>[/<channels>]");
        }
        int clock = Tokens.parseUnsigned(parts[1]);
        if (clock <= 0) {
            throw SdpException.malformed(SdpException.quote(a.toString())
                    + ": clock rate \"" + parts[1] + "\" is not a positive number");
        }
        if (parts.length == 3) {
            int channels = Tokens.parseUnsigned(parts[2]);
            if (channels <= 0) {
                throw SdpException.malformed(SdpException.quote(a.toString())
                        + ": channel count \"" + parts[2] + "\" is not a positive number");
            }
            return new String[] {parts[0], Integer.toString(clock), Integer.toString(channels)};
        }
        return new String[] {parts[0], Integer.toString(clock)};
    }

    private static void requireNonEmpty(Attribute a, String rest, String what) {
        if (rest.isEmpty()) {
            throw SdpException.malformed(SdpException.quote(a.toString()) + ": missing " + what);
        }
    }

    private static int indexOfBlank(String s) {
        for (int i = 0; i < s.length(); i++) {
            if (s.charAt(i) == ' ' || s.charAt(i) == '\t') {
                return i;
            }
        }
        return -1;
    }

    /** RFC 3551 §6 static payload types a peer may use without an rtpmap. */
    private static final Map<Integer, String[]> STATIC_PAYLOAD_TYPES = Map.ofEntries(
            Map.entry(0, new String[] {"PCMU", "8000"}),
            Map.entry(3, new String[] {"GSM", "8000"}),
            Map.entry(4, new String[] {"G723", "8000"}),
            Map.entry(5, new String[] {"DVI4", "8000"}),
            Map.entry(6, new String[] {"DVI4", "16000"}),
            Map.entry(7, new String[] {"LPC", "8000"}),
            Map.entry(8, new String[] {"PCMA", "8000"}),
            Map.entry(9, new String[] {"G722", "8000"}),
            Map.entry(10, new String[] {"L16", "44100", "2"}),
            Map.entry(11, new String[] {"L16", "44100"}),
            Map.entry(12, new String[] {"QCELP", "8000"}),
            Map.entry(13, new String[] {"CN", "8000"}),
            Map.entry(14, new String[] {"MPA", "90000"}),
            Map.entry(15, new String[] {"G728", "8000"}),
            Map.entry(16, new String[] {"DVI4", "11025"}),
            Map.entry(17, new String[] {"DVI4", "22050"}),
            Map.entry(18, new String[] {"G729", "8000"}),
            Map.entry(25, new String[] {"CelB", "90000"}),
            Map.entry(26, new String[] {"JPEG", "90000"}),
            Map.entry(28, new String[] {"nv", "90000"}),
            Map.entry(31, new String[] {"H261", "90000"}),
            Map.entry(32, new String[] {"MPV", "90000"}),
            Map.entry(33, new String[] {"MP2T", "90000"}),
            Map.entry(34, new String[] {"H263", "90000"}));
}
