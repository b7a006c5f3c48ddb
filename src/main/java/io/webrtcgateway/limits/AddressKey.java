package io.webrtcgateway.limits;

import io.webrtcgateway.config.IpLiteral;
import java.net.Inet6Address;
import java.net.InetAddress;

/**
 * The key a client address is counted under, by the per-client limits here and the admin login throttle:
 * IPv4 as is; IPv6 by its /64, which one subscriber typically holds whole (RFC 6177 §3), so rotating
 * addresses within it buys nothing; an IPv4-mapped IPv6 address as its IPv4 address. Text that is no IP
 * literal (never looked up) is its own key.
 */
public final class AddressKey {
    private AddressKey() {}

    /** {@code "2001:db8:0:1::7"} -> {@code "2001:db8:0:1::/64"}; {@code "192.0.2.1"} and anything else unchanged. */
    public static String of(String address) {
        InetAddress a = IpLiteral.parse(address);
        if (a == null) {
            return address == null ? "" : address;
        }
        if (!(a instanceof Inet6Address)) {
            return a.getHostAddress(); // IPv4, also when written IPv4-mapped (InetAddress makes those IPv4)
        }
        byte[] b = a.getAddress();
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < 8; i += 2) {
            out.append(Integer.toHexString(((b[i] & 0xff) << 8) | (b[i + 1] & 0xff))).append(':');
        }
        return out.append(":/64").toString();
    }
}
