package io.webrtcgateway.admin;

import io.webrtcgateway.call.Call;
import io.webrtcgateway.call.CallRecord;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Set;

/**
 * What the admin API shows of the recent past on this instance: call setups and failures per minute for
 * the last {@link #MINUTES} minutes, the last {@link #CAPACITY} failed calls and registrations, and the records of
 * the last {@link #RECORDS_KEPT} calls that ended ({@link CallRecord}). Fed by
 * call and registration listeners; in memory only. A call fails when it ends for any reason but a normal
 * hang-up or cancel (see {@link #NORMAL_ENDS}), e.g. rejected (also busy), no-answer, ice-failed, or its
 * INVITE could not be sent; an incoming INVITE refused before a call existed (nobody signed in with that DN,
 * the call limit, a too brief session interval) counts as a failed setup too.
 */
public final class ActivityHistory {
    public static final int MINUTES = 30;
    public static final int CAPACITY = 200;
    /** Call records kept: about 1 KB each. */
    public static final int RECORDS_KEPT = 1000;
    static final Set<String> NORMAL_ENDS = CallRecord.NORMAL_ENDS;

    /** One failed call or registration. {@code kind}: "call" or "registration". */
    public record Failure(Instant at, String kind, String dn, String remote, Integer sipStatus, String sipReason,
                          String cause) {}

    /** Setups and failures of one minute. */
    public record Minute(Instant at, int setups, int failures) {}

    /** Guarded by this: [epoch minute, setups, failures] per slot, slot = minute % slots. */
    private final long[][] minutes = new long[MINUTES][3];
    /** Newest first. Guarded by this. */
    private final Deque<Failure> failures = new ArrayDeque<>();
    /** Newest first. Guarded by this. */
    private final Deque<CallRecord> records = new ArrayDeque<>();

    public void callStarted(Instant at) {
        count(at, 1, 0);
    }

    /** A call ended: its record is kept; a failure unless it ended normally. */
    public void callEnded(Call call, Instant at) {
        keep(call.record());
        String reason = call.endReason();
        if (reason == null || NORMAL_ENDS.contains(reason)) {
            return;
        }
        count(at, 0, 1);
        add(new Failure(at, "call", call.dn(), call.remote(), call.endSipStatus(), call.endSipReason(), reason));
    }

    /** Keeps a call's record (null: none), dropping the oldest past {@link #RECORDS_KEPT}. */
    synchronized void keep(CallRecord record) {
        if (record == null) {
            return;
        }
        records.addFirst(record);
        while (records.size() > RECORDS_KEPT) {
            records.removeLast();
        }
    }

    /** An incoming INVITE refused before a call existed: a setup attempt that failed. */
    public void inviteRefused(String dn, String remote, int sipStatus, String cause, Instant at) {
        count(at, 1, 1);
        add(new Failure(at, "call", dn, remote, sipStatus, null, cause));
    }

    /** A session was not allowed to place a call (dial plan, no DN): refused before any INVITE. */
    public void callRefused(String dn, String to, String code, Instant at) {
        count(at, 1, 1);
        add(new Failure(at, "call", dn, to, null, null, code));
    }

    public void registrationFailed(String dn, Integer sipStatus, String sipReason, String cause, Instant at) {
        add(new Failure(at, "registration", dn, null, sipStatus, sipReason, cause));
    }

    private synchronized void add(Failure f) {
        failures.addFirst(f);
        while (failures.size() > CAPACITY) {
            failures.removeLast();
        }
    }

    private synchronized void count(Instant at, int setups, int failed) {
        long minute = at.getEpochSecond() / 60;
        long[] slot = minutes[(int) (minute % MINUTES)];
        if (slot[0] != minute) {
            slot[0] = minute;
            slot[1] = 0;
            slot[2] = 0;
        }
        slot[1] += setups;
        slot[2] += failed;
    }

    /** The records of the calls that ended, newest first. */
    public synchronized List<CallRecord> records() {
        return List.copyOf(records);
    }

    /** The failures, newest first. */
    public synchronized List<Failure> failures() {
        return List.copyOf(failures);
    }

    /** One entry per minute, oldest first, ending with the current minute; minutes without calls are zeros. */
    public synchronized List<Minute> minutes(Instant now) {
        long current = now.getEpochSecond() / 60;
        List<Minute> out = new ArrayList<>(MINUTES);
        for (long m = current - MINUTES + 1; m <= current; m++) {
            long[] slot = minutes[(int) (m % MINUTES)];
            boolean live = slot[0] == m;
            out.add(new Minute(Instant.ofEpochSecond(m * 60).truncatedTo(ChronoUnit.MINUTES),
                    live ? (int) slot[1] : 0, live ? (int) slot[2] : 0));
        }
        return out;
    }
}
