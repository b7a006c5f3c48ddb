package io.webrtcgateway.media.srtp;

/**
 * Session keys derived from a master key (RFC 3711 §4.3) with key_derivation_rate 0, the only rate DTLS-SRTP
 * and WebRTC use: each key is the AES-CM keystream under the master key for the IV
 * (label * 2^48 XOR master_salt) * 2^16, so the label lands in byte 7 of the IV.
 */
record SessionKeys(byte[] encryptionKey, byte[] authenticationKey, byte[] salt) {
    // RFC 3711 §4.3.1-§4.3.2 labels, SRTP then SRTCP
    static final int SRTP_ENCRYPTION = 0x00;
    static final int SRTP_AUTHENTICATION = 0x01;
    static final int SRTP_SALT = 0x02;
    static final int SRTCP_ENCRYPTION = 0x03;
    static final int SRTCP_AUTHENTICATION = 0x04;
    static final int SRTCP_SALT = 0x05;

    static SessionKeys forRtp(SrtpMasterKey master) {
        return derive(master, SRTP_ENCRYPTION, SRTP_AUTHENTICATION, SRTP_SALT);
    }

    static SessionKeys forRtcp(SrtpMasterKey master) {
        return derive(master, SRTCP_ENCRYPTION, SRTCP_AUTHENTICATION, SRTCP_SALT);
    }

    private static SessionKeys derive(SrtpMasterKey master, int encLabel, int authLabel, int saltLabel) {
        AesCounterMode prf = new AesCounterMode(master.keyRef());
        byte[] salt = master.saltRef();
        return new SessionKeys(
                derive(prf, salt, encLabel, SrtpProfile.MASTER_KEY_LENGTH),
                derive(prf, salt, authLabel, SrtpProfile.AUTH_KEY_LENGTH),
                derive(prf, salt, saltLabel, SrtpProfile.MASTER_SALT_LENGTH));
    }

    static byte[] derive(AesCounterMode prf, byte[] masterSalt, int label, int length) {
        byte[] out = new byte[length];
        prf.apply(AesCounterMode.high(masterSalt) ^ label, AesCounterMode.low(masterSalt), out, 0, length);
        return out;
    }
}
