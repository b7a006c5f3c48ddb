package io.webrtcgateway.media.srtp;

import java.util.Arrays;

/**
 * One direction's SRTP master key and master salt (RFC 3711 §3.2.1), plus the MKI that packets protected
 * with it carry (empty for DTLS-SRTP; SDES may set one, RFC 4568 §6.1). Immutable; arrays are copied in and
 * out. {@link #toString()} never shows key material.
 */
public final class SrtpMasterKey {
    private final byte[] key;
    private final byte[] salt;
    private final byte[] mki;

    public SrtpMasterKey(byte[] key, byte[] salt) {
        this(key, salt, new byte[0]);
    }

    public SrtpMasterKey(byte[] key, byte[] salt, byte[] mki) {
        if (key == null || key.length != SrtpProfile.MASTER_KEY_LENGTH) {
            throw new IllegalArgumentException("SRTP master key must be " + SrtpProfile.MASTER_KEY_LENGTH + " bytes");
        }
        if (salt == null || salt.length != SrtpProfile.MASTER_SALT_LENGTH) {
            throw new IllegalArgumentException("SRTP master salt must be " + SrtpProfile.MASTER_SALT_LENGTH + " bytes");
        }
        if (mki == null || mki.length > 128) {
            throw new IllegalArgumentException("SRTP MKI must be 0 to 128 bytes");
        }
        this.key = key.clone();
        this.salt = salt.clone();
        this.mki = mki.clone();
    }

    public byte[] key() {
        return key.clone();
    }

    public byte[] salt() {
        return salt.clone();
    }

    public byte[] mki() {
        return mki.clone();
    }

    int mkiLength() {
        return mki.length;
    }

    byte[] keyRef() {
        return key;
    }

    byte[] saltRef() {
        return salt;
    }

    byte[] mkiRef() {
        return mki;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof SrtpMasterKey other && Arrays.equals(key, other.key) && Arrays.equals(salt, other.salt)
                && Arrays.equals(mki, other.mki);
    }

    @Override
    public int hashCode() {
        return 31 * Arrays.hashCode(key) + Arrays.hashCode(salt);
    }

    @Override
    public String toString() {
        return "SrtpMasterKey[mki=" + mki.length + " bytes]";
    }
}
