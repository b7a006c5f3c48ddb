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
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Audio and video through the bridge with real peers: headless Chromium sends its fake microphone and camera
 * on one BUNDLE transport (one ICE/DTLS 5-tuple, RFC 8843); the gateway splits it into two plain RTP/AVP
 * streams on separate ports toward SIPp, which answers PCMU on its media port and VP8 on media port + 2 and
 * echoes both (-rtp_echo). The browser decoding its own video and audio coming back proves all four legs
 * (browser -> SIP and SIP -> browser, audio and video) carry packets. Then hold/resume (both m-lines in each
 * re-INVITE) and hang-up. The same with an H.264-only browser, and a video call SIP Server places to a DN
 * the browser registered (SIPp as UAC, {@code uac-echo-video.xml}, echoing both streams). The WebSocket
 * protocol is spoken by the test itself.
 */
class VideoCallIT {
    private static final Duration STEP = Duration.ofSeconds(15);
    private static final String DN = "1001";
    /** The browser leg's own attributes (ICE, DTLS-SRTP, BUNDLE, rtcp-mux, RTP extensions, feedback). */
    private static final List<String> WEBRTC_ONLY = List.of("a=group:BUNDLE", "a=mid", "a=ice-ufrag", "a=ice-pwd",
            "a=candidate", "a=fingerprint", "a=setup", "a=rtcp-mux", "a=ssrc", "a=extmap", "a=rtcp-fb");

    private static Sipp sipp;
    private static GatewayProcess gw;
    private static ChromiumPeer browser;

    @BeforeAll
    static void start() {
        // Chromium starts (start() returns at once) while the gateway does.
        browser = ChromiumPeer.builder().name("browser").video().audioCodecs("PCMU", "telephone-event").start();
        int mediaPort = FreePorts.sippMedia();
        sipp = Sipp.scenario("uas-echo-video.xml")
                .args("-mp", String.valueOf(mediaPort), "-mi", "127.0.0.1", "-rtp_echo").start();
        gw = GatewayProcess.builder().sipServers(sipp.serverEntry())
                .set("gateway.media.ice-addresses", List.of("127.0.0.1"))
                .start();
    }

    @AfterAll
    static void stop() {
        Closing.all(browser, gw, sipp);
    }

    /** One RTCPeerConnection per test: a test that failed half-way leaves none open for the next. */
    @AfterEach
    void closePeerConnection() {
        browser.hangUp();
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

            Set<String> earlierCalls = sippCallIds();
            String call = ws.ok("call", "to", "5000", "sdp", offer).path("call").asText();

            // 1. Toward SIP: two plain RTP/AVP streams on their own ports, nothing of ICE, DTLS or BUNDLE.
            SipMessage invite = newInvite(earlierCalls);
            SessionDescription sipOffer = twoPlainRtpStreams(invite.body());
            MediaDescription sipAudio = sipOffer.media().get(0);
            MediaDescription sipVideo = sipOffer.media().get(1);
            assertTrue(invite.body().contains(" VP8/90000"), "VP8 offered toward SIP: " + invite.body());

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
            awaitBye(invite);
            JsonNode ended = ws.awaitEvent("ended", Duration.ofSeconds(5));
            assertEquals("local-hangup", ended.path("reason").asText());
        }
    }

    /**
     * The browser offers only H.264 (every packetization-mode and profile Chromium has); SIPp answers the
     * first H.264 payload type with its fmtp (RFC 6184 §8.2.2: packetization-mode and profile must match).
     * The browser encodes H.264, and decodes it coming back through both legs of the bridge.
     */
    @Test
    void h264OnlyVideoFlowsBothWays() {
        try (ChromiumPeer h264Browser = ChromiumPeer.builder().name("h264-browser").video().videoCodecs("H264")
                .audioCodecs("PCMU", "telephone-event").start();
             WsTestClient ws = WsTestClient.connect(gw.wsUrl())) {
            ws.ok("hello");
            ws.startKeepalive(Duration.ofSeconds(5));
            String offer = h264Browser.createOffer();
            MediaDescription offeredVideo = SdpParser.parse(offer).media().get(1);
            assertTrue(offeredVideo.attributeValues("rtpmap").stream().allMatch(v -> v.endsWith(" H264/90000")),
                    "only H.264 offered: " + offer);

            Set<String> earlierCalls = sippCallIds();
            String call = ws.ok("call", "to", "5000", "sdp", offer).path("call").asText();
            SipMessage invite = newInvite(earlierCalls);
            MediaDescription sipVideo = twoPlainRtpStreams(invite.body()).media().get(1);
            assertTrue(sipVideo.attributeValues("rtpmap").stream().allMatch(v -> v.endsWith(" H264/90000")),
                    "only H.264 toward SIP: " + invite.body());
            assertTrue(sipVideo.attributeValues("fmtp").stream().anyMatch(v -> v.contains("packetization-mode=1")),
                    "H.264 fmtp toward SIP: " + invite.body());

            String answer = ws.awaitEvent("connected", STEP).path("sdp").asText();
            MediaDescription answerVideo = SdpParser.parse(answer).media().get(1);
            assertEquals(List.of(" H264/90000"), answerVideo.attributeValues("rtpmap").stream()
                    .map(v -> v.substring(v.indexOf(' '))).toList(), "one H.264 answered: " + answer);
            h264Browser.setAnswer(answer);

            h264Browser.awaitIceState("connected", STEP);
            ChromiumPeer.Stats stats = withGatewayStats(ws, call, () -> Poll.until(Duration.ofSeconds(30),
                    "echoed H.264 decoded by the browser", h264Browser::stats,
                    s -> s.videoFramesDecoded() > 30 && s.packetsReceived() > 50));
            assertEquals("H264/90000", stats.videoInbound().codec(), stats.toString());
            assertEquals("H264/90000", stats.videoOutbound().codec(), stats.toString());
            long frames = stats.videoFramesDecoded();
            Poll.until(Duration.ofSeconds(20), "H.264 keeps being decoded",
                    () -> h264Browser.stats().videoFramesDecoded() > frames + 30);
            JsonNode video = streams(ws.ok("stats", "call", call).path("stats")).get(1);
            assertEquals("video", video.path("kind").asText(), video.toString());
            assertTrue(video.path("browserToSip").path("packets").asLong() > 50
                    && video.path("sipToBrowser").path("packets").asLong() > 50, video.toString());

            ws.ok("hangup", "call", call);
            awaitBye(invite);
            assertEquals("local-hangup", ws.awaitEvent("ended", STEP).path("reason").asText());
        }
    }

    /**
     * SIP Server places the video call: SIPp ({@code uac-echo-video.xml}) offers plain RTP/AVP audio (PCMU)
     * and video (VP8, H.264) on two ports to the DN the WebSocket session registered. The gateway offers the
     * browser both m-lines on one BUNDLE transport, the browser answers audio and video, SIP Server gets a
     * plain two-port answer, and SIPp echoes both streams back to the browser. SIPp then hangs up.
     */
    @Test
    void sipCallerReachesTheRegisteredBrowserWithAudioAndVideo() {
        try (WsTestClient ws = registeredClient()) {
            try (Sipp caller = callerWith("uac-echo-video.xml")) {
                // 1. Toward the browser: one BUNDLE transport for both of SIP Server's m-lines.
                JsonNode incoming = ws.awaitEvent("incoming", STEP);
                String call = incoming.path("call").asText();
                assertEquals("5000", incoming.path("from").asText(), incoming.toString());
                String offer = incoming.path("sdp").asText();
                SessionDescription gatewayOffer = SdpParser.parse(offer);
                assertEquals(List.of("audio", "video"), kinds(gatewayOffer), offer);
                List<String> mids = gatewayOffer.media().stream().map(m -> m.mid().orElseThrow()).toList();
                assertEquals(mids, gatewayOffer.bundleGroup(), "a=group:BUNDLE with both mids: " + offer);
                MediaDescription offerAudio = gatewayOffer.media().get(0);
                MediaDescription offerVideo = gatewayOffer.media().get(1);
                assertEquals(offerAudio.port(), offerVideo.port(), "one transport: " + offer);
                for (MediaDescription m : gatewayOffer.media()) {
                    assertEquals("UDP/TLS/RTP/SAVPF", m.protocol(), m.mLine());
                    assertTrue(m.hasAttribute("rtcp-mux"), m.mLine() + " in " + offer);
                }
                for (String codec : List.of(" VP8/90000", " H264/90000")) {
                    assertTrue(offerVideo.attributeValues("rtpmap").stream().anyMatch(v -> v.endsWith(codec)),
                            codec + " offered to the browser: " + offer);
                }

                String answer = browser.setOffer(offer);
                SessionDescription browserAnswer = SdpParser.parse(answer);
                assertEquals(List.of("audio", "video"), kinds(browserAnswer), answer);
                assertTrue(browserAnswer.media().stream().allMatch(m -> m.port() > 0), "both accepted: " + answer);
                ws.ok("answer", "call", call, "sdp", answer);
                ws.awaitEvent("connected", STEP);

                // 2. Toward SIP: the 200 OK answers with two plain RTP/AVP streams on their own ports.
                SipMessage ok = caller.awaitReceived(m -> !m.isRequest() && m.status() == 200 && m.cseq() == 1, 1,
                        STEP, "200 OK to the INVITE").get(0);
                MediaDescription sipVideo = twoPlainRtpStreams(ok.body()).media().get(1);
                // The browser sends its answer's first codec; SIPp's offer put VP8 first, Chromium keeps that order.
                String sipVideoCodec = rtpmapOf(sipVideo, sipVideo.formats().get(0));
                assertEquals("VP8/90000", sipVideoCodec, ok.body());

                // 3. Both streams both ways: SIPp echoes what the browser sends on each port.
                browser.awaitIceState("connected", STEP);
                ChromiumPeer.Stats stats = withGatewayStats(ws, call, () -> Poll.until(Duration.ofSeconds(30),
                        "echoed video and audio decoded by the browser", browser::stats,
                        s -> s.videoFramesDecoded() > 30 && s.packetsReceived() > 50 && s.totalAudioEnergy() > 0));
                assertEquals(sipVideoCodec, stats.videoOutbound().codec(), stats.toString());
                assertEquals(sipVideoCodec, stats.videoInbound().codec(), stats.toString());
                long frames = stats.videoFramesDecoded();
                Poll.until(Duration.ofSeconds(20), "video keeps being decoded",
                        () -> browser.stats().videoFramesDecoded() > frames + 30);

                JsonNode streams = streams(ws.ok("stats", "call", call).path("stats"));
                assertEquals(List.of("audio", "video"), kindsOf(streams), streams.toString());
                for (JsonNode stream : streams) {
                    assertTrue(stream.path("browserToSip").path("packets").asLong() > 50, "browser -> SIP: " + stream);
                    assertTrue(stream.path("sipToBrowser").path("packets").asLong() > 50, "SIP -> browser: " + stream);
                }

                // 4. The INFO is uac-echo-video.xml's cue to hang up.
                hangUpFromSip(ws, call, caller);
            }
        }
    }

    /**
     * A keyframe request from the SIP side reaches the browser's encoder. A video phone or MCU behind SIP
     * Server asks with RTCP PLI (RFC 4585 §6.3.1) on the video m-line's RTCP port, naming the SSRC the gateway
     * sends it (the stream stats' {@code browserToSip.ssrc}); the gateway names the browser's own SSRC instead
     * and sends it over SRTCP, and Chromium counts it ({@code pliCount}) and encodes a keyframe. A PLI naming
     * another SSRC is removed ({@code rtcpFiltered}) while the RR in front of it passes; a FIR naming the SSRC in
     * its FCI entry is counted too ({@code firCount}). SIPp echoes RTP but
     * sends no RTCP, so the test sends the RTCP itself, from SIPp's address.
     */
    @Test
    void sipSideKeyframeRequestReachesTheBrowserEncoder() throws Exception {
        try (WsTestClient ws = WsTestClient.connect(gw.wsUrl());
             DatagramChannel phone = DatagramChannel.open().bind(new InetSocketAddress("127.0.0.1", 0))) {
            ws.ok("hello");
            ws.startKeepalive(Duration.ofSeconds(5));
            Set<String> earlierCalls = sippCallIds();
            String call = ws.ok("call", "to", "5000", "sdp", browser.createOffer()).path("call").asText();
            SessionDescription sipOffer = twoPlainRtpStreams(newInvite(earlierCalls).body());
            MediaDescription sipVideo = sipOffer.media().get(1);
            browser.setAnswer(ws.awaitEvent("connected", STEP).path("sdp").asText());
            browser.awaitIceState("connected", STEP);
            ChromiumPeer.Stats decoding = withGatewayStats(ws, call, () -> Poll.until(Duration.ofSeconds(30),
                    "echoed video decoded by the browser", browser::stats, s -> s.videoFramesDecoded() > 30));

            // The stream stats name the SSRCs of both legs: the browser's own, and the one the SIP side sees.
            JsonNode video = streams(ws.ok("stats", "call", call).path("stats")).get(1);
            long towardSip = video.path("browserToSip").path("ssrc").asLong();
            assertEquals(decoding.json().path("video").path("outbound").path("ssrc").asLong(),
                    video.path("browserToSip").path("sourceSsrc").asLong(), "the browser's video SSRC: " + video);
            assertEquals(decoding.json().path("video").path("inbound").path("ssrc").asLong(),
                    video.path("sipToBrowser").path("ssrc").asLong(), "the SSRC the browser receives: " + video);
            assertNotEquals(video.path("browserToSip").path("sourceSsrc").asLong(), towardSip,
                    "the SIP leg gets the gateway's own SSRC: " + video);

            int rtcpPort = sipVideo.attribute("rtcp").map(v -> Integer.parseInt(v.split(" ")[0]))
                    .orElse(sipVideo.port() + 1);
            InetSocketAddress gatewayRtcp = new InetSocketAddress(sipOffer.connectionOf(sipVideo).address(), rtcpPort);

            // 1. A PLI about a stream the gateway does not send: removed, the RR before it forwarded.
            long filtered = video.path("sipToBrowser").path("rtcpFiltered").asLong();
            long forwarded = video.path("sipToBrowser").path("rtcpPackets").asLong();
            long plis = pliCount(browser.stats());
            phone.send(ByteBuffer.wrap(receiverReportAndPli(0x5150, towardSip ^ 0xffff)), gatewayRtcp);
            Poll.until(STEP, "the stray PLI removed and its RR forwarded", () -> {
                JsonNode v = streams(ws.ok("stats", "call", call).path("stats")).get(1).path("sipToBrowser");
                return v.path("rtcpFiltered").asLong() > filtered && v.path("rtcpPackets").asLong() > forwarded;
            });
            assertEquals(plis, pliCount(browser.stats()), "no keyframe request reached the browser");

            // 2. The PLI a SIP video peer sends: the browser's encoder gets it and sends a keyframe.
            long keyframes = decoding.json().path("video").path("outbound").path("keyFramesEncoded").asLong();
            phone.send(ByteBuffer.wrap(receiverReportAndPli(0x5150, towardSip)), gatewayRtcp);
            ChromiumPeer.Stats asked = Poll.until(STEP, "the browser counting the PLI", browser::stats,
                    s -> pliCount(s) > plis);
            assertEquals(plis + 1, pliCount(asked), asked.toString());
            Poll.until(STEP, "a keyframe encoded after the PLI", browser::stats, s -> s.json().path("video")
                    .path("outbound").path("keyFramesEncoded").asLong() > keyframes);

            // 3. A FIR (RFC 5104 §4.3.1) naming the same SSRC in its FCI entry: the browser counts it too.
            long firs = asked.json().path("video").path("outbound").path("firCount").asLong();
            phone.send(ByteBuffer.wrap(receiverReportAndFir(0x5150, towardSip, 1)), gatewayRtcp);
            Poll.until(STEP, "the browser counting the FIR", browser::stats,
                    s -> s.json().path("video").path("outbound").path("firCount").asLong() > firs);

            ws.ok("hangup", "call", call);
            assertEquals("local-hangup", ws.awaitEvent("ended", STEP).path("reason").asText());
        }
    }

    /** RTCP compound as a plain SIP peer sends it: RR without blocks, then PLI (PT 206, FMT 1). */
    private static byte[] receiverReportAndPli(int senderSsrc, long mediaSsrc) {
        return ByteBuffer.allocate(20)
                .put((byte) 0x80).put((byte) 201).putShort((short) 1).putInt(senderSsrc)
                .put((byte) 0x81).put((byte) 206).putShort((short) 2).putInt(senderSsrc).putInt((int) mediaSsrc)
                .array();
    }

    /** RR without blocks, then FIR (PT 206, FMT 4) with one FCI entry: the SSRC asked and a sequence number. */
    private static byte[] receiverReportAndFir(int senderSsrc, long mediaSsrc, int sequence) {
        return ByteBuffer.allocate(28)
                .put((byte) 0x80).put((byte) 201).putShort((short) 1).putInt(senderSsrc)
                .put((byte) 0x84).put((byte) 206).putShort((short) 4).putInt(senderSsrc).putInt(0)
                .putInt((int) mediaSsrc).put((byte) sequence).put(new byte[3])
                .array();
    }

    /** Keyframe requests the browser's video sender received (Chromium's outbound-rtp pliCount). */
    private static long pliCount(ChromiumPeer.Stats stats) {
        return stats.json().path("video").path("outbound").path("pliCount").asLong();
    }

    /**
     * SIP Server adds video to an audio call ({@code uac-add-video.xml}): a re-INVITE keeps the audio and adds
     * m=video. The browser's session has no video and the gateway does not renegotiate it, so the 200 declines
     * the new stream (m=video 0, RFC 3264 §8.2) and keeps the audio on its port; the audio goes on. Before,
     * the gateway threw on the port count, left the re-INVITE unanswered and answered every later one 491.
     */
    @Test
    void sipReinviteAddingVideoToAnAudioCallIsAnsweredWithTheVideoDeclined() {
        try (WsTestClient ws = registeredClient()) {
            try (Sipp caller = callerWith("uac-add-video.xml")) {
                JsonNode incoming = answerWithBrowser(ws);
                String call = incoming.path("call").asText();
                assertEquals(List.of("audio"), kinds(SdpParser.parse(incoming.path("sdp").asText())), incoming.toString());
                int audioPort = okTo(caller, 1).media().get(0).port();
                browser.awaitIceState("connected", STEP);
                long heard = withGatewayStats(ws, call, () -> Poll.until(Duration.ofSeconds(20),
                        "echoed audio", browser::stats, s -> s.packetsReceived() > 50)).packetsReceived();

                ws.ok("info", "call", call, "contentType", "text/plain", "body", "add-video");
                SessionDescription reAnswer = okTo(caller, 2);
                assertEquals(List.of("audio", "video"), kinds(reAnswer), reAnswer.toString());
                assertEquals(audioPort, reAnswer.media().get(0).port(), "the audio stays on its port");
                assertEquals(0, reAnswer.media().get(1).port(), "the added video declined");
                Poll.until(Duration.ofSeconds(10), "audio still echoed after the re-INVITE", browser::stats,
                        s -> s.packetsReceived() > heard + 50);
                JsonNode stats = ws.ok("stats", "call", call).path("stats");
                assertEquals("connected", stats.path("state").asText(), stats.toString());
                assertEquals(List.of("audio"), kindsOf(streams(stats)), stats.toString());

                hangUpFromSip(ws, call, caller);
            }
        }
    }

    /**
     * SIP Server turns the video of an audio + video call off and on again ({@code uac-video-off-on.xml}):
     * re-INVITEs with m=video 0, then with the port back. The answers follow (m=video 0, then the same port as
     * before); while off, not one browser video packet is forwarded toward SIP and the audio goes on; once on
     * again, video flows both ways through the same relay.
     */
    @Test
    void sipReinvitesTurnTheVideoOffAndOnAgain() {
        try (WsTestClient ws = registeredClient()) {
            try (Sipp caller = callerWith("uac-video-off-on.xml")) {
                String call = answerWithBrowser(ws).path("call").asText();
                int videoPort = okTo(caller, 1).media().get(1).port();
                browser.awaitIceState("connected", STEP);
                withGatewayStats(ws, call, () -> Poll.until(Duration.ofSeconds(30), "echoed video and audio",
                        browser::stats, s -> s.videoFramesDecoded() > 30 && s.packetsReceived() > 50));

                // 1. Off: answered m=video 0; nothing more toward SIP on it, the audio goes on.
                ws.ok("info", "call", call, "contentType", "text/plain", "body", "video-off");
                assertEquals(0, okTo(caller, 2).media().get(1).port(), "video off in the answer");
                awaitMoreAudio(ws, call);
                long offAt = videoToSip(ws, call);
                awaitMoreAudio(ws, call);
                assertEquals(offAt, videoToSip(ws, call), "no video toward SIP while it is off");

                // 2. On again: the same port, video both ways again.
                ws.ok("info", "call", call, "contentType", "text/plain", "body", "video-on");
                assertEquals(videoPort, okTo(caller, 3).media().get(1).port(), "video on again, on its port");
                JsonNode video = Poll.until(Duration.ofSeconds(20), "video toward SIP and back again",
                        () -> streams(ws.ok("stats", "call", call).path("stats")).get(1),
                        v -> v.path("browserToSip").path("packets").asLong() > offAt + 50
                                && v.path("sipToBrowser").path("packets").asLong() > 0);
                assertEquals("video", video.path("kind").asText(), video.toString());
                assertEquals(2, streams(ws.ok("stats", "call", call).path("stats")).size(), "the same two relays");

                hangUpFromSip(ws, call, caller);
            }
        }
    }

    /** A WebSocket session that said hello, keeps itself alive and registered {@link #DN}. */
    private static WsTestClient registeredClient() {
        WsTestClient ws = WsTestClient.connect(gw.wsUrl());
        try {
            ws.ok("hello");
            ws.startKeepalive(Duration.ofSeconds(5));
            ws.ok("register", "dn", DN);
            return ws;
        } catch (RuntimeException | AssertionError e) {
            ws.close();
            throw e;
        }
    }

    /** The shared browser answers the next incoming call's offer; returns the incoming event once connected. */
    private static JsonNode answerWithBrowser(WsTestClient ws) {
        JsonNode incoming = ws.awaitEvent("incoming", STEP);
        ws.ok("answer", "call", incoming.path("call").asText(), "sdp", browser.setOffer(incoming.path("sdp").asText()));
        ws.awaitEvent("connected", STEP);
        return incoming;
    }

    /** An INFO is the SIPp caller's cue to hang up: its BYE ends the call, and SIPp exits 0 (every step as expected). */
    private static void hangUpFromSip(WsTestClient ws, String call, Sipp caller) {
        ws.ok("info", "call", call, "contentType", "text/plain", "body", "hang-up");
        JsonNode ended = ws.awaitEvent("ended", STEP);
        assertEquals("remote-hangup", ended.path("reason").asText(), ended.toString());
        assertEquals(0, caller.waitForExit(STEP), () -> "SIPp's call failed: " + caller.errors());
    }

    /** SIPp as SIP Server calling the DN the test registered, echoing RTP on both of its media ports. */
    private static Sipp callerWith(String scenario) {
        return Sipp.scenario(scenario).name(scenario.replace(".xml", "")).remote("127.0.0.1:" + gw.sipPort())
                .args("-s", DN, "-mi", "127.0.0.1", "-mp", String.valueOf(FreePorts.sippMedia()), "-rtp_echo")
                .maxCalls(1).start();
    }

    /** The SDP of the gateway's 200 OK to SIPp's INVITE with this CSeq. */
    private static SessionDescription okTo(Sipp caller, int cseq) {
        return SdpParser.parse(caller.awaitReceived(m -> !m.isRequest() && m.status() == 200 && m.cseq() == cseq,
                1, STEP, "200 OK to INVITE CSeq " + cseq).get(0).body());
    }

    /** Waits for 50 more audio packets relayed toward the browser (one second of audio). */
    private static void awaitMoreAudio(WsTestClient ws, String call) {
        long now = audioToBrowser(ws, call);
        Poll.until(Duration.ofSeconds(10), "audio going on", () -> audioToBrowser(ws, call) > now + 50);
    }

    private static long audioToBrowser(WsTestClient ws, String call) {
        return streams(ws.ok("stats", "call", call).path("stats")).get(0).path("sipToBrowser").path("packets").asLong();
    }

    private static long videoToSip(WsTestClient ws, String call) {
        return streams(ws.ok("stats", "call", call).path("stats")).get(1).path("browserToSip").path("packets").asLong();
    }

    /** A failed wait says what the gateway counted too (which leg lost the packets). */
    private static <T> T withGatewayStats(WsTestClient ws, String call, Supplier<T> wait) {
        try {
            return wait.get();
        } catch (AssertionError e) {
            throw new AssertionError(e.getMessage() + "\ngateway: " + ws.request("stats", "call", call), e);
        }
    }

    private static Set<String> sippCallIds() {
        return sipp.receivedRequests("INVITE").stream().map(SipMessage::callId).collect(Collectors.toSet());
    }

    /** The first INVITE of a call placed after {@code earlier} was taken (the SIPp UAS serves every test). */
    private static SipMessage newInvite(Set<String> earlier) {
        return sipp.awaitReceived(m -> m.isRequest() && m.method().equals("INVITE") && !earlier.contains(m.callId()),
                1, STEP, "INVITE of a new call").get(0);
    }

    private static void awaitBye(SipMessage invite) {
        sipp.awaitReceived(m -> m.isRequest() && m.method().equals("BYE") && m.callId().equals(invite.callId()), 1,
                STEP, "BYE of the call");
    }

    /** An SDP toward SIP: m=audio and m=video, plain RTP/AVP on two different ports, nothing WebRTC-only. */
    private static SessionDescription twoPlainRtpStreams(String body) {
        SessionDescription sdp = SdpParser.parse(body);
        assertEquals(List.of("audio", "video"), kinds(sdp), body);
        for (MediaDescription m : sdp.media()) {
            assertEquals("RTP/AVP", m.protocol(), m.mLine());
            assertTrue(m.port() > 0, m.mLine());
        }
        assertNotEquals(sdp.media().get(0).port(), sdp.media().get(1).port(), "separate ports per stream: " + body);
        for (String webRtcOnly : WEBRTC_ONLY) {
            assertFalse(body.contains(webRtcOnly), webRtcOnly + " toward SIP: " + body);
        }
        return sdp;
    }

    /** "VP8/90000" for payload type 96 given "a=rtpmap:96 VP8/90000". */
    private static String rtpmapOf(MediaDescription m, String payloadType) {
        return m.attributeValues("rtpmap").stream().filter(v -> v.startsWith(payloadType + " "))
                .map(v -> v.substring(v.indexOf(' ') + 1)).findFirst()
                .orElseThrow(() -> new AssertionError("no a=rtpmap for " + payloadType + " in " + m));
    }

    private static List<String> kindsOf(JsonNode streams) {
        List<String> kinds = new ArrayList<>();
        streams.forEach(stream -> kinds.add(stream.path("kind").asText()));
        return kinds;
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
