package io.webrtcgateway.auth;

/**
 * One dial-plan pattern (gateway.calls.dial-plan, the token's {@code dial} claim): every character stands for
 * itself except {@code x} (one digit, 0-9) and a {@code *} at the end (anything, also nothing). A {@code *}
 * elsewhere is the star key: {@code *72} is the code *72, {@code **} every star code.
 */
public final class DestinationPattern {
    private DestinationPattern() {}

    public static boolean matches(String pattern, String destination) {
        int n = pattern.length();
        boolean open = n > 0 && pattern.charAt(n - 1) == '*';
        int fixed = open ? n - 1 : n;
        if (open ? destination.length() < fixed : destination.length() != fixed) {
            return false;
        }
        for (int i = 0; i < fixed; i++) {
            char p = pattern.charAt(i);
            char d = destination.charAt(i);
            if (p == 'x' || p == 'X' ? d < '0' || d > '9' : p != d) {
                return false;
            }
        }
        return true;
    }

    /** Whether any of {@code patterns} matches. */
    public static boolean anyMatches(Iterable<String> patterns, String destination) {
        for (String p : patterns) {
            if (matches(p, destination)) {
                return true;
            }
        }
        return false;
    }
}
