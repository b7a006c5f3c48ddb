package io.webrtcgateway.config;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import org.junit.jupiter.api.Test;

class CidrTest {
    private static InetAddress ip(String s) throws Exception {
        return InetAddress.getByName(s);
    }

    @Test
    void containsAddressesInsideTheBlockOnly() throws Exception {
        Cidr c = Cidr.parse("10.1.0.0/16");
        assertTrue(c.contains(ip("10.1.255.7")));
        assertFalse(c.contains(ip("10.2.0.1")));
        assertTrue(Cidr.parse("127.0.0.1").contains(ip("127.0.0.1")));
        assertFalse(Cidr.parse("127.0.0.1").contains(ip("127.0.0.2")));
        assertTrue(Cidr.parse("0.0.0.0/0").contains(ip("203.0.113.9")));
        assertTrue(Cidr.parse("10.1.2.3/23").contains(ip("10.1.3.200")));
        assertFalse(Cidr.parse("10.1.2.3/23").contains(ip("10.1.4.1")));
    }

    @Test
    void ipv6AndMappedIpv4() throws Exception {
        assertTrue(Cidr.parse("::1/128").contains(ip("::1")));
        assertTrue(Cidr.parse("[2001:db8::]/32").contains(ip("2001:db8:1::5")));
        assertFalse(Cidr.parse("2001:db8::/32").contains(ip("10.0.0.1")));
        assertTrue(Cidr.parse("10.0.0.0/8").contains(ip("::ffff:10.9.9.9")));
    }

    @Test
    void refusesWhatIsNotABlock() {
        for (String bad : new String[] {"", "example.com", "10.0.0.0/33", "10.0.0.0/x", "::1/129", "10.0.0/8x", "1", "cafe.be", "cafe.be/16", "1.2.3", "10.0.0.0.1"}) {
            assertThrows(IllegalArgumentException.class, () -> Cidr.parse(bad), bad);
        }
    }
}
