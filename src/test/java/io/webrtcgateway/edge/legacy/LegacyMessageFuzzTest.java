package io.webrtcgateway.edge.legacy;

import com.code_intelligence.jazzer.junit.FuzzTest;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.webrtcgateway.error.ErrorCode;
import io.webrtcgateway.error.GatewayException;
import io.webrtcgateway.testsupport.FuzzBudget;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Tag;

/**
 * The body of a legacy {@code POST /message} (docs/legacy-protocol.md) through {@link LegacyMessage#parse}: a
 * message, or GatewayException BAD_REQUEST (which the servlet answers with 400), nothing else.
 */
@Tag("fuzz")
class LegacyMessageFuzzTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @FuzzTest(maxDuration = FuzzBudget.MAX_DURATION, maxExecutions = FuzzBudget.EXECUTIONS)
    void parsesOrRefuses(byte[] body) {
        try {
            LegacyMessage m = LegacyMessage.parse(new String(body, StandardCharsets.UTF_8), JSON);
            if (m instanceof LegacyMessage.Rsmp r) {
                r.json().path("sdp").asText();
                r.json().path("Candidates").forEach(c -> c.path("candidate").asText());
            }
        } catch (GatewayException refused) {
            Assertions.assertEquals(ErrorCode.BAD_REQUEST, refused.code());
        }
    }
}
