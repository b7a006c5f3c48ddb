package io.webrtcgateway.admin;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class ClusterSignatureTest {
    private static final String SECRET = "a-shared-secret-of-some-length";
    private static final long NOW = 1_800_000_000L;
    private static final String PATH = "/admin/api/sessions?scope=local&offset=0&limit=50";

    private static boolean verify(ClusterSignature receiver, String method, String path, ClusterSignature.Signed s,
                                  long now) {
        return receiver.verify(method, path, s.peer(), s.user(), String.valueOf(s.time()), s.nonce(), s.signature(), now);
    }

    @Test
    void aSignedRequestVerifiesOnceOnly() {
        ClusterSignature.Signed s = new ClusterSignature(SECRET).sign("GET", PATH, "gw1", "ops", NOW);
        ClusterSignature receiver = new ClusterSignature(SECRET);
        assertTrue(verify(receiver, "GET", PATH, s, NOW + 1));
        assertFalse(verify(receiver, "GET", PATH, s, NOW + 2), "a replayed request is refused");
    }

    @Test
    void everySignedPartMatters() {
        ClusterSignature sender = new ClusterSignature(SECRET);
        ClusterSignature.Signed s = sender.sign("POST", "/admin/api/drain", "gw1", "ops", NOW);
        ClusterSignature receiver = new ClusterSignature(SECRET);
        assertFalse(verify(receiver, "DELETE", "/admin/api/drain", s, NOW), "method");
        assertFalse(verify(receiver, "POST", "/admin/api/calls/x.gw2/hangup", s, NOW), "path");
        assertFalse(receiver.verify("POST", "/admin/api/drain", "gw3", s.user(), String.valueOf(s.time()), s.nonce(),
                s.signature(), NOW), "sending instance");
        assertFalse(receiver.verify("POST", "/admin/api/drain", s.peer(), "root", String.valueOf(s.time()), s.nonce(),
                s.signature(), NOW), "operator");
        assertFalse(receiver.verify("POST", "/admin/api/drain", s.peer(), s.user(), String.valueOf(s.time() + 1),
                s.nonce(), s.signature(), NOW), "time");
        assertTrue(verify(receiver, "POST", "/admin/api/drain", s, NOW), "and the untouched request still passes");
    }

    @Test
    void anotherSecretFails() {
        ClusterSignature.Signed s = new ClusterSignature("another-secret-of-16+").sign("GET", PATH, "gw1", "ops", NOW);
        assertFalse(verify(new ClusterSignature(SECRET), "GET", PATH, s, NOW));
    }

    @Test
    void staleOrFutureSignaturesFail() {
        ClusterSignature receiver = new ClusterSignature(SECRET);
        ClusterSignature sender = new ClusterSignature(SECRET);
        assertFalse(verify(receiver, "GET", PATH, sender.sign("GET", PATH, "gw1", "ops", NOW - 61), NOW));
        assertFalse(verify(receiver, "GET", PATH, sender.sign("GET", PATH, "gw1", "ops", NOW + 61), NOW));
        assertTrue(verify(receiver, "GET", PATH, sender.sign("GET", PATH, "gw1", "ops", NOW - 59), NOW));
    }

    @Test
    void missingOrMalformedHeadersFail() {
        ClusterSignature receiver = new ClusterSignature(SECRET);
        ClusterSignature.Signed s = new ClusterSignature(SECRET).sign("GET", PATH, "gw1", "ops", NOW);
        assertFalse(receiver.verify("GET", PATH, null, "ops", String.valueOf(NOW), s.nonce(), s.signature(), NOW));
        assertFalse(receiver.verify("GET", PATH, "gw1", "ops", "yesterday", s.nonce(), s.signature(), NOW));
        assertFalse(receiver.verify("GET", PATH, "gw1", "ops", String.valueOf(NOW), "not-hex!", s.signature(), NOW));
        assertFalse(receiver.verify("GET", PATH, "gw1", "ops", String.valueOf(NOW), s.nonce(), null, NOW));
        assertFalse(receiver.verify("GET", PATH, "gw1", "ops", String.valueOf(NOW), s.nonce(), "", NOW));
    }

    @Test
    void noncesDiffer() {
        ClusterSignature sender = new ClusterSignature(SECRET);
        assertNotEquals(sender.sign("GET", PATH, "gw1", "ops", NOW).nonce(), sender.sign("GET", PATH, "gw1", "ops", NOW).nonce());
    }
}
