package io.webrtcgateway.media.srtp;

import java.math.BigInteger;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.List;
import java.util.Optional;

/**
 * One SDES {@code a=crypto} attribute (RFC 4568 §9.1) for the SRTP suites of {@link SrtpProfile}:
 * {@code a=crypto:<tag> <suite> inline:<base64(key||salt)>[|<lifetime>][|<mki>:<length>] [session-params]}.
 *
 * <p>{@link #parse} is strict and throws {@link IllegalArgumentException} with a message that names the
 * problem; an answerer tries each offered line and skips those that do not parse (RFC 4568 §7.1.2). Not
 * supported, so refused: several keys in one line, a key-derivation rate (KDR), and the UNENCRYPTED_*,
 * UNAUTHENTICATED_SRTP and FEC_* session parameters. WSH is accepted and ignored. The lifetime is kept but
 * not enforced (2^31 packets at 50 packets/s outlast any call; browsers and SBCs do not re-key either).
 */
public final class SdesCrypto {
    private static final String INLINE = "inline:";
    private static final int KEY_SALT_LENGTH = SrtpProfile.MASTER_KEY_LENGTH + SrtpProfile.MASTER_SALT_LENGTH;
    private static final int MAX_MKI_LENGTH = 128;

    private final int tag;
    private final SrtpProfile profile;
    private final SrtpMasterKey masterKey;
    private final String lifetime;

    private SdesCrypto(int tag, SrtpProfile profile, SrtpMasterKey masterKey, String lifetime) {
        this.tag = tag;
        this.profile = profile;
        this.masterKey = masterKey;
        this.lifetime = lifetime;
    }

    /** A fresh random key for our side of the exchange, without lifetime or MKI. */
    public static SdesCrypto generate(int tag, SrtpProfile profile, SecureRandom random) {
        checkTag(tag);
        byte[] key = new byte[SrtpProfile.MASTER_KEY_LENGTH];
        byte[] salt = new byte[SrtpProfile.MASTER_SALT_LENGTH];
        random.nextBytes(key);
        random.nextBytes(salt);
        return new SdesCrypto(tag, profile, new SrtpMasterKey(key, salt), null);
    }

    /** Our answer to this offered line: same tag and suite, a fresh key (RFC 4568 §7.1.2). */
    public SdesCrypto answer(SecureRandom random) {
        return generate(tag, profile, random);
    }

    /**
     * The first offered line that parses and that we support, in offer order (the offerer's preference),
     * or empty; a malformed line is skipped like an unsupported one.
     */
    public static Optional<SdesCrypto> firstSupported(List<String> offeredLines) {
        for (String line : offeredLines) {
            try {
                return Optional.of(parse(line));
            } catch (IllegalArgumentException unsupported) {
                // RFC 4568 §7.1.2: ignore crypto lines we cannot use
            }
        }
        return Optional.empty();
    }

    /** Parses the attribute with or without its {@code a=crypto:} / {@code crypto:} prefix. */
    public static SdesCrypto parse(String line) {
        if (line == null) {
            throw new IllegalArgumentException("crypto attribute missing");
        }
        String s = line.strip();
        if (s.startsWith("a=")) {
            s = s.substring(2);
        }
        if (s.startsWith("crypto:")) {
            s = s.substring("crypto:".length());
        }
        String[] fields = s.strip().split("[ \t]+");
        if (fields.length < 3) {
            throw new IllegalArgumentException("crypto attribute needs '<tag> <suite> <key-params>': '" + line + "'");
        }
        int tag = parseTag(fields[0]);
        SrtpProfile profile = SrtpProfile.ofSdesName(fields[1])
                .orElseThrow(() -> new IllegalArgumentException("unsupported crypto suite '" + fields[1] + "'"));
        String keyParams = fields[2];
        if (keyParams.indexOf(';') >= 0) {
            throw new IllegalArgumentException("more than one key in a crypto attribute is not supported");
        }
        if (!keyParams.startsWith(INLINE)) {
            throw new IllegalArgumentException("key method must be 'inline:', got '" + keyParams + "'");
        }
        for (int i = 3; i < fields.length; i++) {
            checkSessionParam(fields[i]);
        }
        String[] parts = keyParams.substring(INLINE.length()).split("\\|", -1);
        if (parts.length > 3) {
            throw new IllegalArgumentException("key-params has too many '|' fields: '" + keyParams + "'");
        }
        byte[] keySalt = decodeKey(parts[0]);
        String lifetime = null;
        byte[] mki = new byte[0];
        for (int i = 1; i < parts.length; i++) {
            String p = parts[i];
            if (p.indexOf(':') >= 0) {
                mki = parseMki(p);
            } else if (i == 1) {
                lifetime = checkLifetime(p);
            } else {
                throw new IllegalArgumentException("expected '<mki>:<length>' after the lifetime, got '" + p + "'");
            }
        }
        byte[] key = java.util.Arrays.copyOfRange(keySalt, 0, SrtpProfile.MASTER_KEY_LENGTH);
        byte[] salt = java.util.Arrays.copyOfRange(keySalt, SrtpProfile.MASTER_KEY_LENGTH, KEY_SALT_LENGTH);
        return new SdesCrypto(tag, profile, new SrtpMasterKey(key, salt, mki), lifetime);
    }

    /** The same key and suite under another tag: the answer to a re-offer that kept the peer's key. */
    public SdesCrypto withTag(int newTag) {
        checkTag(newTag);
        return new SdesCrypto(newTag, profile, masterKey, lifetime);
    }

    /** Same suite, key, salt and MKI (tag and lifetime aside): the same SRTP keys. */
    public boolean sameKeyAs(SdesCrypto other) {
        return other != null && profile == other.profile
                && java.util.Arrays.equals(masterKey.keyRef(), other.masterKey.keyRef())
                && java.util.Arrays.equals(masterKey.saltRef(), other.masterKey.saltRef())
                && java.util.Arrays.equals(masterKey.mkiRef(), other.masterKey.mkiRef());
    }

    public int tag() {
        return tag;
    }

    public SrtpProfile profile() {
        return profile;
    }

    public SrtpMasterKey masterKey() {
        return masterKey;
    }

    /** As written in the line ("2^31" or a decimal count), or empty. */
    public Optional<String> lifetime() {
        return Optional.ofNullable(lifetime);
    }

    /** The attribute value, {@code <tag> <suite> inline:...}. */
    public String attributeValue() {
        byte[] keySalt = new byte[KEY_SALT_LENGTH];
        System.arraycopy(masterKey.keyRef(), 0, keySalt, 0, SrtpProfile.MASTER_KEY_LENGTH);
        System.arraycopy(masterKey.saltRef(), 0, keySalt, SrtpProfile.MASTER_KEY_LENGTH, SrtpProfile.MASTER_SALT_LENGTH);
        StringBuilder sb = new StringBuilder().append(tag).append(' ').append(profile.sdesName()).append(' ')
                .append(INLINE).append(Base64.getEncoder().encodeToString(keySalt));
        if (lifetime != null) {
            sb.append('|').append(lifetime);
        }
        byte[] mki = masterKey.mkiRef();
        if (mki.length > 0) {
            sb.append('|').append(new BigInteger(1, mki)).append(':').append(mki.length);
        }
        return sb.toString();
    }

    /** The SDP line, {@code a=crypto:<tag> <suite> inline:...}. */
    public String sdpLine() {
        return "a=crypto:" + attributeValue();
    }

    @Override
    public String toString() {
        return "SdesCrypto[tag=" + tag + ", " + profile + ", mki=" + masterKey.mkiLength() + " bytes]";
    }

    private static int parseTag(String s) {
        if (s.isEmpty() || s.length() > 9 || !s.chars().allMatch(c -> c >= '0' && c <= '9')) {
            throw new IllegalArgumentException("crypto tag must be 1 to 9 digits, got '" + s + "'");
        }
        return Integer.parseInt(s);
    }

    private static void checkTag(int tag) {
        if (tag < 0 || tag > 999_999_999) {
            throw new IllegalArgumentException("crypto tag must be 0 to 999999999");
        }
    }

    private static byte[] decodeKey(String b64) {
        byte[] keySalt;
        try {
            keySalt = Base64.getDecoder().decode(b64);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("inline key is not valid base64");
        }
        if (keySalt.length != KEY_SALT_LENGTH) {
            throw new IllegalArgumentException("inline key||salt must be " + KEY_SALT_LENGTH + " bytes, got "
                    + keySalt.length);
        }
        return keySalt;
    }

    private static String checkLifetime(String s) {
        String digits = s.startsWith("2^") ? s.substring(2) : s;
        if (digits.isEmpty() || digits.length() > 20 || !digits.chars().allMatch(c -> c >= '0' && c <= '9')) {
            throw new IllegalArgumentException("lifetime must be '2^<n>' or a decimal number, got '" + s + "'");
        }
        return s;
    }

    private static byte[] parseMki(String s) {
        int colon = s.indexOf(':');
        String value = s.substring(0, colon);
        String length = s.substring(colon + 1);
        if (value.isEmpty() || value.length() > 40 || !value.chars().allMatch(c -> c >= '0' && c <= '9')
                || length.isEmpty() || length.length() > 3 || !length.chars().allMatch(c -> c >= '0' && c <= '9')) {
            throw new IllegalArgumentException("MKI must be '<decimal value>:<byte length>', got '" + s + "'");
        }
        int bytes = Integer.parseInt(length);
        if (bytes < 1 || bytes > MAX_MKI_LENGTH) {
            throw new IllegalArgumentException("MKI length must be 1 to " + MAX_MKI_LENGTH + ", got " + bytes);
        }
        BigInteger v = new BigInteger(value);
        if (v.bitLength() > bytes * 8) {
            throw new IllegalArgumentException("MKI value " + value + " does not fit in " + bytes + " bytes");
        }
        byte[] raw = v.toByteArray();
        byte[] mki = new byte[bytes];
        int copy = Math.min(raw.length, bytes);
        System.arraycopy(raw, raw.length - copy, mki, bytes - copy, copy);
        return mki;
    }

    private static void checkSessionParam(String param) {
        if (param.startsWith("WSH=")) {
            return; // window-size hint (RFC 4568 §6.3): our window is fixed at 128
        }
        String name = param.contains("=") ? param.substring(0, param.indexOf('=')) : param;
        throw new IllegalArgumentException("session parameter " + name + " is not supported");
    }
}
