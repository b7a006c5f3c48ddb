package io.webrtcgateway.media.ice;

import java.net.InetSocketAddress;

/**
 * A snapshot of one {@link IceTransport}: the selected pair (nulls when there is none) and payload counters
 * (DTLS/SRTP/SRTCP datagrams; STUN is counted apart) summed over every ICE generation of the transport.
 *
 * @param localCandidateType  host, srflx (public-address mapping or STUN), prflx or relay
 * @param remoteCandidateType idem, for the browser's side (relay when it goes through TURN)
 * @param droppedIn           datagrams not delivered: from an address that is not the selected remote, not
 *                            DTLS/RTP/STUN by their first byte (RFC 7983), too long, or no receiver set
 * @param droppedOut          sends refused: no selected pair yet, consent lost, transport closed, send error
 * @param receiverErrors      packets the receiver threw on (the loop went on)
 * @param restarts            ICE restarts (RFC 8445 §9) so far
 */
public record IceStats(
        IceTransport.State state,
        InetSocketAddress localAddress,
        String localCandidateType,
        InetSocketAddress remoteAddress,
        String remoteCandidateType,
        long packetsIn,
        long bytesIn,
        long packetsOut,
        long bytesOut,
        long droppedIn,
        long droppedOut,
        long receiverErrors,
        long stunIn,
        int restarts) {
}
