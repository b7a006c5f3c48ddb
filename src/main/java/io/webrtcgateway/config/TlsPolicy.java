package io.webrtcgateway.config;

/**
 * The TLS versions and cipher suites of every TLS listener and client of the gateway: HTTPS/WSS
 * (launcher.HttpsConnector) and SIP over TLS (sip.tcp.TlsContexts).
 */
public final class TlsPolicy {
    /** TLS 1.3 and 1.2: RFC 8996 retires 1.0 and 1.1. */
    public static final String[] PROTOCOLS = {"TLSv1.3", "TLSv1.2"};

    /**
     * TLS 1.3's suites (all AEAD), then for TLS 1.2 ECDHE key exchange (forward secrecy) with AES-GCM or
     * ChaCha20-Poly1305 (RFC 7905): no CBC, no static RSA key exchange, no SHA-1 MACs. ECDSA before RSA; the
     * server's order wins. Every browser of the last ten years has one of them. For SIP, RFC 3261 §26.2.1's
     * TLS_RSA_WITH_AES_128_CBC_SHA is left out on purpose (no forward secrecy, CBC); every TLS 1.2 SIP stack of
     * the last decade (Kamailio, Asterisk, OpenSIPS, baresip: OpenSSL) has an ECDHE-GCM suite.
     */
    public static final String[] CIPHER_SUITES = {
        "TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256",
        "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
        "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
        "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256", "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
    };

    private TlsPolicy() {}
}
