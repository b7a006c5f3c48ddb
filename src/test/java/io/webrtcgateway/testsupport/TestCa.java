package io.webrtcgateway.testsupport;

import java.io.IOException;
import java.io.OutputStream;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.MessageDigest;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Date;
import java.util.List;
import org.bouncycastle.asn1.DERBitString;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.asn1.sec.ECPrivateKey;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;
import org.bouncycastle.openssl.jcajce.JceOpenSSLPKCS8EncryptorBuilder;
import org.bouncycastle.jce.provider.BouncyCastleProvider;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.util.io.pem.PemObject;

/**
 * A certificate authority made at test time (BouncyCastle), and server certificates it issues: the HTTPS
 * tests' stand-in for a real CA. Nothing is written unless asked; keys are EC P-256 unless an RSA pair is
 * given (to the CA or to a certificate it issues).
 *
 * <pre>
 * TestCa ca = TestCa.create("Gateway test CA");
 * TestCa.Issued server = ca.issue("127.0.0.1", "localhost");
 * server.writePem(dir.resolve("chain.pem"), dir.resolve("key.pem"), TestCa.KeyFormat.PKCS8);
 * // Chromium: --ignore-certificate-errors-spki-list=ca.spkiSha256()
 * </pre>
 *
 * {@link #selfSigned} makes a certificate without a CA, as {@code openssl req -x509} does (a DTLS certificate).
 */
public final class TestCa {
    private static final SecureRandom RANDOM = new SecureRandom();

    private final KeyPair keys;
    private final X509Certificate certificate;

    private TestCa(KeyPair keys, X509Certificate certificate) {
        this.keys = keys;
        this.certificate = certificate;
    }

    /** A self-signed CA valid from an hour ago for ten years, EC P-256. */
    public static TestCa create(String name) {
        return create(name, ec());
    }

    /** A self-signed CA with the given key (e.g. {@link #rsa}: an RSA chain throughout, as many deployments have). */
    public static TestCa create(String name, KeyPair keys) {
        Instant now = Instant.now();
        X500Name subject = new X500Name("CN=" + name);
        try {
            JcaX509ExtensionUtils ext = new JcaX509ExtensionUtils();
            X509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(subject, serial(),
                    Date.from(now.minus(Duration.ofHours(1))), Date.from(now.plus(Duration.ofDays(3650))), subject,
                    keys.getPublic())
                    .addExtension(Extension.basicConstraints, true, new BasicConstraints(true))
                    .addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign))
                    .addExtension(Extension.subjectKeyIdentifier, false, ext.createSubjectKeyIdentifier(keys.getPublic()));
            return new TestCa(keys, sign(builder, keys));
        } catch (GeneralSecurityException | IOException e) {
            throw new IllegalStateException(e);
        }
    }

    public X509Certificate certificate() {
        return certificate;
    }

    /**
     * A certificate that is its own issuer, for {@code name} (its CN), with the given key and validity: what
     * {@code openssl req -x509 -newkey ec ...} makes. Its {@link Issued#chain()} is itself alone.
     */
    public static Issued selfSigned(String name, KeyPair keys, Instant notBefore, Instant notAfter) {
        X500Name subject = new X500Name("CN=" + name);
        X509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(subject, serial(), Date.from(notBefore),
                Date.from(notAfter), subject, keys.getPublic());
        try {
            X509Certificate certificate = sign(builder, keys);
            return new Issued(keys, certificate, certificate);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    /** {@link #selfSigned(String, KeyPair, Instant, Instant)} with an EC P-256 key, valid from an hour ago for 30 days. */
    public static Issued selfSigned(String name) {
        Instant now = Instant.now();
        return selfSigned(name, ec(), now.minus(Duration.ofHours(1)), now.plus(Duration.ofDays(30)));
    }

    /** Base64 of the SHA-256 of the CA's SubjectPublicKeyInfo: what Chromium's --ignore-certificate-errors-spki-list takes. */
    public String spkiSha256() {
        return spkiSha256(keys.getPublic());
    }

    public static String spkiSha256(PublicKey key) {
        try {
            return Base64.getEncoder().encodeToString(MessageDigest.getInstance("SHA-256").digest(key.getEncoded()));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    /** A server certificate for {@code names} (IP literals or DNS names), EC P-256, valid from an hour ago for 30 days. */
    public Issued issue(String... names) {
        Instant now = Instant.now();
        return issue(ec(), now.minus(Duration.ofHours(1)), now.plus(Duration.ofDays(30)), names);
    }

    /** A server certificate for {@code names} with the given key and validity. */
    public Issued issue(KeyPair serverKeys, Instant notBefore, Instant notAfter, String... names) {
        List<GeneralName> altNames = new ArrayList<>();
        for (String n : names) {
            altNames.add(new GeneralName(n.matches("[0-9.]+|.*:.*") ? GeneralName.iPAddress : GeneralName.dNSName, n));
        }
        boolean rsa = serverKeys.getPublic().getAlgorithm().equals("RSA");
        try {
            JcaX509ExtensionUtils ext = new JcaX509ExtensionUtils();
            X509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(certificate, serial(),
                    Date.from(notBefore), Date.from(notAfter), new X500Name("CN=" + names[0]), serverKeys.getPublic())
                    .addExtension(Extension.basicConstraints, true, new BasicConstraints(false))
                    .addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature
                            | (rsa ? KeyUsage.keyEncipherment : 0)))
                    .addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(KeyPurposeId.id_kp_serverAuth))
                    .addExtension(Extension.subjectAlternativeName, false,
                            new GeneralNames(altNames.toArray(new GeneralName[0])))
                    .addExtension(Extension.subjectKeyIdentifier, false,
                            ext.createSubjectKeyIdentifier(serverKeys.getPublic()))
                    .addExtension(Extension.authorityKeyIdentifier, false,
                            ext.createAuthorityKeyIdentifier(certificate));
            return new Issued(serverKeys, sign(builder, keys), certificate);
        } catch (GeneralSecurityException | IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** How {@link Issued#writePem} writes the private key. */
    public enum KeyFormat {
        /** BEGIN PRIVATE KEY. */
        PKCS8,
        /** BEGIN RSA PRIVATE KEY (PKCS#1) or BEGIN EC PRIVATE KEY (SEC1), as openssl's older tools write them. */
        TRADITIONAL,
        /** BEGIN ENCRYPTED PRIVATE KEY (password "secret"). */
        ENCRYPTED_PKCS8
    }

    /** A server certificate, its key and the CA that issued it (itself, when self-signed). */
    public record Issued(KeyPair keys, X509Certificate certificate, X509Certificate ca) {
        /** The leaf, then the CA: what a server sends. A self-signed certificate alone. */
        public List<X509Certificate> chain() {
            return selfSigned() ? List.of(certificate) : List.of(certificate, ca);
        }

        public boolean selfSigned() {
            return certificate.equals(ca);
        }

        public BigInteger serial() {
            return certificate.getSerialNumber();
        }

        /** PEM of the leaf then the CA (the leaf alone when self-signed). */
        public String chainPem() {
            return selfSigned() ? pem(certificate) : pem(certificate) + pem(ca);
        }

        public String keyPem(KeyFormat format) {
            try {
                return switch (format) {
                    case PKCS8 -> pem(new JcaPKCS8Generator(keys.getPrivate(), null).generate());
                    case TRADITIONAL -> keys.getPrivate().getAlgorithm().equals("EC") ? sec1(keys)
                            : pem(keys.getPrivate());
                    case ENCRYPTED_PKCS8 -> pem(new JcaPKCS8Generator(keys.getPrivate(),
                            new JceOpenSSLPKCS8EncryptorBuilder(JcaPKCS8Generator.AES_256_CBC).setRandom(RANDOM)
                                    .setProvider(new BouncyCastleProvider())
                                    .setPassword("secret".toCharArray()).build()).generate());
                };
            } catch (IOException | OperatorCreationException e) {
                throw new IllegalStateException(e);
            }
        }

        /**
         * Writes the chain and the key, each to a temporary file in the same directory first and then moved over
         * the target (as a deployment tool rotating them would): the key first, then the chain.
         */
        public void writePem(Path chainFile, Path keyFile, KeyFormat format) {
            replace(keyFile, keyPem(format).getBytes(StandardCharsets.US_ASCII));
            replace(chainFile, chainPem().getBytes(StandardCharsets.US_ASCII));
        }

        /** A PKCS12 keystore with one entry (alias "server"): the key and the chain, under {@code password}. */
        public void writePkcs12(Path file, String password) {
            try {
                KeyStore store = KeyStore.getInstance("PKCS12");
                store.load(null, null);
                store.setKeyEntry("server", keys.getPrivate(), password.toCharArray(),
                        chain().toArray(new X509Certificate[0]));
                try (OutputStream out = Files.newOutputStream(file)) {
                    store.store(out, password.toCharArray());
                }
            } catch (GeneralSecurityException | IOException e) {
                throw new IllegalStateException(e);
            }
        }
    }

    /**
     * BEGIN EC PRIVATE KEY (SEC1, RFC 5915) naming its curve, as openssl writes it. (BouncyCastle's PEM writer
     * leaves the curve out for a JDK key, whose PKCS#8 form carries it outside the SEC1 structure.)
     */
    private static String sec1(KeyPair keys) throws IOException {
        PrivateKeyInfo info = PrivateKeyInfo.getInstance(keys.getPrivate().getEncoded());
        ECPrivateKey inner = ECPrivateKey.getInstance(info.parsePrivateKey());
        SubjectPublicKeyInfo spki = SubjectPublicKeyInfo.getInstance(keys.getPublic().getEncoded());
        ECPrivateKey sec1 = new ECPrivateKey(256, inner.getKey(), new DERBitString(spki.getPublicKeyData().getBytes()),
                info.getPrivateKeyAlgorithm().getParameters());
        return pem(new PemObject("EC PRIVATE KEY", sec1.getEncoded()));
    }

    /** PEM of a certificate, key or PemObject. */
    public static String pem(Object object) {
        StringWriter out = new StringWriter();
        try (JcaPEMWriter writer = new JcaPEMWriter(out)) {
            if (object instanceof PemObject p) {
                writer.writeObject(p);
            } else {
                writer.writeObject(object);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toString();
    }

    /** Writes {@code bytes} next to {@code file} and moves them over it in one step. */
    public static void replace(Path file, byte[] bytes) {
        try {
            Path temporary = Files.createTempFile(file.toAbsolutePath().getParent(), ".replace-", ".tmp");
            Files.write(temporary, bytes);
            Files.move(temporary, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static KeyPair ec() {
        try {
            KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
            generator.initialize(new ECGenParameterSpec("secp256r1"), RANDOM);
            return generator.generateKeyPair();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    public static KeyPair rsa(int bits) {
        try {
            KeyPairGenerator generator = KeyPairGenerator.getInstance("RSA");
            generator.initialize(bits, RANDOM);
            return generator.generateKeyPair();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    private static BigInteger serial() {
        return new BigInteger(63, RANDOM).add(BigInteger.ONE);
    }

    private static X509Certificate sign(X509v3CertificateBuilder builder, KeyPair signer) throws GeneralSecurityException {
        String algorithm = signer.getPrivate().getAlgorithm().equals("RSA") ? "SHA256withRSA" : "SHA256withECDSA";
        try {
            return new JcaX509CertificateConverter().getCertificate(
                    builder.build(new JcaContentSignerBuilder(algorithm).build(signer.getPrivate())));
        } catch (OperatorCreationException e) {
            throw new GeneralSecurityException(e);
        }
    }
}
