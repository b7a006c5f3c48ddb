package io.webrtcgateway.call;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.webrtcgateway.sdp.MediaDescription;
import io.webrtcgateway.sdp.SdpParser;
import io.webrtcgateway.sdp.SessionDescription;
import io.webrtcgateway.testsupport.ChromiumPeer;
import io.webrtcgateway.testsupport.Closing;
import io.webrtcgateway.testsupport.FreePorts;
import io.webrtcgateway.testsupport.GatewayProcess;
import io.webrtcgateway.testsupport.Poll;
import io.webrtcgateway.testsupport.SipMessage;
import io.webrtcgateway.testsupport.Sipp;
import io.webrtcgateway.testsupport.WsTestClient;
import java.time.Duration;
import java.util.List;
import java.util.TreeMap;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Audio and video through the bridge with real peers: headless Chromium sends its fake microphone and camera
 * on one BUNDLE transport (one ICE/DTLS 5-tuple, RFC 8843); the gateway splits it into two plain RTP/AVP
 * streams on separate ports toward SIPp, which answers PCMU on its media port and VP8 on media port + 2 and
 * echoes both (-rtp_echo). The browser decoding its own video and audio coming back proves all four legs
 * (browser -> SIP and SIP -> browser, audio and video) carry packets. Then hold/resume (both m-lines in each
 * re-INVITE) and hang-up. The WebSocket protocol is spoken by the test itself.
 */
class VideoCallIT {
    private static Sipp sipp;
    private static GatewayProcess gw;
    private static ChromiumPeer browser;

    @BeforeAll
    static void start() {
        int mediaPort = FreePorts.sippMedia();
        sipp = Sipp.scenario("uas-echo-video.xml")
                .args("-mp", String.valueOf(mediaPort), "-mi", "127.0.0.1", "-rtp_echo").start();
        gw = GatewayProcess.builder().sipServers(sipp.serverEntry())
                .set("gateway.media.ice-addresses", List.of("127.0.0.1"))
                .start();
        browser = ChromiumPeer.builder().name("browser").video().audioCodecs("PCMU", "telephone-event").start();
    }

    @AfterAll
    static void stop() {
        Closing.all(browser, gw, sipp);
    }

    @Test
    void bundledAudioAndVideoFlowBothWaysAsTwoPlainRtpStreams() throws Exception {
        try (WsTestClient ws = WsTestClient.connect(gw.wsUrl())) {
            ws.ok("hello");
            ws.startKeepalive(Duration.ofSeconds(5));
            String offer = browser.createOffer();
            SessionDescription browserOffer = SdpParser.parse(offer);
            assertEquals(List.of("audio", "video"), kinds(browserOffer), offer);
            assertEquals(2, browserOffer.bundleGroup().size(), "the browser bundles both: " + offer);

            String call = ws.ok("call", "to", "5000", "sdp", offer).path("call").asText();

            // 1. Toward SIP: two plain RTP/AVP streams on their own ports, nothing of ICE, DTLS or BUNDLE.
            SipMessage invite = sipp.awaitRequests("INVITE", 1, Duration.ofSeconds(10)).get(0);
            SessionDescription sipOffer = SdpParser.parse(invite.body());
            assertEquals(List.of("audio", "video"), kinds(sipOffer), invite.body());
            MediaDescription sipAudio = sipOffer.media().get(0);
            MediaDescription sipVideo = sipOffer.media().get(1);
            for (MediaDescription m : sipOffer.media()) {
                assertEquals("RTP/AVP", m.protocol(), m.mLine());
                assertTrue(m.port() > 0, m.mLine());
            }
            assertNotEquals(sipAudio.port(), sipVideo.port(), "separate ports per stream: " + invite.body());
            assertTrue(invite.body().contains(" VP8/90000"), "VP8 offered toward SIP: " + invite.body());
            for (String webRtcOnly : List.of("a=group:BUNDLE", "a=mid", "a=ice-ufrag", "a=ice-pwd", "a=candidate",
                    "a=fingerprint", "a=setup", "a=rtcp-mux", "a=ssrc", "a=extmap", "a=rtcp-fb")) {
                assertFalse(invite.body().contains(webRtcOnly), webRtcOnly + " toward SIP: " + invite.body());
            }

            // 2. Toward the browser: both m-lines bundled on one transport, VP8 answered.
            ws.awaitEvent("ringing", Duration.ofSeconds(10));
            JsonNode connected = ws.awaitEvent("connected", Duration.ofSeconds(10));
            assertEquals(call, connected.path("call").asText());
            String answer = connected.path("sdp").asText();
            SessionDescription browserAnswer = SdpParser.parse(answer);
            assertEquals(List.of("audio", "video"), kinds(browserAnswer), answer);
            List<String> mids = browserAnswer.media().stream().map(m -> m.mid().orElseThrow()).toList();
            assertEquals(mids, browserAnswer.bundleGroup(), "a=group:BUNDLE with both mids: " + answer);
            MediaDescription answerAudio = browserAnswer.media().get(0);
            MediaDescription answerVideo = browserAnswer.media().get(1);
            assertEquals(answerAudio.port(), answerVideo.port(), "one transport: " + answer);
            assertEquals(browserAnswer.attributeOf(answerAudio, "ice-ufrag"),
                    browserAnswer.attributeOf(answerVideo, "ice-ufrag"), answer);
            assertTrue(answerVideo.attributeValues("rtpmap").stream().anyMatch(v -> v.endsWith(" VP8/90000")),
                    answerVideo.mLine() + " in " + answer);
            browser.setAnswer(answer);

            // 3. Both streams both ways: the browser decodes the video and hears the audio it sent.
            browser.awaitIceState("connected", Duration.ofSeconds(15));
            ChromiumPeer.Stats stats = withGatewayStats(ws, call, () -> Poll.until(Duration.ofSeconds(30),
                    "echoed video and audio decoded by the browser", browser::stats,
                    s -> s.videoFramesDecoded() > 30 && s.packetsReceived() > 50 && s.totalAudioEnergy() > 0));
            assertEquals("connected", stats.dtlsState());
            assertEquals("VP8/90000", stats.videoInbound().codec(), stats.toString());
            assertEquals("VP8/90000", stats.videoOutbound().codec(), stats.toString());
            assertTrue(stats.videoOutbound().packets() > 0 && stats.packetsSent() > 50, stats.toString());
            long frames = stats.videoFramesDecoded();
            Poll.until(Duration.ofSeconds(20), "video keeps being decoded",
                    () -> browser.stats().videoFramesDecoded() > frames + 30);

            // 4. The gateway's own counters: one relay per m-line, packets both ways on each.
            JsonNode gwStats = ws.ok("stats", "call", call).path("stats");
            assertEquals("connected", gwStats.path("state").asText(), gwStats.toString());
            JsonNode streams = streams(gwStats);
            assertEquals(2, streams.size(), "a relay per m-line: " + gwStats);
            assertEquals("audio", streams.get(0).path("kind").asText(), gwStats.toString());
            assertEquals("video", streams.get(1).path("kind").asText(), gwStats.toString());
            for (JsonNode stream : streams) {
                assertTrue(stream.path("browserToSip").path("packets").asLong() > 50, "browser -> SIP: " + stream);
                assertTrue(stream.path("sipToBrowser").path("packets").asLong() > 50, "SIP -> browser: " + stream);
            }
            // The browser's video RTCP (SR, RR, PLI) reaches the video relay, not the audio one.
            assertTrue(streams.get(1).path("browserToSip").path("rtcpPackets").asLong() > 0, streams.get(1).toString());

            // 5. Hold and resume: each re-INVITE carries both m-lines, sendonly then sendrecv.
            ws.ok("hold", "call", call);
            ws.awaitEvent("held", Duration.ofSeconds(10));
            SessionDescription hold = reofferAfter(invite, 2);
            assertDirections(hold, "sendonly");
            assertEquals(sipAudio.port(), hold.media().get(0).port(), "same ports on hold");
            assertEquals(sipVideo.port(), hold.media().get(1).port(), "same ports on hold");
            ws.ok("resume", "call", call);
            ws.awaitEvent("resumed", Duration.ofSeconds(10));
            assertDirections(reofferAfter(invite, 3), "sendrecv");
            long framesAtResume = browser.stats().videoFramesDecoded();
            long audioAtResume = browser.stats().packetsReceived();
            Poll.until(Duration.ofSeconds(20), "video and audio flowing after resume", browser::stats,
                    s -> s.videoFramesDecoded() > framesAtResume + 30 && s.packetsReceived() > audioAtResume + 50);

            // 6. Hang-up.
            ws.ok("hangup", "call", call);
            sipp.awaitRequests("BYE", 1, Duration.ofSeconds(10));
            JsonNode ended = ws.awaitEvent("ended", Duration.ofSeconds(5));
            assertEquals("local-hangup", ended.path("reason").asText());
            browser.hangUp();
        }
    }

    /** A failed wait says what the gateway counted too (which leg lost the packets). */
    private static <T> T withGatewayStats(WsTestClient ws, String call, Supplier<T> wait) {
        try {
            return wait.get();
        } catch (AssertionError e) {
            throw new AssertionError(e.getMessage() + "\ngateway: " + ws.request("stats", "call", call), e);
        }
    }

    private static List<String> kinds(SessionDescription sdp) {
        return sdp.media().stream().map(MediaDescription::media).toList();
    }

    /** The media stream stats under the call's stats (the bridge's {@code streams}: one per m-line, audio first). */
    private static JsonNode streams(JsonNode callStats) {
        JsonNode streams = callStats.findValue("streams");
        assertTrue(streams != null && streams.isArray(), "no streams in " + callStats);
        return streams;
    }

    /** The {@code count}-th INVITE of the INVITE's dialog (2 = the first re-INVITE); retransmissions count once. */
    private static SessionDescription reofferAfter(SipMessage invite, int count) {
        List<SipMessage> invites = sipp.awaitReceived(m -> m.isRequest() && m.method().equals("INVITE")
                && m.callId().equals(invite.callId()), count, Duration.ofSeconds(10), count + " INVITEs in the dialog");
        List<SipMessage> distinct = invites.stream()
                .collect(Collectors.toMap(SipMessage::cseq, m -> m, (a, b) -> a, TreeMap::new))
                .values().stream().toList();
        assertTrue(distinct.size() >= count, "INVITEs in the dialog: " + distinct);
        return SdpParser.parse(distinct.get(count - 1).body());
    }

    private static void assertDirections(SessionDescription sdp, String direction) {
        assertEquals(List.of("audio", "video"), kinds(sdp), sdp.toString());
        for (MediaDescription m : sdp.media()) {
            assertTrue(m.port() > 0 && m.hasAttribute(direction), direction + " on " + m.mLine() + ": " + m);
        }
    }
}
