package io.webrtcgateway.call;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.prometheus.metrics.core.metrics.Histogram;
import java.time.Duration;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.BiConsumer;

/**
 * The call and call-media meters of docs/metrics.md ("Calls", "Call media", "Call quality"). Low cardinality on
 * purpose: no DN, call id or address in any label. Nothing here runs per packet: the calls report their steps
 * (placed, answered, media up, ended) and the media counters, which the packet path keeps anyway
 * ({@link CallMedia#counters()}), are read at scrape time for the calls in progress and once at each call's end.
 */
final class CallMetrics {

    /** What the meters read of a call in progress: {@link Call}, or a stand-in in tests. Any thread. */
    interface Tracked {
        Call.Direction direction();

        CallState state();

        /** {@link CallMedia#counters()}. */
        List<CallMedia.StreamCounters> mediaCounters();
    }

    /** The {@code phase} label of gateway_call_setup_seconds. */
    enum SetupPhase {
        /** Outgoing: the browser's call request -> the INVITE sent. */
        REQUEST_TO_INVITE("request-to-invite"),
        /** Incoming: the INVITE received -> the offer delivered to the browser. */
        INVITE_TO_BROWSER_OFFER("invite-to-browser-offer"),
        /** The INVITE -> the 200 OK: received (outgoing) or sent once the browser answered (incoming). */
        INVITE_TO_ANSWER("invite-to-answer"),
        /** The 200 OK -> ICE and DTLS up (0 when early media had them up before). */
        ANSWER_TO_MEDIA("answer-to-media");

        final String label;

        SetupPhase(String label) {
            this.label = label;
        }

        boolean appliesTo(Call.Direction d) {
            return switch (this) {
                case REQUEST_TO_INVITE -> d == Call.Direction.OUTGOING;
                case INVITE_TO_BROWSER_OFFER -> d == Call.Direction.INCOMING;
                default -> true;
            };
        }
    }

    /** States a call of each direction can be in while it lasts (CallState's table). */
    private static final Map<Call.Direction, List<CallState>> STATES = Map.of(
            Call.Direction.OUTGOING, List.of(CallState.CALLING, CallState.RINGING, CallState.EARLY,
                    CallState.CONNECTED, CallState.HELD),
            Call.Direction.INCOMING, List.of(CallState.OFFERED, CallState.CONNECTED, CallState.HELD));
    static final List<String> MEDIA_KINDS = List.of("audio", "video");
    static final List<String> MEDIA_DIRECTIONS = List.of("browser-to-sip", "sip-to-browser");
    /** The audio codecs the bridge relays (sdp.BridgedCodecs): the {@code codec} label of gateway_call_mos. */
    static final List<String> CODECS = List.of("opus", "g722", "pcmu", "pcma");

    private static final Duration[] SETUP_BUCKETS = seconds(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60,
            120);
    private static final Duration[] JITTER_BUCKETS = seconds(0.001, 0.002, 0.005, 0.01, 0.02, 0.03, 0.05, 0.1, 0.2);
    private static final Duration[] RTT_BUCKETS = seconds(0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.2, 0.3, 0.5, 1);
    /** The lower bounds of ITU-T G.109's quality categories (2.58 ... 4.34), with two below and the 4.5 ceiling. */
    private static final double[] MOS_BUCKETS = {1.5, 2.0, 2.58, 3.1, 3.6, 4.03, 4.34, 4.5};

    private final MeterRegistry meters;
    private final Map<Call.Direction, Counter> started = new EnumMap<>(Call.Direction.class);
    private final Map<String, Timer> setup = new HashMap<>();
    private final Map<MediaWatch.Cause, Counter> mediaFailures = new EnumMap<>(MediaWatch.Cause.class);
    private final Map<String, Timer> jitter = new HashMap<>();
    private final Map<String, Timer> rtt = new HashMap<>();
    /** gateway_call_mos: (codec label, MOS) -> one sample. */
    private final BiConsumer<String, Double> mos;

    /**
     * Guarded by this: the calls started and not ended, and the media counters of those that ended, by
     * {@code kind * 2 + direction} (MEDIA_KINDS, MEDIA_DIRECTIONS). A call leaves {@link #live} and its last
     * counters enter the totals in one step, so a scrape counts it exactly once and the counters never go back.
     */
    private final Set<Tracked> live = new LinkedHashSet<>();
    private final long[] endedPackets = new long[4];
    private final long[] endedBytes = new long[4];
    private final long[] endedLost = new long[4];

    /** @param instance gateway.instance-id: the {@code instance} label of the one meter not made by Micrometer */
    CallMetrics(MeterRegistry meters, String instance) {
        this.meters = meters;
        this.mos = mosHistogram(meters, instance);
        for (Call.Direction d : Call.Direction.values()) {
            String direction = label(d);
            started.put(d, Counter.builder("gateway.calls.started").description("calls placed by browsers or offered by SIP Server")
                    .tag("direction", direction).register(meters));
            for (CallState s : STATES.get(d)) {
                Gauge.builder("gateway.calls", this, m -> m.count(d, s)).description("calls in progress")
                        .tag("direction", direction).tag("state", s.wireName()).register(meters);
            }
            for (SetupPhase p : SetupPhase.values()) {
                if (p.appliesTo(d)) {
                    setup.put(direction + "/" + p.label, Timer.builder("gateway.call.setup")
                            .description("call setup time, by step").tag("direction", direction).tag("phase", p.label)
                            .serviceLevelObjectives(SETUP_BUCKETS).register(meters));
                }
            }
        }
        for (MediaWatch.Cause c : MediaWatch.Cause.values()) {
            mediaFailures.put(c, Counter.builder("gateway.call.media.failures")
                    .description("calls ended because their media failed, by cause").tag("cause", c.label)
                    .register(meters));
        }
        for (int k = 0; k < MEDIA_KINDS.size(); k++) {
            for (int d = 0; d < MEDIA_DIRECTIONS.size(); d++) {
                int index = k * 2 + d;
                String kind = MEDIA_KINDS.get(k);
                String direction = MEDIA_DIRECTIONS.get(d);
                FunctionCounter.builder("gateway.media.packets", this, m -> m.total(index, Measure.PACKETS))
                        .description("RTP packets relayed").tag("kind", kind).tag("direction", direction).register(meters);
                FunctionCounter.builder("gateway.media.bytes", this, m -> m.total(index, Measure.BYTES))
                        .description("RTP bytes relayed (as received)").tag("kind", kind).tag("direction", direction)
                        .register(meters);
                FunctionCounter.builder("gateway.media.lost.packets", this, m -> m.total(index, Measure.LOST))
                        .description("RTP packets lost before they reached the gateway (RFC 3550 sequence gaps)")
                        .tag("kind", kind).tag("direction", direction).register(meters);
            }
        }
        for (String direction : MEDIA_DIRECTIONS) {
            jitter.put(direction, Timer.builder("gateway.call.jitter")
                    .description("audio interarrival jitter when a call ended (RFC 3550 A.8)").tag("direction", direction)
                    .serviceLevelObjectives(JITTER_BUCKETS).register(meters));
        }
        for (String leg : List.of("browser", "sip")) {
            rtt.put(leg, Timer.builder("gateway.call.rtt").description("round-trip time of a leg when a call ended (RTCP)")
                    .tag("leg", leg).serviceLevelObjectives(RTT_BUCKETS).register(meters));
        }
    }

    /**
     * gateway_call_mos{codec}, every codec exported from the start. Micrometer's histograms count a summary's value
     * rounded up to a whole number (their buckets hold longs), so a MOS of 3.4 would land in le="4.03": on the
     * Prometheus registry the histogram is the Prometheus client's own, whose buckets take fractions. Another
     * registry gets Micrometer's summary, whose buckets are then only right for whole numbers.
     */
    private static BiConsumer<String, Double> mosHistogram(MeterRegistry meters, String instance) {
        String help = "estimated MOS of each call with audio (simplified ITU-T G.107 E-model, the worse direction)";
        if (meters instanceof PrometheusMeterRegistry prometheus) {
            Histogram histogram = Histogram.builder().name("gateway_call_mos").help(help).labelNames("instance", "codec")
                    .classicOnly().classicUpperBounds(MOS_BUCKETS).withoutExemplars()
                    .register(prometheus.getPrometheusRegistry());
            CODECS.forEach(codec -> histogram.labelValues(instance, codec));
            return (codec, value) -> histogram.labelValues(instance, codec).observe(value);
        }
        Map<String, DistributionSummary> summaries = new ConcurrentHashMap<>();
        java.util.function.Function<String, DistributionSummary> summary = codec -> DistributionSummary
                .builder("gateway.call.mos").description(help).tag("codec", codec).serviceLevelObjectives(MOS_BUCKETS)
                .register(meters);
        CODECS.forEach(codec -> summaries.put(codec, summary.apply(codec)));
        return (codec, value) -> summaries.computeIfAbsent(codec, summary).record(value);
    }

    static String label(Call.Direction d) {
        return d.name().toLowerCase(Locale.ROOT);
    }

    private static Duration[] seconds(double... values) {
        Duration[] out = new Duration[values.length];
        for (int i = 0; i < values.length; i++) {
            out[i] = Duration.ofNanos(Math.round(values[i] * 1e9));
        }
        return out;
    }

    // ---- events from the calls ----------------------------------------------------------------------

    /** A call was placed or offered. */
    void started(Tracked call) {
        synchronized (this) {
            live.add(call);
        }
        started.get(call.direction()).increment();
    }

    /** A setup step finished {@code nanos} after the one before it. */
    void setup(Call.Direction direction, SetupPhase phase, long nanos) {
        Timer t = setup.get(label(direction) + "/" + phase.label);
        if (t != null) {
            t.record(Math.max(0, nanos), TimeUnit.NANOSECONDS);
        }
    }

    /** The media watch ended a call: ICE, DTLS or silence. */
    void mediaFailed(MediaWatch.Cause cause) {
        if (cause != null) {
            mediaFailures.get(cause).increment();
        }
    }

    /**
     * A call ended: its last media counters move into the totals (read here, under the lock, so no scrape counts
     * the call twice or loses it); returns them for the call's record.
     */
    List<CallMedia.StreamCounters> ended(Tracked call) {
        synchronized (this) {
            List<CallMedia.StreamCounters> last = call.mediaCounters();
            if (live.remove(call)) {
                add(last, endedPackets, endedBytes, endedLost);
            }
            return last;
        }
    }

    /**
     * The call's record: its audio's jitter, RTT and MOS, sampled once per call, then how it ended. The end is
     * counted last, so a scrape that sees it sees the call's samples too.
     */
    void recorded(CallRecord r) {
        if (r.browserToSip().packets() > 0) {
            jitter.get("browser-to-sip").record(millis(r.browserToSip().jitterMs()), TimeUnit.NANOSECONDS);
        }
        if (r.sipToBrowser().packets() > 0) {
            jitter.get("sip-to-browser").record(millis(r.sipToBrowser().jitterMs()), TimeUnit.NANOSECONDS);
        }
        if (r.browserLegRttMs() != null) {
            rtt.get("browser").record(millis(r.browserLegRttMs()), TimeUnit.NANOSECONDS);
        }
        if (r.sipLegRttMs() != null) {
            rtt.get("sip").record(millis(r.sipLegRttMs()), TimeUnit.NANOSECONDS);
        }
        Double score = r.mos();
        if (score != null) {
            String codec = r.codec() == null ? "other" : r.codec().toLowerCase(Locale.ROOT);
            mos.accept(CODECS.contains(codec) ? codec : "other", score);
        }
        Counter.builder("gateway.calls.ended").description("calls ended, by result, end reason and SIP status class")
                .tag("direction", label(r.direction())).tag("result", r.result())
                .tag("reason", r.endReason() == null ? "unknown" : r.endReason())
                .tag("sip_class", CallRecord.sipClass(r.sipStatus(), r.connectedAt() != null))
                .register(meters).increment();
    }

    private static long millis(double ms) {
        return Math.round(ms * 1e6);
    }

    // ---- read at scrape time ------------------------------------------------------------------------

    private enum Measure { PACKETS, BYTES, LOST }

    private synchronized int count(Call.Direction direction, CallState state) {
        int n = 0;
        for (Tracked c : live) {
            if (c.direction() == direction && c.state() == state) {
                n++;
            }
        }
        return n;
    }

    private synchronized double total(int index, Measure what) {
        long[] packets = endedPackets.clone();
        long[] bytes = endedBytes.clone();
        long[] lost = endedLost.clone();
        for (Tracked c : live) {
            add(c.mediaCounters(), packets, bytes, lost);
        }
        return switch (what) {
            case PACKETS -> packets[index];
            case BYTES -> bytes[index];
            case LOST -> lost[index];
        };
    }

    private static void add(List<CallMedia.StreamCounters> counters, long[] packets, long[] bytes, long[] lost) {
        for (CallMedia.StreamCounters s : counters) {
            int k = MEDIA_KINDS.indexOf(s.kind());
            if (k < 0) {
                continue;
            }
            add(s.browserToSip(), k * 2, packets, bytes, lost);
            add(s.sipToBrowser(), k * 2 + 1, packets, bytes, lost);
        }
    }

    private static void add(CallMedia.Flow f, int index, long[] packets, long[] bytes, long[] lost) {
        packets[index] += f.packets();
        bytes[index] += f.bytes();
        lost[index] += f.lost();
    }
}
