package io.webrtcgateway.config;

import java.net.InetAddress;

/**
 * An IPv4 or IPv6 address block, {@code 10.0.0.0/8} or {@code ::1/128}; a bare address is a block of one.
 * Used by the keys that say whom a listener believes ({@code gateway.http.trusted-proxies},
 * {@code gateway.sip.trusted-sources}). An IPv4 block never contains an IPv6 address and the reverse,
 * except that an IPv4-mapped IPv6 address ({@code ::ffff:10.1.2.3}) is compared as the IPv4 address it maps.
 */
public record Cidr(byte[] network, int prefixLength, String text) {

    /**
     * Parses {@code address[/prefix]}; only IP literals (no name is resolved). IllegalArgumentException
     * saying what is wrong.
     */
    public static Cidr parse(String text) {
        String t = text.trim();
        int slash = t.indexOf('/');
        String host = slash < 0 ? t : t.substring(0, slash);
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        InetAddress literal = IpLiteral.parse(host);
        if (literal == null) {
            throw new IllegalArgumentException("\"" + text + "\" is not an IP address or CIDR block (e.g. 10.0.0.0/8)");
        }
        byte[] address = literal.getAddress();
        int bits = address.length * 8;
        int prefix = bits;
        if (slash >= 0) {
            try {
                prefix = Integer.parseInt(t.substring(slash + 1));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("\"" + text + "\": the prefix length is not a number");
            }
            if (prefix < 0 || prefix > bits) {
                throw new IllegalArgumentException("\"" + text + "\": the prefix length must be 0-" + bits);
            }
        }
        byte[] network = address.clone();
        for (int i = 0; i < network.length; i++) {
            int keep = Math.max(0, Math.min(8, prefix - i * 8));
            network[i] &= (byte) (0xff << (8 - keep));
        }
        return new Cidr(network, prefix, t);
    }

    public boolean contains(InetAddress address) {
        if (address == null) {
            return false;
        }
        byte[] a = unmapped(address.getAddress());
        if (a.length != network.length) {
            return false;
        }
        for (int i = 0; i < a.length; i++) {
            int keep = Math.max(0, Math.min(8, prefixLength - i * 8));
            int mask = (0xff << (8 - keep)) & 0xff;
            if ((a[i] & mask) != (network[i] & 0xff & mask)) {
                return false;
            }
        }
        return true;
    }

    /** Whether any of {@code blocks} contains {@code address}. */
    public static boolean anyContains(Iterable<Cidr> blocks, InetAddress address) {
        for (Cidr c : blocks) {
            if (c.contains(address)) {
                return true;
            }
        }
        return false;
    }

    /** ::ffff:a.b.c.d as a.b.c.d (RFC 4291 §2.5.5.2). */
    private static byte[] unmapped(byte[] a) {
        if (a.length != 16) {
            return a;
        }
        for (int i = 0; i < 10; i++) {
            if (a[i] != 0) {
                return a;
            }
        }
        if (a[10] != (byte) 0xff || a[11] != (byte) 0xff) {
            return a;
        }
        return new byte[] {a[12], a[13], a[14], a[15]};
    }

    @Override
    public String toString() {
        return text;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Cidr c && c.prefixLength == prefixLength && java.util.Arrays.equals(c.network, network);
    }

    @Override
    public int hashCode() {
        return 31 * java.util.Arrays.hashCode(network) + prefixLength;
    }
}
