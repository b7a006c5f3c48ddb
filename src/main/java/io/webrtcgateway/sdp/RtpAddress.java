package io.webrtcgateway.sdp;

/**
 * Where a plain RTP peer receives: c= address (not resolved: it may be a host name), m= port, and the RTCP
 * port (a=rtcp, RFC 3605, else the RTP port + 1, RFC 3550 §11). An address of 0.0.0.0 means "send nothing".
 */
public record RtpAddress(String address, int rtpPort, int rtcpPort) {

    static RtpAddress of(SessionDescription sdp, MediaDescription m) {
        BridgePlan.requireConnection(sdp, m);
        String address = sdp.connectionOf(m).address();
        int slash = address.indexOf('/');
        if (slash >= 0) {
            address = address.substring(0, slash); // multicast TTL or count (RFC 8866 §5.7)
        }
        int rtcp = m.port() == 0 ? 0 : m.port() + 1;
        String rtcpValue = m.attribute("rtcp").orElse(null);
        if (rtcpValue != null) {
            java.util.List<String> f = Tokens.split(rtcpValue);
            int port = f.isEmpty() ? -1 : Tokens.parseUnsigned(f.get(0));
            if (port < 0 || port > 65535 || (f.size() != 1 && f.size() != 4)) {
                throw SdpException.malformed(SdpException.quote("a=rtcp:" + rtcpValue)
                        + ": expected <port> [<nettype> <addrtype> <address>] (RFC 3605)");
            }
            rtcp = port;
        }
        return new RtpAddress(address, m.port(), rtcp);
    }

    public boolean isUnspecified() {
        return address.equals("0.0.0.0") || address.equals("::") || rtpPort == 0;
    }
}
