package io.webrtcgateway.media.dtls;

import io.webrtcgateway.media.srtp.SrtpProfile;
import java.io.IOException;
import java.util.Hashtable;
import java.util.List;
import java.util.Vector;
import org.bouncycastle.tls.AlertDescription;
import org.bouncycastle.tls.Certificate;
import org.bouncycastle.tls.CertificateRequest;
import org.bouncycastle.tls.ClientCertificateType;
import org.bouncycastle.tls.DefaultTlsServer;
import org.bouncycastle.tls.ProtocolVersion;
import org.bouncycastle.tls.TlsCredentialedSigner;
import org.bouncycastle.tls.TlsFatalAlert;
import org.bouncycastle.tls.TlsSRTPUtils;
import org.bouncycastle.tls.TlsUtils;
import org.bouncycastle.tls.UseSRTPData;
import org.bouncycastle.tls.crypto.impl.bc.BcTlsCrypto;

/** Our side as DTLS server: requires a client certificate and use_srtp, picks the profile. */
final class DtlsServerPeer extends DefaultTlsServer {
    private final BcTlsCrypto crypto;
    private final DtlsCertificate certificate;
    private final List<SrtpProfile> profiles;
    private final DtlsTransport transport;
    private SrtpProfile selected;

    DtlsServerPeer(DtlsService service, DtlsTransport transport) {
        super(service.crypto());
        this.crypto = service.crypto();
        this.certificate = transport.certificate();
        this.profiles = service.srtpProfiles();
        this.transport = transport;
    }

    @Override
    protected ProtocolVersion[] getSupportedVersions() {
        return ProtocolVersion.DTLSv12.only();
    }

    @Override
    protected int[] getSupportedCipherSuites() {
        return TlsUtils.getSupportedCipherSuites(getCrypto(), DtlsPeerSupport.ECDSA_SUITES);
    }

    @Override
    protected TlsCredentialedSigner getECDSASignerCredentials() throws IOException {
        return DtlsPeerSupport.signer(context, crypto, certificate,
                context.getSecurityParametersHandshake().getClientSigAlgs());
    }

    /** RFC 5763 §5: the server must ask for the client's certificate; it is what the fingerprint binds. */
    @Override
    public CertificateRequest getCertificateRequest() {
        short[] types = {ClientCertificateType.ecdsa_sign, ClientCertificateType.rsa_sign};
        Vector<?> algorithms = TlsUtils.getDefaultSupportedSignatureAlgorithms(context);
        return new CertificateRequest(types, algorithms, null);
    }

    @Override
    public void notifyClientCertificate(Certificate clientCertificate) throws IOException {
        transport.verifyPeer(DtlsPeerSupport.endEntity(clientCertificate));
    }

    @Override
    public void processClientExtensions(Hashtable clientExtensions) throws IOException {
        super.processClientExtensions(clientExtensions);
        UseSRTPData offered = TlsSRTPUtils.getUseSRTPExtension(clientExtensions);
        if (offered == null) {
            throw transport.refuse(DtlsFailure.Reason.NO_SRTP_PROFILE, AlertDescription.handshake_failure,
                    "client did not offer use_srtp");
        }
        // RFC 5764 §4.1.3: the server picks from the client's list; we pick by our own preference
        for (SrtpProfile p : profiles) {
            for (int id : offered.getProtectionProfiles()) {
                if (id == p.dtlsId()) {
                    selected = p;
                    return;
                }
            }
        }
        throw transport.refuse(DtlsFailure.Reason.NO_SRTP_PROFILE, AlertDescription.handshake_failure,
                "no common SRTP profile in the client's use_srtp");
    }

    @Override
    public Hashtable getServerExtensions() throws IOException {
        Hashtable extensions = super.getServerExtensions();
        // empty srtp_mki: we do not use MKIs with DTLS-SRTP
        TlsSRTPUtils.addUseSRTPExtension(extensions, new UseSRTPData(new int[] {selected.dtlsId()},
                TlsUtils.EMPTY_BYTES));
        return extensions;
    }

    /** Chains are not checked against any CA: the fingerprint is the trust (RFC 5763 §5). */
    @Override
    public boolean shouldCheckSigAlgOfPeerCerts() {
        return false;
    }

    @Override
    public void notifyHandshakeComplete() throws IOException {
        super.notifyHandshakeComplete();
        transport.exportKeys(context, selected);
    }

    @Override
    public void notifyAlertReceived(short alertLevel, short alertDescription) {
        transport.alertReceived(alertLevel, alertDescription);
    }

    @Override
    public void notifyAlertRaised(short alertLevel, short alertDescription, String message, Throwable cause) {
        transport.alertRaised(alertLevel, alertDescription, message);
    }
}
