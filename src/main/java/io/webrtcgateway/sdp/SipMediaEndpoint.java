package io.webrtcgateway.sdp;

import java.util.List;

/**
 * The gateway's side of the plain RTP legs toward SIP: the address written in c= and o=, and one RTP port
 * per bridged m-line, in m-line order ({@link BridgePlan#bridgedCount()} of them). RTCP goes to the next
 * port up (RFC 3550 §11), so no a=rtcp is written: allocate even ports with their odd neighbour.
 */
public record SipMediaEndpoint(String address, List<Integer> rtpPorts) {

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
    }

    public static SipMediaEndpoint of(String address, Integer... rtpPorts) {
        return new SipMediaEndpoint(address, List.of(rtpPorts));
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
