package io.webrtcgateway.media.ice;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import org.ice4j.message.Message;
import org.junit.jupiter.api.Test;

class StunShapeTest {

    /** A Binding request: header, then the given attributes (type, value), each padded to 4 bytes. */
    private static byte[] binding(int extra, Object... attributes) {
        ByteBuffer body = ByteBuffer.allocate(512);
        for (int i = 0; i < attributes.length; i += 2) {
            byte[] value = (byte[]) attributes[i + 1];
            body.putShort((short) (int) (Integer) attributes[i]).putShort((short) value.length).put(value);
            body.position((body.position() + 3) & ~3);
        }
        int length = body.position() + extra;
        ByteBuffer b = ByteBuffer.allocate(20 + body.position());
        b.putShort((short) 0x0001).putShort((short) length).putInt(0x2112A442).put(new byte[12]);
        b.put(body.array(), 0, body.position());
        return b.array();
    }

    @Test
    void aChromeStyleBindingRequestPasses() {
        byte[] request = binding(0, 0x0006, "gW4y:abcd".getBytes(), 0xC057, new byte[4], 0x802A, new byte[8],
                0x0025, new byte[0], 0x0024, new byte[4], 0x0008, new byte[20], 0x8028, new byte[4]);
        assertTrue(StunShape.wellFormed(request, 0, request.length));
    }

    @Test
    void aShortIceControllingAtTheEndIsDroppedBeforeIce4jThrowsOnIt() {
        // Found by StunMessageFuzzTest: ice4j reads 8 bytes whatever the attribute's length says.
        byte[] request = binding(0, 0x0006, "gW4y:abcd".getBytes(), 0x802A, new byte[4]);
        assertThrows(ArrayIndexOutOfBoundsException.class, () -> Message.decode(request, 0, request.length));
        assertFalse(StunShape.wellFormed(request, 0, request.length));
    }

    @Test
    void anErrorCodeOutOfRangeIsDroppedBeforeIce4jThrowsOnIt() {
        // Found by StunMessageFuzzTest: ice4j takes the whole third byte as the class and refuses it.
        byte[] error = binding(0, 0x0009, new byte[] {0, 0, (byte) 0xD3, 1});
        assertThrows(IllegalArgumentException.class, () -> Message.decode(error, 0, error.length));
        assertFalse(StunShape.wellFormed(error, 0, error.length));
        for (byte[] bad : new byte[][] {{0, 0, 2, 0}, {0, 0, 7, 0}, {0, 0, 4, 100}, {1, 0, 4, 87}}) {
            byte[] response = binding(0, 0x0009, bad);
            assertFalse(StunShape.wellFormed(response, 0, response.length));
        }
        byte[] roleConflict = binding(0, 0x0009, new byte[] {0, 0, 4, 87, 'R', 'o', 'l', 'e'});
        assertTrue(StunShape.wellFormed(roleConflict, 0, roleConflict.length));
    }

    @Test
    void aRepeatedUnknownAttributeIsDroppedBeforeIce4jLosesItsPlace() {
        // Found by StunMessageFuzzTest (ice4j instrumented): ice4j keeps each listed type once and steps on by
        // what it kept, here into the middle of the list, where it reads an ERROR-CODE of length 0.
        byte[] repeated = binding(0, 0x000A, new byte[] {0, 1, 0, 0, 0, 0, 0, 0, 0, 9, 0, 0});
        // (the fuzzer's datagram got NegativeArraySizeException; this shorter one runs off the end instead)
        assertThrows(RuntimeException.class, () -> Message.decode(repeated, 0, repeated.length));
        assertFalse(StunShape.wellFormed(repeated, 0, repeated.length));
        byte[] distinct = binding(0, 0x000A, new byte[] {0, 1, 0, 2, (byte) 0x80, 0x2A});
        assertTrue(StunShape.wellFormed(distinct, 0, distinct.length));
        byte[] badReason = binding(0, 0x0009, new byte[] {0, 0, 4, 87, (byte) 0xC3, 0x28});
        assertFalse(StunShape.wellFormed(badReason, 0, badReason.length), "reason phrase not UTF-8");
    }

    @Test
    void fixedSizeAttributesMustHaveTheirSize() {
        for (Object[] bad : new Object[][] {{0x0024, new byte[2]}, {0x8029, new byte[12]}, {0x0008, new byte[16]},
                {0x8028, new byte[8]}, {0x0020, new byte[12]}, {0x0009, new byte[3]}, {0x0025, new byte[4]}}) {
            byte[] request = binding(0, bad);
            assertFalse(StunShape.wellFormed(request, 0, request.length), "attribute " + bad[0]);
        }
        byte[] ipv6 = new byte[20];
        ipv6[1] = 2;
        byte[] mapped = binding(0, 0x0020, ipv6);
        assertTrue(StunShape.wellFormed(mapped, 0, mapped.length));
    }

    @Test
    void lengthsMustAddUp() {
        byte[] request = binding(0, 0x0006, "user".getBytes());
        assertTrue(StunShape.wellFormed(request, 0, request.length));
        assertFalse(StunShape.wellFormed(request, 0, request.length - 4), "datagram shorter than its header says");
        byte[] longer = binding(4, 0x0006, "user".getBytes());
        assertFalse(StunShape.wellFormed(longer, 0, longer.length), "header says more than the datagram holds");
        byte[] noCookie = request.clone();
        noCookie[4] = 0;
        assertFalse(StunShape.wellFormed(noCookie, 0, noCookie.length));
        assertFalse(StunShape.wellFormed(request, 0, 19));
    }
}
