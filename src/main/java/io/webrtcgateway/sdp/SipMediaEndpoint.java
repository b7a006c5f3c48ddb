package io.webrtcgateway.sdp;

import java.util.List;
import java.util.Map;

/**
 * The gateway's side of the RTP legs toward SIP: the address written in c= and o=, and one RTP port per
 * bridged m-line, in m-line order ({@link BridgePlan#bridgedCount()} of them). RTCP goes to the next port up
 * (RFC 3550 §11), so no a=rtcp is written: allocate even ports with their odd neighbour.
 *
 * <p>SRTP toward SIP (docs/sip.md "SRTP toward SIP Server"): {@code crypto} holds the gateway's a=crypto values
 * (RFC 4568) by m-line index, written into that section (offers: one per suite; answers: the one line that
 * answers the accepted offered line); sections without an entry carry none. {@code secureProfile}: offers use
 * {@code RTP/SAVP} instead of {@code RTP/AVP} (answers mirror the offer's profile whatever this says).
 */
public record SipMediaEndpoint(String address, List<Integer> rtpPorts, Map<Integer, List<String>> crypto,
                               boolean secureProfile) {

    public SipMediaEndpoint {
        if (address == null || address.isEmpty() || address.chars().anyMatch(c -> c <= ' ')) {
            throw new IllegalArgumentException("invalid RTP address \"" + address + "\"");
        }
        rtpPorts = List.copyOf(rtpPorts);
        for (int port : rtpPorts) {
            if (port < 1 || port > 65534) {
                throw new IllegalArgumentException("RTP port " + port + " out of range 1-65534");
            }
        }
        crypto = Map.copyOf(crypto);
    }

    /** Plain RTP/AVP, no keys. */
    public SipMediaEndpoint(String address, List<Integer> rtpPorts) {
        this(address, rtpPorts, Map.of(), false);
    }

    public static SipMediaEndpoint of(String address, Integer... rtpPorts) {
        return new SipMediaEndpoint(address, List.of(rtpPorts));
    }

    /** The gateway's a=crypto values for m-line {@code index}; empty for plain RTP. */
    List<String> cryptoOf(int index) {
        return crypto.getOrDefault(index, List.of());
    }

    int port(BridgePlan plan, int index) {
        requirePortsFor(plan);
        return rtpPorts.get(plan.portSlot(index));
    }

    void requirePortsFor(BridgePlan plan) {
        if (rtpPorts.size() != plan.bridgedCount()) {
            throw new IllegalArgumentException("expected " + plan.bridgedCount()
                    + " RTP port(s), one per bridged m-line, got " + rtpPorts.size());
        }
    }
}
