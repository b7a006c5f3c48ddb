package io.webrtcgateway.media.ice;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/**
 * Whether a datagram has the shape of a STUN message (RFC 5389 §6, §15) before ice4j decodes it: a 20-byte
 * header with the magic cookie and a length that is the rest of the datagram, attributes that each fit, and
 * the attributes of fixed size (RFC 5389 §15, RFC 8445 §16.1, RFC 5766 §14) with that size.
 *
 * <p>ice4j's decoders read fixed-size attributes without checking their length: an ICE-CONTROLLING of 4
 * bytes at the end of a datagram throws ArrayIndexOutOfBoundsException in its message processor, which logs
 * it with a stack trace. Anyone who can reach an ICE port could flood the log that way; such datagrams are
 * dropped here instead, as malformed (found by StunMessageFuzzTest). So is an ERROR-CODE whose class is out of
 * range, on which its decoder throws IllegalArgumentException, and an UNKNOWN-ATTRIBUTES that names a type
 * twice, after which ice4j loses its place and reads a reason phrase of -4 bytes (NegativeArraySizeException).
 */
final class StunShape {
    private static final int HEADER = 20;
    private static final int MAGIC_COOKIE = 0x2112A442;

    private StunShape() {}

    static boolean wellFormed(byte[] b, int off, int len) {
        if (len < HEADER || (b[off] & 0xC0) != 0 || readInt(b, off + 4) != MAGIC_COOKIE) {
            return false;
        }
        int length = readShort(b, off + 2);
        if (length != len - HEADER || (length & 3) != 0) {
            return false;
        }
        int end = off + len;
        int at = off + HEADER;
        while (at < end) {
            if (at + 4 > end) {
                return false;
            }
            int type = readShort(b, at);
            int valueLength = readShort(b, at + 2);
            int value = at + 4;
            if (value + valueLength > end || !sizeFits(type, valueLength, b, value)) {
                return false;
            }
            at = value + ((valueLength + 3) & ~3);
        }
        return at == end;
    }

    private static boolean sizeFits(int type, int length, byte[] b, int value) {
        return switch (type) {
            // Addresses: family, port and 4 (IPv4) or 16 (IPv6) address bytes (RFC 5389 §15.1, §15.2).
            case 0x0001, 0x0002, 0x0004, 0x0005, 0x000B, 0x0012, 0x0016, 0x0020, 0x8020, 0x8023, 0x802B, 0x802C ->
                    (length == 8 && b[value + 1] == 1) || (length == 20 && b[value + 1] == 2);
            // CHANGE-REQUEST, LIFETIME, CHANNEL-NUMBER, REQUESTED-TRANSPORT, PRIORITY, FINGERPRINT, CONNECTION-ID
            case 0x0003, 0x000D, 0x000C, 0x0019, 0x0024, 0x8028, 0x002A -> length == 4;
            // ICE-CONTROLLED, ICE-CONTROLLING, RESERVATION-TOKEN
            case 0x8029, 0x802A, 0x0022 -> length == 8;
            // USE-CANDIDATE, DONT-FRAGMENT
            case 0x0025, 0x001A -> length == 0;
            // EVEN-PORT
            case 0x0018 -> length == 1;
            // MESSAGE-INTEGRITY (HMAC-SHA1)
            case 0x0008 -> length == 20;
            // ERROR-CODE (RFC 5389 §15.6): 21 reserved bits of zero, class 3-6, number 0-99, then the reason
            // phrase. ice4j refuses other classes and numbers with IllegalArgumentException.
            // The reason must be UTF-8 (§15.6): ice4j re-encodes it to find the next attribute.
            case 0x0009 -> length >= 4 && b[value] == 0 && b[value + 1] == 0 && b[value + 2] >= 3
                    && b[value + 2] <= 6 && (b[value + 3] & 0xFF) <= 99 && isUtf8(b, value + 4, length - 4);
            // REQUESTED-ADDRESS-FAMILY (RFC 6156 §4.1.1): family and 3 reserved bytes
            case 0x0017 -> length == 4;
            // XOR-ONLY (RFC 3489bis drafts), which ice4j still decodes: no value
            case 0x0021 -> length == 0;
            // UNKNOWN-ATTRIBUTES: a list of 16-bit types, each once. ice4j keeps each type once and steps to the
            // next attribute by what it kept: a repeated type made it read the middle of the list as attributes.
            case 0x000A -> (length & 1) == 0 && distinctTypes(b, value, length);
            default -> true;
        };
    }

    private static boolean distinctTypes(byte[] b, int value, int length) {
        for (int i = value; i < value + length; i += 2) {
            for (int j = value; j < i; j += 2) {
                if (b[i] == b[j] && b[i + 1] == b[j + 1]) {
                    return false;
                }
            }
        }
        return true;
    }

    private static boolean isUtf8(byte[] b, int off, int len) {
        try {
            StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(b, off, len));
            return true;
        } catch (CharacterCodingException e) {
            return false;
        }
    }

    private static int readShort(byte[] b, int at) {
        return ((b[at] & 0xFF) << 8) | (b[at + 1] & 0xFF);
    }

    private static int readInt(byte[] b, int at) {
        return (readShort(b, at) << 16) | readShort(b, at + 2);
    }
}
