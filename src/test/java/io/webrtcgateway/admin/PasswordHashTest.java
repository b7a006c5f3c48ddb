package io.webrtcgateway.admin;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import org.junit.jupiter.api.Test;

class PasswordHashTest {
    @Test
    void roundTripsThroughItsStringForm() {
        PasswordHash h = PasswordHash.create("s3cret".toCharArray(), 10_000);
        PasswordHash parsed = PasswordHash.parse(h.toString());
        assertTrue(parsed.matches("s3cret".toCharArray()));
        assertFalse(parsed.matches("s3cret ".toCharArray()));
        assertFalse(parsed.matches(new char[0]));
        assertTrue(h.toString().startsWith("pbkdf2-sha256:10000:"));
    }

    @Test
    void matchesAHashMadeByTheDocumentedPythonOneLiner() {
        // python3 -c "import hashlib,base64; print(base64.b64encode(hashlib.pbkdf2_hmac('sha256', b's3cret', b'0123456789abcdef', 10000)).decode())"
        String salt = Base64.getEncoder().encodeToString("0123456789abcdef".getBytes(StandardCharsets.US_ASCII));
        PasswordHash h = PasswordHash.parse("pbkdf2-sha256:10000:" + salt + ":"
                + "b4XXfGC7O1WoMand41NFNbqO+8Fl/JQFTwz/EK0qsqY=");
        assertTrue(h.matches("s3cret".toCharArray()));
    }

    @Test
    void malformedHashesAreRefusedWithoutEchoingThem() {
        for (String bad : new String[] {"secret", "pbkdf2-sha256:600000:abc", "md5:1:AAAAAAAAAAA=:AAAAAAAAAAAAAAAAAAAAAA==",
                "pbkdf2-sha256:x:AAAAAAAAAAA=:AAAAAAAAAAAAAAAAAAAAAA==", "pbkdf2-sha256:600000:%%%:AAAAAAAAAAAAAAAAAAAAAA=="}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> PasswordHash.parse(bad));
            assertFalse(e.getMessage().contains(bad), e.getMessage());
        }
    }
}
