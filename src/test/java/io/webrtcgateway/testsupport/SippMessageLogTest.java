package io.webrtcgateway.testsupport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class SippMessageLogTest {

    private static final String SEPARATOR = "-".repeat(47);

    private static String entry(String time, String header, String message) {
        return SEPARATOR + " " + time + "\n" + header + "\n\n" + message + "\n";
    }

    @Test
    void splitsEntriesByTheirByteCounts() {
        String register = "REGISTER sip:127.0.0.1:5060 SIP/2.0\r\nCSeq: 1 REGISTER\r\nContent-Length: 0\r\n\r\n";
        // a body that itself looks like a separator must not split the message
        String ok = "SIP/2.0 200 OK\r\nCSeq: 1 REGISTER\r\nContent-Length: 49\r\n\r\n" + SEPARATOR + " x\n";
        String log = entry("2026-11-24 19:42:55.442807", "UDP message received [" + register.length() + "] bytes :", register)
                + entry("2026-11-24 19:42:55.442970", "UDP message sent (" + ok.length() + " bytes):", ok);

        List<SippMessageLog.Entry> entries = SippMessageLog.parse(log);

        assertEquals(2, entries.size());
        assertTrue(entries.get(0).received());
        assertEquals("UDP", entries.get(0).transport());
        assertEquals(register, entries.get(0).message().text());
        assertFalse(entries.get(1).received());
        assertEquals(200, entries.get(1).message().status());
        assertEquals(ok, entries.get(1).message().text());
        // SIPp's local time to the microsecond
        assertEquals(163, java.time.Duration.between(entries.get(0).instant(), entries.get(1).instant()).toNanos() / 1000);
        assertEquals(java.time.LocalDateTime.of(2026, 11, 24, 19, 42, 55, 442_807_000)
                .atZone(java.time.ZoneId.systemDefault()).toInstant(), entries.get(0).instant());
    }

    @Test
    void leavesAnEntryThatIsStillBeingWritten() {
        String register = "REGISTER sip:h SIP/2.0\r\nCSeq: 1 REGISTER\r\n\r\n";
        String log = entry("t1 t2", "TCP message received [" + register.length() + "] bytes :", register)
                + SEPARATOR + " t1 t2\nTCP message received [500] bytes :\n\nREGISTER sip:h SIP/2.0\r\n";

        List<SippMessageLog.Entry> entries = SippMessageLog.parse(log);

        assertEquals(1, entries.size());
        assertEquals("TCP", entries.get(0).transport());
    }
}
