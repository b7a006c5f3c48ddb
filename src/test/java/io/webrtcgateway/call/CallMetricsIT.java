package io.webrtcgateway.call;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.webrtcgateway.admin.PasswordHash;
import io.webrtcgateway.testsupport.ChromiumPeer;
import io.webrtcgateway.testsupport.Closing;
import io.webrtcgateway.testsupport.FreePorts;
import io.webrtcgateway.testsupport.GatewayProcess;
import io.webrtcgateway.testsupport.Poll;
import io.webrtcgateway.testsupport.PrometheusText;
import io.webrtcgateway.testsupport.RtpEcho;
import io.webrtcgateway.testsupport.SipMessage;
import io.webrtcgateway.testsupport.Sipp;
import io.webrtcgateway.testsupport.WsTestClient;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Issue 16 items 1 and 2 with real peers: headless Chromium calls through the gateway to SIPp
 * ({@code uas-calls.xml}), and SIPp calls the browser. Each call's metrics (scraped from /metrics and parsed
 * strictly), its record line in the gateway's log and its item in the admin API's call records must show what
 * happened: a clean call, a call whose far end loses one packet in ten on the way back (the test's RtpEcho) with
 * the loss and a lower MOS, a call rejected with 486, and an incoming call's own setup steps. Values are compared
 * with a scrape taken before each call, so the tests do not depend on their order.
 */
class CallMetricsIT {
    private static final Duration STEP = Duration.ofSeconds(15);
    private static final String PASSWORD = "ops-secret";
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newHttpClient();

    /**
     * The media of uas-calls.xml's "lossy" callee (RTP and RTCP on one port): echoes, leaving out every 10th RTP
     * packet, and answers the gateway's SRs, so the SIP leg's RTT becomes known.
     */
    private static RtpEcho lossy;
    private static Sipp sipp;
    private static GatewayProcess gw;
    private static ChromiumPeer browser;

    @BeforeAll
    static void start() {
        browser = ChromiumPeer.builder().name("browser").audioCodecs("PCMU", "telephone-event").start();
        lossy = RtpEcho.rewritingSsrc(0x5EED_1055L).dropEvery(10).answerSenderReports();
        sipp = Sipp.scenario("uas-calls.xml").key("peer_rtp_port", String.valueOf(lossy.port()))
                .args("-mi", "127.0.0.1", "-mp", String.valueOf(FreePorts.sippMedia()), "-rtp_echo").start();
        gw = GatewayProcess.builder().instanceId("cm-gw").sipServers(sipp.serverEntry())
                .set("gateway.media.ice-addresses", List.of("127.0.0.1"))
                .set("gateway.admin.username", "ops")
                .set("gateway.admin.password-hash", PasswordHash.create(PASSWORD.toCharArray(), 20_000).toString())
                .start();
    }

    @AfterAll
    static void stop() {
        Closing.all(browser, gw, sipp, lossy);
    }

    @Test
    void answeredCallsMoveTheCallMetricsAndLossLowersTheirMos() throws Exception {
        try (WsTestClient ws = registered("1001")) {
            PrometheusText before = scrape();

            // A clean call: SIPp echoes every packet.
            String clean = placeAndHearAudio(ws, "5000", 150);
            PrometheusText during = scrape();
            assertEquals(1.0, during.value("gateway_calls", "direction", "outgoing", "state", "connected"));
            assertTrue(during.value("gateway_media_packets_total", "kind", "audio", "direction", "browser-to-sip")
                    > before.value("gateway_media_packets_total", "kind", "audio", "direction", "browser-to-sip"),
                    "a call in progress is counted at scrape time");
            hangUp(ws, clean);
            PrometheusText afterClean = awaitEnded(before, "outgoing", "ok", "local-hangup", "2xx");

            assertEquals(1.0, delta(before, afterClean, "gateway_calls_started_total", "direction", "outgoing"));
            for (String phase : List.of("request-to-invite", "invite-to-answer", "answer-to-media")) {
                assertEquals(1.0, delta(before, afterClean, "gateway_call_setup_seconds_count", "direction", "outgoing",
                        "phase", phase), phase);
            }
            assertTrue(afterClean.value("gateway_call_setup_seconds_sum", "direction", "outgoing", "phase",
                    "invite-to-answer") > before.value("gateway_call_setup_seconds_sum", "direction", "outgoing", "phase",
                    "invite-to-answer"), "SIPp rings 200 ms before its 200");
            for (String direction : List.of("browser-to-sip", "sip-to-browser")) {
                assertTrue(delta(before, afterClean, "gateway_media_packets_total", "kind", "audio", "direction", direction)
                        > 100, direction);
                assertTrue(delta(before, afterClean, "gateway_media_bytes_total", "kind", "audio", "direction", direction)
                        > 100 * 172, direction);
                assertEquals(1.0, delta(before, afterClean, "gateway_call_jitter_seconds_count", "direction", direction));
            }
            assertEquals(1.0, delta(before, afterClean, "gateway_call_mos_count", "codec", "pcmu"));
            double cleanMos = delta(before, afterClean, "gateway_call_mos_sum", "codec", "pcmu");
            assertTrue(cleanMos > 4.0, "a clean call on loopback: " + cleanMos);

            Map<String, String> cleanRecord = recordLine(clean);
            SipMessage invite = sipp.awaitReceived(m -> m.isRequest() && m.method().equals("INVITE")
                    && m.requestUri().startsWith("sip:5000@"), 1, STEP, "the INVITE to 5000").get(0);
            assertEquals(invite.callId(), cleanRecord.get("sipCallId"));
            assertEquals("cm-gw", cleanRecord.get("instance"));
            assertEquals("1001", cleanRecord.get("dn"));
            assertEquals("5000", cleanRecord.get("remote"));
            assertEquals("outgoing", cleanRecord.get("direction"));
            assertEquals("ok", cleanRecord.get("result"));
            assertEquals("local-hangup", cleanRecord.get("reason"));
            assertEquals("-", cleanRecord.get("sipStatus"));
            assertEquals("PCMU", cleanRecord.get("codec"));
            assertTrue(!cleanRecord.get("connect").equals("-") && Double.parseDouble(cleanRecord.get("duration")) > 1,
                    cleanRecord.toString());
            assertTrue(Long.parseLong(cleanRecord.get("browserToSip.packets")) > 100, cleanRecord.toString());
            assertTrue(Long.parseLong(cleanRecord.get("sipToBrowser.packets")) > 100, cleanRecord.toString());
            assertEquals(cleanMos, Double.parseDouble(cleanRecord.get("mos")), 0.006, "the metric's sample is the record's");

            // The same call, except that the far end (the test's RtpEcho) leaves out every 10th packet it echoes.
            long droppedBefore = lossy.droppedRtpPackets();
            long rtcpBefore = lossy.rtcpPackets();
            String lossyCall = placeAndHearAudio(ws, "lossy", 150);
            Poll.until(STEP, "the echo left out 15 packets and answered an SR", () -> lossy.droppedRtpPackets()
                    >= droppedBefore + 15 && lossy.rtcpPackets() > rtcpBefore);
            hangUp(ws, lossyCall);
            PrometheusText afterLossy = awaitEnded(afterClean, "outgoing", "ok", "local-hangup", "2xx");

            Map<String, String> lossyRecord = recordLine(lossyCall);
            long lost = Long.parseLong(lossyRecord.get("sipToBrowser.lost"));
            double lossPct = Double.parseDouble(lossyRecord.get("sipToBrowser.lossPct"));
            assertTrue(lost >= 15, lossyRecord.toString());
            assertTrue(lossPct > 7 && lossPct < 13, "one packet in ten: " + lossyRecord);
            assertEquals("0", lossyRecord.get("browserToSip.lost"), lossyRecord.toString());
            double lossyMos = Double.parseDouble(lossyRecord.get("mos"));
            assertTrue(lossyMos < Double.parseDouble(cleanRecord.get("mos")) - 0.5,
                    "10 % loss lowers the MOS (E-model: about 3.4 against 4.4): " + lossyMos + " vs " + cleanRecord);
            assertEquals(lossyMos, Double.parseDouble(lossyRecord.get("sipToBrowser.mos")), 1e-9,
                    "the call's MOS is its worse direction's");
            assertTrue(delta(afterClean, afterLossy, "gateway_media_lost_packets_total", "kind", "audio", "direction",
                    "sip-to-browser") >= lost);
            // The echo answered the browser's SRs the gateway forwarded: the SIP leg's RTT (loopback: under 50 ms).
            double sipRtt = Double.parseDouble(lossyRecord.get("sipRttMs"));
            assertTrue(sipRtt >= 0 && sipRtt < 50, lossyRecord.toString());
            assertEquals(1.0, delta(afterClean, afterLossy, "gateway_call_rtt_seconds_count", "leg", "sip"));
            assertEquals(1.0, delta(afterClean, afterLossy, "gateway_call_rtt_seconds_bucket", "leg", "sip", "le", "0.05"));
            assertEquals(1.0, delta(afterClean, afterLossy, "gateway_call_mos_bucket", "codec", "pcmu", "le", "3.6"),
                    "the lossy call's MOS is below G.109's 'many users dissatisfied' bound");
            assertEquals(0.0, delta(before, afterClean, "gateway_call_mos_bucket", "codec", "pcmu", "le", "4.03"),
                    "the clean call's is above 'some users dissatisfied'");

            // Both in the admin API's call records, newest first.
            JsonNode records = admin("/admin/api/call-records?dn=1001");
            assertEquals(lossyCall, records.path("items").path(0).path("id").asText(), records.toString());
            JsonNode item = records.path("items").path(0);
            assertEquals("ok", item.path("result").asText());
            assertEquals(lost, item.at("/sipToBrowser/lost").asLong(), item.toString());
            assertEquals(lossyMos, item.path("mos").asDouble(), 0.006, item.toString());
            assertEquals(clean, records.path("items").path(1).path("id").asText(), records.toString());
        }
    }

    @Test
    void aRejectedCallShowsItsCause() throws Exception {
        try (WsTestClient ws = registered("1003")) {
            PrometheusText before = scrape();
            String call = ws.ok("call", "to", "busy", "sdp", browser.createOffer()).path("call").asText();
            JsonNode ended = ws.awaitEvent("ended", STEP);
            assertEquals(486, ended.path("sipStatus").asInt(), ended.toString());
            browser.hangUp();
            PrometheusText after = awaitEnded(before, "outgoing", "failed", "rejected", "4xx");
            assertEquals(1.0, delta(before, after, "gateway_calls_started_total", "direction", "outgoing"));
            assertEquals(1.0, delta(before, after, "gateway_call_setup_seconds_count", "direction", "outgoing", "phase",
                    "request-to-invite"));
            assertEquals(0.0, delta(before, after, "gateway_call_setup_seconds_count", "direction", "outgoing", "phase",
                    "invite-to-answer"), "never answered");
            assertEquals(0.0, delta(before, after, "gateway_call_mos_count", "codec", "pcmu"), "no audio, no MOS");

            Map<String, String> record = recordLine(call);
            assertEquals("failed", record.get("result"));
            assertEquals("rejected", record.get("reason"));
            assertEquals("486", record.get("sipStatus"));
            assertEquals("Busy Here", record.get("sipReason"));
            assertEquals("-", record.get("connect"));
            assertEquals("0.000", record.get("duration"));
            assertEquals("-", record.get("mos"));
            assertEquals("0", record.get("browserToSip.packets"));

            JsonNode item = admin("/admin/api/call-records?dn=1003").path("items").path(0);
            assertEquals(call, item.path("id").asText(), item.toString());
            assertEquals(486, item.path("sipStatus").asInt());
            assertTrue(item.path("mos").isNull() && item.path("connectedAt").isNull(), item.toString());
        }
    }

    @Test
    void anIncomingCallGivesItsOwnSetupSteps() throws Exception {
        try (WsTestClient ws = registered("1002")) {
            PrometheusText before = scrape();
            try (Sipp caller = Sipp.scenario("uac-echo.xml").name("caller").remote("127.0.0.1:" + gw.sipPort())
                    .args("-s", "1002", "-mi", "127.0.0.1", "-mp", String.valueOf(FreePorts.sippMedia()), "-rtp_echo")
                    .maxCalls(1).start()) {
                JsonNode incoming = ws.awaitEvent("incoming", STEP);
                String call = incoming.path("call").asText();
                ws.ok("answer", "call", call, "sdp", browser.setOffer(incoming.path("sdp").asText()));
                ws.awaitEvent("connected", STEP);
                PrometheusText during = Poll.until(STEP, "the incoming call's media up", CallMetricsIT::scrape,
                        m -> m.value("gateway_call_setup_seconds_count", "direction", "incoming", "phase",
                                "answer-to-media") > before.value("gateway_call_setup_seconds_count", "direction",
                                "incoming", "phase", "answer-to-media"));
                assertEquals(1.0, during.value("gateway_calls", "direction", "incoming", "state", "connected"));
                long received = browser.stats().packetsReceived();
                Poll.until(STEP, "echoed audio", () -> browser.stats().packetsReceived() > received + 50);
                // An INFO is uac-echo.xml's cue to hang up.
                ws.ok("info", "call", call, "contentType", "text/plain", "body", "hang-up");
                assertEquals("remote-hangup", ws.awaitEvent("ended", STEP).path("reason").asText());
                assertEquals(0, caller.waitForExit(STEP), () -> "SIPp's call failed: " + caller.errors());
                browser.hangUp();

                PrometheusText after = awaitEnded(before, "incoming", "ok", "remote-hangup", "2xx");
                assertEquals(1.0, delta(before, after, "gateway_calls_started_total", "direction", "incoming"));
                for (String phase : List.of("invite-to-browser-offer", "invite-to-answer", "answer-to-media")) {
                    assertEquals(1.0, delta(before, after, "gateway_call_setup_seconds_count", "direction", "incoming",
                            "phase", phase), phase);
                }
                Map<String, String> record = recordLine(call);
                assertEquals("incoming", record.get("direction"));
                assertEquals("1002", record.get("dn"));
                assertEquals("5000", record.get("remote"));
                assertEquals("remote-hangup", record.get("reason"));
                assertTrue(!record.get("mos").equals("-"), record.toString());
            }
        }
    }

    // ---- helpers ------------------------------------------------------------------------------------

    /** A WebSocket session that said hello, keeps itself alive and registered {@code dn}. */
    private static WsTestClient registered(String dn) {
        WsTestClient ws = WsTestClient.connect(gw.wsUrl());
        try {
            ws.ok("hello");
            ws.startKeepalive(Duration.ofSeconds(5));
            ws.ok("register", "dn", dn);
            return ws;
        } catch (RuntimeException | AssertionError e) {
            ws.close();
            throw e;
        }
    }

    /** Calls {@code to}; returns the call id once the browser received {@code packets} more echoed packets. */
    private static String placeAndHearAudio(WsTestClient ws, String to, long packets) {
        long before = browser.stats().packetsReceived();
        String call = ws.ok("call", "to", to, "sdp", browser.createOffer()).path("call").asText();
        JsonNode connected = ws.awaitEvent("connected", STEP);
        browser.setAnswer(connected.path("sdp").asText());
        browser.awaitIceState("connected", STEP);
        Poll.until(Duration.ofSeconds(20), packets + " echoed packets at the browser",
                () -> browser.stats().packetsReceived() > before + packets);
        return call;
    }

    private static void hangUp(WsTestClient ws, String call) {
        ws.ok("hangup", "call", call);
        assertEquals("local-hangup", ws.awaitEvent("ended", STEP).path("reason").asText());
        browser.hangUp();
    }

    /** Scrapes until no call is in progress and one more ended this way than in {@code before}. */
    private static PrometheusText awaitEnded(PrometheusText before, String direction, String result, String reason,
                                             String sipClass) {
        String[] labels = {"direction", direction, "result", result, "reason", reason, "sip_class", sipClass};
        double was = before.valueOrZero("gateway_calls_ended_total", labels);
        return Poll.until(STEP, "no call in progress and one more " + String.join(" ", labels), CallMetricsIT::scrape,
                m -> m.valueOrZero("gateway_calls_ended_total", labels) == was + 1
                        && m.find("gateway_calls", Map.of()).stream().allMatch(s -> s.value() == 0));
    }

    private static double delta(PrometheusText from, PrometheusText to, String name, String... labels) {
        return to.valueOrZero(name, labels) - from.valueOrZero(name, labels);
    }

    private static PrometheusText scrape() {
        return PrometheusText.parse(get(gw.httpUrl() + "/metrics", null).body());
    }

    /** The fields of the call's record line in the gateway's log (logger io.webrtcgateway.call.record). */
    private static Map<String, String> recordLine(String call) {
        String line = Poll.untilPresent(STEP, "the record of call " + call + " in " + gw.logFile(), () -> {
            try {
                return Files.readAllLines(gw.logFile(), StandardCharsets.UTF_8).stream()
                        .filter(l -> l.contains(" io.webrtcgateway.call.record - ") && l.contains("call=" + call + " "))
                        .findFirst();
            } catch (IOException e) {
                return Optional.empty();
            }
        });
        return CallRecordTest.fields(line.substring(line.indexOf(" - ") + 3));
    }

    private static JsonNode admin(String path) throws IOException {
        String basic = "Basic " + Base64.getEncoder().encodeToString(("ops:" + PASSWORD).getBytes(StandardCharsets.UTF_8));
        HttpResponse<String> r = get(gw.httpUrl() + path, basic);
        assertEquals(200, r.statusCode(), r.body());
        return JSON.readTree(r.body());
    }

    private static HttpResponse<String> get(String url, String authorization) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url));
        if (authorization != null) {
            b.header("Authorization", authorization);
        }
        try {
            return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
