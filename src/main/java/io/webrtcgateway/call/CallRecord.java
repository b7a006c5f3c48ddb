package io.webrtcgateway.call;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * What is kept of a call once it ended: written as one line on logger {@code io.webrtcgateway.call.record} and
 * listed by the admin API (docs/metrics.md "Call records", docs/admin.md). Every call that existed gets one,
 * also one whose INVITE never went out.
 *
 * @param id             the call id (its instance after the last '.')
 * @param sessionLogId   the session's log id (never the session id, a bearer secret)
 * @param sipCallId      the SIP leg's Call-ID; null when no INVITE was sent or received
 * @param dn             the DN of the session (the caller of an outgoing call, the called of an incoming one), null
 *                       for an anonymous session
 * @param remote         the other party: the DN called, or the caller (From user)
 * @param connectedAt    when the call was answered, null when it never was
 * @param result         {@link #OK}, {@link #ABANDONED} or {@link #FAILED} ({@link #result})
 * @param endReason      why it ended, as the browser was told ({@code local-hangup}, {@code rejected}, ...), or the
 *                       error code of a call that never started
 * @param sipStatus      the SIP status that ended it (a rejection, 487), null when none did
 * @param codec          the audio codec's encoding name, null when none was negotiated
 * @param browserLegRttMs RTT between the gateway and the browser (RTCP), null when never known
 * @param sipLegRttMs    RTT between the gateway and the SIP side's media, null when never known
 * @param browserToSip   the audio the browser sent, as the gateway received it
 * @param sipToBrowser   the audio the SIP side sent, as the gateway received it
 */
public record CallRecord(String id, String instance, String sessionLogId, String sipCallId, String dn, String remote,
                         Call.Direction direction, Instant startedAt, Instant connectedAt, Instant endedAt,
                         String result, String endReason, Integer sipStatus, String sipReason, String codec,
                         Double browserLegRttMs, Double sipLegRttMs, Flow browserToSip, Flow sipToBrowser) {

    /** Answered, and ended by a hang-up (either side, admin, sign-out, shutdown). */
    public static final String OK = "ok";
    /** Ended the same normal ways before anyone answered: the caller gave up or cancelled. */
    public static final String ABANDONED = "abandoned";
    /** Anything else: rejected (busy too), no answer, media or SDP failure, not sent... */
    public static final String FAILED = "failed";

    /** End reasons that are not a failure: hang-ups and cancels by a person, an admin, a sign-out, a shutdown. */
    public static final Set<String> NORMAL_ENDS = Set.of("local-hangup", "remote-hangup", "cancelled", "admin",
            "session-ended", "instance-stopping");

    /**
     * One direction of the call's audio stream as the gateway received it (its first audio m-line).
     *
     * @param lossPercent {@code lost} of the packets expected ({@code packets + lost}), 0-100
     * @param jitterMs    the RFC 3550 interarrival jitter estimate when the call ended
     * @param mos         the E-model estimate ({@link EModel}), null when no audio came this way
     */
    public record Flow(long packets, long bytes, long lost, double lossPercent, double jitterMs, Double mos) {
        static final Flow NONE = new Flow(0, 0, 0, 0, 0, null);
    }

    /** ok, abandoned or failed: from the end reason and whether the call was ever answered. */
    public static String result(String endReason, boolean answered) {
        if (endReason == null || !NORMAL_ENDS.contains(endReason)) {
            return FAILED;
        }
        return answered ? OK : ABANDONED;
    }

    /**
     * The SIP status class the call ended with, a label of gateway_calls_ended_total: the ending status's class
     * ({@code 4xx}, ...), else {@code 2xx} when the call was answered, else {@code none} (no final answer: hung up
     * or cancelled on our side first, or never sent).
     */
    public static String sipClass(Integer sipStatus, boolean answered) {
        if (sipStatus != null && sipStatus >= 100 && sipStatus <= 699) {
            return (sipStatus / 100) + "xx";
        }
        return answered ? "2xx" : "none";
    }

    /**
     * The record of {@code call}, which ended at {@code endedAt} with these media counters (the last values,
     * {@link CallMedia#counters()}). On the call's executor.
     */
    static CallRecord of(Call call, String instance, Instant endedAt, List<CallMedia.StreamCounters> counters) {
        return of(call.id(), instance, call.session().logId(), call.sipCallId(), call.dn(), call.remote(),
                call.direction(), call.createdAt(), call.connectedAt(), endedAt, call.endReason(), call.endSipStatus(),
                call.endSipReason(), call.codec(), counters);
    }

    /** The same from the call's facts: the result, the audio stream's flows, RTTs and MOS worked out here. */
    static CallRecord of(String id, String instance, String sessionLogId, String sipCallId, String dn, String remote,
                         Call.Direction direction, Instant startedAt, Instant connectedAt, Instant endedAt,
                         String endReason, Integer sipStatus, String sipReason, String codec,
                         List<CallMedia.StreamCounters> counters) {
        CallMedia.StreamCounters audio = counters.stream().filter(c -> c.kind().equals("audio")).findFirst()
                .orElse(null);
        CallMedia.Flow in = audio == null ? CallMedia.Flow.NONE : audio.browserToSip();
        CallMedia.Flow out = audio == null ? CallMedia.Flow.NONE : audio.sipToBrowser();
        // browser -> SIP is sent on the SIP leg and carries its RTT; SIP -> browser the browser leg's.
        double sipRtt = in.rttMs();
        double browserRtt = out.rttMs();
        return new CallRecord(id, instance, sessionLogId, sipCallId, dn, remote, direction, startedAt, connectedAt,
                endedAt, result(endReason, connectedAt != null), endReason, sipStatus, sipReason, codec,
                Double.isNaN(browserRtt) ? null : browserRtt, Double.isNaN(sipRtt) ? null : sipRtt,
                flow(in, codec, browserRtt, sipRtt), flow(out, codec, browserRtt, sipRtt));
    }

    private static Flow flow(CallMedia.Flow f, String codec, double browserRtt, double sipRtt) {
        long expected = f.packets() + f.lost();
        double loss = expected == 0 ? 0 : 100.0 * f.lost() / expected;
        Double mos = f.packets() == 0 || codec == null ? null
                : EModel.estimate(codec, loss, f.jitterMs(), browserRtt, sipRtt);
        return new Flow(f.packets(), f.bytes(), f.lost(), loss, f.jitterMs(), mos);
    }

    /** Talk time: from the answer to the end, 0 for a call never answered. */
    public double durationSeconds() {
        return connectedAt == null ? 0 : Duration.between(connectedAt, endedAt).toMillis() / 1000.0;
    }

    /** The call's MOS: the lower of the two directions' (what the one who complains heard), null without audio. */
    public Double mos() {
        Double a = browserToSip.mos();
        Double b = sipToBrowser.mos();
        if (a == null || b == null) {
            return a == null ? b : a;
        }
        return Math.min(a, b);
    }

    /**
     * The log line: {@code key=value} pairs (logfmt), in this order, values quoted when they hold a space or a
     * quote, {@code -} for none. One line whatever the values hold: line breaks become spaces.
     */
    public String logLine() {
        StringBuilder b = new StringBuilder(640);
        put(b, "call", id);
        put(b, "instance", instance);
        put(b, "session", sessionLogId);
        put(b, "sipCallId", sipCallId);
        put(b, "dn", dn);
        put(b, "remote", remote);
        put(b, "direction", direction.name().toLowerCase(Locale.ROOT));
        put(b, "result", result);
        put(b, "reason", endReason);
        put(b, "sipStatus", sipStatus == null ? null : sipStatus.toString());
        put(b, "sipReason", sipReason);
        put(b, "codec", codec);
        put(b, "start", startedAt.toString());
        put(b, "connect", connectedAt == null ? null : connectedAt.toString());
        put(b, "end", endedAt.toString());
        put(b, "duration", number(durationSeconds(), 3));
        put(b, "mos", mos() == null ? null : number(mos(), 2));
        put(b, "browserRttMs", browserLegRttMs == null ? null : number(browserLegRttMs, 1));
        put(b, "sipRttMs", sipLegRttMs == null ? null : number(sipLegRttMs, 1));
        flow(b, "browserToSip", browserToSip);
        flow(b, "sipToBrowser", sipToBrowser);
        return b.toString();
    }

    private static void flow(StringBuilder b, String prefix, Flow f) {
        put(b, prefix + ".packets", Long.toString(f.packets()));
        put(b, prefix + ".bytes", Long.toString(f.bytes()));
        put(b, prefix + ".lost", Long.toString(f.lost()));
        put(b, prefix + ".lossPct", number(f.lossPercent(), 2));
        put(b, prefix + ".jitterMs", number(f.jitterMs(), 2));
        put(b, prefix + ".mos", f.mos() == null ? null : number(f.mos(), 2));
    }

    static String number(double value, int decimals) {
        return String.format(Locale.ROOT, "%." + decimals + "f", value);
    }

    private static void put(StringBuilder b, String key, String value) {
        if (!b.isEmpty()) {
            b.append(' ');
        }
        b.append(key).append('=').append(quoted(value));
    }

    /** {@code -} for null; quoted (inner quotes as ') when empty or holding a space, '=' or a quote. */
    static String quoted(String value) {
        if (value == null) {
            return "-";
        }
        String one = value.replaceAll("[\\r\\n\\t]", " ");
        return one.matches("[^\\s\"=]+") ? one : "\"" + one.replace('"', '\'') + "\"";
    }
}
