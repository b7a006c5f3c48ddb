package io.webrtcgateway.sip;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The +sip.instance of a DN must be the same on every gateway instance (and every run), and differ per DN. */
class InstanceUrnTest {
    @Test
    void stablePerAddressOfRecord() {
        String a = RegistrationClient.instanceUrn("1001@sip.example.com");
        assertEquals(a, RegistrationClient.instanceUrn("1001@sip.example.com"));
        assertNotEquals(a, RegistrationClient.instanceUrn("1002@sip.example.com"));
        assertTrue(a.matches("urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-3[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"), a);
        // Pinned: instances of different versions must agree too.
        assertEquals("urn:uuid:" + java.util.UUID.nameUUIDFromBytes(
                "webrtc-gateway:1001@sip.example.com".getBytes(java.nio.charset.StandardCharsets.UTF_8)), a);
    }
}
