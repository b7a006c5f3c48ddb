package io.webrtcgateway.call;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.webrtcgateway.config.ConfigLoader;
import io.webrtcgateway.config.GatewayConfig;
import io.webrtcgateway.error.ErrorCode;
import io.webrtcgateway.error.GatewayException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Attached data both ways, and its bounds (gateway.limits.max-attached-data-keys, max-attached-data-bytes). */
class AttachedDataTest {
    private final GatewayConfig config = ConfigLoader.parse("""
            gateway.calls.attached-data.headers { case = "X-Case-Id" }
            gateway.limits { max-attached-data-keys = 4, max-attached-data-bytes = 64 }
            """);

    private Map<String, String> toHeaders(Map<String, String> data) {
        return AttachedData.toHeaders(data, config.calls(), config.limits().inputs());
    }

    private static Map<String, String> entries(int n, String value) {
        Map<String, String> m = new LinkedHashMap<>();
        for (int i = 0; i < n; i++) {
            m.put("k" + i, value);
        }
        return m;
    }

    @Test
    void theBrowsersDataBecomesHeaders() {
        assertEquals(Map.of("X-Case-Id", "42", "X-Genesys-lang", "de"), toHeaders(Map.of("case", "42", "lang", "de")));
        assertEquals(Map.of(), toHeaders(null));
    }

    @Test
    void moreEntriesOrBytesFromTheBrowserAreBadRequestNamingTheKeys() {
        toHeaders(entries(4, "v")); // at the bound
        GatewayException keys = assertThrows(GatewayException.class, () -> toHeaders(entries(5, "v")));
        assertEquals(ErrorCode.BAD_REQUEST, keys.code());
        assertTrue(keys.getMessage().contains("gateway.limits.max-attached-data-keys"), keys.getMessage());
        toHeaders(Map.of("k", "v".repeat(63))); // 64 bytes
        GatewayException bytes = assertThrows(GatewayException.class, () -> toHeaders(Map.of("k", "v".repeat(64))));
        assertTrue(bytes.getMessage().contains("65 bytes"), bytes.getMessage());
        assertThrows(GatewayException.class, () -> toHeaders(Map.of("k", "\u00e9".repeat(32)))); // 1 + 64 bytes
    }

    @Test
    void fromSipServerTheEntriesPastABoundAreLeftOutAndTheRestKept() {
        List<String> names = new ArrayList<>(List.of("Via", "X-Case-Id", "From"));
        Map<String, String> headers = new LinkedHashMap<>(Map.of("X-Case-Id", "42"));
        for (int i = 0; i < 10_000; i++) {
            names.add("X-Genesys-k" + i);
            headers.put("X-Genesys-k" + i, "v");
        }
        List<String> asked = new ArrayList<>();
        Map<String, String> data = AttachedData.fromHeaders(names, n -> {
            asked.add(n);
            return headers.get(n);
        }, config.calls(), config.limits().inputs());
        assertEquals(Map.of("case", "42", "k0", "v", "k1", "v", "k2", "v"), data);
        assertTrue(asked.size() < 10, "collecting stops at the bound, the rest is never read: " + asked.size());

        Map<String, String> big = AttachedData.fromHeaders(List.of("X-Genesys-a", "X-Genesys-b"),
                Map.of("X-Genesys-a", "x".repeat(60), "X-Genesys-b", "y".repeat(60))::get, config.calls(),
                config.limits().inputs());
        assertEquals(Map.of("a", "x".repeat(60)), big, "the second would pass 64 bytes");
    }
}
