package io.webrtcgateway.sdp;

import java.util.List;
import java.util.Locale;

/** {@code a=fingerprint:<hash-func> <fingerprint>} (RFC 8122 §5): "sha-256" and "AB:CD:...". */
public record Fingerprint(String algorithm, String hash) {

    public Fingerprint {
        if (algorithm == null || !algorithm.matches("[A-Za-z0-9\\-]+")) {
            throw new IllegalArgumentException("invalid fingerprint hash function \"" + algorithm + "\"");
        }
        if (hash == null || !hash.matches("[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2})*")) {
            throw new IllegalArgumentException("fingerprint must be hex pairs separated by ':'");
        }
    }

    static Fingerprint parse(String value) {
        List<String> f = Tokens.split(value);
        if (f.size() != 2 || !f.get(0).matches("[A-Za-z0-9\\-]+")
                || !f.get(1).matches("[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2})*")) {
            throw SdpException.malformed(SdpException.quote("a=fingerprint:" + value)
                    + ": expected <hash-function> <hex pairs separated by ':'>");
        }
        return new Fingerprint(f.get(0).toLowerCase(Locale.ROOT), f.get(1));
    }

    public String attributeValue() {
        return algorithm + " " + hash;
    }
}
