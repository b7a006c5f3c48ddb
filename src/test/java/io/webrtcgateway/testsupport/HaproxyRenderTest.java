package io.webrtcgateway.testsupport;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The shipped HAProxy config keeps the markers the cluster script and the ITs render it by. */
class HaproxyRenderTest {
    @Test
    void rendersBindSocketAndServers() throws Exception {
        Map<String, Integer> servers = new LinkedHashMap<>();
        servers.put("a", 9001);
        servers.put("b", 9002);
        String out = Haproxy.render(Files.readString(Haproxy.SHIPPED_CONFIG), 8123, Path.of("/tmp/x.sock"), servers);
        assertTrue(out.contains("\n    bind 127.0.0.1:8123\n"), out);
        assertTrue(out.contains("stats socket /tmp/x.sock "), out);
        assertTrue(out.contains("    server a 127.0.0.1:9001 cookie a\n    server b 127.0.0.1:9002 cookie b\n    # END servers"), out);
        assertFalse(out.contains("10.0.0.11"), out);
        assertTrue(out.contains("cookie GWINSTANCE\n"), out);
    }
}
