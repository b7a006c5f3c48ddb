package io.webrtcgateway.sdp;

import java.util.ArrayList;
import java.util.List;

/**
 * The ICE and keying attributes of one BUNDLE transport (RFC 8839, RFC 8842, RFC 4568): the gateway's,
 * passed in when it writes SDP for the browser, or the browser's, read with {@link #fromBrowser}.
 *
 * @param fingerprint DTLS certificate fingerprint; null for SDES-only keying
 * @param setup       DTLS role; null exactly when {@code fingerprint} is null
 * @param candidates  candidate attribute values without "a=candidate:" (RFC 8839 §5.1 grammar:
 *                    "foundation component transport priority address port typ type ..."); may be empty
 *                    (trickle ICE)
 * @param crypto      SDES {@code a=crypto} values ("1 AES_CM_128_HMAC_SHA1_80 inline:..."); empty for DTLS.
 *                    An answer carries at most one (RFC 4568 §5.1.2).
 */
public record WebRtcTransportParams(String iceUfrag, String icePwd, Fingerprint fingerprint, SetupRole setup,
                                    List<String> candidates, List<String> crypto) {

    public WebRtcTransportParams {
        requireIceToken("ice-ufrag", iceUfrag);
        requireIceToken("ice-pwd", icePwd);
        if ((fingerprint == null) != (setup == null)) {
            throw new IllegalArgumentException("a DTLS fingerprint and a setup role go together");
        }
        crypto = List.copyOf(crypto);
        if (fingerprint == null && crypto.isEmpty()) {
            throw new IllegalArgumentException("need a DTLS fingerprint or an SDES crypto line");
        }
        List<String> normalized = new ArrayList<>();
        for (String c : candidates) {
            String value = c.startsWith("a=") ? c.substring(2) : c;
            value = value.startsWith("candidate:") ? value.substring("candidate:".length()) : value;
            if (candidateProblem(value) != null) {
                throw new IllegalArgumentException("candidate \"" + c + "\": " + candidateProblem(value));
            }
            normalized.add(value);
        }
        candidates = List.copyOf(normalized);
    }

    /** DTLS keying with the given role and candidates. */
    public static WebRtcTransportParams dtls(String iceUfrag, String icePwd, Fingerprint fingerprint, SetupRole setup,
                                             List<String> candidates) {
        return new WebRtcTransportParams(iceUfrag, icePwd, fingerprint, setup, candidates, List.of());
    }

    /** SDES keying with one crypto line (legacy clients). */
    public static WebRtcTransportParams sdes(String iceUfrag, String icePwd, String crypto, List<String> candidates) {
        return new WebRtcTransportParams(iceUfrag, icePwd, null, null, candidates, List.of(crypto));
    }

    /**
     * The browser's transport, from its offer or answer: attributes of the first active section of the
     * first BUNDLE group (the tagged section, RFC 8843), then of the other sections of the group, then
     * the session level (Firefox puts the fingerprint there). Throws MISSING_ICE without ufrag/pwd,
     * MISSING_KEYING without fingerprint and crypto, MALFORMED for a bad fingerprint, setup or candidate.
     * Without a=setup the role is active (RFC 4145 §4).
     */
    public static WebRtcTransportParams fromBrowser(SessionDescription sdp) {
        List<MediaDescription> sources = transportSections(sdp);
        if (sources.isEmpty()) {
            throw new SdpException(SdpException.Reason.NO_AUDIO, "the browser's SDP has no active media section");
        }
        String ufrag = first(sdp, sources, "ice-ufrag");
        String pwd = first(sdp, sources, "ice-pwd");
        if (ufrag == null || pwd == null || ufrag.isBlank() || pwd.isBlank()) {
            throw new SdpException(SdpException.Reason.MISSING_ICE,
                    "the browser's SDP has no a=ice-ufrag/a=ice-pwd (RFC 8839 §5.4)");
        }
        checkIceToken("ice-ufrag", ufrag);
        checkIceToken("ice-pwd", pwd);
        String fingerprintValue = first(sdp, sources, "fingerprint");
        Fingerprint fingerprint = fingerprintValue == null ? null : Fingerprint.parse(fingerprintValue);
        String setupValue = first(sdp, sources, "setup");
        SetupRole setup = fingerprint == null ? null
                : setupValue == null ? SetupRole.ACTIVE : SetupRole.parse(setupValue);
        List<String> crypto = List.of();
        for (MediaDescription m : sources) {
            if (!m.attributeValues("crypto").isEmpty()) {
                crypto = m.attributeValues("crypto");
                break;
            }
        }
        if (fingerprint == null && crypto.isEmpty()) {
            throw new SdpException(SdpException.Reason.MISSING_KEYING,
                    "the browser's SDP has neither a=fingerprint (DTLS-SRTP) nor a=crypto (SDES)");
        }
        List<String> candidates = List.of();
        for (MediaDescription m : sources) {
            if (!m.attributeValues("candidate").isEmpty()) {
                candidates = m.attributeValues("candidate");
                break;
            }
        }
        for (String c : candidates) {
            String problem = candidateProblem(c);
            if (problem != null) {
                throw SdpException.malformed(SdpException.quote("a=candidate:" + c) + ": " + problem);
            }
        }
        return new WebRtcTransportParams(ufrag.trim(), pwd.trim(), fingerprint, setup, candidates, crypto);
    }

    /**
     * Address for the c= lines: the first component-1 candidate (RFC 8839: m= and c= carry the default
     * candidate), else 0.0.0.0.
     */
    public String defaultAddress() {
        List<String> f = defaultCandidate();
        return f == null ? "0.0.0.0" : f.get(4);
    }

    /** Port for the m= lines: the default candidate's, else 9, the discard port JSEP (RFC 8829) uses. */
    public int defaultPort() {
        List<String> f = defaultCandidate();
        return f == null ? 9 : Tokens.parseUnsigned(f.get(5));
    }

    private List<String> defaultCandidate() {
        for (String c : candidates) {
            List<String> f = Tokens.split(c);
            if (f.get(1).equals("1")) {
                return f;
            }
        }
        return null;
    }

    /** The sections that carry the browser's transport attributes, in the order to look them up. */
    private static List<MediaDescription> transportSections(SessionDescription sdp) {
        List<MediaDescription> sources = new ArrayList<>();
        List<String> group = sdp.bundleGroup();
        for (String mid : group) {
            for (MediaDescription m : sdp.media()) {
                if (m.isActive() && mid.equals(m.mid().orElse(null)) && !sources.contains(m)) {
                    sources.add(m);
                }
            }
        }
        if (sources.isEmpty()) {
            for (MediaDescription m : sdp.media()) {
                if (m.isActive()) {
                    sources.add(m);
                }
            }
        }
        return sources;
    }

    private static String first(SessionDescription sdp, List<MediaDescription> sources, String name) {
        for (MediaDescription m : sources) {
            if (m.attribute(name).isPresent()) {
                return m.attribute(name).get();
            }
        }
        return sdp.attribute(name).orElse(null);
    }

    /** Null if the value reads as "foundation component transport priority address port typ type ...". */
    static String candidateProblem(String value) {
        List<String> f = Tokens.split(value);
        if (f.size() < 8 || !f.get(6).equals("typ")) {
            return "expected <foundation> <component> <transport> <priority> <address> <port> typ <type>";
        }
        int component = Tokens.parseUnsigned(f.get(1));
        if (component < 1 || component > 256) {
            return "component \"" + f.get(1) + "\" is not a number from 1 to 256";
        }
        if (Tokens.parseUnsigned32(f.get(3)) < 0) {
            return "priority \"" + f.get(3) + "\" is not a 32-bit number";
        }
        int port = Tokens.parseUnsigned(f.get(5));
        if (port < 0 || port > 65535) {
            return "port \"" + f.get(5) + "\" is not a number from 0 to 65535";
        }
        return null;
    }

    private static void requireIceToken(String name, String value) {
        if (value == null || value.isEmpty() || value.chars().anyMatch(c -> c <= ' ' || c >= 0x7f)) {
            throw new IllegalArgumentException(name + " must be visible ASCII without spaces");
        }
    }

    private static void checkIceToken(String name, String value) {
        // RFC 8839 §5.4: ice-char = ALPHA / DIGIT / "+" / "/".
        if (!value.trim().matches("[A-Za-z0-9+/]+")) {
            throw SdpException.malformed(SdpException.quote("a=" + name + ":" + value)
                    + ": only letters, digits, '+' and '/' are allowed (RFC 8839 §5.4)");
        }
    }
}
