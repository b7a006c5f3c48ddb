package io.webrtcgateway.edge.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.NullAndEmptySource;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

class AllowedHostsTest {
    /** As ConfigLoader hands them over: lower case, no trailing dot. */
    private final AllowedHosts hosts = new AllowedHosts(List.of("gw.example.com", "*.agents.example.net"));
    private final AllowedHosts none = new AllowedHosts(List.of());

    @ParameterizedTest
    @ValueSource(strings = {
        "127.0.0.1", "127.0.0.1:8086", "10.1.2.3:80", "0.0.0.0", "255.255.255.255:65535",
        "[::1]", "[::1]:8086", "[2001:db8::7]:443", "[::ffff:192.0.2.1]:80",
        "localhost", "localhost:8086", "LOCALHOST:80", "LocalHost.", "localhost.:8086",
    })
    void ipLiteralsAndLocalhostAreAlwaysServed(String host) {
        assertTrue(none.allows(host), host);
        assertTrue(hosts.allows(host), host);
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "gw.example.com", "gw.example.com:443", "GW.Example.COM:8086", "gw.example.com.", "gw.example.com.:443",
        "a.agents.example.net", "x.y.agents.example.net:8443", " gw.example.com ",
    })
    void listedNamesAndSubdomainsOfAWildcardAreServed(String host) {
        assertTrue(hosts.allows(host), host);
        assertFalse(none.allows(host), host + " is not served when nothing is listed");
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "evil.example", "evil.example:8086", "gw.example.com.evil.example", "example.com", "xgw.example.com",
        "agents.example.net", "evilagents.example.net", "gw.example.com..", "evil.localhost", "localhost.evil.example",
        // not an IP literal: a DNS name an attacker could own ("127.0.0.1.nip.io"-style), or malformed
        "127.0.0.1.evil.example", "127.1", "127.0.0.256", "0x7f.0.0.1", "1.2.3.4.5",
        // malformed: unbracketed IPv6, a bad port, brackets without an IPv6 address, stray characters
        "::1", "::1:8086", "gw.example.com:http", "gw.example.com:123456", "[127.0.0.1]", "[gw.example.com]",
        "[::1", "[::1]x", "gw.example.com/x", "gw example.com", "gw.example.com@evil.example", "%67w.example.com",
    })
    void otherNamesAndMalformedHostsAreRefused(String host) {
        assertFalse(hosts.allows(host), host);
    }

    @ParameterizedTest
    @NullAndEmptySource
    @ValueSource(strings = {" ", ":8086"})
    void noHostIsRefused(String host) {
        assertFalse(hosts.allows(host), "[" + host + "]");
        assertFalse(none.allows(host), "[" + host + "]");
    }

    @Test
    void parseSplitsOffThePortAndNormalisesNames() {
        assertEquals(new AllowedHosts.Host("gw.example.com", false), AllowedHosts.parse("GW.example.com.:8443"));
        assertEquals(new AllowedHosts.Host("2001:db8::7", true), AllowedHosts.parse("[2001:db8::7]:443"));
        assertEquals(new AllowedHosts.Host("192.0.2.1", true), AllowedHosts.parse("192.0.2.1:"));
        assertNull(AllowedHosts.parse("a:b:c"));
    }
}
