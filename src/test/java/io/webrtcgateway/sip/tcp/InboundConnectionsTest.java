package io.webrtcgateway.sip.tcp;

import static io.webrtcgateway.sip.tcp.InboundConnections.Admission.ADMITTED;
import static io.webrtcgateway.sip.tcp.InboundConnections.Admission.OVER_MAX_CONNECTIONS;
import static io.webrtcgateway.sip.tcp.InboundConnections.Admission.OVER_PER_SOURCE;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.net.InetAddress;
import org.junit.jupiter.api.Test;

class InboundConnectionsTest {
    private static InetAddress ip(String a) throws Exception {
        return InetAddress.getByName(a);
    }

    @Test
    void eachSourceHasItsCapAndStrangersShareTheTotal() throws Exception {
        InboundConnections t = new InboundConnections(5, 3);
        for (int i = 0; i < 3; i++) {
            assertEquals(ADMITTED, t.admit(ip("192.0.2.1"), false));
        }
        assertEquals(OVER_PER_SOURCE, t.admit(ip("192.0.2.1"), false));
        assertEquals(ADMITTED, t.admit(ip("192.0.2.2"), false));
        assertEquals(ADMITTED, t.admit(ip("192.0.2.2"), false));
        assertEquals(OVER_MAX_CONNECTIONS, t.admit(ip("192.0.2.3"), false), "5 strangers' connections: full");

        // SIP Server is held to its own per-source cap only: strangers filling the table never keep it out.
        for (int i = 0; i < 3; i++) {
            assertEquals(ADMITTED, t.admit(ip("10.0.0.1"), true));
        }
        assertEquals(OVER_PER_SOURCE, t.admit(ip("10.0.0.1"), true));
        assertEquals(8, t.count());

        t.release(ip("192.0.2.1"), false);
        assertEquals(ADMITTED, t.admit(ip("192.0.2.3"), false), "a released place is free again");
        t.release(ip("10.0.0.1"), true);
        assertEquals(OVER_MAX_CONNECTIONS, t.admit(ip("192.0.2.4"), false), "a SIP Server's place is not a stranger's");
        assertEquals(ADMITTED, t.admit(ip("10.0.0.1"), true));
    }

    @Test
    void releasingEverythingLeavesNothingBehind() throws Exception {
        InboundConnections t = new InboundConnections(100, 100);
        for (int i = 0; i < 50; i++) {
            t.admit(ip("192.0.2." + (i % 7)), i % 2 == 0);
        }
        for (int i = 0; i < 50; i++) {
            t.release(ip("192.0.2." + (i % 7)), i % 2 == 0);
        }
        assertEquals(0, t.count());
        assertEquals(0, t.sources(), "no entry per source stays");
        t.release(ip("192.0.2.9"), false); // never admitted: ignored
        assertEquals(0, t.count());
    }
}
