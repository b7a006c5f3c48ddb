package io.webrtcgateway.config;

import java.net.InetAddress;
import java.net.UnknownHostException;

/**
 * IP address literals from text that strangers write (SDP candidates, X-Forwarded-For, SIP URIs) or the config.
 * Never a DNS lookup: InetAddress.getByName queries DNS for whatever it does not recognise as a literal, and
 * "cafe.be" is hex digits and dots too. So only a dotted quad is parsed as IPv4 (by hand), and only text with a
 * colon, made of hex digits, colons and dots, reaches InetAddress as IPv6 (it never looks those up).
 */
public final class IpLiteral {
    private static final int MAX_LENGTH = 64;

    private IpLiteral() {}

    /**
     * The address {@code text} names: an IPv4 dotted quad, or an IPv6 literal, optionally in brackets (SIP URIs,
     * Jetty's peer addresses) and with a zone ({@code fe80::1%eth0}, dropped). Null for anything else.
     */
    public static InetAddress parse(String text) {
        if (text == null || text.isEmpty() || text.length() > MAX_LENGTH) {
            return null;
        }
        String s = text.startsWith("[") && text.endsWith("]") ? text.substring(1, text.length() - 1) : text;
        if (s.indexOf(':') >= 0) {
            int percent = s.indexOf('%');
            String bare = percent >= 0 ? s.substring(0, percent) : s;
            if (bare.isEmpty() || !bare.chars().allMatch(c -> Character.digit(c, 16) >= 0 || c == ':' || c == '.')) {
                return null;
            }
            try {
                return InetAddress.getByName(bare);
            } catch (UnknownHostException e) {
                return null;
            }
        }
        String[] parts = s.split("\\.", -1);
        if (parts.length != 4) {
            return null;
        }
        byte[] bytes = new byte[4];
        for (int i = 0; i < 4; i++) {
            String p = parts[i];
            if (p.isEmpty() || p.length() > 3 || !p.chars().allMatch(c -> c >= '0' && c <= '9')) {
                return null;
            }
            int v = Integer.parseInt(p);
            if (v > 255) {
                return null;
            }
            bytes[i] = (byte) v;
        }
        try {
            return InetAddress.getByAddress(bytes);
        } catch (UnknownHostException e) {
            throw new AssertionError("4 bytes are always a valid IPv4 address", e);
        }
    }
}
