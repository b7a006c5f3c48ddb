package io.webrtcgateway.media.ice;

import io.webrtcgateway.config.GatewayConfig;
import io.webrtcgateway.config.HostPort;
import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class IceConfigTest {

    @Test
    void fromGatewayMediaSettings() {
        IceConfig config = IceConfig.from(media(" 203.0.113.7 ", List.of(new HostPort("127.0.0.1", 3478)), List.of()));
        assertEquals(List.of(), config.localAddresses(), "every usable interface");
        assertEquals(20000, config.portMin());
        assertEquals(29999, config.portMax());
        assertEquals("203.0.113.7", config.publicAddress().getHostAddress());
        assertEquals(List.of(new InetSocketAddress(IceTestSupport.LOOPBACK, 3478)), config.stunServers());
        assertEquals(Duration.ofSeconds(5), config.consentInterval());
        assertEquals(Duration.ofSeconds(30), config.consentTimeout());
        assertNull(IceConfig.from(media("", List.of(), List.of())).publicAddress());
        assertEquals(List.of(IceTestSupport.LOOPBACK), IceConfig.from(media("", List.of(), List.of("127.0.0.1"))).localAddresses());
    }

    /** Ports 20000-29999; what ICE does not read at its reference.conf values. */
    private static GatewayConfig.Media media(String publicAddress, List<HostPort> stun, List<String> iceAddresses) {
        return new GatewayConfig.Media(20000, 29999, publicAddress, stun, iceAddresses, GatewayConfig.SipSource.LEARNING,
                50, Duration.ofSeconds(2), 1, 5, Duration.ofSeconds(1), List.of(), false);
    }

    @Test
    void refusesNonsense() {
        List<java.net.InetAddress> lo = List.of(IceTestSupport.LOOPBACK);
        assertThrows(IllegalArgumentException.class, () -> IceConfig.onAddresses(lo, 30000, 20000));
        assertThrows(IllegalArgumentException.class, () -> IceConfig.onAddresses(lo, 0, 10));
        IceConfig ok = IceConfig.onAddresses(lo, 20000, 20010);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ok.withConsent(Duration.ofSeconds(5), Duration.ofSeconds(5)));
        assertTrue(e.getMessage().contains("too short"), e.getMessage());
        assertThrows(IllegalArgumentException.class,
                () -> ok.withStunServers(List.of(InetSocketAddress.createUnresolved("stun.example.com", 3478))));
    }
}
