package io.webrtcgateway.sdp;

import java.math.BigInteger;

/**
 * The o= line (RFC 8866 §5.2). The gateway writes its own origin on each leg: the caller keeps one per
 * leg and passes {@link #nextVersion()} for every new SDP in that session (RFC 3264 §8: the version
 * goes up by one for each new offer or answer, and stays the same when the SDP is unchanged).
 */
public record Origin(String username, String sessionId, String sessionVersion,
                    String networkType, String addressType, String address) {

    public Origin {
        for (String field : new String[] {username, sessionId, sessionVersion, networkType, addressType, address}) {
            if (field == null || field.isEmpty() || field.chars().anyMatch(Character::isWhitespace)) {
                throw new IllegalArgumentException("invalid o= field \"" + field + "\"");
            }
        }
    }

    /** An origin for the gateway: {@code o=<username> <sessionId> <version> IN IP4|IP6 <address>}. */
    public static Origin of(String username, long sessionId, long version, String address) {
        if (sessionId < 0 || version < 0) {
            throw new IllegalArgumentException("o= session id and version are unsigned");
        }
        return new Origin(username, Long.toString(sessionId), Long.toString(version),
                "IN", Connection.addressTypeOf(address), address);
    }

    public Origin withVersion(long version) {
        if (version < 0) {
            throw new IllegalArgumentException("o= version is unsigned");
        }
        return new Origin(username, sessionId, Long.toString(version), networkType, addressType, address);
    }

    /** The same origin with the version plus one (arbitrary precision: parsed versions may exceed a long). */
    public Origin nextVersion() {
        if (!sessionVersion.chars().allMatch(c -> c >= '0' && c <= '9')) {
            throw new IllegalStateException("o= version \"" + sessionVersion + "\" is not a number");
        }
        String next = new BigInteger(sessionVersion).add(BigInteger.ONE).toString();
        return new Origin(username, sessionId, next, networkType, addressType, address);
    }

    @Override
    public String toString() {
        return "o=" + username + " " + sessionId + " " + sessionVersion + " "
                + networkType + " " + addressType + " " + address;
    }
}
