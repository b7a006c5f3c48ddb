package io.webrtcgateway.media.dtls;

import io.webrtcgateway.media.srtp.SrtpProfile;
import java.io.IOException;
import java.util.Hashtable;
import java.util.List;
import org.bouncycastle.tls.AlertDescription;
import org.bouncycastle.tls.CertificateRequest;
import org.bouncycastle.tls.DefaultTlsClient;
import org.bouncycastle.tls.ProtocolVersion;
import org.bouncycastle.tls.TlsAuthentication;
import org.bouncycastle.tls.TlsCredentials;
import org.bouncycastle.tls.TlsSRTPUtils;
import org.bouncycastle.tls.TlsServerCertificate;
import org.bouncycastle.tls.TlsUtils;
import org.bouncycastle.tls.UseSRTPData;
import org.bouncycastle.tls.crypto.impl.bc.BcTlsCrypto;

/** Our side as DTLS client: offers use_srtp, checks the server's certificate, presents ours. */
final class DtlsClientPeer extends DefaultTlsClient {
    private final BcTlsCrypto crypto;
    private final DtlsCertificate certificate;
    private final List<SrtpProfile> profiles;
    private final DtlsTransport transport;
    private SrtpProfile selected;

    DtlsClientPeer(DtlsService service, DtlsTransport transport) {
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
        return TlsUtils.getSupportedCipherSuites(getCrypto(), DtlsPeerSupport.CLIENT_SUITES);
    }

    @Override
    public Hashtable getClientExtensions() throws IOException {
        Hashtable extensions = super.getClientExtensions();
        TlsSRTPUtils.addUseSRTPExtension(extensions, new UseSRTPData(DtlsPeerSupport.profileIds(profiles),
                TlsUtils.EMPTY_BYTES));
        return extensions;
    }

    @Override
    public void processServerExtensions(Hashtable serverExtensions) throws IOException {
        super.processServerExtensions(serverExtensions);
        UseSRTPData answer = serverExtensions == null ? null : TlsSRTPUtils.getUseSRTPExtension(serverExtensions);
        if (answer == null) {
            throw transport.refuse(DtlsFailure.Reason.NO_SRTP_PROFILE, AlertDescription.handshake_failure,
                    "server did not accept use_srtp");
        }
        int[] ids = answer.getProtectionProfiles();
        // RFC 5764 §4.1.1: the server answers exactly one profile from our list
        if (ids.length != 1 || SrtpProfile.ofDtlsId(ids[0]).filter(profiles::contains).isEmpty()) {
            throw transport.refuse(DtlsFailure.Reason.NO_SRTP_PROFILE, AlertDescription.illegal_parameter,
                    "server chose an SRTP profile we did not offer");
        }
        if (answer.getMki().length != 0) {
            throw transport.refuse(DtlsFailure.Reason.NO_SRTP_PROFILE, AlertDescription.illegal_parameter,
                    "server asked for an SRTP MKI, which we do not support");
        }
        selected = SrtpProfile.ofDtlsId(ids[0]).orElseThrow();
    }

    @Override
    public TlsAuthentication getAuthentication() {
        return new TlsAuthentication() {
            @Override
            public void notifyServerCertificate(TlsServerCertificate serverCertificate) throws IOException {
                transport.verifyPeer(DtlsPeerSupport.endEntity(serverCertificate.getCertificate()));
            }

            @Override
            public TlsCredentials getClientCredentials(CertificateRequest request) throws IOException {
                return DtlsPeerSupport.signer(context, crypto, certificate, request.getSupportedSignatureAlgorithms());
            }
        };
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
