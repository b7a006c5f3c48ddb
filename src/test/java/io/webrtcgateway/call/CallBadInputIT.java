package io.webrtcgateway.call;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.webrtcgateway.testsupport.Closing;
import io.webrtcgateway.testsupport.ChromiumPeer;
import io.webrtcgateway.testsupport.FreePorts;
import io.webrtcgateway.testsupport.GatewayProcess;
import io.webrtcgateway.testsupport.Poll;
import io.webrtcgateway.testsupport.ProcessResources;
import io.webrtcgateway.testsupport.RawSipCaller;
import io.webrtcgateway.testsupport.RawSipClient;
import io.webrtcgateway.testsupport.RtpEcho;
import io.webrtcgateway.testsupport.SipMessage;
import io.webrtcgateway.testsupport.Sipp;
import io.webrtcgateway.testsupport.WsTestClient;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Bad input around calls (SPEC §8), from both sides, while a real call (SIP caller -> gateway -> headless
 * Chromium, audio echoed on the SIP side) stays up: WebSocket requests about unknown calls or in the wrong
 * state, offers without audio or with only codecs nobody bridges, garbage SDP, an INVITE the gateway cannot
 * serve (488), requests for dialogs that do not exist (481), garbage datagrams, a storm of overlapping
 * re-INVITEs and glare both ways. Each gets its documented answer; the live call keeps its audio; at the
 * end no call is left, the UDP ports are back and the thread count is back near where it was.
 *
 * <p>The methods run in order and share the live call (method 1 sets it up, 5 ends it, 6 checks leaks).
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class CallBadInputIT {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String DN = "2001";
    private static final Duration T = Duration.ofSeconds(10);
    private static final HttpClient HTTP = HttpClient.newHttpClient();

    private static Sipp sipServer;
    private static GatewayProcess gw;
    private static ChromiumPeer browser;
    private static WsTestClient ws;
    private static RtpEcho echo;
    private static RawSipCaller caller;
    /** A real browser offer (Chromium, PCMU + telephone-event), from the warm-up call. */
    private static String cannedOffer;
    private static int baselineUdpSockets;
    private static int baselineThreads;
    private static String liveCall;

    @BeforeAll
    static void start() {
        // Chromium starts (start() returns at once) while the gateway does.
        browser = ChromiumPeer.builder().name("browser").audioCodecs("PCMU", "telephone-event").start();
        int mediaPort = FreePorts.sippMedia();
        sipServer = Sipp.scenario("registrar-uas-echo.xml")
                .args("-mp", String.valueOf(mediaPort), "-mi", "127.0.0.1", "-rtp_echo").start();
        gw = GatewayProcess.builder().sipServers(sipServer.serverEntry())
                .set("gateway.media.ice-addresses", List.of("127.0.0.1"))
                .start();
        ws = WsTestClient.connect(gw.wsUrl());
        ws.ok("hello");
        ws.startKeepalive(Duration.ofSeconds(5));
        ws.ok("register", "dn", DN);
        baselineUdpSockets = ProcessResources.udpSocketCount(gw.pid());

        // Warm-up: one good call (thread pools, ICE and DTLS machinery), which also yields a real offer.
        cannedOffer = browser.createOffer();
        String call = ws.ok("call", "to", "5000", "sdp", cannedOffer).path("call").asText();
        JsonNode connected = ws.awaitEvent("connected", T);
        browser.setAnswer(connected.path("sdp").asText());
        browser.awaitIceState("connected", Duration.ofSeconds(15));
        Poll.until(T, "warm-up audio", browser::stats, s -> s.packetsReceived() > 20);
        ws.ok("hangup", "call", call);
        ws.awaitEvent("ended", T);
        browser.hangUp();
        awaitNoCallsAndPortsBack();
        baselineThreads = ProcessResources.threads(gw.pid());
    }

    @AfterAll
    static void stop() {
        Closing.all(caller, echo, ws, browser, gw, sipServer);
    }

    @Test
    @Order(1)
    void aCallFromSipToTheBrowserIsUpWithAudio() throws Exception {
        echo = RtpEcho.rewritingSsrc(0x5EED_0002L);
        caller = RawSipCaller.toward("127.0.0.1:" + gw.sipPort(), "5000");
        CompletableFuture<SipMessage> invited = CompletableFuture.supplyAsync(
                () -> caller.invite(DN, RawSipCaller.audioSdp(echo.port(), 1, "sendrecv"), Duration.ofSeconds(20)));
        JsonNode incoming = ws.awaitEvent("incoming", T);
        liveCall = incoming.path("call").asText();
        String answer = browser.setOffer(incoming.path("sdp").asText());
        ws.ok("answer", "call", liveCall, "sdp", answer);
        assertEquals(200, invited.get(20, TimeUnit.SECONDS).status());
        browser.awaitIceState("connected", Duration.ofSeconds(15));
        echo.awaitRtpPackets(50, T);
        Poll.until(T, "echoed audio in the browser", browser::stats,
                s -> s.packetsReceived() > 50 && s.totalAudioEnergy() > 0);
    }

    @Test
    @Order(2)
    void requestsAboutUnknownCallsOrInTheWrongStateGetTheirErrors() {
        for (String type : List.of("answer", "hangup", "hold", "resume", "stats")) {
            JsonNode error = ws.request(type, "call", "no-such-call." + gw.instanceId(), "sdp", cannedOffer);
            assertError(error, "CALL_UNKNOWN");
        }
        assertError(ws.request("answer", "call", liveCall), "BAD_REQUEST"); // no sdp
        assertError(ws.request("dtmf", "call", liveCall, "digits", "12x"), "BAD_REQUEST");
        // The live call is answered already.
        assertError(ws.request("answer", "call", liveCall, "sdp", cannedOffer), "WRONG_STATE");

        // An outgoing call cannot be answered by the browser.
        String outgoing = ws.ok("call", "to", "5000", "sdp", cannedOffer).path("call").asText();
        ws.await(T, "connected of the outgoing call", n -> isEvent(n, "connected", outgoing));
        assertError(ws.request("answer", "call", outgoing, "sdp", cannedOffer), "WRONG_STATE");
        ws.ok("hangup", "call", outgoing);
        ws.await(T, "ended of the outgoing call", n -> isEvent(n, "ended", outgoing));
        assertError(ws.request("hangup", "call", outgoing), "CALL_UNKNOWN"); // ended calls are forgotten
    }

    @Test
    @Order(3)
    void offersTheGatewayCannotBridgeAreRefusedBeforeAnyInvite() {
        int invites = sipServer.receivedRequests("INVITE").size();

        JsonNode garbage = ws.request("call", "to", "5000", "sdp", "hello, I am not SDP");
        assertError(garbage, "BAD_SDP");

        String dataOnly = sessionPart(cannedOffer)
                + "m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\nc=IN IP4 0.0.0.0\r\n"
                + mediaAttributes(cannedOffer, "ice-ufrag", "ice-pwd", "fingerprint", "setup")
                + "a=mid:0\r\na=sctp-port:5000\r\n";
        JsonNode noAudio = ws.request("call", "to", "5000", "sdp", dataOnly.replace("a=group:BUNDLE 0\r\n", ""));
        assertTrue(Set.of("NO_COMMON_CODEC", "BAD_SDP").contains(noAudio.path("code").asText()), noAudio.toString());
        assertTrue(noAudio.path("message").asText().toLowerCase().contains("audio"), noAudio.toString());

        String unsupported = onlyCodecs(cannedOffer, "103 ISAC/16000", "18 G729/8000");
        JsonNode noCodec = ws.request("call", "to", "5000", "sdp", unsupported);
        assertError(noCodec, "NO_COMMON_CODEC");

        JsonNode empty = ws.request("call", "to", "5000", "sdp", "");
        assertTrue(Set.of("BAD_SDP", "BAD_REQUEST").contains(empty.path("code").asText()), empty.toString());

        JsonNode badTarget = ws.request("call", "to", "50 00\r\nX-Injected: 1", "sdp", cannedOffer);
        assertError(badTarget, "BAD_REQUEST");

        assertEquals(invites, sipServer.receivedRequests("INVITE").size(), "no INVITE for refused offers");
        assertEquals(1, instance().path("calls").asInt(), "only the live call: " + instance());
    }

    @Test
    @Order(4)
    void sipRequestsTheGatewayCannotServeGetTheirStatus() {
        String gateway = "127.0.0.1:" + gw.sipPort();
        try (RawSipCaller stranger = RawSipCaller.toward(gateway, "6000")) {
            // RFC 3261 §13.3.1.4 / RFC 3264 §6: an offer with nothing usable is answered 488.
            String g729 = RawSipCaller.audioSdp(4000, 1, "sendrecv")
                    .replace("RTP/AVP 0 101", "RTP/AVP 18 103")
                    .replace("a=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-15\r\n",
                            "a=rtpmap:18 G729/8000\r\na=rtpmap:103 ISAC/16000\r\n");
            assertEquals(488, stranger.invite(DN, g729, T).status());
            assertEquals(488, stranger.invite(DN, "v=0\r\nthis is not SDP\r\n", T).status());
            // Nobody signed in with that DN here.
            assertEquals(480, stranger.invite("7777", RawSipCaller.audioSdp(4000, 1, "sendrecv"), T).status());
            // RFC 3261 §12.2.2: requests for a dialog we do not know.
            assertEquals(481, stranger.strayRequest("BYE", DN, T).status());
            assertEquals(481, stranger.strayRequest("INFO", DN, T).status());
            assertEquals(481, stranger.strayRequest("INVITE", DN, T).status());
            stranger.sendRaw("garbage\r\n\r\n");
            stranger.sendRaw("INVITE sip:" + DN + "@" + gateway + " SIP/2.0\r\nVia: nonsense\r\n\r\n");
        }
        try (RawSipClient probe = RawSipClient.udp(gateway)) {
            assertEquals(200, probe.send(probe.options()).status(), "the SIP side still answers");
        }
        // None of it reached the browser as a call.
        JsonNode pong = ws.ok("ping");
        assertFalse(ws.seen().stream().anyMatch(n -> isEvent(n, "incoming", null) && !n.path("call").asText().equals(liveCall)),
                "no incoming event for refused INVITEs (" + pong + ")");
        assertEquals(1, instance().path("calls").asInt(), "only the live call: " + instance());
    }

    @Test
    @Order(5)
    void aStormOfReinvitesAndGlareLeaveTheLiveCallWorking() {
        int okCount = 0;
        List<Integer> statuses = new ArrayList<>();
        long version = 2;
        for (int i = 0; i < 20; i++) {
            // Two re-INVITEs in flight at once: the second must wait for the first (491/500) or follow it.
            String first = caller.sendReinvite(RawSipCaller.audioSdp(echo.port(), version++, "sendonly"));
            String second = caller.sendReinvite(RawSipCaller.audioSdp(echo.port(), version++, "sendrecv"));
            for (String branch : List.of(first, second)) {
                int status = caller.awaitFinal(branch, T).status();
                statuses.add(status);
                okCount += status == 200 ? 1 : 0;
            }
        }
        assertTrue(statuses.stream().allMatch(s -> s == 200 || s == 491 || s == 500), "answers: " + statuses);
        assertTrue(okCount >= 20, "each pair had an accepted re-INVITE: " + statuses);
        // Leave it unheld (the last pair may have ended with the sendonly one accepted).
        assertEquals(200, caller.reinvite(RawSipCaller.audioSdp(echo.port(), version++, "sendrecv"), T).status());

        // Glare, our way (RFC 3261 §14.1): the gateway's hold re-INVITE is left unanswered, our re-INVITE
        // meanwhile gets 491, then theirs is refused 491 too and the gateway retries on its own.
        caller.onReinvite(r -> 0);
        CompletableFuture<JsonNode> hold = CompletableFuture.supplyAsync(() -> ws.request("hold", "call", liveCall));
        Poll.until(T, "the gateway's hold re-INVITE", () -> caller.unansweredCount() == 1);
        assertEquals(491, caller.reinvite(RawSipCaller.audioSdp(echo.port(), version++, "sendrecv"), T).status());
        caller.onReinvite(r -> null);
        caller.answerUnanswered(491);
        JsonNode held = hold.join();
        assertEquals("result", held.path("type").asText(), "hold succeeds on the retry: " + held);
        assertTrue(caller.receivedRequests("INVITE").size() >= 2, "a retried re-INVITE after 491");
        assertTrue(caller.receivedRequests("INVITE").get(caller.receivedRequests("INVITE").size() - 1).body()
                .contains("a=sendonly"), "hold is sendonly");
        assertEquals("result", ws.request("resume", "call", liveCall).path("type").asText());

        // Still the same call, audio still both ways.
        assertFalse(ws.seen().stream().anyMatch(n -> isEvent(n, "ended", liveCall)), "the live call did not end");
        JsonNode stats = ws.ok("stats", "call", liveCall).path("stats");
        assertEquals("connected", stats.path("state").asText(), stats.toString());
        long echoed = echo.rtpPackets();
        long received = browser.stats().packetsReceived();
        echo.awaitRtpPackets(echoed + 25, T);
        Poll.until(T, "audio still reaching the browser", browser::stats, s -> s.packetsReceived() > received + 25);

        assertEquals(200, caller.inDialog("BYE", null, null, T).status());
        JsonNode ended = ws.await(T, "ended of the live call", n -> isEvent(n, "ended", liveCall));
        assertEquals("remote-hangup", ended.path("reason").asText(), ended.toString());
        browser.hangUp();
    }

    @Test
    @Order(6)
    void nothingIsLeftBehind() {
        awaitNoCallsAndPortsBack();
        int threads = Poll.until(Duration.ofSeconds(20), "threads back near " + baselineThreads,
                () -> ProcessResources.threads(gw.pid()), n -> n <= baselineThreads + 8);
        assertTrue(threads <= baselineThreads + 8);
        assertEquals(200, gw.httpStatus("/health/live"));
        assertTrue(ws.isOpen(), "the session survived all of it");
    }

    // ---- helpers ------------------------------------------------------------------------------------

    private static void awaitNoCallsAndPortsBack() {
        Poll.until(T, "no calls left", () -> instance().path("calls").asInt(-1), n -> n == 0);
        Poll.until(T, "the gateway's UDP sockets back to the " + baselineUdpSockets + " it had before any call",
                () -> ProcessResources.udpSocketCount(gw.pid()), n -> n <= baselineUdpSockets);
    }

    private static JsonNode instance() {
        try {
            HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(gw.httpUrl() + "/api/v1/instance"))
                    .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
            return JSON.readTree(r.body());
        } catch (Exception e) {
            throw new AssertionError("GET /api/v1/instance failed", e);
        }
    }

    private static boolean isEvent(JsonNode n, String name, String call) {
        return n.path("type").asText().equals("event") && n.path("name").asText().equals(name)
                && (call == null || n.path("call").asText().equals(call));
    }

    private static void assertError(JsonNode answer, String code) {
        assertEquals("error", answer.path("type").asText(), answer.toString());
        assertEquals(code, answer.path("code").asText(), answer.toString());
        assertFalse(answer.path("message").asText().isBlank(), "a message for people: " + answer);
    }

    /** The session-level lines of an SDP (up to the first m=). */
    private static String sessionPart(String sdp) {
        return sdp.substring(0, sdp.indexOf("m="));
    }

    /** The named attribute lines of the first media section, as "a=...\r\n" lines. */
    private static String mediaAttributes(String sdp, String... names) {
        return sdp.lines().filter(l -> List.of(names).stream().anyMatch(n -> l.startsWith("a=" + n + ":")))
                .distinct().map(l -> l + "\r\n").collect(Collectors.joining());
    }

    /** The offer with its audio m= line offering only {@code codecs} ("pt name/rate"). */
    private static String onlyCodecs(String sdp, String... codecs) {
        StringBuilder out = new StringBuilder();
        for (String line : sdp.split("\r\n")) {
            if (line.startsWith("m=audio ")) {
                String[] f = line.split(" ");
                out.append(f[0]).append(' ').append(f[1]).append(' ').append(f[2]);
                for (String c : codecs) {
                    out.append(' ').append(c.split(" ")[0]);
                }
                out.append("\r\n");
                for (String c : codecs) {
                    out.append("a=rtpmap:").append(c).append("\r\n");
                }
            } else if (!line.startsWith("a=rtpmap:") && !line.startsWith("a=fmtp:") && !line.startsWith("a=rtcp-fb:")) {
                out.append(line).append("\r\n");
            }
        }
        return out.toString();
    }
}
