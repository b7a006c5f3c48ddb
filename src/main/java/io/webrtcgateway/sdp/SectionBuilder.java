package io.webrtcgateway.sdp;

import java.util.ArrayList;
import java.util.List;

/** Assembles one media section of a translated SDP, attributes in the order they are added. */
final class SectionBuilder {
    private final String media;
    private final int port;
    private final String protocol;
    private final List<String> formats = new ArrayList<>();
    private final List<Attribute> attributes = new ArrayList<>();
    private Connection connection;

    SectionBuilder(String media, int port, String protocol) {
        this.media = media;
        this.port = port;
        this.protocol = protocol;
    }

    /**
     * A rejected section (RFC 3264 §6: port 0, at least one format, preferably one of the offer's):
     * media type and the first format of {@code source}, with {@code protocol}.
     */
    static SectionBuilder rejected(MediaDescription source, String protocol) {
        SectionBuilder b = new SectionBuilder(source.media(), 0, protocol);
        b.formats.add(source.formats().get(0));
        return b;
    }

    SectionBuilder connection(Connection c) {
        this.connection = c;
        return this;
    }

    SectionBuilder attribute(String name, String value) {
        attributes.add(new Attribute(name, value));
        return this;
    }

    SectionBuilder flag(String name) {
        attributes.add(Attribute.flag(name));
        return this;
    }

    /** Payload types on the m= line, and a=rtpmap (for static types too), a=fmtp, a=rtcp-fb per codec. */
    SectionBuilder codecs(List<Codec> codecs, boolean withFeedback) {
        for (Codec c : codecs) {
            formats.add(Integer.toString(c.payloadType()));
            attribute("rtpmap", c.payloadType() + " " + c.rtpmap());
            if (c.fmtp() != null) {
                attribute("fmtp", c.payloadType() + " " + c.fmtp());
            }
            if (withFeedback) {
                for (String fb : c.rtcpFeedback()) {
                    attribute("rtcp-fb", c.payloadType() + " " + fb);
                }
            }
        }
        return this;
    }

    /** a=ptime and a=maxptime (RFC 8866 §6.4, §6.5) when given; ptime 0 means "do not write". */
    SectionBuilder packetTimes(int ptime, String maxptime) {
        if (ptime > 0) {
            attribute("ptime", Integer.toString(ptime));
        }
        if (maxptime != null) {
            attribute("maxptime", maxptime);
        }
        return this;
    }

    MediaDescription build() {
        return new MediaDescription(media, port, 0, protocol, formats, connection, List.of(), attributes);
    }

    /** a=ptime of a section (or session, where some SIP peers put it), 0 when absent or not a number. */
    static int ptime(SessionDescription sdp, MediaDescription m) {
        return sdp.attributeOf(m, "ptime").map(v -> Tokens.parseUnsigned(v.trim())).filter(v -> v > 0).orElse(0);
    }

    /** a=maxptime of a section, null when absent or not a number. */
    static String maxptime(SessionDescription sdp, MediaDescription m) {
        return sdp.attributeOf(m, "maxptime").map(String::trim).filter(v -> Tokens.parseUnsigned(v) > 0).orElse(null);
    }
}
