package io.webrtcgateway.sdp;

/**
 * Bounds on an SDP that comes from outside (gateway.limits.max-sdp-bytes, max-media-sections), checked by
 * {@link SdpParser#parse(String, SdpLimits)} before anything of it is built: its size first, then its m-lines
 * as they are met, so an SDP with a thousand m-lines costs no more than one with {@code maxMediaSections}.
 * Each bridged m-line takes a pair of RTP ports, which is why they are counted before any port is taken.
 *
 * @param maxBytes         the SDP's size in UTF-8 bytes
 * @param maxMediaSections its m= lines
 */
public record SdpLimits(int maxBytes, int maxMediaSections) {
    /** No bounds: for SDPs the gateway wrote itself. */
    public static final SdpLimits NONE = new SdpLimits(Integer.MAX_VALUE, Integer.MAX_VALUE);

    public SdpLimits {
        if (maxBytes < 1 || maxMediaSections < 1) {
            throw new IllegalArgumentException("SDP limits must be positive: " + maxBytes + ", " + maxMediaSections);
        }
    }

    /** Throws TOO_LARGE when {@code text} has more than {@link #maxBytes} UTF-8 bytes; stops counting there. */
    void checkSize(String text) {
        long bytes = 0;
        for (int i = 0; i < text.length() && bytes <= maxBytes; i++) {
            char c = text.charAt(i);
            // Surrogate pairs: 2 + 2 here, 4 in UTF-8.
            bytes += c < 0x80 ? 1 : c < 0x800 || Character.isSurrogate(c) ? 2 : 3;
        }
        if (bytes > maxBytes) {
            throw new SdpException(SdpException.Reason.TOO_LARGE, "the SDP is larger than " + maxBytes
                    + " bytes (gateway.limits.max-sdp-bytes)");
        }
    }

    /** Throws TOO_LARGE when a further m-line would be one too many; {@code seen}: m-lines before it. */
    void checkMediaSection(int seen) {
        if (seen >= maxMediaSections) {
            throw new SdpException(SdpException.Reason.TOO_LARGE, "the SDP has more than " + maxMediaSections
                    + " media sections (m= lines; gateway.limits.max-media-sections)");
        }
    }
}
