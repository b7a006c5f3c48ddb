package io.webrtcgateway.media.dtls;

import io.webrtcgateway.media.srtp.SrtpMasterKey;
import io.webrtcgateway.media.srtp.SrtpProfile;
import io.webrtcgateway.media.srtp.SrtpSession;
import java.util.Arrays;

/**
 * What a completed DTLS-SRTP handshake yields: the negotiated profile and the two SRTP master keys from the
 * exporter (RFC 5764 §4.2), already assigned to directions for our role. {@code toString()} shows no keys.
 */
public final class DtlsSrtpKeys {
    static final int EXPORTER_LENGTH = 2 * (SrtpProfile.MASTER_KEY_LENGTH + SrtpProfile.MASTER_SALT_LENGTH);

    private final SrtpProfile profile;
    private final DtlsRole role;
    private final SrtpMasterKey local;
    private final SrtpMasterKey remote;
    private final DtlsFingerprint peerFingerprint;

    DtlsSrtpKeys(SrtpProfile profile, DtlsRole role, SrtpMasterKey local, SrtpMasterKey remote,
            DtlsFingerprint peerFingerprint) {
        this.profile = profile;
        this.role = role;
        this.local = local;
        this.remote = remote;
        this.peerFingerprint = peerFingerprint;
    }

    /**
     * RFC 5764 §4.2: the exported block is client_write_key | server_write_key | client_write_salt |
     * server_write_salt; the client protects with the client_write pair.
     */
    static DtlsSrtpKeys fromExporter(byte[] material, SrtpProfile profile, DtlsRole role,
            DtlsFingerprint peerFingerprint) {
        int k = SrtpProfile.MASTER_KEY_LENGTH;
        int s = SrtpProfile.MASTER_SALT_LENGTH;
        SrtpMasterKey client = new SrtpMasterKey(Arrays.copyOfRange(material, 0, k),
                Arrays.copyOfRange(material, 2 * k, 2 * k + s));
        SrtpMasterKey server = new SrtpMasterKey(Arrays.copyOfRange(material, k, 2 * k),
                Arrays.copyOfRange(material, 2 * k + s, 2 * k + 2 * s));
        return role == DtlsRole.CLIENT
                ? new DtlsSrtpKeys(profile, role, client, server, peerFingerprint)
                : new DtlsSrtpKeys(profile, role, server, client, peerFingerprint);
    }

    public SrtpProfile profile() {
        return profile;
    }

    public DtlsRole role() {
        return role;
    }

    /** The key we protect outgoing SRTP/SRTCP with. */
    public SrtpMasterKey local() {
        return local;
    }

    /** The key the peer protects with: we unprotect with it. */
    public SrtpMasterKey remote() {
        return remote;
    }

    /** SHA-256 fingerprint of the certificate the peer presented (verified against its SDP). */
    public DtlsFingerprint peerFingerprint() {
        return peerFingerprint;
    }

    public SrtpSession newSrtpSession() {
        return SrtpSession.create(profile, local, remote);
    }

    @Override
    public String toString() {
        return "DtlsSrtpKeys[" + profile + ", " + role + ", peer " + peerFingerprint + "]";
    }
}
