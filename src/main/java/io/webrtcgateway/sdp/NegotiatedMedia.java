package io.webrtcgateway.sdp;

import java.util.List;

/**
 * One m-line (index {@code index} on both legs) after offer and answer, as the media layer needs it.
 *
 * @param mid              the browser's mid for this section (null without one)
 * @param active           both legs have it with a port: relay it
 * @param codecs           the agreed codecs, telephone-event included, in the SIP peer's order
 * @param telephoneEvent   the RFC 4733 format to send DTMF with: the one at the first voice codec's clock
 *                         rate, else the first; null when none was agreed
 * @param browserDirection the direction the browser declared
 * @param sipDirection     the direction the SIP peer declared, c=0.0.0.0 read as "not receiving"
 * @param ptime            the SIP peer's a=ptime, else 20 for audio, 0 for video
 * @param sipRemote        where the SIP peer receives RTP/RTCP
 * @param sipLocalRtpPort  the gateway's SIP-side RTP port for this section (0 when not bridged)
 * @param browserSsrcs     SSRCs the browser declared (a=ssrc), to tell its streams apart on the bundle
 */
public record NegotiatedMedia(int index, String media, String mid, boolean active, List<NegotiatedCodec> codecs,
                              NegotiatedCodec telephoneEvent, Direction browserDirection, Direction sipDirection,
                              int ptime, RtpAddress sipRemote, int sipLocalRtpPort, List<Long> browserSsrcs) {

    public NegotiatedMedia {
        codecs = List.copyOf(codecs);
        browserSsrcs = List.copyOf(browserSsrcs);
    }

    /** Relay browser -> SIP: the browser sends and the SIP peer wants to receive. */
    public boolean flowsToSip() {
        return active && browserDirection.sends() && sipDirection.receives();
    }

    /** Relay SIP -> browser: the SIP peer sends and the browser wants to receive. */
    public boolean flowsToBrowser() {
        return active && sipDirection.sends() && browserDirection.receives();
    }
}
