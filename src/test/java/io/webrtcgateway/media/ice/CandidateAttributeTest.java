package io.webrtcgateway.media.ice;

import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CandidateAttributeTest {

    @Test
    void parsesWhatChromeTrickles() {
        CandidateAttribute c = CandidateAttribute.parse("candidate:842163049 1 udp 1677729535 203.0.113.5 46154 "
                + "typ srflx raddr 0.0.0.0 rport 0 generation 0 ufrag sXyZ network-cost 999");
        assertEquals("842163049", c.foundation());
        assertEquals(1, c.component());
        assertEquals("udp", c.transport());
        assertEquals(1677729535L, c.priority());
        assertEquals("203.0.113.5", c.address());
        assertEquals(46154, c.port());
        assertEquals("srflx", c.type());
        assertEquals("0.0.0.0", c.relAddress());
        assertEquals(0, c.relPort());
        assertEquals("sXyZ", c.ufrag());
        assertEquals("999", c.extensions().get("network-cost"));
        assertEquals("203.0.113.5", c.ipAddress().getHostAddress());
    }

    @Test
    void acceptsSdpLinePrefixesAndFirefoxStyle() {
        String firefox = "a=candidate:0 1 UDP 2122252543 192.0.2.10 52347 typ host\r\n";
        CandidateAttribute c = CandidateAttribute.parse(firefox);
        assertEquals("udp", c.transport());
        assertEquals("candidate:0 1 udp 2122252543 192.0.2.10 52347 typ host", c.format());
        assertEquals(c, CandidateAttribute.parse("0 1 UDP 2122252543 192.0.2.10 52347 typ host"));
        assertEquals(c, CandidateAttribute.parse(c.format()));
    }

    @Test
    void relayAndIpv6() {
        CandidateAttribute relay = CandidateAttribute.parse(
                "candidate:3 1 udp 41885439 198.51.100.20 61234 typ relay raddr 203.0.113.5 rport 46154");
        assertEquals("relay", relay.type());
        CandidateAttribute v6 = CandidateAttribute.parse("candidate:4 1 udp 2122262783 2001:db8::1 50000 typ host");
        assertEquals("2001:db8:0:0:0:0:0:1", v6.ipAddress().getHostAddress());
    }

    @Test
    void namesAreKeptAsTextAndNeverResolved() {
        CandidateAttribute mdns = CandidateAttribute.parse(
                "candidate:1 1 udp 2122260223 1f4712db-ea17-4bcf-a596-105139dfd8bf.local 54321 typ host");
        assertNull(mdns.ipAddress());
        assertNull(CandidateAttribute.literal("localhost"));
        assertNull(CandidateAttribute.literal("1.2.3"));
        assertNull(CandidateAttribute.literal("1.2.3.256"));
        assertNull(CandidateAttribute.literal("example.com"));
    }

    @Test
    void endOfCandidatesForms() {
        assertTrue(CandidateAttribute.isEndOfCandidates(""));
        assertTrue(CandidateAttribute.isEndOfCandidates("a=end-of-candidates"));
        assertTrue(CandidateAttribute.isEndOfCandidates("end-of-candidates\r\n"));
        assertFalse(CandidateAttribute.isEndOfCandidates("candidate:1 1 udp 1 192.0.2.1 1 typ host"));
        assertFalse(CandidateAttribute.isEndOfCandidates(null));
    }

    @Test
    void errorsNameTheBadPart() {
        assertEquals("bad ICE candidate: null",
                assertThrows(IllegalArgumentException.class, () -> CandidateAttribute.parse(null)).getMessage());
        String msg = assertThrows(IllegalArgumentException.class,
                () -> CandidateAttribute.parse("candidate:1 1 udp 99999999999 192.0.2.1 1 typ host")).getMessage();
        assertEquals("bad ICE candidate \"candidate:1 1 udp 99999999999 192.0.2.1 1 typ host\": priority"
                + " \"99999999999\" is not a number", msg);
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> CandidateAttribute.parse("candidate:1 1 udp 1 192.0.2.1 1 typ host raddr")).getMessage()
                .contains("has no value"));
    }

    @Test
    void formatWritesExtensionsInOrder() {
        CandidateAttribute c = new CandidateAttribute("a1", 1, "udp", 5, "192.0.2.1", 9, "host", null, -1,
                Map.of("generation", "0"));
        assertEquals("candidate:a1 1 udp 5 192.0.2.1 9 typ host generation 0", c.format());
    }
}
