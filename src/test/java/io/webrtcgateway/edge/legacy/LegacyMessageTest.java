package io.webrtcgateway.edge.legacy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.webrtcgateway.error.ErrorCode;
import io.webrtcgateway.error.GatewayException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class LegacyMessageTest {
    private final ObjectMapper json = new ObjectMapper();

    @Test
    void parsesAnOffer() {
        LegacyMessage m = LegacyMessage.parse("RSMP {\"messageType\":\"OFFER\",\"sdp\":\"v=0\\r\\n\",\"seq\":1,"
                + "\"Candidates\":[{\"candidate\":\"a=candidate:1 1 udp 1 1.2.3.4 5 typ host\",\"sdpMLineIndex\":0,\"sdpMid\":\"audio\"}]}", json);
        LegacyMessage.Rsmp r = assertInstanceOf(LegacyMessage.Rsmp.class, m);
        assertEquals("OFFER", r.messageType());
        assertEquals(1, r.json().get("Candidates").size());
    }

    @Test
    void parsesTheOtherMessages() {
        assertInstanceOf(LegacyMessage.Bye.class, LegacyMessage.parse("BYE", json));
        assertInstanceOf(LegacyMessage.GetStats.class, LegacyMessage.parse("GET-STATS\n", json));
        LegacyMessage.InfoMap map = assertInstanceOf(LegacyMessage.InfoMap.class,
                LegacyMessage.parse("INFO-MAP case=42&name=J%C3%BCrgen+K", json));
        assertEquals("Jürgen K", map.values().get("name"));
        assertEquals("42", map.values().get("case"));
        LegacyMessage.InfoPeer peer = assertInstanceOf(LegacyMessage.InfoPeer.class,
                LegacyMessage.parse("INFO-PEER a=1&b=2", json));
        assertEquals("a=1&b=2", peer.body());
        assertInstanceOf(LegacyMessage.Rsmp.class, LegacyMessage.parse("RSMP {\"messageType\":\"OK\",\"answererSessionId\":\"x\"}", json));
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "   ", "HELLO", "RSMP", "RSMP {", "RSMP []", "RSMP {\"sdp\":\"v=0\"}",
        "RSMP {\"messageType\":\"PRANSWER\",\"sdp\":\"v=0\"}", "RSMP {\"messageType\":\"OFFER\"}",
        "RSMP {\"messageType\":\"ANSWER\",\"sdp\":5}", "RSMP {\"messageType\":\"OFFER\",\"sdp\":\"v\",\"Candidates\":{}}",
        "INFO-MAP a=%zz"})
    void rejectsMalformed(String body) {
        GatewayException e = assertThrows(GatewayException.class, () -> LegacyMessage.parse(body, json));
        assertEquals(ErrorCode.BAD_REQUEST, e.code());
    }
}
