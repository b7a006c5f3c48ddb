package io.webrtcgateway.edge.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.webrtcgateway.config.Cidr;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ClientAddressTest {
    private final ClientAddress behindProxy = new ClientAddress(List.of(Cidr.parse("10.0.0.0/8")));
    private final ClientAddress direct = new ClientAddress(List.of());

    @Test
    void forwardedForIsIgnoredFromAnUntrustedPeer() {
        assertEquals("198.51.100.7", direct.resolve("198.51.100.7", "203.0.113.1"));
        assertEquals("198.51.100.7", behindProxy.resolve("198.51.100.7", "203.0.113.1"));
    }

    @Test
    void theFirstUntrustedHopFromTheRightIsTheClient() {
        assertEquals("203.0.113.1", behindProxy.resolve("10.0.0.5", "203.0.113.1"));
        // The client wrote its own X-Forwarded-For; the proxy appended the real address.
        assertEquals("203.0.113.1", behindProxy.resolve("10.0.0.5", "1.2.3.4, 203.0.113.1"));
        assertEquals("203.0.113.1", behindProxy.resolve("10.0.0.5", "1.2.3.4, 203.0.113.1, 10.0.0.9"));
        assertEquals("203.0.113.1", behindProxy.resolve("10.0.0.5", "203.0.113.1:51234"));
        assertEquals("2001:db8:0:0:0:0:0:1", behindProxy.resolve("10.0.0.5", "[2001:db8::1]:443"));
    }

    @Test
    void garbageBeyondTheProxyIsNotBelieved() {
        assertEquals("10.0.0.5", behindProxy.resolve("10.0.0.5", "evil.example"));
        assertEquals("203.0.113.1", behindProxy.resolve("10.0.0.5", "evil, 203.0.113.1"));
        assertEquals("10.0.0.5", behindProxy.resolve("10.0.0.5", ""));
    }

    @Test
    void namesInTheHeaderAreNeverLookedUp() {
        // Hex digits and dots, but a name: InetAddress would ask DNS for it (and the answer would be believed).
        assertNull(ClientAddress.literal("cafe.be"));
        assertNull(ClientAddress.literal("999.1.1.1"));
        assertNull(ClientAddress.literal("1.2.3"));
        assertNull(ClientAddress.literal("localhost"));
        assertEquals("10.0.0.5", behindProxy.resolve("10.0.0.5", "cafe.be"));
        assertEquals("203.0.113.1", behindProxy.resolve("10.0.0.5", "cafe.be, 203.0.113.1"));
        assertEquals("0:0:0:0:0:0:0:1", ClientAddress.literal("::1").getHostAddress());
    }

    @Test
    void jettysBracketedIpv6PeerIsALiteralToo() {
        ClientAddress v6Proxy = new ClientAddress(List.of(Cidr.parse("::1/128")));
        assertEquals("203.0.113.1", v6Proxy.resolve("[::1]", "203.0.113.1"));
        assertEquals("::1", direct.resolve("[::1]", "203.0.113.1"));
    }

    @Test
    void withPortNamesTheTcpPeersPortOnlyWhenThePeerIsTheClient() {
        assertEquals("198.51.100.7:40000", direct.withPort("198.51.100.7", 40000, "203.0.113.1"));
        assertEquals("[::1]:40000", direct.withPort("[::1]", 40000, null));
        assertEquals("203.0.113.1", behindProxy.withPort("10.0.0.5", 40000, "203.0.113.1"));
        assertEquals("10.0.0.5:40000", behindProxy.withPort("10.0.0.5", 40000, "garbage"));
    }

    @Test
    void repeatedHeaderLinesAreJoinedInOrder() {
        // HAProxy's "option forwardfor" adds a line after the client's own: the last line is the proxy's.
        Map<String, List<String>> headers = new LinkedHashMap<>();
        headers.put("Host", List.of("gw"));
        headers.put("x-forwarded-for", List.of("6.6.6.6", "203.0.113.1"));
        String joined = ClientAddress.forwardedFor(headers);
        assertEquals("6.6.6.6,203.0.113.1", joined);
        assertEquals("203.0.113.1", behindProxy.resolve("10.0.0.5", joined));
        assertNull(ClientAddress.forwardedFor(Map.of("Host", List.of("gw"))));
    }
}
