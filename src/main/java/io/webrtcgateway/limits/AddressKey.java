package io.webrtcgateway.limits;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.regex.Pattern;

/**
 * The key a client address is counted under, by the per-client limits here and the admin login throttle:
 * IPv4 as is; IPv6 by its /64, which one subscriber typically holds whole (RFC 6177 §3), so rotating
 * addresses within it buys nothing; an IPv4-mapped IPv6 address as its IPv4 address.
 */
public final class AddressKey {
    /** An IPv6 literal (at least one colon), possibly with an embedded dotted quad; InetAddress never looks it up. */
    private static final Pattern IPV6 = Pattern.compile("[0-9A-Fa-f.]*:[0-9A-Fa-f.:]*");

    private AddressKey() {}

    /** {@code "2001:db8:0:1::7"} -> {@code "2001:db8:0:1::/64"}; {@code "192.0.2.1"} and anything else unchanged. */
    public static String of(String address) {
        String a = address == null ? "" : address;
        if (a.startsWith("[") && a.endsWith("]")) {
            a = a.substring(1, a.length() - 1); // Jetty writes IPv6 peers in brackets
        }
        if (a.length() < 2 || a.length() > 45 || !IPV6.matcher(a).matches()) {
            return a;
        }
        try {
            byte[] b = InetAddress.getByName(a).getAddress(); // a literal: no DNS lookup
            if (b.length != 16) {
                return InetAddress.getByAddress(b).getHostAddress(); // IPv4-mapped
            }
            StringBuilder out = new StringBuilder();
            for (int i = 0; i < 8; i += 2) {
                out.append(Integer.toHexString(((b[i] & 0xff) << 8) | (b[i + 1] & 0xff))).append(':');
            }
            return out.append(":/64").toString();
        } catch (UnknownHostException e) {
            return a;
        }
    }
}
