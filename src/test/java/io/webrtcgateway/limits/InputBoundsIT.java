package io.webrtcgateway.limits;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.webrtcgateway.testsupport.ChromiumPeer;
import io.webrtcgateway.testsupport.Closing;
import io.webrtcgateway.testsupport.FreePorts;
import io.webrtcgateway.testsupport.GatewayProcess;
import io.webrtcgateway.testsupport.HttpFrom;
import io.webrtcgateway.testsupport.LegacyPhone;
import io.webrtcgateway.testsupport.Poll;
import io.webrtcgateway.testsupport.ProcessResources;
import io.webrtcgateway.testsupport.RawSipCaller;
import io.webrtcgateway.testsupport.RtpEcho;
import io.webrtcgateway.testsupport.SipMessage;
import io.webrtcgateway.testsupport.Sipp;
import io.webrtcgateway.testsupport.WsTestClient;
import java.net.InetAddress;
import java.nio.file.Files;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Issue 13, "every input bounded": inputs that used to cost the gateway without bound (a legacy candidate's
 * sdpMLineIndex of 1,000,000 or 2147483647, an offer with 400 audio m-lines, a 4 MiB REST body) and the other
 * bounds of gateway.limits, each refused with its documented error while two bystander calls keep their audio:
 * a SIP call answered by headless Chromium over the WebSocket protocol, and a grtc.js-style legacy page's call.
 * /health/ready answers 200 throughout; at the end no call is left and threads, file descriptors and UDP ports
 * are back where they were.
 *
 * <p>The methods run in order and share the bystanders (set up once, ended by the last method).
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class InputBoundsIT {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration T = Duration.ofSeconds(15);
    private static final String DN = "2001";
    private static final String LEGACY_DN = "2002";
    /** Below the default (16384) in this gateway, so the INFO over the bound is a datagram of a few KB. */
    private static final int MAX_INFO_BYTES = 1024;

    private static Sipp sipServer;
    private static GatewayProcess gw;
    private static ChromiumPeer browser;
    private static WsTestClient ws;
    private static RtpEcho echo;
    private static RawSipCaller caller;
    private static LegacyPhone legacy;
    private static ReadyThroughout ready;
    private static String liveCall;
    private static int baselineUdpSockets;
    private static int baselineThreads;
    private static int baselineFiles;

    @BeforeAll
    static void start() throws Exception {
        int pagePort = FreePorts.tcp();
        int httpPort = FreePorts.tcp();
        // Both Chromiums start (start() returns at once) while the gateway does; the legacy page talks to the
        // gateway only once told to sign in.
        browser = ChromiumPeer.builder().name("browser").audioCodecs("PCMU", "telephone-event").start();
        legacy = LegacyPhone.builder().gateway("http://127.0.0.1:" + httpPort).pagePort(pagePort).start();
        int mediaPort = FreePorts.sippMedia();
        sipServer = Sipp.scenario("registrar-uas-echo.xml")
                .args("-mp", String.valueOf(mediaPort), "-mi", "127.0.0.1", "-rtp_echo").start();
        gw = GatewayProcess.builder().httpPort(httpPort).sipServers(sipServer.serverEntry())
                .set("gateway.media.ice-addresses", List.of("127.0.0.1"))
                .set("gateway.cors.allowed-origins", List.of("http://127.0.0.1:" + pagePort))
                .set("gateway.limits.max-info-bytes", String.valueOf(MAX_INFO_BYTES))
                .start();
        gw.awaitHttpStatus("/health/ready", 200, T);
        ws = WsTestClient.connect(gw.wsUrl());
        ws.ok("hello");
        ws.startKeepalive(Duration.ofSeconds(5));
        ws.ok("register", "dn", DN);
        assertEquals(200, legacy.signIn(LEGACY_DN, "secret").path("status").asInt());
        baselineUdpSockets = ProcessResources.udpSocketCount(gw.pid());

        // Bystander 1: SIP calls the browser's DN; Chromium answers; RtpEcho sends the audio back.
        echo = RtpEcho.rewritingSsrc(0x5EED_0013L);
        caller = RawSipCaller.toward("127.0.0.1:" + gw.sipPort(), "5000");
        CompletableFuture<SipMessage> invited = CompletableFuture.supplyAsync(
                () -> caller.invite(DN, RawSipCaller.audioSdp(echo.port(), 1, "sendrecv"), Duration.ofSeconds(20)));
        JsonNode incoming = ws.awaitEvent("incoming", T);
        liveCall = incoming.path("call").asText();
        ws.ok("answer", "call", liveCall, "sdp", browser.setOffer(incoming.path("sdp").asText()));
        assertEquals(200, invited.get(20, TimeUnit.SECONDS).status());
        browser.awaitIceState("connected", T);
        Poll.until(T, "echoed audio in the browser", browser::stats, s -> s.packetsReceived() > 50 && s.totalAudioEnergy() > 0);

        // Bystander 2: the legacy page calls 5000 (SIPp echoes).
        legacy.call("5000");
        legacy.awaitEvent("answer-received", T);
        legacy.awaitIceState("connected", T);
        Poll.until(T, "echoed audio on the legacy page", legacy::stats, s -> s.packetsReceived() > 50 && s.totalAudioEnergy() > 0);
        baselineThreads = ProcessResources.threads(gw.pid());
        baselineFiles = ProcessResources.openFiles(gw.pid());
        ready = new ReadyThroughout(gw);
    }

    @AfterAll
    static void stop() {
        Closing.all(ready, caller, echo, ws, browser, legacy, gw, sipServer);
    }

    @Test
    @Order(1)
    void aLegacyCandidateWhoseIndexNamesNoMLineIsBadRequestAndTheCallsGoOn() throws Exception {
        int invites = sipServer.receivedRequests("INVITE").size();
        for (long index : List.of(1_000_000L, 2_147_483_647L)) {
            String offer = "RSMP " + JSON.createObjectNode()
                    .put("messageType", "OFFER").put("seq", 1).put("sdp", GatewayProbes.offerWithAudioSections(1, List.of()))
                    .set("Candidates", JSON.createArrayNode().add(JSON.createObjectNode()
                            .put("candidate", "a=candidate:1 1 udp 2122260223 127.0.0.1 40000 typ host")
                            .put("sdpMid", "audio").put("sdpMLineIndex", index)));
            // To a new peer (a call would be placed), then to the peer of the live call (a re-offer).
            for (String peer : List.of("5001", "5000")) {
                long sent = System.nanoTime();
                JsonNode answer = legacy.post(peer, offer);
                System.out.printf("InputBoundsIT: sdpMLineIndex %d to %s answered %d in %d ms%n", index, peer,
                        answer.path("status").asInt(), (System.nanoTime() - sent) / 1_000_000);
                assertEquals(400, answer.path("status").asInt(), answer.toString());
                assertTrue(answer.path("answer").asText().contains("BAD_REQUEST")
                        && answer.path("answer").asText().contains("sdpMLineIndex"), answer.toString());
                JsonNode error = legacy.awaitEvent("gateway-error", e -> peer.equals(e.path("peer").asText()), T);
                assertEquals("BAD_REQUEST", error.path("errorType").asText(), error.toString());
            }
        }
        assertEquals(invites, sipServer.receivedRequests("INVITE").size(), "no INVITE for a refused offer");
        assertTrue(Files.readString(gw.logFile()).lines().noneMatch(l -> l.contains("OutOfMemoryError")));
        assertTrue(ProcessResources.threads(gw.pid()) <= baselineThreads + 8, "threads near " + baselineThreads);
        assertAudioGoesOn();
        assertEquals(2, instance().path("calls").asInt(), "the two bystander calls, nothing more: " + instance());
    }

    @Test
    @Order(2)
    void anOfferWith400AudioMLinesIsRefusedBeforeAnyPortIsTaken() {
        int invites = sipServer.receivedRequests("INVITE").size();
        int udpSockets = ProcessResources.udpSocketCount(gw.pid());
        int files = ProcessResources.openFiles(gw.pid());
        String offer = GatewayProbes.offerWithAudioSections(400, List.of("1 1 udp 2122260223 127.0.0.1 40000 typ host"));
        try (WsTestClient attacker = WsTestClient.connect(gw.wsUrl())) {
            attacker.ok("hello");
            JsonNode refused = attacker.request("call", "to", "5000", "sdp", offer);
            assertError(refused, "BAD_SDP", "gateway.limits.max-media-sections");

            // The legacy edge goes through the same check: the OFFER is taken (200), refused through the poll.
            JsonNode posted = legacy.post("5002", "RSMP " + JSON.createObjectNode()
                    .put("messageType", "OFFER").put("seq", 1).put("sdp", offer.replace("UDP/TLS/", "")));
            assertEquals(200, posted.path("status").asInt(), posted.toString());
            JsonNode error = legacy.awaitEvent("gateway-error", e -> "5002".equals(e.path("peer").asText()), T);
            assertEquals("BAD_SDP", error.path("errorType").asText(), error.toString());
            assertTrue(error.path("body").asText().contains("max-media-sections"), error.toString());

            // And SIP Server's side: an INVITE with 100 audio m-lines gets 488 before any port, no incoming event;
            // one with more header fields than gateway.sip.max-headers, or a field past max-header-bytes, 513.
            try (RawSipCaller stranger = RawSipCaller.toward("127.0.0.1:" + gw.sipPort(), "6000")) {
                assertEquals(488, stranger.invite(DN, sipOfferWithAudioSections(100), T).status());
                StringBuilder fillers = new StringBuilder();
                for (int i = 0; i < 200; i++) {
                    fillers.append("X-Genesys-k").append(i).append(": v\r\n");
                }
                String sdp = RawSipCaller.audioSdp(echo.port(), 1, "sendrecv");
                assertEquals(513, stranger.invite(DN, sdp, fillers.toString(), T).status());
                assertEquals(513, stranger.invite(DN, sdp, "X-Genesys-note: " + "n".repeat(9000) + "\r\n", T).status());
                assertEquals(2, metric("gateway_sip_oversized_requests_total", "method", "INVITE"));
            }
            assertEquals("result", attacker.request("ping").path("type").asText(), "the attacker's session is as it was");
        }
        int filesAfter = ProcessResources.openFiles(gw.pid());
        System.out.printf("InputBoundsIT: 400 m-lines refused: UDP sockets %d -> %d, open files %d -> %d%n", udpSockets,
                ProcessResources.udpSocketCount(gw.pid()), files, filesAfter);
        assertEquals(udpSockets, ProcessResources.udpSocketCount(gw.pid()), "not one UDP socket taken (it took 802)");
        assertTrue(Math.abs(filesAfter - files) <= 8, "open files " + files + " -> " + filesAfter + " (it took 802 more)");
        assertEquals(invites, sipServer.receivedRequests("INVITE").size(), "no INVITE toward SIP Server");
        assertFalse(ws.seen().stream().anyMatch(n -> "incoming".equals(n.path("name").asText())
                && !liveCall.equals(n.path("call").asText())), "the refused INVITE never reached the browser");
        assertEquals(2, instance().path("calls").asInt(), instance().toString());
        assertAudioGoesOn();
    }

    @Test
    @Order(3)
    void aFourMebibyteRestBodyIsRefused413BeforeItIsRead() throws Exception {
        InetAddress local = InetAddress.getByName("127.0.0.1");
        int sessions = instance().path("sessions").asInt();
        String session;
        try (HttpFrom http = new HttpFrom(local, gw.httpUrl())) {
            HttpFrom.Response created = http.send("POST", "/api/v1/sessions", null);
            assertEquals(201, created.status(), created.toString());
            session = JSON.readTree(created.body()).path("session").asText();
        }
        String registration = "/api/v1/sessions/" + session + "/registration";

        // A Content-Length of 4 MiB and a few bytes of it: the answer comes without the rest.
        try (HttpFrom http = new HttpFrom(local, gw.httpUrl())) {
            http.write("PUT " + registration + " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                    + "Content-Length: 4194304\r\n\r\n{\"dn\": \"");
            assertTooBig(http.read(), "application/json");
            assertTrue(http.closedByServer(5_000), "the connection is closed: the body is never read");
        }
        // The same without a length (chunked): refused once 64 KiB + 1 byte have been read, long before the end.
        try (HttpFrom http = new HttpFrom(local, gw.httpUrl())) {
            http.write("PUT " + registration + " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                    + "Transfer-Encoding: chunked\r\n\r\n");
            // One JSON string that never ends, 16 KiB a chunk: the parser reads on until the limit stops it.
            String start = "{\"dn\": \"";
            http.write(Integer.toHexString(start.length()) + "\r\n" + start + "\r\n");
            String chunk = "9".repeat(16_384);
            for (int i = 0; i < 5; i++) {
                http.write(Integer.toHexString(chunk.length()) + "\r\n" + chunk + "\r\n");
            }
            assertTooBig(http.read(), "application/json");
        }
        // A POST that creates a session, and the legacy edge: the same refusal, nothing created.
        try (HttpFrom http = new HttpFrom(local, gw.httpUrl())) {
            http.write("POST /api/v1/sessions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 4194304\r\n\r\nxx");
            assertTooBig(http.read(), "application/json");
        }
        String legacySession;
        try (HttpFrom http = new HttpFrom(local, gw.httpUrl())) {
            String anon = "anon" + "0123456789abcdef".repeat(2);
            HttpFrom.Response signedIn = http.send("GET", "/sign_in?" + anon, null);
            assertEquals(200, signedIn.status(), signedIn.toString());
            legacySession = signedIn.body().trim().substring(anon.length() + 1);
        }
        try (HttpFrom http = new HttpFrom(local, gw.httpUrl())) {
            http.write("POST /message?from=" + legacySession + "&to=5000 HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                    + "Content-Length: 4194304\r\n\r\nRSMP {");
            HttpFrom.Response refused = http.read();
            assertEquals(413, refused.status(), refused.toString());
            assertTrue(refused.body().indexOf("MESSAGE_TOO_BIG") > 0, "grtc.js's ERROR body: " + refused);
        }
        try (HttpFrom http = new HttpFrom(local, gw.httpUrl())) {
            assertEquals(200, http.send("DELETE", "/api/v1/sessions/" + session, null).status());
            assertEquals(200, http.send("GET", "/sign_out?id=" + legacySession, null).status());
        }
        assertEquals(sessions, instance().path("sessions").asInt(), "no session left by any of it");
        assertTrue(metric("gateway_limits_refusals_total", "limit", "message-bytes") >= 4);
        assertAudioGoesOn();
    }

    @Test
    @Order(4)
    void theOtherBoundsOfACallAnswerWithTheirErrorsAndTheCallGoesOn() {
        // A trickled candidate must name an m-line of the call's offer; the index is never used to allocate.
        for (Object index : List.of(1, 1_000_000, 2_147_483_647, 99_999_999_999L, -1, "0")) {
            JsonNode candidate = JSON.createObjectNode()
                    .put("candidate", "candidate:9 1 udp 2122260223 127.0.0.1 40009 typ host")
                    .set("sdpMLineIndex", JSON.valueToTree(index));
            assertError(ws.request("candidate", "call", liveCall, "candidate", candidate), "BAD_REQUEST", "sdpMLineIndex");
        }
        assertError(ws.request("dtmf", "call", liveCall, "digits", "1".repeat(33)), "BAD_REQUEST", "digits");
        assertError(ws.request("info", "call", liveCall, "contentType", "text/plain", "body", "x".repeat(MAX_INFO_BYTES + 1)),
                "BAD_REQUEST", "gateway.limits.max-info-bytes");
        assertError(ws.request("info", "call", liveCall, "contentType", "text/" + "x".repeat(300), "body", "x"),
                "BAD_REQUEST", "contentType");
        Map<String, String> data = new LinkedHashMap<>();
        for (int i = 0; i < 33; i++) {
            data.put("key" + i, "v");
        }
        int invites = sipServer.receivedRequests("INVITE").size();
        assertError(ws.request("call", "to", "5000", "sdp", GatewayProbes.offerWithAudioSections(1, List.of()), "data", data),
                "BAD_REQUEST", "gateway.limits.max-attached-data-keys");
        assertEquals(invites, sipServer.receivedRequests("INVITE").size());

        // INFO from SIP Server: more than max-info-bytes is refused 413 and never reaches the browser.
        assertEquals(413, caller.inDialog("INFO", "text/plain", "y".repeat(MAX_INFO_BYTES + 500), T).status());
        assertEquals(200, caller.inDialog("INFO", "text/plain", "small", T).status());
        JsonNode info = ws.awaitEvent("info", T);
        assertEquals("small", info.path("body").asText(), "only the small INFO reached the browser: " + info);

        // Candidates per call: a second session's call takes 50 in all (1 in its offer, 49 trickled), no more.
        try (WsTestClient other = WsTestClient.connect(gw.wsUrl())) {
            other.ok("hello");
            String call = other.ok("call", "to", "5000", "sdp",
                    GatewayProbes.offerWithAudioSections(1, List.of("1 1 udp 2122260223 127.0.0.1 40000 typ host"))).path("call").asText();
            for (int i = 1; i < 50; i++) {
                other.ok("candidate", "call", call, "candidate", JSON.createObjectNode()
                        .put("candidate", "candidate:" + (i + 1) + " 1 udp 2122260223 127.0.0.1 " + (40000 + i) + " typ host")
                        .put("sdpMLineIndex", 0));
            }
            assertError(other.request("candidate", "call", call, "candidate", JSON.createObjectNode()
                    .put("candidate", "candidate:99 1 udp 2122260223 127.0.0.1 40099 typ host").put("sdpMLineIndex", 0)),
                    "BAD_REQUEST", "gateway.limits.max-candidates-per-call");
            other.ok("hangup", "call", call);
            other.awaitEvent("ended", T);
        }
        assertEquals("connected", ws.ok("stats", "call", liveCall).path("stats").path("state").asText());
        assertAudioGoesOn();
    }

    @Test
    @Order(5)
    void nothingIsLeftAndTheInstanceWasReadyThroughout() {
        assertAudioGoesOn();
        assertEquals(200, caller.inDialog("BYE", null, null, T).status());
        ws.await(T, "ended of the live call", n -> "ended".equals(n.path("name").asText())
                && liveCall.equals(n.path("call").asText()));
        browser.hangUp();
        legacy.hangUp();
        Poll.until(T, "no calls left", () -> instance().path("calls").asInt(-1), n -> n == 0);
        Poll.until(T, "UDP sockets back to the " + baselineUdpSockets + " before any call",
                () -> ProcessResources.udpSocketCount(gw.pid()), n -> n <= baselineUdpSockets);
        Poll.until(Duration.ofSeconds(20), "threads back near " + baselineThreads,
                () -> ProcessResources.threads(gw.pid()), n -> n <= baselineThreads + 8);
        // The bystanders' two calls held media sockets when the baseline was taken.
        Poll.until(T, "open files back near " + baselineFiles, () -> ProcessResources.openFiles(gw.pid()),
                n -> n <= baselineFiles + 8);
        ready.assertAlwaysReady();
        assertTrue(gw.isAlive());
        assertTrue(ws.isOpen(), "the bystander's session survived all of it");
    }

    // ---- helpers ------------------------------------------------------------------------------------

    /** Both bystanders still hear their echo: a few more packets each, from now on. */
    private static void assertAudioGoesOn() {
        long browserBefore = browser.stats().packetsReceived();
        long legacyBefore = legacy.stats().packetsReceived();
        Poll.until(T, "audio still reaching the browser", browser::stats, s -> s.packetsReceived() > browserBefore + 25);
        Poll.until(T, "audio still reaching the legacy page", legacy::stats, s -> s.packetsReceived() > legacyBefore + 25);
    }

    private static void assertTooBig(HttpFrom.Response r, String type) throws Exception {
        assertEquals(413, r.status(), r.toString());
        assertTrue(r.header("content-type").startsWith(type), r.toString());
        JsonNode body = JSON.readTree(r.body());
        assertEquals("MESSAGE_TOO_BIG", body.path("code").asText(), r.toString());
        assertTrue(body.path("message").asText().contains("gateway.limits.max-message-bytes"), r.toString());
    }

    private static void assertError(JsonNode answer, String code, String mentions) {
        assertEquals("error", answer.path("type").asText(), answer.toString());
        assertEquals(code, answer.path("code").asText(), answer.toString());
        assertTrue(answer.path("message").asText().contains(mentions), answer.toString());
    }

    /** SIP Server's offer with {@code n} audio m-lines (plain RTP, PCMU), each of which the gateway would bridge. */
    private static String sipOfferWithAudioSections(int n) {
        StringBuilder sdp = new StringBuilder("v=0\r\no=raw 4242 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n");
        for (int i = 0; i < n; i++) {
            sdp.append("m=audio ").append(4000 + 2 * i).append(" RTP/AVP 0\r\n");
        }
        return sdp.toString();
    }

    private static JsonNode instance() {
        return GatewayProbes.instance(gw);
    }

    private static double metric(String name, String... labels) {
        return GatewayProbes.metric(gw, name, labels);
    }
}
