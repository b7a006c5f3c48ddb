package io.webrtcgateway.sdp;

/** The c= line (RFC 8866 §5.7). The address is kept as written (it may carry /ttl for multicast). */
public record Connection(String networkType, String addressType, String address) {

    public Connection {
        for (String field : new String[] {networkType, addressType, address}) {
            if (field == null || field.isEmpty() || field.chars().anyMatch(Character::isWhitespace)) {
                throw new IllegalArgumentException("invalid c= field \"" + field + "\"");
            }
        }
    }

    /** {@code IN IP4 <address>}, or {@code IN IP6} for an IPv6 literal. */
    public static Connection of(String address) {
        return new Connection("IN", addressTypeOf(address), address);
    }

    static String addressTypeOf(String address) {
        return address.indexOf(':') >= 0 ? "IP6" : "IP4";
    }

    /**
     * RFC 2543 hold: a connection address of all zeros means "do not send to me" (RFC 3264 §8.4 keeps
     * it for backward compatibility).
     */
    public boolean isUnspecifiedAddress() {
        return address.equals("0.0.0.0") || address.equals("::") || address.equals("0:0:0:0:0:0:0:0");
    }

    @Override
    public String toString() {
        return "c=" + networkType + " " + addressType + " " + address;
    }
}
