package io.webrtcgateway.session;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Base64;
import org.junit.jupiter.api.Test;

/** Logs name a session by a short hash of its id (a bearer secret) and its instance, never by the id. */
class SessionLogIdTest {
    @Test
    void eightCharactersOfTheIdsSha256AndTheInstance() throws Exception {
        String id = "q3ZyJ8Yk2mN0aQ4v1sT7uW9xB5cD.gw1";
        String expected = Base64.getUrlEncoder().withoutPadding().encodeToString(
                MessageDigest.getInstance("SHA-256").digest(id.getBytes(StandardCharsets.UTF_8))).substring(0, 8) + ".gw1";
        assertEquals(expected, SessionService.logId(id));
        assertTrue(SessionService.logId(id).matches("[A-Za-z0-9_-]{8}\\.gw1"));
        assertFalse(SessionService.logId(id).contains("q3ZyJ8Yk"), "nothing of the id itself");
        assertNotEquals(SessionService.logId(id), SessionService.logId("q3ZyJ8Yk2mN0aQ4v1sT7uW9xB5cE.gw1"));
        assertEquals(8, SessionService.logId("no-suffix").length());
        assertEquals("-", SessionService.logId(null));
        assertEquals(SessionService.logId(id), new Session(id, Session.Kind.WEBSOCKET, "192.0.2.1", "ua", "192.0.2.1", null).logId());
    }
}
