package io.webrtcgateway.media.srtp;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class SdesCryptoTest {
    // RFC 4568 §5.1 example key
    private static final String KEY = "WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz";

    @Test
    void parsesTheRfcExample() {
        SdesCrypto c = SdesCrypto.parse("a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:" + KEY + "|2^20|1:4");
        assertEquals(1, c.tag());
        assertEquals(SrtpProfile.AES_CM_128_HMAC_SHA1_80, c.profile());
        assertEquals(Optional.of("2^20"), c.lifetime());
        assertArrayEquals(new byte[] {0, 0, 0, 1}, c.masterKey().mki());
        byte[] keySalt = java.util.Base64.getDecoder().decode(KEY);
        assertArrayEquals(Arrays.copyOf(keySalt, 16), c.masterKey().key());
        assertArrayEquals(Arrays.copyOfRange(keySalt, 16, 30), c.masterKey().salt());
        assertEquals("a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:" + KEY + "|2^20|1:4", c.sdpLine());
    }

    @ParameterizedTest
    @CsvSource(delimiter = ';', value = {
        "crypto:2 AES_CM_128_HMAC_SHA1_32 inline:" + KEY + "; 2; AES_CM_128_HMAC_SHA1_32; ; 0",
        "1 AES_CM_128_HMAC_SHA1_80 inline:" + KEY + "|1048576; 1; AES_CM_128_HMAC_SHA1_80; 1048576; 0",
        "1 AES_CM_128_HMAC_SHA1_80 inline:" + KEY + "|7:2; 1; AES_CM_128_HMAC_SHA1_80; ; 2",
        "  a=crypto:9  AES_CM_128_HMAC_SHA1_80\tinline:" + KEY + " WSH=64 ; 9; AES_CM_128_HMAC_SHA1_80; ; 0",
    })
    void parsesGoodLines(String line, int tag, SrtpProfile profile, String lifetime, int mkiLength) {
        SdesCrypto c = SdesCrypto.parse(line);
        assertEquals(tag, c.tag());
        assertEquals(profile, c.profile());
        assertEquals(Optional.ofNullable(lifetime), c.lifetime());
        assertEquals(mkiLength, c.masterKey().mki().length);
    }

    @ParameterizedTest
    @CsvSource(delimiterString = " => ", value = {
        "a=crypto:1 AES_CM_128_HMAC_SHA1_80 => needs '<tag> <suite> <key-params>'",
        "a=crypto: => needs '<tag> <suite> <key-params>'",
        "a=crypto:x AES_CM_128_HMAC_SHA1_80 inline:" + KEY + " => tag must be 1 to 9 digits",
        "a=crypto:1234567890 AES_CM_128_HMAC_SHA1_80 inline:" + KEY + " => tag must be 1 to 9 digits",
        "a=crypto:1 AES_256_CM_HMAC_SHA1_80 inline:" + KEY + " => unsupported crypto suite 'AES_256_CM_HMAC_SHA1_80'",
        "a=crypto:1 AEAD_AES_128_GCM inline:" + KEY + " => unsupported crypto suite",
        "a=crypto:1 AES_CM_128_HMAC_SHA1_80 key:" + KEY + " => key method must be 'inline:'",
        "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:@@@@ => not valid base64",
        "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:AAAA => must be 30 bytes, got 3",
        "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:" + KEY + "|2^x => lifetime must be",
        "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:" + KEY + "|1:0 => MKI length must be 1 to 128",
        "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:" + KEY + "|256:1 => does not fit in 1 bytes",
        "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:" + KEY + "|:4 => MKI must be",
        "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:" + KEY + "|1:4|2^20 => expected '<mki>:<length>' after the lifetime",
        "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:" + KEY + "|2^20|1:4|x => too many '|' fields",
        "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:" + KEY + "|2^20|1:4;inline:" + KEY + " => more than one key",
        "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:" + KEY + " UNENCRYPTED_SRTP => session parameter UNENCRYPTED_SRTP is not supported",
        "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:" + KEY + " KDR=1 => session parameter KDR is not supported",
    })
    void refusesBadLinesWithAClearMessage(String line, String message) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> SdesCrypto.parse(line));
        assertTrue(e.getMessage().contains(message), () -> "message '" + e.getMessage() + "' for " + line);
    }

    @Test
    void nullAndEmptyGiveMessagesNotNpe() {
        assertEquals("crypto attribute missing",
                assertThrows(IllegalArgumentException.class, () -> SdesCrypto.parse(null)).getMessage());
        assertThrows(IllegalArgumentException.class, () -> SdesCrypto.parse(""));
        assertThrows(IllegalArgumentException.class, () -> SdesCrypto.parse("   "));
    }

    @Test
    void randomInputOnlyEverThrowsIllegalArgument() {
        Random r = new Random(3);
        String alphabet = "a=crypto:1 AES_CM_128_HMAC_SHA1_80inle|^:;/+=WSH0123456789\t";
        String prefix = "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:" + KEY;
        for (int i = 0; i < 20_000; i++) {
            StringBuilder sb = new StringBuilder(i % 2 == 0 ? prefix : "");
            int n = r.nextInt(40);
            for (int j = 0; j < n; j++) {
                sb.append(alphabet.charAt(r.nextInt(alphabet.length())));
            }
            try {
                SdesCrypto.parse(sb.toString());
            } catch (IllegalArgumentException expected) {
                assertTrue(expected.getMessage() != null && !expected.getMessage().isEmpty());
            }
        }
    }

    @Test
    void generatedLinesRoundTripAndKeyAWorkingSession() {
        SecureRandom random = new SecureRandom();
        SdesCrypto offer = SdesCrypto.generate(1, SrtpProfile.AES_CM_128_HMAC_SHA1_80, random);
        SdesCrypto offerSeen = SdesCrypto.parse(offer.sdpLine());
        assertEquals(offer.masterKey(), offerSeen.masterKey());

        SdesCrypto answer = SdesCrypto.firstSupported(List.of(
                "a=crypto:1 AES_256_CM_HMAC_SHA1_80 inline:" + KEY, offerSeen.sdpLine())).orElseThrow().answer(random);
        assertEquals(1, answer.tag());
        SdesCrypto answerSeen = SdesCrypto.parse(answer.attributeValue());

        SrtpSession offerer = SrtpSession.fromSdes(offer, answerSeen);
        SrtpSession answerer = SrtpSession.fromSdes(answer, offerSeen);
        byte[] p = new byte[172 + 10];
        ByteBuffer.wrap(p).put((byte) 0x80).put((byte) 0).putShort((short) 1).putInt(160).putInt(99);
        Arrays.fill(p, 12, 172, (byte) 0x5a);
        byte[] plain = Arrays.copyOf(p, 172);
        int n = offerer.protectRtp(p, 0, 172);
        assertEquals(172, answerer.unprotectRtp(p, 0, n));
        assertArrayEquals(plain, Arrays.copyOf(p, 172));
    }

    @Test
    void firstSupportedIsEmptyWhenNothingFits() {
        assertEquals(Optional.empty(), SdesCrypto.firstSupported(List.of(
                "a=crypto:1 AES_256_CM_HMAC_SHA1_80 inline:" + KEY, "garbage")));
    }

    @Test
    void sessionRefusesMismatchedSuites() {
        SecureRandom random = new SecureRandom();
        SdesCrypto x = SdesCrypto.generate(1, SrtpProfile.AES_CM_128_HMAC_SHA1_80, random);
        SdesCrypto y = SdesCrypto.generate(1, SrtpProfile.AES_CM_128_HMAC_SHA1_32, random);
        assertThrows(IllegalArgumentException.class, () -> SrtpSession.fromSdes(x, y));
    }

    @Test
    void toStringShowsNoKey() {
        SdesCrypto c = SdesCrypto.parse("a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:" + KEY);
        assertTrue(!c.toString().contains(KEY.substring(0, 10)));
        assertTrue(!c.masterKey().toString().contains("WVNf"));
    }
}
