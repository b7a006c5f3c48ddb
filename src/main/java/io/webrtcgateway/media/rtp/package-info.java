/**
 * The SIP side of the media bridge and the packet path between the two legs (docs/media.md, "Plain RTP
 * side and packet path"): port pairs ({@link io.webrtcgateway.media.rtp.RtpPortAllocator}), plain RTP/RTCP
 * sockets read by a few shared selector threads ({@link io.webrtcgateway.media.rtp.PlainRtpEndpoint},
 * {@link io.webrtcgateway.media.rtp.UdpReceiveLoops}), and the per-m-line relay
 * ({@link io.webrtcgateway.media.rtp.MediaRelay}) with its rewriting, RTCP translation and stats.
 */
package io.webrtcgateway.media.rtp;
