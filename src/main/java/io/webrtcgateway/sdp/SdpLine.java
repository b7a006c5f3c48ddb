package io.webrtcgateway.sdp;

/** A line kept as written (i=, u=, e=, p=, b=, k=, r=, z=, t= or a type letter we do not know). */
public record SdpLine(char type, String value) {
    public SdpLine {
        if (type < 'a' || type > 'z' || value == null) {
            throw new IllegalArgumentException("invalid SDP line " + type + "=" + value);
        }
    }

    @Override
    public String toString() {
        return type + "=" + value;
    }
}
