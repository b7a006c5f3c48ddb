package io.webrtcgateway.bench.load;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.zip.CRC32;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.Test;

/** The load client's STUN framing, checked attribute by attribute against RFC 8489 / RFC 8445. */
class StunTest {
    private static final byte[] TX = "0123456789ab".getBytes(StandardCharsets.US_ASCII);

    @Test
    void bindingRequestCarriesIceAttributesIntegrityAndFingerprint() throws Exception {
        ByteBuffer b = Stun.bindingRequest(TX, "REMOTE", "local", "remotepassword", true, 42, 7);
        assertTrue(Stun.isStun(b));
        assertEquals(Stun.BINDING_REQUEST, Stun.type(b));
        assertArrayEquals(TX, Stun.transactionId(b));
        byte[] m = Arrays.copyOf(b.array(), b.limit());
        assertEquals(m.length - 20, ((m[2] & 0xff) << 8) | (m[3] & 0xff), "length field covers every attribute");
        assertEquals("REMOTE:local", new String(m, 24, 12, StandardCharsets.UTF_8), "USERNAME = receiver:sender");
        int fp = m.length - 8;
        int mi = fp - 24;
        assertEquals(0x0008, ((m[mi] & 0xff) << 8) | (m[mi + 1] & 0xff));
        // MESSAGE-INTEGRITY over the message up to it, with the length field counting it (RFC 8489 §14.5)
        byte[] signed = Arrays.copyOf(m, mi);
        signed[2] = 0;
        signed[3] = (byte) (mi - 20 + 24);
        Mac hmac = Mac.getInstance("HmacSHA1");
        hmac.init(new SecretKeySpec("remotepassword".getBytes(StandardCharsets.UTF_8), "HmacSHA1"));
        assertArrayEquals(hmac.doFinal(signed), Arrays.copyOfRange(m, mi + 4, mi + 24));
        // FINGERPRINT: CRC-32 of everything before it, XOR 0x5354554e (RFC 8489 §14.7)
        CRC32 crc = new CRC32();
        crc.update(m, 0, fp);
        assertEquals((int) crc.getValue() ^ 0x5354554e, ByteBuffer.wrap(m, fp + 4, 4).getInt());
        String hex = java.util.HexFormat.of().formatHex(m);
        assertTrue(hex.contains("802a0008000000000000002a"), "ICE-CONTROLLING with the tie-breaker");
        assertTrue(hex.contains("00250000"), "USE-CANDIDATE when controlling");
        assertTrue(hex.contains("0024000400000007"), "PRIORITY");
    }

    @Test
    void successResponseXorsTheSourceAddress() {
        ByteBuffer b = Stun.bindingSuccess(TX, new InetSocketAddress("10.77.0.1", 40000), "pwd");
        assertEquals(Stun.BINDING_SUCCESS, Stun.type(b));
        String hex = java.util.HexFormat.of().formatHex(Arrays.copyOf(b.array(), b.limit()));
        // port 40000 (0x9c40) ^ 0x2112 = 0xbd52; 10.77.0.1 ^ 0x2112a442 = 0x2b5fa443 (RFC 8489 §14.2)
        assertTrue(hex.contains("002000080001bd522b5fa443"), hex);
    }

    @Test
    void readsTheErrorCodeOfARoleConflict() {
        ByteBuffer b = ByteBuffer.allocate(28);
        b.putShort((short) Stun.BINDING_ERROR).putShort((short) 8).putInt(0x2112A442).put(TX);
        b.putShort((short) 0x0009).putShort((short) 4).put(new byte[] {0, 0, 4, 87});
        b.flip();
        assertEquals(487, Stun.errorCode(b));
    }
}
