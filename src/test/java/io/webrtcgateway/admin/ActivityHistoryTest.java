package io.webrtcgateway.admin;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.webrtcgateway.call.Call;
import io.webrtcgateway.call.CallRecord;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

class ActivityHistoryTest {

    @Test
    void countsPerMinuteForThirtyMinutes() {
        ActivityHistory h = new ActivityHistory();
        Instant t0 = Instant.parse("2026-11-24T10:00:05Z");
        h.callStarted(t0);
        h.callStarted(t0.plusSeconds(30));
        h.callStarted(t0.plusSeconds(65));
        List<ActivityHistory.Minute> minutes = h.minutes(t0.plusSeconds(70));
        assertEquals(30, minutes.size());
        assertEquals(Instant.parse("2026-11-24T10:01:00Z"), minutes.get(29).at());
        assertEquals(1, minutes.get(29).setups());
        assertEquals(2, minutes.get(28).setups());
        assertEquals(Instant.parse("2026-11-24T09:32:00Z"), minutes.get(0).at());

        // 29 minutes later the 10:00 minute is the oldest; 30 minutes later it is gone, and its slot reused.
        assertEquals(2, h.minutes(t0.plusSeconds(29 * 60)).get(0).setups());
        h.callStarted(t0.plusSeconds(30 * 60));
        List<ActivityHistory.Minute> later = h.minutes(t0.plusSeconds(30 * 60));
        assertEquals(1, later.get(29).setups());
        assertEquals(1, later.get(0).setups(), "10:01");
        assertEquals(0, later.stream().mapToInt(ActivityHistory.Minute::failures).sum());
    }

    @Test
    void keepsTheNewestCallRecords() {
        ActivityHistory h = new ActivityHistory();
        Instant t0 = Instant.parse("2026-12-10T10:00:00Z");
        for (int i = 0; i < ActivityHistory.RECORDS_KEPT + 3; i++) {
            h.keep(new CallRecord("c" + i + ".gw1", "gw1", "log.gw1", null, "1001", "5000", Call.Direction.OUTGOING,
                    t0, null, t0.plusSeconds(i), CallRecord.FAILED, "rejected", 486, "Busy Here", null, null, null,
                    new CallRecord.Flow(0, 0, 0, 0, 0, null), new CallRecord.Flow(0, 0, 0, 0, 0, null)));
        }
        h.keep(null);
        List<CallRecord> records = h.records();
        assertEquals(ActivityHistory.RECORDS_KEPT, records.size());
        assertEquals("c" + (ActivityHistory.RECORDS_KEPT + 2) + ".gw1", records.get(0).id(), "newest first");
        assertEquals("c3.gw1", records.get(records.size() - 1).id(), "the oldest three are gone");
    }

    @Test
    void keepsTheNewestFailures() {
        ActivityHistory h = new ActivityHistory();
        for (int i = 0; i < ActivityHistory.CAPACITY + 5; i++) {
            h.registrationFailed("10" + i, 403, "Forbidden", "initial: SIP_REJECTED", Instant.ofEpochSecond(i));
        }
        List<ActivityHistory.Failure> f = h.failures();
        assertEquals(ActivityHistory.CAPACITY, f.size());
        assertEquals("10" + (ActivityHistory.CAPACITY + 4), f.get(0).dn());
        assertEquals("registration", f.get(0).kind());
    }

    @Test
    void aRefusedInviteIsAFailedSetup() {
        ActivityHistory h = new ActivityHistory();
        Instant at = Instant.parse("2026-11-25T10:00:30Z");
        h.inviteRefused("7001", "5000", 480, "not-signed-in", at);
        ActivityHistory.Failure f = h.failures().get(0);
        assertEquals("call", f.kind());
        assertEquals("7001", f.dn());
        assertEquals("5000", f.remote());
        assertEquals(480, f.sipStatus());
        assertEquals("not-signed-in", f.cause());
        ActivityHistory.Minute now = h.minutes(at).get(ActivityHistory.MINUTES - 1);
        assertEquals(1, now.setups());
        assertEquals(1, now.failures());
    }
}
