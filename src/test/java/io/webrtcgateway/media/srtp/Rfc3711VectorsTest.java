package io.webrtcgateway.media.srtp;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** The test vectors of RFC 3711 Appendix B. */
class Rfc3711VectorsTest {

    /** B.2: AES-CM keystream for session key/salt below, SSRC 0, index 0. */
    @Test
    void aesCounterModeKeystream() {
        byte[] sessionKey = Hex.bytes("2B7E151628AED2A6ABF7158809CF4F3C");
        byte[] sessionSalt = Hex.bytes("F0F1F2F3F4F5F6F7F8F9FAFBFCFD");
        AesCounterMode cm = new AesCounterMode(sessionKey);
        byte[] zeros = new byte[0xff02 * 16];
        cm.apply(AesCounterMode.high(sessionSalt), AesCounterMode.low(sessionSalt), zeros, 0, zeros.length);

        assertEquals("E03EAD0935C95E80E166B16DD92B4EB4", Hex.of(zeros, 0x0000 * 16, 16));
        assertEquals("D23513162B02D0F72A43A2FE4A5F97AB", Hex.of(zeros, 0x0001 * 16, 16));
        assertEquals("41E95B3BB0A2E8DD477901E4FCA894C0", Hex.of(zeros, 0x0002 * 16, 16));
        assertEquals("EC8CDF7398607CB0F2D21675EA9EA1E4", Hex.of(zeros, 0xfeff * 16, 16));
        assertEquals("362B7C3C6773516318A077D7FC5073AE", Hex.of(zeros, 0xff00 * 16, 16));
        assertEquals("6A2CC3787889374FBEB4C81B17BA6C44", Hex.of(zeros, 0xff01 * 16, 16));
    }

    /** B.3: key derivation with key_derivation_rate 0. */
    @Test
    void keyDerivation() {
        SrtpMasterKey master = new SrtpMasterKey(Hex.bytes("E1F97A0D3E018BE0D64FA32C06DE4139"),
                Hex.bytes("0EC675AD498AFEEBB6960B3AABE6"));
        SessionKeys keys = SessionKeys.forRtp(master);

        assertArrayEquals(Hex.bytes("C61E7A93744F39EE10734AFE3FF7A087"), keys.encryptionKey());
        assertArrayEquals(Hex.bytes("30CBBC08863D8C85D49DB34A9AE1"), keys.salt());
        assertArrayEquals(Hex.bytes("CEBE321F6FF7716B6FD4AB49AF256A156D38BAA4"), keys.authenticationKey());
    }

    @Test
    void hmacMatchesRfc2202() {
        // RFC 2202 test case 2
        HmacSha1 mac = new HmacSha1("Jefe".getBytes());
        byte[] data = "what do ya want for nothing?".getBytes();
        mac.start();
        mac.update(data, 0, data.length);
        assertEquals("EFFCDF6AE5EB2FA2D27416D5F184DF9C259A7C79", Hex.of(mac.finish(), 0, 20));
    }
}
