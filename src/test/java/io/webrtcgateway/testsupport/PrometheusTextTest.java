package io.webrtcgateway.testsupport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Map;
import org.junit.jupiter.api.Test;

class PrometheusTextTest {
    private static final String GOOD = """
            # HELP gateway_sessions signed-in sessions
            # TYPE gateway_sessions gauge
            gateway_sessions{instance="gw1",kind="websocket"} 2.0
            gateway_sessions{instance="gw1",kind="legacy"} 0.0
            # TYPE gateway_sip_transactions_total counter
            gateway_sip_transactions_total{direction="out",method="REGISTER",status="200"} 5.0
            # TYPE http_seconds histogram
            http_seconds_bucket{le="+Inf"} 1
            http_seconds_count 1
            http_seconds_sum 0.5
            # TYPE odd gauge
            odd{v="a\\"b\\\\c\\nd"} NaN 1700000000000
            """;

    @Test
    void parsesValuesLabelsAndEscapes() {
        PrometheusText p = PrometheusText.parse(GOOD);
        assertEquals(2.0, p.value("gateway_sessions", "kind", "websocket"));
        assertEquals(5.0, p.value("gateway_sip_transactions_total", "method", "REGISTER", "status", "200"));
        assertEquals("a\"b\\c\nd", p.find("odd", Map.of()).get(0).label("v"));
        assertEquals("counter", p.types().get("gateway_sip_transactions_total"));
        assertEquals(0.0, p.valueOrZero("gateway_sessions", "kind", "rest"));
    }

    @Test
    void refusesMalformedExpositions() {
        assertThrows(AssertionError.class, () -> PrometheusText.parse("x 1\n"));                      // no TYPE
        assertThrows(AssertionError.class, () -> PrometheusText.parse("# TYPE x gauge\nx{a=\"1} 1\n"));
        assertThrows(AssertionError.class, () -> PrometheusText.parse("# TYPE x gauge\nx{a=\"\\q\"} 1\n"));
        assertThrows(AssertionError.class, () -> PrometheusText.parse("# TYPE x gauge\nx 1\nx 2\n"));  // duplicate
        assertThrows(AssertionError.class, () -> PrometheusText.parse("# TYPE x gauge\nx one\n"));
        assertThrows(AssertionError.class, () -> PrometheusText.parse("# TYPE x gauge\nx 1"));       // no final LF
        assertThrows(AssertionError.class, () -> PrometheusText.parse("# TYPE 1x gauge\n"));
        assertThrows(AssertionError.class, () -> PrometheusText.parse("# TYPE x gauge\nx{1a=\"v\"} 1\n"));
    }
}
