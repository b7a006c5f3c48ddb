package io.webrtcgateway.media.rtp;

import java.io.IOException;

/** Every port pair of the configured range is in use or refused by the OS: the call cannot get media. */
public final class RtpPortsExhaustedException extends IOException {
    private static final long serialVersionUID = 1L;

    public RtpPortsExhaustedException(String message) {
        super(message);
    }
}
