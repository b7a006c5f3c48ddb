package io.webrtcgateway.session;

import io.webrtcgateway.error.ErrorCode;
import io.webrtcgateway.error.GatewayException;
import java.util.regex.Pattern;

/** Directory numbers: what may be registered as the user part of sip:dn@domain. */
public final class Dn {
    private static final Pattern VALID = Pattern.compile("[A-Za-z0-9._+\\-]{1,64}");

    private Dn() {}

    /** Returns {@code dn} if it is a valid DN, else throws INVALID_DN naming the problem. */
    public static String validate(String dn) {
        if (dn == null || dn.isEmpty()) {
            throw new GatewayException(ErrorCode.INVALID_DN, "DN is empty");
        }
        if (!VALID.matcher(dn).matches()) {
            throw new GatewayException(ErrorCode.INVALID_DN,
                    "DN must be 1-64 characters of A-Z a-z 0-9 . _ + - (got " + quote(dn) + ")");
        }
        return dn;
    }

    private static String quote(String s) {
        String shown = s.length() > 40 ? s.substring(0, 40) + "..." : s;
        return "\"" + shown.replaceAll("[^\\x20-\\x7e]", "?") + "\"";
    }
}
