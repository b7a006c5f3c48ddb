package io.webrtcgateway.sdp;

import java.util.ArrayList;
import java.util.List;

/** Splitting and number parsing shared by the parser and the attribute readers; never throws NFE. */
final class Tokens {
    private Tokens() {}

    /** Fields separated by spaces or tabs; RFC 8866 says one space, real peers sometimes send more. */
    static List<String> split(String text) {
        List<String> tokens = new ArrayList<>();
        int i = 0;
        int n = text.length();
        while (i < n) {
            while (i < n && isBlank(text.charAt(i))) {
                i++;
            }
            int start = i;
            while (i < n && !isBlank(text.charAt(i))) {
                i++;
            }
            if (i > start) {
                tokens.add(text.substring(start, i));
            }
        }
        return tokens;
    }

    private static boolean isBlank(char c) {
        return c == ' ' || c == '\t';
    }

    /** A non-negative decimal of at most 9 digits (no sign, no spaces), else -1. */
    static int parseUnsigned(String text) {
        if (text.isEmpty() || text.length() > 9) {
            return -1;
        }
        int value = 0;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c < '0' || c > '9') {
                return -1;
            }
            value = value * 10 + (c - '0');
        }
        return value;
    }

    /** A non-negative decimal that fits in 32 unsigned bits (an SSRC), else -1. */
    static long parseUnsigned32(String text) {
        if (text.isEmpty() || text.length() > 10) {
            return -1;
        }
        long value = 0;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c < '0' || c > '9') {
                return -1;
            }
            value = value * 10 + (c - '0');
        }
        return value <= 0xFFFF_FFFFL ? value : -1;
    }
}
