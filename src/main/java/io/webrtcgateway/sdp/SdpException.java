package io.webrtcgateway.sdp;

/**
 * An SDP we cannot use: malformed, or well formed but offering nothing the gateway can bridge.
 * The message names the offending line (as written, shortened when very long) and the problem;
 * {@link #reason()} is a stable code the call layer maps to a SIP status (e.g. 488) or a browser error.
 *
 * <p>Unchecked on purpose: every translation function can throw it, they are called at one boundary
 * (the call core, when an offer or answer arrives), and that boundary catches it once.
 * Caller mistakes (a wrong port count, inconsistent transport parameters) are
 * {@link IllegalArgumentException}s instead: they are bugs, not bad input.
 */
public final class SdpException extends RuntimeException {

    public enum Reason {
        /** Syntax error, missing mandatory line, bad number. */
        MALFORMED,
        /** An audio/video m-line uses a transport profile this side of the gateway does not speak. */
        UNSUPPORTED_PROFILE,
        /** No usable audio section at all (none, or all rejected with port 0). */
        NO_AUDIO,
        /** Audio is offered/answered, but not with any codec both sides can use (-> 488). */
        NO_COMMON_CODEC,
        /** A browser SDP without ICE ufrag/pwd (RFC 8839 §5.4). */
        MISSING_ICE,
        /** A browser SDP with neither a DTLS fingerprint nor an SDES crypto line. */
        MISSING_KEYING,
        /** An answer whose m-lines do not match the offer's (RFC 3264 §6). */
        ANSWER_MISMATCH,
        /** Over {@link SdpLimits}: too many bytes or m-lines; refused before any of it was built. */
        TOO_LARGE
    }

    private static final int MAX_QUOTED = 120;

    private final Reason reason;

    public SdpException(Reason reason, String message) {
        super(message);
        this.reason = reason;
    }

    public Reason reason() {
        return reason;
    }

    static SdpException malformed(String message) {
        return new SdpException(Reason.MALFORMED, message);
    }

    /** A line quoted for a message: hostile input may be huge or hold control characters. */
    static String quote(String line) {
        StringBuilder sb = new StringBuilder(Math.min(line.length(), MAX_QUOTED) + 5).append('"');
        for (int i = 0; i < line.length() && i < MAX_QUOTED; i++) {
            char c = line.charAt(i);
            sb.append(c < 0x20 || c == 0x7f ? '?' : c);
        }
        if (line.length() > MAX_QUOTED) {
            sb.append("...");
        }
        return sb.append('"').toString();
    }
}
