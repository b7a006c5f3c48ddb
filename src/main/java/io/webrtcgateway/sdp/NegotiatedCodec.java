package io.webrtcgateway.sdp;

/**
 * A codec both legs agreed on, with the payload type number each peer declared for it. Send to the browser
 * with {@code browserPayloadType} and to the SIP peer with {@code sipPayloadType}. The numbers differ only
 * when a peer renumbered a dynamic type in its answer (RFC 3264 §6.1); a SIP peer may then send either.
 */
public record NegotiatedCodec(String encodingName, int clockRate, int channels, int browserPayloadType,
                              int sipPayloadType, String fmtp) {

    public boolean isTelephoneEvent() {
        return encodingName.equalsIgnoreCase("telephone-event");
    }
}
