package io.webrtcgateway.media.dtls;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * A certificate fingerprint as SDP carries it (RFC 8122 §5): {@code a=fingerprint:sha-256 AB:CD:...}.
 * SHA-1 and the SHA-2 family are accepted; MD5 and MD2 are refused (RFC 8122 §5: MUST NOT be used).
 */
public final class DtlsFingerprint {
    /** Hash names in SDP form, weakest first: the order used to pick the strongest the peer gave. */
    private static final List<String> ALGORITHMS = List.of("sha-1", "sha-224", "sha-256", "sha-384", "sha-512");

    private final String algorithm;
    private final byte[] value;

    private DtlsFingerprint(String algorithm, byte[] value) {
        this.algorithm = algorithm;
        this.value = value;
    }

    /** Parses {@code sha-256 AB:CD:...}, with or without the {@code a=fingerprint:} prefix. */
    public static DtlsFingerprint parse(String sdp) {
        if (sdp == null) {
            throw new IllegalArgumentException("fingerprint missing");
        }
        String s = sdp.strip();
        if (s.startsWith("a=")) {
            s = s.substring(2);
        }
        if (s.startsWith("fingerprint:")) {
            s = s.substring("fingerprint:".length());
        }
        String[] parts = s.strip().split("[ \t]+");
        if (parts.length != 2) {
            throw new IllegalArgumentException("fingerprint must be '<hash> <hex:hex:...>': '" + sdp + "'");
        }
        String algorithm = parts[0].toLowerCase(Locale.ROOT);
        if (!ALGORITHMS.contains(algorithm)) {
            throw new IllegalArgumentException("fingerprint hash '" + parts[0] + "' not supported");
        }
        String hex = parts[1];
        int bytes = digestLength(algorithm);
        if (hex.length() != bytes * 3 - 1) {
            throw new IllegalArgumentException("a " + algorithm + " fingerprint has " + bytes + " bytes as hex pairs"
                    + " separated by ':'");
        }
        byte[] value = new byte[bytes];
        for (int i = 0; i < bytes; i++) {
            int at = i * 3;
            if (i > 0 && hex.charAt(at - 1) != ':') {
                throw new IllegalArgumentException("fingerprint bytes must be separated by ':'");
            }
            int hi = Character.digit(hex.charAt(at), 16);
            int lo = Character.digit(hex.charAt(at + 1), 16);
            if (hi < 0 || lo < 0) {
                throw new IllegalArgumentException("fingerprint has a non-hex digit near position " + at);
            }
            value[i] = (byte) ((hi << 4) | lo);
        }
        return new DtlsFingerprint(algorithm, value);
    }

    /** The fingerprint of a DER-encoded certificate with {@code algorithm} ("sha-256", ...). */
    public static DtlsFingerprint of(String algorithm, byte[] certificateDer) {
        String a = algorithm.toLowerCase(Locale.ROOT);
        if (!ALGORITHMS.contains(a)) {
            throw new IllegalArgumentException("fingerprint hash '" + algorithm + "' not supported");
        }
        return new DtlsFingerprint(a, digest(a).digest(certificateDer));
    }

    public String algorithm() {
        return algorithm;
    }

    public byte[] value() {
        return value.clone();
    }

    /** True if the certificate's digest with this fingerprint's hash equals it (constant time). */
    public boolean matches(byte[] certificateDer) {
        return MessageDigest.isEqual(value, digest(algorithm).digest(certificateDer));
    }

    /**
     * RFC 8122 §5: check the certificate against the fingerprints that use the strongest hash the peer
     * listed; it must match one of them. Empty list: nothing to match.
     */
    public static boolean anyMatches(List<DtlsFingerprint> fingerprints, byte[] certificateDer) {
        Optional<String> strongest = fingerprints.stream().map(DtlsFingerprint::algorithm)
                .max((a, b) -> Integer.compare(ALGORITHMS.indexOf(a), ALGORITHMS.indexOf(b)));
        if (strongest.isEmpty()) {
            return false;
        }
        for (DtlsFingerprint f : fingerprints) {
            if (f.algorithm.equals(strongest.get()) && f.matches(certificateDer)) {
                return true;
            }
        }
        return false;
    }

    /** SDP form, {@code sha-256 AB:CD:...} (upper-case hex, RFC 8122 §5). */
    public String toSdp() {
        StringBuilder sb = new StringBuilder(algorithm.length() + 1 + value.length * 3).append(algorithm).append(' ');
        HexFormat hex = HexFormat.ofDelimiter(":").withUpperCase();
        return sb.append(hex.formatHex(value)).toString();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof DtlsFingerprint other && algorithm.equals(other.algorithm)
                && MessageDigest.isEqual(value, other.value);
    }

    @Override
    public int hashCode() {
        return algorithm.hashCode() * 31 + java.util.Arrays.hashCode(value);
    }

    @Override
    public String toString() {
        return toSdp();
    }

    private static int digestLength(String algorithm) {
        return digest(algorithm).getDigestLength();
    }

    private static MessageDigest digest(String algorithm) {
        try {
            return MessageDigest.getInstance(algorithm.toUpperCase(Locale.ROOT));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(algorithm + " unavailable", e);
        }
    }
}
