package io.webrtcgateway.session;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.webrtcgateway.error.ErrorCode;
import io.webrtcgateway.error.GatewayException;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class DnTest {
    @ParameterizedTest
    @ValueSource(strings = {"1001", "+4930123456", "agent.smith", "a_b-c", "x"})
    void accepts(String dn) {
        assertEquals(dn, Dn.validate(dn));
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "10 01", "1001@host", "1001;x", "<1001>", "1001\r\nVia: x", "12#", "é",
        "12345678901234567890123456789012345678901234567890123456789012345"})
    void rejects(String dn) {
        GatewayException e = assertThrows(GatewayException.class, () -> Dn.validate(dn));
        assertEquals(ErrorCode.INVALID_DN, e.code());
    }
}
