package io.webrtcgateway.call;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** What a call's record holds, how its result and quality are worked out, and its one log line. */
class CallRecordTest {
    private static final Instant T0 = Instant.parse("2026-12-10T10:00:00.250Z");

    private static CallMedia.Flow flow(long packets, long lost, double jitterMs, double rttMs) {
        return new CallMedia.Flow(packets, packets * 172, lost, jitterMs, rttMs);
    }

    /** logfmt: key=value or key="quoted value". */
    static Map<String, String> fields(String line) {
        Map<String, String> out = new LinkedHashMap<>();
        Matcher m = Pattern.compile("(\\S+?)=(\"[^\"]*\"|\\S+)").matcher(line);
        while (m.find()) {
            String v = m.group(2);
            out.put(m.group(1), v.startsWith("\"") ? v.substring(1, v.length() - 1) : v);
        }
        return out;
    }

    @Test
    void anAnsweredCallKeepsBothDirectionsOfItsAudioStream() {
        // Video first in the list: the record is about the audio stream wherever it is.
        List<CallMedia.StreamCounters> counters = List.of(
                new CallMedia.StreamCounters("video", flow(9000, 50, 30, 40), flow(8000, 0, 30, 12)),
                new CallMedia.StreamCounters("audio", flow(2970, 30, 2.5, 40), flow(3000, 0, 0.8, 12)));
        CallRecord r = CallRecord.of("Xk2.gw1", "gw1", "Ab3d_9Qa.gw1", "a84b@10.0.0.2", "1001", "5000",
                Call.Direction.OUTGOING, T0, T0.plusSeconds(3), T0.plusSeconds(75), "remote-hangup", null, null, "PCMU",
                counters);
        assertEquals(CallRecord.OK, r.result());
        assertEquals(72.0, r.durationSeconds());
        assertEquals("PCMU", r.codec());
        // browser -> SIP travels on the SIP leg and carries its RTT; SIP -> browser the browser leg's.
        assertEquals(40.0, r.sipLegRttMs());
        assertEquals(12.0, r.browserLegRttMs());
        CallRecord.Flow in = r.browserToSip();
        assertEquals(2970, in.packets());
        assertEquals(2970 * 172, in.bytes());
        assertEquals(30, in.lost());
        assertEquals(1.0, in.lossPercent(), 1e-9, "30 lost of 3000 expected");
        assertEquals(2.5, in.jitterMs());
        assertEquals(EModel.estimate("PCMU", 1.0, 2.5, 12, 40), in.mos(), 1e-9);
        CallRecord.Flow out = r.sipToBrowser();
        assertEquals(0.0, out.lossPercent());
        assertEquals(EModel.estimate("PCMU", 0, 0.8, 12, 40), out.mos(), 1e-9);
        assertTrue(out.mos() > in.mos());
        assertEquals(in.mos(), r.mos(), "the call's MOS is its worse direction's");
    }

    @Test
    void aRejectedCallHasNoMediaAndFails() {
        CallRecord r = CallRecord.of("b.gw1", "gw1", "Ab3d_9Qa.gw1", "c@h", "1001", "busy", Call.Direction.OUTGOING, T0,
                null, T0.plusMillis(340), "rejected", 486, "Busy Here", null, List.of());
        assertEquals(CallRecord.FAILED, r.result());
        assertEquals(0.0, r.durationSeconds());
        assertEquals(0, r.browserToSip().packets());
        assertNull(r.browserToSip().mos());
        assertNull(r.mos());
        assertNull(r.browserLegRttMs());
        assertNull(r.sipLegRttMs());
        assertEquals("4xx", CallRecord.sipClass(r.sipStatus(), false));
    }

    @Test
    void resultsAndStatusClasses() {
        assertEquals(CallRecord.OK, CallRecord.result("local-hangup", true));
        assertEquals(CallRecord.OK, CallRecord.result("instance-stopping", true));
        assertEquals(CallRecord.ABANDONED, CallRecord.result("local-hangup", false));
        assertEquals(CallRecord.ABANDONED, CallRecord.result("cancelled", false));
        assertEquals(CallRecord.FAILED, CallRecord.result("no-answer", false));
        assertEquals(CallRecord.FAILED, CallRecord.result("media-timeout", true));
        assertEquals(CallRecord.FAILED, CallRecord.result("SIP_UNAVAILABLE", false));
        assertEquals(CallRecord.FAILED, CallRecord.result(null, false));
        assertEquals("2xx", CallRecord.sipClass(null, true));
        assertEquals("none", CallRecord.sipClass(null, false));
        assertEquals("4xx", CallRecord.sipClass(487, false));
        assertEquals("5xx", CallRecord.sipClass(503, false));
        assertEquals("6xx", CallRecord.sipClass(603, false));
        assertEquals("none", CallRecord.sipClass(42, false));
    }

    @Test
    void theLogLineHasEveryFieldOnOneLine() {
        List<CallMedia.StreamCounters> counters = List.of(new CallMedia.StreamCounters("audio",
                flow(500, 0, 1.234, Double.NaN), flow(450, 50, 0.5, 9.87)));
        CallRecord r = CallRecord.of("Xk2.gw1", "gw1", "Ab3d_9Qa.gw1", "a84b@10.0.0.2", "1001", "Bob \"the\nboss\"",
                Call.Direction.INCOMING, T0, T0.plusSeconds(1), T0.plusMillis(11_500), "rejected", 603, "Decline",
                "opus", counters);
        String line = r.logLine();
        assertTrue(!line.contains("\n"), line);
        Map<String, String> f = fields(line);
        assertEquals(List.of("call", "instance", "session", "sipCallId", "dn", "remote", "direction", "result", "reason",
                "sipStatus", "sipReason", "codec", "start", "connect", "end", "duration", "mos", "browserRttMs", "sipRttMs",
                "browserToSip.packets", "browserToSip.bytes", "browserToSip.lost", "browserToSip.lossPct",
                "browserToSip.jitterMs", "browserToSip.mos", "sipToBrowser.packets", "sipToBrowser.bytes",
                "sipToBrowser.lost", "sipToBrowser.lossPct", "sipToBrowser.jitterMs", "sipToBrowser.mos"),
                List.copyOf(f.keySet()), line);
        assertEquals("Xk2.gw1", f.get("call"));
        assertEquals("Ab3d_9Qa.gw1", f.get("session"));
        assertEquals("a84b@10.0.0.2", f.get("sipCallId"));
        assertEquals("Bob 'the boss'", f.get("remote"), "quoted, one line");
        assertEquals("incoming", f.get("direction"));
        assertEquals("failed", f.get("result"));
        assertEquals("603", f.get("sipStatus"));
        assertEquals("2026-12-10T10:00:00.250Z", f.get("start"));
        assertEquals("2026-12-10T10:00:01.250Z", f.get("connect"));
        assertEquals("2026-12-10T10:00:11.750Z", f.get("end"));
        assertEquals("10.500", f.get("duration"));
        assertEquals("9.9", f.get("browserRttMs"));
        assertEquals("-", f.get("sipRttMs"), "never known");
        assertEquals("500", f.get("browserToSip.packets"));
        assertEquals("1.23", f.get("browserToSip.jitterMs"));
        assertEquals("50", f.get("sipToBrowser.lost"));
        assertEquals("10.00", f.get("sipToBrowser.lossPct"));
        assertEquals(CallRecord.number(r.sipToBrowser().mos(), 2), f.get("sipToBrowser.mos"));
        assertEquals(CallRecord.number(r.mos(), 2), f.get("mos"));

        CallRecord never = CallRecord.of("c.gw1", "gw1", "Ab3d_9Qa.gw1", null, null, "5000", Call.Direction.OUTGOING, T0,
                null, T0, "SIP_UNAVAILABLE", null, null, null, List.of());
        Map<String, String> g = fields(never.logLine());
        assertEquals("-", g.get("sipCallId"));
        assertEquals("-", g.get("dn"));
        assertEquals("-", g.get("connect"));
        assertEquals("0.000", g.get("duration"));
        assertEquals("-", g.get("mos"));
        assertEquals("-", g.get("browserToSip.mos"));
    }
}
