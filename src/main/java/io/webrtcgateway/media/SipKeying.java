package io.webrtcgateway.media;

import io.webrtcgateway.media.srtp.SdesCrypto;
import io.webrtcgateway.media.srtp.SrtpProfile;
import io.webrtcgateway.media.srtp.SrtpSession;
import io.webrtcgateway.sdp.BridgePlan;
import io.webrtcgateway.sdp.MediaDescription;
import io.webrtcgateway.sdp.SdpException;
import io.webrtcgateway.sdp.SessionDescription;
import io.webrtcgateway.sdp.SipSrtp;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * SDES keying of one call's SIP leg (RFC 4568; docs/sip.md "SRTP toward SIP Server"), per m-line: the keys in
 * force on each side and the {@link SrtpSession} the SIP-side endpoint protects and unprotects with. Decides
 * our a=crypto lines for offers and answers and checks the peer's. Confined to the call's executor.
 *
 * <p>Our key changes only with the peer's: a re-offer keeps the key and tag in force; a re-offer from the peer
 * with its old key is answered with our old key (the contexts, with their rollover counters, go on); one with a
 * new key gets a new key of ours, and so a fresh session on both sides. A new key of the peer in an answer
 * to our re-offer changes only the receiving half ({@link SrtpSession#withRemoteKey}): a key of ours never gets
 * a second send context (RFC 3711 §9.1, no keystream reuse).
 */
final class SipKeying {
    /** Our offer's suites, preferred first (RFC 4568 §6.2): the 80-bit tag, then the 32-bit one. */
    private static final List<SrtpProfile> OFFERED = List.of(SrtpProfile.AES_CM_128_HMAC_SHA1_80,
            SrtpProfile.AES_CM_128_HMAC_SHA1_32);

    /** The keys of one m-line: ours, the peer's, and the session made of them. */
    record Keys(SdesCrypto local, SdesCrypto remote, SrtpSession session) {}

    private final SipSrtp policy;
    private final SecureRandom random;
    private final Map<Integer, Keys> inForce = new HashMap<>();

    SipKeying(SipSrtp policy, SecureRandom random) {
        this.policy = policy;
        this.random = random;
    }

    SipSrtp policy() {
        return policy;
    }

    /** Whether our offers toward SIP carry keys (optional or required, and keys may travel on this call). */
    boolean offersKeys() {
        return policy.keysAllowed();
    }

    /** Whether our offers use RTP/SAVP (required) rather than RTP/AVP. */
    boolean offersSecureProfile() {
        return policy.keysAllowed() && policy.mode() == SipSrtp.Mode.REQUIRED;
    }

    /**
     * Throws when this call cannot be placed: SRTP is required but its keys may not travel on the call's SIP
     * transport. The browser hears why; no INVITE leaves.
     */
    void requireOfferable() {
        if (policy.mode() == SipSrtp.Mode.REQUIRED && !policy.keysAllowed()) {
            throw new SdpException(SdpException.Reason.UNSUPPORTED_PROFILE,
                    "SRTP toward SIP is required (gateway.sip.srtp = required), but " + policy.keysRefused());
        }
    }

    /**
     * Our a=crypto values for an offer of these m-lines: the line in force where an m-line has keys (a re-offer
     * keeps them), else a fresh key per suite (tags 1, 2). Empty when this call offers no keys.
     */
    Map<Integer, List<String>> offerLines(List<Integer> mlines) {
        Map<Integer, List<String>> lines = new LinkedHashMap<>();
        if (!offersKeys()) {
            return lines;
        }
        for (int mline : mlines) {
            Keys k = inForce.get(mline);
            if (k != null) {
                lines.put(mline, List.of(k.local().attributeValue()));
                continue;
            }
            List<String> fresh = new ArrayList<>();
            for (int i = 0; i < OFFERED.size(); i++) {
                fresh.add(SdesCrypto.generate(i + 1, OFFERED.get(i), random).attributeValue());
            }
            lines.put(mline, fresh);
        }
        return lines;
    }

    /** The line in force per keyed m-line: what a re-offer repeats. */
    Map<Integer, List<String>> linesInForce() {
        Map<Integer, List<String>> lines = new LinkedHashMap<>();
        inForce.forEach((mline, k) -> lines.put(mline, List.of(k.local().attributeValue())));
        return lines;
    }

    /**
     * Our answer to the SIP offer's keyed sections (those {@code plan} accepted an a=crypto for): per m-line the
     * keys that will be in force once the answer is sent ({@link #commit}), nothing changed yet.
     */
    Map<Integer, Keys> answer(BridgePlan plan) {
        Map<Integer, Keys> keys = new LinkedHashMap<>();
        for (BridgePlan.PlannedSection p : plan.sections()) {
            if (!p.bridged() || p.sipCrypto() == null) {
                continue;
            }
            SdesCrypto remote = SdesCrypto.parse(p.sipCrypto()); // the plan parsed it already
            Keys current = inForce.get(p.index());
            if (current != null && current.remote().sameKeyAs(remote)) {
                // The peer kept its key (hold, resume, session refresh): so do we, under the tag it offered now.
                keys.put(p.index(), new Keys(current.local().withTag(remote.tag()), remote, current.session()));
            } else {
                SdesCrypto local = remote.answer(random);
                keys.put(p.index(), new Keys(local, remote, SrtpSession.fromSdes(local, remote)));
            }
        }
        return keys;
    }

    /** The a=crypto value per m-line of answer keys, for the SDP. */
    static Map<Integer, List<String>> lines(Map<Integer, Keys> keys) {
        Map<Integer, List<String>> lines = new LinkedHashMap<>();
        keys.forEach((mline, k) -> lines.put(mline, List.of(k.local().attributeValue())));
        return lines;
    }

    /**
     * The SIP peer's answer to our offer {@code ours}, section by section (active ones): keys that will be in
     * force ({@link #commit}), nothing changed yet. A section we offered keys in must come back with exactly one
     * a=crypto naming one of our tags with its suite (RFC 4568 §7.1.2), or, for a best-effort RTP/AVP offer,
     * without any (plain RTP); a section we offered plain must not come back RTP/SAVP.
     *
     * @throws SdpException MISSING_KEYING or UNSUPPORTED_PROFILE, naming the section and the problem
     */
    Map<Integer, Keys> answered(SessionDescription ours, SessionDescription answer) {
        Map<Integer, Keys> keys = new LinkedHashMap<>();
        for (int i = 0; i < Math.min(ours.media().size(), answer.media().size()); i++) {
            MediaDescription offered = ours.media().get(i);
            MediaDescription answered = answer.media().get(i);
            if (offered.port() == 0 || answered.port() == 0) {
                continue;
            }
            List<String> ourLines = offered.attributeValues("crypto");
            List<String> theirLines = answered.attributeValues("crypto");
            boolean secureAnswer = isSecure(answered.protocol());
            String where = "m-line " + i + " of the SIP answer (" + answered.protocol() + ")";
            if (ourLines.isEmpty()) {
                if (secureAnswer) {
                    throw new SdpException(SdpException.Reason.UNSUPPORTED_PROFILE, where
                            + " is SRTP, but the offer was plain RTP/AVP without keys");
                }
                continue; // a=crypto in a plain answer to a plain offer means nothing
            }
            if (theirLines.isEmpty()) {
                if (secureAnswer || isSecure(offered.protocol())) {
                    throw new SdpException(SdpException.Reason.MISSING_KEYING, where + " has no a=crypto: the offer"
                            + " was " + offered.protocol() + " and needs the peer's SDES key (RFC 4568)");
                }
                continue; // best-effort SRTP declined: plain RTP
            }
            if (theirLines.size() > 1) {
                throw new SdpException(SdpException.Reason.MISSING_KEYING, where + " has " + theirLines.size()
                        + " a=crypto lines; an answer accepts one offered line (RFC 4568 §7.1.2)");
            }
            SdesCrypto remote;
            try {
                remote = SdesCrypto.parse(theirLines.get(0));
            } catch (IllegalArgumentException e) {
                throw new SdpException(SdpException.Reason.MISSING_KEYING, where + ": unusable a=crypto: "
                        + withoutKeys(e.getMessage()));
            }
            SdesCrypto local = null;
            for (String line : ourLines) {
                SdesCrypto o = SdesCrypto.parse(line);
                if (o.tag() == remote.tag()) {
                    local = o;
                }
            }
            if (local == null || local.profile() != remote.profile()) {
                throw new SdpException(SdpException.Reason.MISSING_KEYING, where + ": a=crypto tag " + remote.tag()
                        + " " + remote.profile().sdesName() + " answers no line of the offer (RFC 4568 §7.1.2)");
            }
            keys.put(i, keysFor(i, local, remote));
        }
        return keys;
    }

    /** A session for these keys, reusing the one in force where our key is unchanged. */
    private Keys keysFor(int mline, SdesCrypto local, SdesCrypto remote) {
        Keys current = inForce.get(mline);
        if (current != null && current.local().sameKeyAs(local)) {
            if (current.remote().sameKeyAs(remote)) {
                return new Keys(local, remote, current.session());
            }
            return new Keys(local, remote, current.session().withRemoteKey(remote.masterKey()));
        }
        return new Keys(local, remote, SrtpSession.fromSdes(local, remote));
    }

    /**
     * The negotiation is done: these keys are in force, every other m-line is plain RTP now. Returns the
     * session per keyed m-line, for the endpoints.
     */
    void commit(Map<Integer, Keys> keys) {
        inForce.clear();
        inForce.putAll(keys);
    }

    /** The session of m-line {@code mline}, or null for plain RTP. */
    SrtpSession session(int mline) {
        Keys k = inForce.get(mline);
        return k == null ? null : k.session();
    }

    /** What the call's stats show: per keyed m-line the suite and the drop counters (no key material). */
    List<Map<String, Object>> stats() {
        List<Map<String, Object>> out = new ArrayList<>();
        inForce.entrySet().stream().sorted(Map.Entry.comparingByKey()).forEach(e -> {
            SrtpSession s = e.getValue().session();
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("mline", e.getKey());
            m.put("profile", s.profile().name());
            m.put("authFailures", s.counters().authFailures());
            m.put("replayDropped", s.counters().replayDropped());
            m.put("malformedDropped", s.counters().malformedDropped());
            out.add(m);
        });
        return out;
    }

    private static boolean isSecure(String protocol) {
        String p = protocol.toUpperCase(java.util.Locale.ROOT);
        return p.equals("RTP/SAVP") || p.equals("RTP/SAVPF");
    }

    /** Key material never goes into a message (base64 runs of 16 characters or more are masked). */
    static String withoutKeys(String text) {
        return text.replaceAll("[A-Za-z0-9+/]{16,}={0,2}", "<key>");
    }
}
