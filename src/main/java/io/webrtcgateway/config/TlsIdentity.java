package io.webrtcgateway.config;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.Reader;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.AlgorithmParameters;
import java.security.GeneralSecurityException;
import java.security.Key;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.UnrecoverableKeyException;
import java.security.cert.Certificate;
import java.security.cert.CertificateException;
import java.security.cert.CertificateExpiredException;
import java.security.cert.CertificateNotYetValidException;
import java.security.cert.X509Certificate;
import java.security.interfaces.ECPrivateKey;
import java.security.interfaces.RSAKey;
import java.security.spec.ECGenParameterSpec;
import java.security.spec.ECParameterSpec;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collections;
import java.util.Date;
import java.util.List;
import java.util.Optional;
import javax.net.ssl.KeyManagerFactory;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.openssl.PEMEncryptedKeyPair;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.bouncycastle.pkcs.PKCS8EncryptedPrivateKeyInfo;

/**
 * A TLS identity (the HTTPS listener's, from {@code gateway.http.tls}; SIP over TLS's, from
 * {@code gateway.sip.tls}; DTLS-SRTP's toward browsers, from {@code gateway.media.dtls}), read from the files
 * the config names: a private key and the certificate chain that goes with it, from PEM files
 * ({@code certificate-chain} + {@code private-key}) or a PKCS12 {@code keystore}. It is checked the way its
 * peers will need it ({@link Use}): the key belongs to the first certificate, each certificate is issued by
 * the next, none has expired (TLS only); then it is handed to JSSE as an in-memory keystore holding that one
 * entry. Every problem is a {@link ConfigException} naming the key of the file at fault, so the same message
 * stops the gateway at start (ConfigLoader) and explains a rejected new file when the files are re-read
 * ({@link TlsCertificateWatch}).
 *
 * <p>PEM private keys: PKCS#8 ({@code BEGIN PRIVATE KEY}), PKCS#1 RSA ({@code BEGIN RSA PRIVATE KEY}) and SEC1
 * EC ({@code BEGIN EC PRIVATE KEY}), read with BouncyCastle's PEMParser, not encrypted. The chain and the key
 * may be one file (name it in both keys).
 */
public final class TlsIdentity {
    /** The alias of the one entry of {@link #keyStore()}. */
    public static final String ALIAS = "gateway";
    /** RSA keys shorter than this are refused: browsers and public CAs want 2048 bits (CA/B Baseline Requirements §6.1.5). */
    private static final int MIN_RSA_BITS = 2048;
    /** Larger files are not what the keys name (a chain of ten certificates is some 20 KB). */
    private static final long MAX_FILE_BYTES = 1024 * 1024;

    private final KeyStore keyStore;
    private final char[] password;
    private final PrivateKey privateKey;
    private final List<X509Certificate> chain;

    private TlsIdentity(KeyStore keyStore, char[] password, PrivateKey privateKey, List<X509Certificate> chain) {
        this.keyStore = keyStore;
        this.password = password;
        this.privateKey = privateKey;
        this.chain = chain;
    }

    /** What the identity is for: its peers check different things, so the gateway does too. */
    public enum Use {
        /**
         * A TLS server (HTTPS, SIP over TLS): clients check the chain against their CAs and its dates, so the
         * chain must be in order and valid now; RSA (2048 bits or more) or EC keys.
         */
        TLS("connections"),
        /**
         * DTLS-SRTP toward browsers: they trust the certificate through the fingerprint our SDP gives them
         * (RFC 5763 §5) and check neither its CA nor its dates, so its dates are not checked here either
         * (the caller may warn). The key must be ECDSA P-256: our DTLS peers sign with ECDSA only
         * (media.dtls.DtlsPeerSupport), on the curve every browser implements (RFC 8827 §6.5).
         */
        DTLS_SRTP("calls");

        private final String users;

        Use(String users) {
            this.users = users;
        }

        /** What gets the identity once it is in use, for logs: "connections", "calls". */
        public String users() {
            return users;
        }
    }

    /**
     * Where an identity comes from: the files, and the config keys that named them (each error names its key).
     * {@code prefix} is the keys' common part, e.g. "gateway.sip.tls.". PEM files when {@code certificateChain}
     * is set, else the PKCS12 {@code keystore}. {@code use} says which checks apply.
     */
    public record Source(String prefix, String certificateChain, String privateKey, String keystore,
                         String keystorePassword, Use use) {
        /** A TLS server's identity. */
        public Source(String prefix, String certificateChain, String privateKey, String keystore,
                      String keystorePassword) {
            this(prefix, certificateChain, privateKey, keystore, keystorePassword, Use.TLS);
        }

        /** DTLS-SRTP's identity: PEM files only. */
        public static Source dtls(String prefix, String certificateChain, String privateKey) {
            return new Source(prefix, certificateChain, privateKey, "", "", Use.DTLS_SRTP);
        }

        public static Source of(GatewayConfig.Http.Tls tls) {
            return new Source("gateway.http.tls.", tls.certificateChain(), tls.privateKey(), tls.keystore(),
                    tls.keystorePassword());
        }

        public boolean pem() {
            return !certificateChain.isEmpty();
        }

        /** The files to watch for changes: the chain and the key (perhaps one file), or the keystore. */
        public List<Path> files() {
            if (!pem()) {
                return List.of(Path.of(keystore));
            }
            return certificateChain.equals(privateKey) ? List.of(Path.of(certificateChain))
                    : List.of(Path.of(certificateChain), Path.of(privateKey));
        }

        String chainKey() {
            return prefix + "certificate-chain";
        }

        String privateKeyKey() {
            return prefix + "private-key";
        }

        String keystoreKey() {
            return prefix + "keystore";
        }

        String passwordKey() {
            return prefix + "keystore-password";
        }

        /** Without the keystore password, which must not reach a log. */
        @Override
        public String toString() {
            return pem() ? certificateChain + " + " + privateKey : keystore;
        }
    }

    /** Reads and checks the files {@code tls} names, as valid now. */
    public static TlsIdentity load(GatewayConfig.Http.Tls tls) {
        return load(Source.of(tls), Instant.now());
    }

    static TlsIdentity load(GatewayConfig.Http.Tls tls, Instant now) {
        return load(Source.of(tls), now);
    }

    /** Reads and checks the files {@code source} names, as valid now. */
    public static TlsIdentity load(Source source) {
        return load(source, Instant.now());
    }

    static TlsIdentity load(Source source, Instant now) {
        if (source.pem()) {
            List<X509Certificate> chain = readChain(Path.of(source.certificateChain()), source.chainKey());
            PrivateKey key = readPrivateKey(Path.of(source.privateKey()), source);
            return of(key, chain, source.chainKey(), source.privateKeyKey(), now, source.use());
        }
        return fromKeystore(Path.of(source.keystore()), source.keystorePassword().toCharArray(), source, now);
    }

    /**
     * The certificates of a PEM bundle (BEGIN CERTIFICATE blocks), e.g. the CAs a TLS client trusts; every
     * problem names {@code key}. Only read, not checked for validity: a trust anchor's dates are the verifier's
     * business.
     */
    public static List<X509Certificate> readCertificates(Path file, String key) {
        return readChain(file, key);
    }

    /** A key and its chain held in memory (the launcher's tests build them without files). */
    static TlsIdentity of(PrivateKey key, List<X509Certificate> chain, String chainKey, String keyKey, Instant now) {
        return of(key, chain, chainKey, keyKey, now, Use.TLS);
    }

    static TlsIdentity of(PrivateKey key, List<X509Certificate> chain, String chainKey, String keyKey, Instant now,
                          Use use) {
        checkChain(chain, chainKey, now, use == Use.TLS);
        if (use == Use.DTLS_SRTP) {
            checkDtlsKey(key, keyKey);
        }
        checkKeyMatches(key, chain.get(0), chainKey, keyKey);
        char[] password = randomPassword();
        try {
            KeyStore store = KeyStore.getInstance("PKCS12");
            store.load(null, null);
            store.setKeyEntry(ALIAS, key, password, chain.toArray(new X509Certificate[0]));
            // What SslContextFactory will do with it: a key JSSE cannot use fails here, not at the first handshake.
            KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm()).init(store, password);
            return new TlsIdentity(store, password, key, List.copyOf(chain));
        } catch (GeneralSecurityException | IOException e) {
            throw invalid(keyKey, "the key cannot be used for TLS: " + e.getMessage());
        }
    }

    /** The in-memory PKCS12 keystore with one entry, {@link #ALIAS}, protected by {@link #password()}. */
    public KeyStore keyStore() {
        return keyStore;
    }

    /** The password of {@link #keyStore()} and its entry: random, it never leaves memory. */
    public String password() {
        return new String(password);
    }

    /** The private key of {@link #certificate()} (also in {@link #keyStore()}), for a TLS stack outside JSSE. */
    public PrivateKey privateKey() {
        return privateKey;
    }

    /** The server's certificate first, then its issuers in order. */
    public List<X509Certificate> chain() {
        return chain;
    }

    public X509Certificate certificate() {
        return chain.get(0);
    }

    /**
     * Why the first certificate is not valid at {@code now} ("expired on ...", "not valid before ..."), or empty.
     * A TLS identity never is (it is refused); a DTLS-SRTP one may be, and still works.
     */
    public Optional<String> validityProblem(Instant now) {
        X509Certificate c = certificate();
        if (now.isAfter(c.getNotAfter().toInstant())) {
            return Optional.of("expired on " + c.getNotAfter().toInstant());
        }
        if (now.isBefore(c.getNotBefore().toInstant())) {
            return Optional.of("not valid before " + c.getNotBefore().toInstant());
        }
        return Optional.empty();
    }

    /** For logs: subject, serial, expiry. */
    public String describe() {
        X509Certificate c = certificate();
        return "'" + c.getSubjectX500Principal().getName() + "' serial " + c.getSerialNumber().toString(16)
                + ", valid until " + c.getNotAfter().toInstant();
    }

    // ---- PEM ----------------------------------------------------------------------------------------

    private static List<X509Certificate> readChain(Path file, String chainKey) {
        List<X509Certificate> chain = new ArrayList<>();
        JcaX509CertificateConverter converter = new JcaX509CertificateConverter();
        for (Object block : pemBlocks(file, chainKey)) {
            if (block instanceof X509CertificateHolder holder) {
                try {
                    chain.add(converter.getCertificate(holder));
                } catch (CertificateException e) {
                    throw invalid(chainKey, file + ": certificate " + (chain.size() + 1) + " cannot be read: "
                            + e.getMessage());
                }
            }
        }
        if (chain.isEmpty()) {
            throw invalid(chainKey, file + " holds no certificate (a PEM file with BEGIN CERTIFICATE blocks: the"
                    + " server's certificate first, then the intermediates)");
        }
        return chain;
    }

    private static PrivateKey readPrivateKey(Path file, Source source) {
        List<PrivateKeyInfo> keys = new ArrayList<>();
        for (Object block : pemBlocks(file, source.privateKeyKey())) {
            if (block instanceof PEMKeyPair pair) { // BEGIN RSA PRIVATE KEY (PKCS#1), BEGIN EC PRIVATE KEY (SEC1)
                keys.add(pair.getPrivateKeyInfo());
            } else if (block instanceof PrivateKeyInfo info) { // BEGIN PRIVATE KEY (PKCS#8)
                keys.add(info);
            } else if (block instanceof PEMEncryptedKeyPair || block instanceof PKCS8EncryptedPrivateKeyInfo) {
                throw invalid(source.privateKeyKey(), file + " holds an encrypted private key, which the gateway cannot read:"
                        + " store it unencrypted, readable only by the gateway's user (openssl pkey -in " + file
                        + " -out key.pem)" + (source.use() == Use.TLS ? ", or use a PKCS12 keystore with "
                        + source.passwordKey() : ""));
            }
            // Anything else is left alone: certificates may share the file, and openssl writes an
            // "EC PARAMETERS" block before an EC key.
        }
        if (keys.isEmpty()) {
            throw invalid(source.privateKeyKey(), file + " holds no private key (a PEM block BEGIN PRIVATE KEY,"
                    + " BEGIN RSA PRIVATE KEY or BEGIN EC PRIVATE KEY)");
        }
        if (keys.size() > 1) {
            throw invalid(source.privateKeyKey(), file + " holds " + keys.size() + " private keys; keep only the one of the"
                    + " certificate");
        }
        try {
            return new JcaPEMKeyConverter().getPrivateKey(keys.get(0));
        } catch (IOException e) {
            throw invalid(source.privateKeyKey(), file + ": the private key cannot be read: " + e.getMessage());
        }
    }

    /** Every PEM block of {@code file}, as PEMParser makes them; text around the blocks is ignored. */
    private static List<Object> pemBlocks(Path file, String key) {
        List<Object> blocks = new ArrayList<>();
        // ISO-8859-1 maps every byte: a binary (DER) file is then "no PEM block", not a decoding error.
        try (Reader reader = new StringReader(new String(read(file, key), StandardCharsets.ISO_8859_1));
             PEMParser parser = new PEMParser(reader)) {
            Object block;
            while ((block = parser.readObject()) != null) {
                blocks.add(block);
            }
        } catch (IOException | RuntimeException e) {
            throw invalid(key, file + " cannot be read: " + e.getMessage());
        }
        return blocks;
    }

    /** The whole file, once: a regular file (through links) of at most {@link #MAX_FILE_BYTES}. */
    private static byte[] read(Path file, String key) {
        try {
            if (!Files.isRegularFile(file)) {
                throw invalid(key, file + (Files.exists(file) ? " is not a regular file" : " does not exist"));
            }
            if (Files.size(file) > MAX_FILE_BYTES) {
                throw invalid(key, file + " is " + Files.size(file) + " bytes: not a certificate or key file");
            }
            return Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            throw invalid(key, file + " does not exist");
        } catch (IOException e) {
            throw invalid(key, unreadable(file, e));
        }
    }

    // ---- PKCS12 -------------------------------------------------------------------------------------

    private static TlsIdentity fromKeystore(Path file, char[] password, Source source, Instant now) {
        KeyStore store;
        try (InputStream in = new ByteArrayInputStream(read(file, source.keystoreKey()))) {
            store = KeyStore.getInstance("PKCS12");
            store.load(in, password);
        } catch (IOException e) {
            if (e.getCause() instanceof UnrecoverableKeyException || String.valueOf(e.getMessage()).contains("password")) {
                throw invalid(source.passwordKey(), "wrong password for " + file);
            }
            throw invalid(source.keystoreKey(), file + " cannot be read as a PKCS12 keystore: " + e.getMessage());
        } catch (GeneralSecurityException | RuntimeException e) {
            throw invalid(source.keystoreKey(), file + " is not a PKCS12 keystore: " + e.getMessage());
        }
        try {
            List<String> keyAliases = new ArrayList<>();
            for (String alias : Collections.list(store.aliases())) {
                if (store.isKeyEntry(alias)) {
                    keyAliases.add(alias);
                }
            }
            if (keyAliases.isEmpty()) {
                throw invalid(source.keystoreKey(), file + " holds no private key, only certificates");
            }
            if (keyAliases.size() > 1) {
                throw invalid(source.keystoreKey(), file + " holds " + keyAliases.size() + " private keys (aliases "
                        + keyAliases + "); keep only the one for this gateway");
            }
            String alias = keyAliases.get(0);
            Key key;
            try {
                key = store.getKey(alias, password);
            } catch (UnrecoverableKeyException e) {
                throw invalid(source.passwordKey(), "the private key '" + alias + "' in " + file + " has another password than"
                        + " the keystore; give both the same password");
            }
            if (!(key instanceof PrivateKey privateKey)) {
                throw invalid(source.keystoreKey(), file + ": the entry '" + alias + "' is not a private key");
            }
            Certificate[] certificates = store.getCertificateChain(alias);
            if (certificates == null || certificates.length == 0) {
                throw invalid(source.keystoreKey(), file + ": the private key '" + alias + "' has no certificate");
            }
            List<X509Certificate> chain = new ArrayList<>();
            for (Certificate c : certificates) {
                if (!(c instanceof X509Certificate x509)) {
                    throw invalid(source.keystoreKey(), file + ": the chain of '" + alias + "' holds a non-X.509 certificate");
                }
                chain.add(x509);
            }
            return of(privateKey, chain, source.keystoreKey(), source.keystoreKey(), now);
        } catch (GeneralSecurityException e) {
            throw invalid(source.keystoreKey(), file + " cannot be read: " + e.getMessage());
        }
    }

    // ---- checks -------------------------------------------------------------------------------------

    /**
     * The chain as the TLS server sends it (RFC 8446 §4.4.2, RFC 5246 §7.4.2): the server's certificate
     * first, then each certificate issued by the one after it. With {@code checkDates}, each must be valid now,
     * except a self-signed last one (a root), which clients take from their own trust store.
     */
    private static void checkChain(List<X509Certificate> chain, String key, Instant now, boolean checkDates) {
        Date date = Date.from(now);
        for (int i = 0; i < chain.size(); i++) {
            X509Certificate c = chain.get(i);
            boolean root = i > 0 && i == chain.size() - 1 && selfSigned(c);
            if (checkDates && !root) {
                try {
                    c.checkValidity(date);
                } catch (CertificateExpiredException e) {
                    throw invalid(key, name(chain, i) + " expired on " + c.getNotAfter().toInstant());
                } catch (CertificateNotYetValidException e) {
                    throw invalid(key, name(chain, i) + " is not valid before " + c.getNotBefore().toInstant());
                }
            }
            if (i + 1 < chain.size()) {
                X509Certificate issuer = chain.get(i + 1);
                if (!c.getIssuerX500Principal().equals(issuer.getSubjectX500Principal()) || !signedBy(c, issuer)) {
                    throw invalid(key, name(chain, i + 1) + " did not issue " + name(chain, i) + ": the server's"
                            + " certificate comes first, then each issuer in order");
                }
            }
        }
    }

    private static String name(List<X509Certificate> chain, int i) {
        return "certificate " + (i + 1) + " ('" + chain.get(i).getSubjectX500Principal().getName() + "')";
    }

    private static boolean selfSigned(X509Certificate c) {
        return c.getIssuerX500Principal().equals(c.getSubjectX500Principal()) && signedBy(c, c);
    }

    private static boolean signedBy(X509Certificate c, X509Certificate issuer) {
        try {
            c.verify(issuer.getPublicKey());
            return true;
        } catch (GeneralSecurityException e) {
            return false;
        }
    }

    /** {@link Use#DTLS_SRTP}: ECDSA on P-256, the only key our DTLS peers sign with. */
    private static void checkDtlsKey(PrivateKey key, String keyKey) {
        if (!(key instanceof ECPrivateKey ec)) {
            throw invalid(keyKey, "the key is " + key.getAlgorithm() + ", which DTLS cannot use here: the gateway signs"
                    + " DTLS handshakes with ECDSA P-256 only (as browsers' own certificates do); make one with openssl"
                    + " req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 3650 -subj /CN=WebRTC"
                    + " -keyout key.pem -out chain.pem");
        }
        if (!isP256(ec.getParams())) {
            throw invalid(keyKey, "an EC key on a " + ec.getParams().getOrder().bitLength() + "-bit curve cannot be"
                    + " used for DTLS: the gateway's DTLS needs P-256 (secp256r1, prime256v1)");
        }
    }

    private static boolean isP256(ECParameterSpec p) {
        try {
            AlgorithmParameters parameters = AlgorithmParameters.getInstance("EC");
            parameters.init(new ECGenParameterSpec("secp256r1"));
            ECParameterSpec q = parameters.getParameterSpec(ECParameterSpec.class);
            return p.getCurve().equals(q.getCurve()) && p.getGenerator().equals(q.getGenerator())
                    && p.getOrder().equals(q.getOrder()) && p.getCofactor() == q.getCofactor();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("the JDK has no P-256", e);
        }
    }

    /** The key belongs to the certificate: what it signs, the certificate's public key verifies. */
    private static void checkKeyMatches(PrivateKey key, X509Certificate certificate, String chainKey, String keyKey) {
        String algorithm = switch (key.getAlgorithm()) {
            case "RSA" -> "SHA256withRSA";
            case "EC" -> "SHA256withECDSA";
            default -> throw invalid(keyKey, "a " + key.getAlgorithm() + " key is not supported: use RSA (2048 bits or"
                    + " more) or EC (P-256, P-384)");
        };
        if (key instanceof RSAKey rsa && rsa.getModulus().bitLength() < MIN_RSA_BITS) {
            throw invalid(keyKey, "an RSA key of " + rsa.getModulus().bitLength() + " bits is too short: browsers"
                    + " want " + MIN_RSA_BITS + " or more");
        }
        PublicKey publicKey = certificate.getPublicKey();
        boolean matches;
        try {
            byte[] challenge = new byte[32];
            new SecureRandom().nextBytes(challenge);
            Signature signer = Signature.getInstance(algorithm);
            signer.initSign(key);
            signer.update(challenge);
            byte[] signature = signer.sign();
            Signature verifier = Signature.getInstance(algorithm);
            verifier.initVerify(publicKey);
            verifier.update(challenge);
            matches = verifier.verify(signature);
        } catch (GeneralSecurityException e) {
            matches = false; // e.g. an EC key and an RSA certificate
        }
        if (!matches) {
            throw invalid(keyKey, "the private key does not match the certificate"
                    + " '" + certificate.getSubjectX500Principal().getName() + "' (the first one of " + chainKey + ")");
        }
    }

    private static String unreadable(Path file, Exception e) {
        if (!Files.isReadable(file)) {
            return file + " cannot be read (permissions: the gateway's user needs to read it)";
        }
        return file + " cannot be read: " + e.getMessage();
    }

    private static char[] randomPassword() {
        byte[] bytes = new byte[18];
        new SecureRandom().nextBytes(bytes);
        return Base64.getEncoder().encodeToString(bytes).toCharArray();
    }

    private static ConfigException invalid(String key, String problem) {
        return new ConfigException("invalid config key '" + key + "': " + problem);
    }
}
