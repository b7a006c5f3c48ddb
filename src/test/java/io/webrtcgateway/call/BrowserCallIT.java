package io.webrtcgateway.call;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.webrtcgateway.testsupport.Closing;
import io.webrtcgateway.testsupport.ChromiumPeer;
import io.webrtcgateway.testsupport.FreePorts;
import io.webrtcgateway.testsupport.GatewayProcess;
import io.webrtcgateway.testsupport.Poll;
import io.webrtcgateway.testsupport.SipMessage;
import io.webrtcgateway.testsupport.Sipp;
import io.webrtcgateway.testsupport.WsTestClient;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A real browser (headless Chromium, fake microphone) calls through the gateway to SIPp answering with RTP
 * echo: ICE connects, DTLS-SRTP completes, audio the browser sends comes back to it through SIPp — so
 * both directions of the bridge carry packets. The WebSocket protocol is spoken by the test itself.
 */
class BrowserCallIT {
    private static Sipp sipp;
    private static GatewayProcess gw;
    /** gateway.media.sip-source-policy = sdp-strict, for sdpStrictSourcePolicyDropsAnotherHostsPackets. */
    private static GatewayProcess strict;
    private static ChromiumPeer browser;

    @BeforeAll
    static void start() {
        // Chromium starts (start() returns at once) while the gateway does.
        browser = ChromiumPeer.builder().name("browser").audioCodecs("PCMU", "telephone-event").start();
        int mediaPort = FreePorts.sippMedia();
        sipp = Sipp.scenario("uas-echo.xml").args("-mp", String.valueOf(mediaPort), "-mi", "127.0.0.1", "-rtp_echo").start();
        // The sdp-strict instance of sdpStrictSourcePolicyDropsAnotherHostsPackets starts alongside.
        java.util.List<GatewayProcess> both = GatewayProcess.startAll(GatewayProcess.builder().sipServers(sipp.serverEntry())
                .set("gateway.media.ice-addresses", java.util.List.of("127.0.0.1"))
                .set("gateway.calls.attached-data.headers.case", "X-Case-Id"),
                GatewayProcess.builder().sipServers(sipp.serverEntry())
                .set("gateway.media.ice-addresses", java.util.List.of("127.0.0.1"))
                .set("gateway.media.sip-source-policy", "sdp-strict"));
        gw = both.get(0);
        strict = both.get(1);
    }

    private static int port(String sdp, String regex) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile(regex).matcher(sdp);
        assertTrue(m.find(), "no match for " + regex + " in " + sdp);
        return Integer.parseInt(m.group(1));
    }

    /** Random datagrams, truncated RTP, and STUN binding requests with a wrong MESSAGE-INTEGRITY. */
    static void garbage(int... ports) throws Exception {
        java.util.Random random = new java.util.Random(42);
        try (java.net.DatagramSocket s = new java.net.DatagramSocket()) {
            java.net.InetAddress lo = java.net.InetAddress.getLoopbackAddress();
            for (int port : ports) {
                for (int i = 0; i < 300; i++) {
                    byte[] b = new byte[1 + random.nextInt(300)];
                    random.nextBytes(b);
                    switch (i % 3) {
                        case 0 -> b[0] = (byte) 0x80; // looks like RTP, then nonsense / truncated
                        case 1 -> {
                            // STUN binding request header + bogus MESSAGE-INTEGRITY attribute
                            b = new byte[20 + 24];
                            random.nextBytes(b);
                            b[0] = 0x00; b[1] = 0x01; b[2] = 0x00; b[3] = 24;
                            b[4] = 0x21; b[5] = 0x12; b[6] = (byte) 0xA4; b[7] = 0x42;
                            b[20] = 0x00; b[21] = 0x08; b[22] = 0x00; b[23] = 20;
                        }
                        default -> { }
                    }
                    s.send(new java.net.DatagramPacket(b, b.length, lo, port));
                }
            }
        }
    }

    @Test
    void turnRelayOnlyBrowser() throws Exception {
        try (io.webrtcgateway.testsupport.Coturn turn = io.webrtcgateway.testsupport.Coturn.start();
             ChromiumPeer relayed = ChromiumPeer.builder().name("relayed").iceServers(turn.iceServersJson()).relayOnly()
                     .audioCodecs("PCMU", "telephone-event").start();
             WsTestClient ws = WsTestClient.connect(gw.wsUrl())) {
            ws.ok("hello");
            ws.startKeepalive(Duration.ofSeconds(5));
            String offer = relayed.createOffer();
            assertTrue(offer.contains("typ relay") && !offer.contains("typ host"), "relay candidates only: " + offer);
            String call = ws.ok("call", "to", "5001", "sdp", offer).path("call").asText();
            JsonNode connected = ws.awaitEvent("connected", Duration.ofSeconds(10));
            relayed.setAnswer(connected.path("sdp").asText());
            relayed.awaitIceState("connected", Duration.ofSeconds(15));
            ChromiumPeer.Stats stats = Poll.until(Duration.ofSeconds(20), "echoed audio through TURN",
                    relayed::stats, st -> st.packetsReceived() > 50 && st.totalAudioEnergy() > 0);
            assertEquals("relay", stats.selectedPair().localType(), stats.toString());
            ws.ok("hangup", "call", call);
            ws.awaitEvent("ended", Duration.ofSeconds(5));
            relayed.hangUp();
        }
    }

    /**
     * gateway.media.sip-source-policy = sdp-strict: RTP from a host the SIP side's SDP does not name is dropped
     * and counted from the first packet (no latching onto it), and the call's audio goes on.
     */
    @Test
    void sdpStrictSourcePolicyDropsAnotherHostsPackets() throws Exception {
        try (WsTestClient ws = WsTestClient.connect(strict.wsUrl())) {
            ws.ok("hello");
            ws.startKeepalive(Duration.ofSeconds(5));
            int invitesBefore = sipp.receivedRequests("INVITE").size();
            String call = ws.ok("call", "to", "5002", "sdp", browser.createOffer()).path("call").asText();
            SipMessage invite = sipp.awaitRequests("INVITE", invitesBefore + 1, Duration.ofSeconds(10)).get(invitesBefore);
            JsonNode connected = ws.awaitEvent("connected", Duration.ofSeconds(10));
            browser.setAnswer(connected.path("sdp").asText());
            browser.awaitIceState("connected", Duration.ofSeconds(15));
            long before = Poll.until(Duration.ofSeconds(20), "echoed audio", browser::stats,
                    st -> st.packetsReceived() > 20).packetsReceived();

            int rtpPort = port(invite.body(), "m=audio (\\d+) ");
            byte[] rtp = new byte[172];
            rtp[0] = (byte) 0x80;
            try (java.net.DatagramSocket other = new java.net.DatagramSocket(0, java.net.InetAddress.getByName("127.0.0.2"))) {
                for (int i = 0; i < 100; i++) {
                    rtp[3] = (byte) i;
                    other.send(new java.net.DatagramPacket(rtp, rtp.length, java.net.InetAddress.getByName("127.0.0.1"),
                            rtpPort));
                }
            }
            JsonNode drops = Poll.until(Duration.ofSeconds(10), "the other host's packets counted", () ->
                    ws.ok("stats", "call", call).path("stats").at("/streams/0/sipToBrowser/drops"),
                    d -> d.path("foreignSource").asLong() >= 100);
            assertEquals(100, drops.path("foreignSource").asLong(), drops.toString());
            Poll.until(Duration.ofSeconds(10), "audio still echoed", () -> browser.stats().packetsReceived() > before + 100);

            ws.ok("hangup", "call", call);
            ws.awaitEvent("ended", Duration.ofSeconds(5));
            browser.hangUp();
        }
    }

    @AfterAll
    static void stop() {
        Closing.all(browser, GatewayProcess.together(strict, gw), sipp);
    }

    @Test
    void audioFlowsBothWaysThroughTheBridge() throws Exception {
        try (WsTestClient ws = WsTestClient.connect(gw.wsUrl())) {
            ws.ok("hello");
            ws.startKeepalive(Duration.ofSeconds(5));
            String offer = browser.createOffer();
            JsonNode placed = ws.ok("call", "to", "5000", "sdp", offer,
                    "data", java.util.Map.of("case", "42", "queue", "billing"));
            String call = placed.path("call").asText();
            SipMessage invite = sipp.awaitRequests("INVITE", 1, Duration.ofSeconds(10)).get(0);
            // attached data as SIP headers: the mapped key by its header, any other as X-Genesys-<key>
            assertEquals("42", invite.header("X-Case-Id").orElse(null), invite.toString());
            assertEquals("billing", invite.header("X-Genesys-queue").orElse(null), invite.toString());
            assertTrue(invite.body().contains("RTP/AVP"), "plain RTP toward SIP: " + invite.body());
            assertTrue(!invite.body().contains("a=fingerprint") && !invite.body().contains("a=ice-ufrag"), invite.body());

            ws.awaitEvent("ringing", Duration.ofSeconds(10));
            JsonNode connected = ws.awaitEvent("connected", Duration.ofSeconds(10));
            assertEquals(call, connected.path("call").asText());
            browser.setAnswer(connected.path("sdp").asText());

            browser.awaitIceState("connected", Duration.ofSeconds(15));
            ChromiumPeer.Stats stats = Poll.until(Duration.ofSeconds(20), "echoed audio decoded by the browser",
                    browser::stats, s -> s.packetsReceived() > 50 && s.totalAudioEnergy() > 0);
            assertEquals("connected", stats.dtlsState());
            assertTrue(stats.packetsSent() > 50, stats.toString());

            JsonNode gwStats = ws.ok("stats", "call", call).path("stats");
            assertEquals("connected", gwStats.path("state").asText(), gwStats.toString());

            // Garbage on every port of the call (the browser-facing ICE port, both SIP-side RTP/RTCP ports):
            // random bytes, truncated RTP, fake STUN with bad integrity. The call must not notice.
            int icePort = port(connected.path("sdp").asText(), "a=candidate:\\S+ 1 udp \\d+ 127\\.0\\.0\\.1 (\\d+) typ host");
            int rtpPort = port(invite.body(), "m=audio (\\d+) ");
            long before = browser.stats().packetsReceived();
            garbage(icePort, rtpPort, rtpPort + 1);
            Poll.until(Duration.ofSeconds(10), "audio still flowing after the garbage",
                    () -> browser.stats().packetsReceived() > before + 100);
            assertEquals("connected", ws.ok("stats", "call", call).path("stats").path("state").asText());

            ws.ok("hangup", "call", call);
            sipp.awaitRequests("BYE", 1, Duration.ofSeconds(10));
            JsonNode ended = ws.awaitEvent("ended", Duration.ofSeconds(5));
            assertEquals("local-hangup", ended.path("reason").asText());
            browser.hangUp();
        }
    }
}
