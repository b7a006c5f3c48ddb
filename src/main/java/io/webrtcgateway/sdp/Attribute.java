package io.webrtcgateway.sdp;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** {@code a=name:value}, or {@code a=name} (a property attribute: value is null). RFC 8866 §5.13. */
public record Attribute(String name, String value) {

    public Attribute {
        if (name == null || name.isEmpty()) {
            throw new IllegalArgumentException("attribute name is empty");
        }
    }

    public static Attribute flag(String name) {
        return new Attribute(name, null);
    }

    @Override
    public String toString() {
        return value == null ? "a=" + name : "a=" + name + ":" + value;
    }

    /** First value of the attribute; a property attribute gives "". Names compare case-insensitively. */
    static Optional<String> first(List<Attribute> attributes, String name) {
        for (Attribute a : attributes) {
            if (a.name.equalsIgnoreCase(name)) {
                return Optional.of(a.value == null ? "" : a.value);
            }
        }
        return Optional.empty();
    }

    static List<String> all(List<Attribute> attributes, String name) {
        List<String> values = new ArrayList<>();
        for (Attribute a : attributes) {
            if (a.name.equalsIgnoreCase(name)) {
                values.add(a.value == null ? "" : a.value);
            }
        }
        return values;
    }
}
