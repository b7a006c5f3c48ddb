/**
 * Media bridge (SPEC §6): per call, an ICE transport toward the browser ({@code media.ice}), DTLS 1.2 for
 * keying and SRTP/SRTCP for protection ({@code media.dtls}, {@code media.srtp}), and plain RTP/RTCP
 * sockets toward the SIP side ({@code media.rtp}). Layers talk through {@link io.webrtcgateway.media.PacketHandler}
 * (up) and {@link io.webrtcgateway.media.PacketSender} (down); one place plugs them together per call.
 */
package io.webrtcgateway.media;
