package io.webrtcgateway.media.dtls;

import io.webrtcgateway.config.TlsIdentity;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.CertificateEncodingException;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import org.bouncycastle.asn1.ASN1Encodable;
import org.bouncycastle.asn1.ASN1Encoding;
import org.bouncycastle.asn1.ASN1Integer;
import org.bouncycastle.asn1.DERBitString;
import org.bouncycastle.asn1.DERSequence;
import org.bouncycastle.asn1.sec.SECObjectIdentifiers;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.AlgorithmIdentifier;
import org.bouncycastle.asn1.x509.TBSCertificate;
import org.bouncycastle.asn1.x509.Time;
import org.bouncycastle.asn1.x509.V3TBSCertificateGenerator;
import org.bouncycastle.asn1.x9.ECNamedCurveTable;
import org.bouncycastle.asn1.x9.X9ObjectIdentifiers;
import org.bouncycastle.crypto.AsymmetricCipherKeyPair;
import org.bouncycastle.crypto.digests.SHA256Digest;
import org.bouncycastle.crypto.generators.ECKeyPairGenerator;
import org.bouncycastle.crypto.params.AsymmetricKeyParameter;
import org.bouncycastle.crypto.params.ECKeyGenerationParameters;
import org.bouncycastle.crypto.params.ECNamedDomainParameters;
import org.bouncycastle.crypto.params.ECPrivateKeyParameters;
import org.bouncycastle.crypto.signers.DSADigestSigner;
import org.bouncycastle.crypto.signers.ECDSASigner;
import org.bouncycastle.crypto.signers.HMacDSAKCalculator;
import org.bouncycastle.crypto.util.PrivateKeyFactory;
import org.bouncycastle.crypto.util.SubjectPublicKeyInfoFactory;

/**
 * A DTLS identity: an ECDSA P-256 key and a certificate over it, either generated at start (a few ms; a
 * self-signed certificate valid from a day before creation for {@link #VALIDITY}) or made from configured
 * files ({@link #of(TlsIdentity)}). Browsers trust it through the fingerprint in our SDP (RFC 5763 §5), not
 * through a CA, and do not check its dates. Immutable; shared by the calls that started while it was the
 * instance's ({@link DtlsService#certificate()}).
 */
public final class DtlsCertificate {
    static final Duration VALIDITY = Duration.ofDays(365);

    private final ECPrivateKeyParameters privateKey;
    private final byte[] der;
    private final DtlsFingerprint sha256;

    private DtlsCertificate(ECPrivateKeyParameters privateKey, byte[] der) {
        this.privateKey = privateKey;
        this.der = der;
        this.sha256 = DtlsFingerprint.of("sha-256", der);
    }

    /**
     * The certificate and key of a loaded identity ({@link TlsIdentity.Use#DTLS_SRTP}: an ECDSA P-256 key that
     * matches the first certificate). Only that certificate is sent in handshakes: browsers pin its
     * fingerprint and ignore any issuer.
     *
     * @throws IllegalArgumentException the key is not an EC key
     */
    public static DtlsCertificate of(TlsIdentity identity) {
        PrivateKey key = identity.privateKey();
        try {
            AsymmetricKeyParameter parameters = PrivateKeyFactory.createKey(key.getEncoded());
            return new DtlsCertificate(ecKey(parameters), identity.certificate().getEncoded());
        } catch (IOException | CertificateEncodingException e) {
            throw new IllegalArgumentException("the DTLS key or certificate cannot be encoded: " + e.getMessage(), e);
        }
    }

    private static ECPrivateKeyParameters ecKey(AsymmetricKeyParameter parameters) {
        if (!(parameters instanceof ECPrivateKeyParameters ec)) {
            throw new IllegalArgumentException("the DTLS key must be ECDSA P-256, not "
                    + parameters.getClass().getSimpleName());
        }
        return ec;
    }

    public static DtlsCertificate generate() {
        return generate(new SecureRandom(), Instant.now());
    }

    static DtlsCertificate generate(SecureRandom random, Instant now) {
        // named-curve parameters, so the SubjectPublicKeyInfo carries the P-256 OID as browsers expect
        ECNamedDomainParameters p256 = new ECNamedDomainParameters(SECObjectIdentifiers.secp256r1,
                ECNamedCurveTable.getByOID(SECObjectIdentifiers.secp256r1));
        ECKeyPairGenerator generator = new ECKeyPairGenerator();
        generator.init(new ECKeyGenerationParameters(p256, random));
        AsymmetricCipherKeyPair pair = generator.generateKeyPair();
        try {
            AlgorithmIdentifier ecdsaSha256 = new AlgorithmIdentifier(X9ObjectIdentifiers.ecdsa_with_SHA256);
            X500Name name = new X500Name("CN=WebRTC");
            V3TBSCertificateGenerator tbs = new V3TBSCertificateGenerator();
            tbs.setSerialNumber(new ASN1Integer(new BigInteger(63, random)));
            tbs.setSignature(ecdsaSha256);
            tbs.setIssuer(name);
            tbs.setSubject(name);
            tbs.setStartDate(new Time(Date.from(now.minus(Duration.ofDays(1)))));
            tbs.setEndDate(new Time(Date.from(now.plus(VALIDITY))));
            tbs.setSubjectPublicKeyInfo(SubjectPublicKeyInfoFactory.createSubjectPublicKeyInfo(pair.getPublic()));
            TBSCertificate toSign = tbs.generateTBSCertificate();
            byte[] toSignDer = toSign.getEncoded(ASN1Encoding.DER);

            // deterministic ECDSA nonce (RFC 6979): no dependence on the RNG at signing time
            DSADigestSigner signer = new DSADigestSigner(new ECDSASigner(new HMacDSAKCalculator(new SHA256Digest())),
                    new SHA256Digest());
            signer.init(true, pair.getPrivate());
            signer.update(toSignDer, 0, toSignDer.length);
            byte[] signature = signer.generateSignature();

            byte[] der = new DERSequence(new ASN1Encodable[] {toSign, ecdsaSha256, new DERBitString(signature)})
                    .getEncoded(ASN1Encoding.DER);
            return new DtlsCertificate((ECPrivateKeyParameters) pair.getPrivate(), der);
        } catch (IOException e) {
            throw new UncheckedIOException("encoding the DTLS certificate", e);
        }
    }

    /** For {@code a=fingerprint:}: {@code sha-256 AB:CD:...}. */
    public String fingerprint() {
        return sha256.toSdp();
    }

    public DtlsFingerprint sha256Fingerprint() {
        return sha256;
    }

    /** The certificate, DER. */
    public byte[] encoded() {
        return der.clone();
    }

    byte[] encodedRef() {
        return der;
    }

    ECPrivateKeyParameters privateKey() {
        return privateKey;
    }

    @Override
    public String toString() {
        return "DtlsCertificate[" + fingerprint() + "]";
    }
}
