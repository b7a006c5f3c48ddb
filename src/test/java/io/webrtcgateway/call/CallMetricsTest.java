package io.webrtcgateway.call;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.webrtcgateway.testsupport.PrometheusText;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The call and media meters as /metrics shows them, parsed with the strict exposition parser: names, types and
 * labels (docs/metrics.md), values as calls start, report their setup steps and end, and no high-cardinality label.
 */
class CallMetricsTest {
    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final CallMetrics metrics = new CallMetrics(registry, "test-gw");

    /** A call in progress whose state and counters the test sets. */
    private static final class FakeCall implements CallMetrics.Tracked {
        final Call.Direction direction;
        volatile CallState state;
        volatile List<CallMedia.StreamCounters> counters = List.of();

        FakeCall(Call.Direction direction, CallState state) {
            this.direction = direction;
            this.state = state;
        }

        @Override
        public Call.Direction direction() {
            return direction;
        }

        @Override
        public CallState state() {
            return state;
        }

        @Override
        public List<CallMedia.StreamCounters> mediaCounters() {
            return counters;
        }
    }

    @AfterEach
    void close() {
        registry.close();
    }

    private PrometheusText scrape() {
        return PrometheusText.parse(registry.scrape());
    }

    private static List<CallMedia.StreamCounters> audio(long in, long out, long lostIn, long lostOut) {
        return List.of(new CallMedia.StreamCounters("audio", new CallMedia.Flow(in, in * 172, lostIn, 1.5, 20),
                new CallMedia.Flow(out, out * 172, lostOut, 0.5, 8)));
    }

    @Test
    void everyFamilyIsExportedFromTheStartWithItsType() {
        PrometheusText m = scrape();
        Map<String, String> types = m.types();
        assertEquals("gauge", types.get("gateway_calls"), types::toString);
        assertEquals("counter", types.get("gateway_calls_started_total"), types::toString);
        assertEquals("histogram", types.get("gateway_call_setup_seconds"));
        assertEquals("counter", types.get("gateway_media_packets_total"));
        assertEquals("counter", types.get("gateway_media_bytes_total"));
        assertEquals("counter", types.get("gateway_media_lost_packets_total"));
        assertEquals("counter", types.get("gateway_call_media_failures_total"));
        assertEquals("histogram", types.get("gateway_call_jitter_seconds"));
        assertEquals("histogram", types.get("gateway_call_rtt_seconds"));
        assertEquals("histogram", types.get("gateway_call_mos"));
        assertEquals("gauge", types.get("gateway_call_setup_seconds_max"), "Micrometer's maximum beside each histogram");

        for (String state : List.of("calling", "ringing", "early", "connected", "held")) {
            assertEquals(0.0, m.value("gateway_calls", "direction", "outgoing", "state", state), state);
        }
        for (String state : List.of("offered", "connected", "held")) {
            assertEquals(0.0, m.value("gateway_calls", "direction", "incoming", "state", state), state);
        }
        assertTrue(m.find("gateway_calls", Map.of("direction", "incoming", "state", "calling")).isEmpty(),
                "only states a call of that direction can be in");
        assertEquals(0.0, m.value("gateway_calls_started_total", "direction", "outgoing"));
        assertEquals(0.0, m.value("gateway_calls_started_total", "direction", "incoming"));
        for (String phase : List.of("request-to-invite", "invite-to-answer", "answer-to-media")) {
            assertEquals(0.0, m.value("gateway_call_setup_seconds_count", "direction", "outgoing", "phase", phase));
        }
        for (String phase : List.of("invite-to-browser-offer", "invite-to-answer", "answer-to-media")) {
            assertEquals(0.0, m.value("gateway_call_setup_seconds_count", "direction", "incoming", "phase", phase));
        }
        for (String cause : List.of("ice-checks-failed", "ice-not-restored", "dtls-failed", "setup-timeout",
                "no-media-from-browser", "no-media-from-sip")) {
            assertEquals(0.0, m.value("gateway_call_media_failures_total", "cause", cause), cause);
        }
        for (String kind : List.of("audio", "video")) {
            for (String direction : List.of("browser-to-sip", "sip-to-browser")) {
                assertEquals(0.0, m.value("gateway_media_packets_total", "kind", kind, "direction", direction));
                assertEquals(0.0, m.value("gateway_media_bytes_total", "kind", kind, "direction", direction));
                assertEquals(0.0, m.value("gateway_media_lost_packets_total", "kind", kind, "direction", direction));
            }
        }
        for (String codec : List.of("opus", "g722", "pcmu", "pcma")) {
            assertEquals(0.0, m.value("gateway_call_mos_count", "codec", codec));
        }
        // MOS buckets are G.109's category bounds.
        assertEquals(List.of("1.5", "2.0", "2.58", "3.1", "3.6", "4.03", "4.34", "4.5", "+Inf"),
                m.find("gateway_call_mos_bucket", Map.of("codec", "pcmu")).stream().map(s -> s.label("le")).toList());
    }

    @Test
    void callsInProgressByStateAndMediaCountersLiveThenEnded() {
        FakeCall out = new FakeCall(Call.Direction.OUTGOING, CallState.CALLING);
        FakeCall in = new FakeCall(Call.Direction.INCOMING, CallState.OFFERED);
        metrics.started(out);
        metrics.started(in);
        PrometheusText m = scrape();
        assertEquals(1.0, m.value("gateway_calls", "direction", "outgoing", "state", "calling"));
        assertEquals(1.0, m.value("gateway_calls", "direction", "incoming", "state", "offered"));
        assertEquals(1.0, m.value("gateway_calls_started_total", "direction", "outgoing"));
        assertEquals(1.0, m.value("gateway_calls_started_total", "direction", "incoming"));

        out.state = CallState.CONNECTED;
        out.counters = audio(100, 90, 0, 10);
        m = scrape();
        assertEquals(0.0, m.value("gateway_calls", "direction", "outgoing", "state", "calling"));
        assertEquals(1.0, m.value("gateway_calls", "direction", "outgoing", "state", "connected"));
        // Read from the call in progress at scrape time.
        assertEquals(100.0, m.value("gateway_media_packets_total", "kind", "audio", "direction", "browser-to-sip"));
        assertEquals(90.0, m.value("gateway_media_packets_total", "kind", "audio", "direction", "sip-to-browser"));
        assertEquals(100.0 * 172, m.value("gateway_media_bytes_total", "kind", "audio", "direction", "browser-to-sip"));
        assertEquals(10.0, m.value("gateway_media_lost_packets_total", "kind", "audio", "direction", "sip-to-browser"));

        // It ends with a few more packets: they are counted once, and stay after the call is gone.
        out.counters = audio(120, 95, 0, 11);
        assertEquals(out.counters, metrics.ended(out));
        out.counters = audio(999, 999, 999, 999); // a straggler read after the end counts for nothing
        metrics.ended(out);
        m = scrape();
        assertEquals(0.0, m.value("gateway_calls", "direction", "outgoing", "state", "connected"));
        assertEquals(120.0, m.value("gateway_media_packets_total", "kind", "audio", "direction", "browser-to-sip"));
        assertEquals(95.0, m.value("gateway_media_packets_total", "kind", "audio", "direction", "sip-to-browser"));
        assertEquals(11.0, m.value("gateway_media_lost_packets_total", "kind", "audio", "direction", "sip-to-browser"));
        assertEquals(0.0, m.value("gateway_media_packets_total", "kind", "video", "direction", "browser-to-sip"));
        assertEquals(1.0, m.value("gateway_calls", "direction", "incoming", "state", "offered"));
    }

    @Test
    void setupStepsEachGiveOneSample() {
        SetupClock clock = new SetupClock(metrics, Call.Direction.OUTGOING, 1_000_000_000L);
        clock.inviteSent(1_020_000_000L);
        clock.answered(3_020_000_000L);
        clock.answered(4_000_000_000L); // only the first answer counts
        clock.mediaUp(3_270_000_000L);
        clock.mediaUp(9_000_000_000L); // media up again after an ICE restart is not setup
        PrometheusText m = scrape();
        assertEquals(1.0, m.value("gateway_call_setup_seconds_count", "direction", "outgoing", "phase", "request-to-invite"));
        assertEquals(0.02, m.value("gateway_call_setup_seconds_sum", "direction", "outgoing", "phase", "request-to-invite"),
                1e-9);
        assertEquals(2.0, m.value("gateway_call_setup_seconds_sum", "direction", "outgoing", "phase", "invite-to-answer"),
                1e-9);
        assertEquals(0.25, m.value("gateway_call_setup_seconds_sum", "direction", "outgoing", "phase", "answer-to-media"),
                1e-9);
        assertEquals(1.0, m.value("gateway_call_setup_seconds_bucket", "direction", "outgoing", "phase", "answer-to-media",
                "le", "0.25"));
        assertEquals(0.0, m.value("gateway_call_setup_seconds_bucket", "direction", "outgoing", "phase", "answer-to-media",
                "le", "0.1"));

        // Incoming, with media up before the answer (the browser's ICE raced the 200): answer-to-media is 0.
        SetupClock incoming = new SetupClock(metrics, Call.Direction.INCOMING, 0);
        incoming.browserOffered(5_000_000L);
        incoming.mediaUp(2_000_000_000L);
        incoming.answered(2_100_000_000L);
        m = scrape();
        assertEquals(0.005, m.value("gateway_call_setup_seconds_sum", "direction", "incoming", "phase",
                "invite-to-browser-offer"), 1e-9);
        assertEquals(2.1, m.value("gateway_call_setup_seconds_sum", "direction", "incoming", "phase", "invite-to-answer"),
                1e-9);
        assertEquals(1.0, m.value("gateway_call_setup_seconds_count", "direction", "incoming", "phase", "answer-to-media"));
        assertEquals(0.0, m.value("gateway_call_setup_seconds_sum", "direction", "incoming", "phase", "answer-to-media"));
    }

    @Test
    void aRecordGivesTheResultByCauseAndOneQualitySampleEach() {
        Instant t0 = Instant.parse("2026-12-10T10:00:00Z");
        CallRecord ok = CallRecord.of("a.gw", "gw", "log.gw", "sip-1", "1001", "5000", Call.Direction.OUTGOING, t0,
                t0.plusSeconds(2), t0.plusSeconds(60), "local-hangup", null, null, "PCMU", audio(3000, 2900, 0, 100));
        CallRecord busy = CallRecord.of("b.gw", "gw", "log.gw", "sip-2", "1001", "busy", Call.Direction.OUTGOING, t0,
                null, t0.plusSeconds(1), "rejected", 486, "Busy Here", null, List.of());
        metrics.recorded(ok);
        metrics.recorded(busy);
        metrics.mediaFailed(MediaWatch.Cause.DTLS_FAILED);
        PrometheusText m = scrape();
        assertEquals(1.0, m.value("gateway_calls_ended_total", "direction", "outgoing", "result", "ok",
                "reason", "local-hangup", "sip_class", "2xx"));
        assertEquals(1.0, m.value("gateway_calls_ended_total", "direction", "outgoing", "result", "failed",
                "reason", "rejected", "sip_class", "4xx"));
        assertEquals(1.0, m.value("gateway_call_media_failures_total", "cause", "dtls-failed"));
        // Only the call with audio gives jitter, RTT and MOS samples.
        assertEquals(1.0, m.value("gateway_call_jitter_seconds_count", "direction", "browser-to-sip"));
        assertEquals(0.0015, m.value("gateway_call_jitter_seconds_sum", "direction", "browser-to-sip"), 1e-9);
        assertEquals(1.0, m.value("gateway_call_jitter_seconds_count", "direction", "sip-to-browser"));
        assertEquals(0.008, m.value("gateway_call_rtt_seconds_sum", "leg", "browser"), 1e-9);
        assertEquals(0.020, m.value("gateway_call_rtt_seconds_sum", "leg", "sip"), 1e-9);
        assertEquals(1.0, m.value("gateway_call_mos_count", "codec", "pcmu"));
        assertEquals(ok.mos(), m.value("gateway_call_mos_sum", "codec", "pcmu"), 1e-9);
        assertEquals("test-gw", m.find("gateway_call_mos_count", Map.of("codec", "pcmu")).get(0).label("instance"));
        // 3.3 % loss on the way back: MOS about 4.07, counted in its bucket (not as 5, the next whole number).
        assertTrue(ok.mos() > 4.03 && ok.mos() < 4.34, "MOS " + ok.mos());
        assertEquals(0.0, m.value("gateway_call_mos_bucket", "codec", "pcmu", "le", "4.03"));
        assertEquals(1.0, m.value("gateway_call_mos_bucket", "codec", "pcmu", "le", "4.34"));
        assertEquals(0.0, m.value("gateway_call_mos_count", "codec", "opus"));
    }

    @Test
    void noLabelCarriesADnACallIdOrAnAddress() {
        FakeCall out = new FakeCall(Call.Direction.OUTGOING, CallState.CONNECTED);
        out.counters = audio(10, 10, 0, 0);
        metrics.started(out);
        Instant t0 = Instant.now();
        metrics.recorded(CallRecord.of("secret-call.gw", "gw", "log.gw", "sip-call-id@10.0.0.1", "1001", "5000",
                Call.Direction.INCOMING, t0, t0, t0.plusSeconds(5), "remote-hangup", null, null, "opus",
                audio(250, 250, 1, 2)));
        Set<String> allowed = Set.of("instance", "direction", "state", "phase", "kind", "cause", "leg", "codec", "result", "reason",
                "sip_class", "le");
        for (PrometheusText.Sample s : scrape().samples()) {
            assertTrue(allowed.containsAll(s.labels().keySet()), "label of " + s);
            for (String value : s.labels().values()) {
                assertTrue(!value.contains("1001") && !value.contains("5000") && !value.contains("secret")
                        && !value.contains("@"), "value of " + s);
            }
        }
    }
}
