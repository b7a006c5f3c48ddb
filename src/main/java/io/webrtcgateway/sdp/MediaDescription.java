package io.webrtcgateway.sdp;

import java.util.List;
import java.util.Optional;

/**
 * One media section: the m= line and what follows it up to the next m= line (RFC 8866 §5.14).
 * {@code portCount} is 0 when the m= line has no "/&lt;number of ports&gt;". {@code otherLines} holds
 * i=, b=, k= and unknown lines in input order; attributes keep their input order too.
 */
public record MediaDescription(String media, int port, int portCount, String protocol, List<String> formats,
                               Connection connection, List<SdpLine> otherLines, List<Attribute> attributes) {

    public MediaDescription {
        if (media == null || media.isEmpty() || protocol == null || protocol.isEmpty()) {
            throw new IllegalArgumentException("m= line needs a media type and a protocol");
        }
        if (port < 0 || port > 65535 || portCount < 0) {
            throw new IllegalArgumentException("m= port out of range: " + port + "/" + portCount);
        }
        if (formats == null || formats.isEmpty()) {
            throw new IllegalArgumentException("m= line needs at least one format");
        }
        formats = List.copyOf(formats);
        otherLines = List.copyOf(otherLines);
        attributes = List.copyOf(attributes);
    }

    public Optional<String> attribute(String name) {
        return Attribute.first(attributes, name);
    }

    public List<String> attributeValues(String name) {
        return Attribute.all(attributes, name);
    }

    public boolean hasAttribute(String name) {
        return attribute(name).isPresent();
    }

    public Optional<String> mid() {
        return attribute("mid");
    }

    /**
     * Whether this section is in use. Port 0 means rejected or disabled (RFC 3264 §5.1, §6), except with
     * {@code a=bundle-only}, where port 0 only says "use the BUNDLE transport" (RFC 8843 §6).
     */
    public boolean isActive() {
        return port != 0 || hasAttribute("bundle-only");
    }

    /** The m= line as written, for error messages. */
    public String mLine() {
        return "m=" + media + " " + port + (portCount > 0 ? "/" + portCount : "") + " " + protocol + " "
                + String.join(" ", formats);
    }
}
