package io.webrtcgateway.media.dtls;

/** Which side of the DTLS handshake we play: CLIENT sends the ClientHello, SERVER waits for it. */
public enum DtlsRole {
    CLIENT,
    SERVER
}
