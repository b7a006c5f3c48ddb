package io.webrtcgateway.media.dtls;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class DtlsSetupTest {

    @Test
    void parsesWithOrWithoutPrefix() {
        assertEquals(DtlsSetup.ACTPASS, DtlsSetup.parse("a=setup:actpass"));
        assertEquals(DtlsSetup.ACTIVE, DtlsSetup.parse("setup:active"));
        assertEquals(DtlsSetup.PASSIVE, DtlsSetup.parse(" PASSIVE "));
        assertEquals(DtlsSetup.HOLDCONN, DtlsSetup.parse("holdconn"));
        assertEquals("passive", DtlsSetup.PASSIVE.sdpValue());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> DtlsSetup.parse("a=setup:both"));
        assertEquals("a=setup must be actpass, active, passive or holdconn, got 'a=setup:both'", e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> DtlsSetup.parse(null));
    }

    @Test
    void asAnswererWeAreActiveUnlessTheOfferIsActive() {
        assertEquals(DtlsSetup.ACTIVE, DtlsSetup.answerTo(DtlsSetup.ACTPASS));
        assertEquals(DtlsSetup.ACTIVE, DtlsSetup.answerTo(DtlsSetup.PASSIVE));
        assertEquals(DtlsSetup.PASSIVE, DtlsSetup.answerTo(DtlsSetup.ACTIVE));
        assertThrows(IllegalArgumentException.class, () -> DtlsSetup.answerTo(DtlsSetup.HOLDCONN));
        assertEquals(DtlsRole.CLIENT, DtlsSetup.answerTo(DtlsSetup.ACTPASS).localRole());
    }

    @Test
    void asOffererTheAnswerDecides() {
        assertEquals(DtlsRole.SERVER, DtlsSetup.offererRole(DtlsSetup.ACTIVE));
        assertEquals(DtlsRole.CLIENT, DtlsSetup.offererRole(DtlsSetup.PASSIVE));
        assertThrows(IllegalArgumentException.class, () -> DtlsSetup.offererRole(DtlsSetup.ACTPASS));
        assertThrows(IllegalStateException.class, DtlsSetup.ACTPASS::localRole);
    }
}
