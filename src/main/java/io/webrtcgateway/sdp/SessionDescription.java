package io.webrtcgateway.sdp;

import java.util.List;
import java.util.Optional;

/**
 * A parsed SDP (RFC 8866). v= is always 0 and not stored. {@code timing} holds the t= and r= lines in
 * input order; {@code otherLines} holds every other session-level line we do not model (i=, u=, e=,
 * p=, b=, z=, k=, unknown letters), in input order. Immutable.
 */
public record SessionDescription(Origin origin, String sessionName, Connection connection, List<SdpLine> timing,
                                 List<SdpLine> otherLines, List<Attribute> attributes, List<MediaDescription> media) {

    public SessionDescription {
        if (origin == null || sessionName == null) {
            throw new IllegalArgumentException("o= and s= are mandatory");
        }
        timing = List.copyOf(timing);
        otherLines = List.copyOf(otherLines);
        attributes = List.copyOf(attributes);
        media = List.copyOf(media);
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

    /** The section's own c= line, else the session's (RFC 8866 §5.7); null if neither has one. */
    public Connection connectionOf(MediaDescription section) {
        return section.connection() != null ? section.connection() : connection;
    }

    /** A media-level attribute, falling back to the session level (for attributes allowed at both). */
    public Optional<String> attributeOf(MediaDescription section, String name) {
        Optional<String> value = section.attribute(name);
        return value.isPresent() ? value : attribute(name);
    }

    /** The mids of the first {@code a=group:BUNDLE} (RFC 8843 §7.1), or empty when there is none. */
    public List<String> bundleGroup() {
        for (String group : attributeValues("group")) {
            List<String> tokens = Tokens.split(group);
            if (!tokens.isEmpty() && tokens.get(0).equals("BUNDLE")) {
                return tokens.subList(1, tokens.size());
            }
        }
        return List.of();
    }
}
