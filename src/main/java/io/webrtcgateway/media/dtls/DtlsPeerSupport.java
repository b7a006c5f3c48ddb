package io.webrtcgateway.media.dtls;

import io.webrtcgateway.media.srtp.SrtpProfile;
import java.io.IOException;
import java.util.List;
import java.util.Vector;
import org.bouncycastle.tls.AlertDescription;
import org.bouncycastle.tls.Certificate;
import org.bouncycastle.tls.CipherSuite;
import org.bouncycastle.tls.HashAlgorithm;
import org.bouncycastle.tls.SignatureAlgorithm;
import org.bouncycastle.tls.SignatureAndHashAlgorithm;
import org.bouncycastle.tls.TlsContext;
import org.bouncycastle.tls.TlsCredentialedSigner;
import org.bouncycastle.tls.TlsFatalAlert;
import org.bouncycastle.tls.crypto.TlsCertificate;
import org.bouncycastle.tls.crypto.TlsCryptoParameters;
import org.bouncycastle.tls.crypto.impl.bc.BcDefaultTlsCredentialedSigner;
import org.bouncycastle.tls.crypto.impl.bc.BcTlsCrypto;

/** What the client and server peers share: suites, our credentials, the SRTP profiles, peer checks. */
final class DtlsPeerSupport {
    /** Our certificate is ECDSA, so as server only ECDHE_ECDSA suites; AEAD first. */
    static final int[] ECDSA_SUITES = {
        CipherSuite.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
        CipherSuite.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
        CipherSuite.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
        CipherSuite.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA,
        CipherSuite.TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA,
    };
    /** As client we also accept a server with an RSA certificate (older non-browser endpoints). */
    static final int[] CLIENT_SUITES = {
        CipherSuite.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
        CipherSuite.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
        CipherSuite.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
        CipherSuite.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
        CipherSuite.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
        CipherSuite.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
        CipherSuite.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA,
        CipherSuite.TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA,
        CipherSuite.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA,
        CipherSuite.TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA,
    };
    private static final List<SignatureAndHashAlgorithm> OUR_SIGNATURES = List.of(
            SignatureAndHashAlgorithm.getInstance(HashAlgorithm.sha256, SignatureAlgorithm.ecdsa),
            SignatureAndHashAlgorithm.getInstance(HashAlgorithm.sha384, SignatureAlgorithm.ecdsa),
            SignatureAndHashAlgorithm.getInstance(HashAlgorithm.sha512, SignatureAlgorithm.ecdsa),
            SignatureAndHashAlgorithm.getInstance(HashAlgorithm.sha1, SignatureAlgorithm.ecdsa));

    private DtlsPeerSupport() {
    }

    /** use_srtp protection profile ids (RFC 5764 §4.1.2), in our order of preference. */
    static int[] profileIds(List<SrtpProfile> profiles) {
        return profiles.stream().mapToInt(SrtpProfile::dtlsId).toArray();
    }

    /**
     * Our certificate as a signer, with the first ECDSA signature algorithm the peer listed as acceptable
     * (its signature_algorithms, or its CertificateRequest); ECDSA-SHA256 when it listed none.
     */
    static TlsCredentialedSigner signer(TlsContext context, BcTlsCrypto crypto, DtlsCertificate certificate,
            Vector<?> peerAccepts) throws IOException {
        SignatureAndHashAlgorithm chosen = OUR_SIGNATURES.get(0);
        if (peerAccepts != null && !peerAccepts.isEmpty()) {
            chosen = OUR_SIGNATURES.stream().filter(peerAccepts::contains).findFirst()
                    .orElseThrow(() -> new TlsFatalAlert(AlertDescription.handshake_failure,
                            "peer accepts no ECDSA signature algorithm"));
        }
        TlsCertificate tlsCert = crypto.createCertificate(certificate.encodedRef());
        return new BcDefaultTlsCredentialedSigner(new TlsCryptoParameters(context), crypto, certificate.privateKey(),
                new Certificate(new TlsCertificate[] {tlsCert}), chosen);
    }

    /** The end-entity certificate of a chain, DER; null if the chain is empty. */
    static byte[] endEntity(Certificate chain) throws IOException {
        if (chain == null || chain.isEmpty()) {
            return null;
        }
        return chain.getCertificateAt(0).getEncoded();
    }
}
