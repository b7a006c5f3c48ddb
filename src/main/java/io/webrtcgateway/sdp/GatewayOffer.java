package io.webrtcgateway.sdp;

import java.util.List;

/**
 * The offer the gateway makes toward SIP when SIP Server asked for one: an INVITE without SDP (delayed
 * offer, RFC 3261 §13.2.1, RFC 3264 §5) leaves the offer to the gateway, in its 200 OK. Pure function.
 *
 * <p>The browser cannot be asked first (it would answer an offer, not make one toward SIP), so the
 * gateway offers the browser every audio codec the bridge relays ({@link SipToWebRtc#offer} of this
 * SDP), then offers SIP Server what the browser accepted ({@link WebRtcToSip#answer} of this SDP and the
 * browser's answer, which is a valid offer: our address, our ports, the accepted codecs). The order puts
 * G.711 first because a browser sends with the first codec of its answer, which keeps the offer's order,
 * and G.711 is what a SIP answerer is most likely to accept (RFC 3551 §4.5).
 */
public final class GatewayOffer {
    /** Every audio codec the bridge relays without transcoding ({@link BridgedCodecs}), preferred first. */
    static final List<Codec> AUDIO = List.of(
            new Codec(0, "PCMU", 8000, 1, null, List.of()),
            new Codec(8, "PCMA", 8000, 1, null, List.of()),
            new Codec(9, "G722", 8000, 1, null, List.of()),
            new Codec(111, "opus", 48000, 2, "minptime=10;useinbandfec=1", List.of()),
            new Codec(101, "telephone-event", 8000, 1, "0-16", List.of()));

    private GatewayOffer() {}

    /**
     * One sendrecv audio section on {@code local}'s one port, c= and o= with its address.
     *
     * @throws IllegalArgumentException unless {@code local} has exactly one port
     */
    public static SessionDescription audio(SipMediaEndpoint local, Origin origin) {
        if (local.rtpPorts().size() != 1) {
            throw new IllegalArgumentException("a delayed-offer answer offers one audio section: one port, got "
                    + local.rtpPorts().size());
        }
        SectionBuilder b = new SectionBuilder("audio", local.rtpPorts().get(0),
                local.secureProfile() ? MediaProtocol.SECURE : MediaProtocol.PLAIN)
                .codecs(AUDIO, false)
                .packetTimes(Translation.DEFAULT_PTIME, null)
                .flag(Direction.SENDRECV.attributeName());
        local.cryptoOf(0).forEach(c -> b.attribute("crypto", c)); // SRTP toward SIP: our keys, one line per suite
        MediaDescription audio = b.build();
        return Translation.session(origin, Connection.of(local.address()), List.of(), List.of(audio));
    }
}
