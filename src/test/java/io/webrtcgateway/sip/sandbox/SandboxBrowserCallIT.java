package io.webrtcgateway.sip.sandbox;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import io.webrtcgateway.testsupport.Closing;
import io.webrtcgateway.testsupport.ChromiumPeer;
import io.webrtcgateway.testsupport.GatewayProcess;
import io.webrtcgateway.testsupport.Poll;
import io.webrtcgateway.testsupport.WsTestClient;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The README's demo path with real browsers: the standalone gateway on its default config (the sandbox
 * SIP server), two headless Chromium pages signed in as 1001 and 1002 calling each other, and a page
 * calling the echo number. Audio must arrive in every browser that should hear something.
 */
class SandboxBrowserCallIT {
    private static GatewayProcess gw;
    private static ChromiumPeer alice;
    private static ChromiumPeer bob;

    @BeforeAll
    static void start() {
        // Both Chromiums start (start() returns at once) while the gateway does.
        alice = ChromiumPeer.builder().name("alice").audioCodecs("PCMU", "telephone-event").start();
        bob = ChromiumPeer.builder().name("bob").audioCodecs("PCMU", "telephone-event").start();
        gw = GatewayProcess.builder().name("sandbox-demo")
                .set("gateway.media.ice-addresses", List.of("127.0.0.1"))
                .start();
    }

    @AfterAll
    static void stop() {
        Closing.all(alice, bob, gw);
    }

    private static WsTestClient signIn(String dn) {
        WsTestClient ws = WsTestClient.connect(gw.wsUrl());
        ws.ok("hello");
        ws.startKeepalive(Duration.ofSeconds(5));
        ws.ok("register", "dn", dn, "password", "any");
        return ws;
    }

    private static void hearsAudio(ChromiumPeer peer, String what) {
        Poll.until(Duration.ofSeconds(20), what, peer::stats, s -> s.packetsReceived() > 50 && s.totalAudioEnergy() > 0);
    }

    @Test
    void twoBrowsersCallEachOtherThroughTheSandbox() throws Exception {
        try (WsTestClient ws1001 = signIn("1001"); WsTestClient ws1002 = signIn("1002")) {
            String call = ws1001.ok("call", "to", "1002", "sdp", alice.createOffer(), "data", java.util.Map.of("case", "42"))
                    .path("call").asText();

            JsonNode incoming = ws1002.awaitEvent("incoming", Duration.ofSeconds(10));
            assertEquals("1001", incoming.path("from").asText(), incoming.toString());
            assertEquals("1002", incoming.path("to").asText(), incoming.toString());
            String answer = bob.setOffer(incoming.path("sdp").asText());
            ws1002.ok("answer", "call", incoming.path("call").asText(), "sdp", answer);

            JsonNode connected = ws1001.awaitEvent("connected", Duration.ofSeconds(10));
            assertEquals(call, connected.path("call").asText());
            alice.setAnswer(connected.path("sdp").asText());
            ws1002.awaitEvent("connected", Duration.ofSeconds(10));

            alice.awaitIceState("connected", Duration.ofSeconds(15));
            bob.awaitIceState("connected", Duration.ofSeconds(15));
            hearsAudio(alice, "1001 hears 1002");
            hearsAudio(bob, "1002 hears 1001");

            ws1001.ok("hangup", "call", call);
            assertEquals("local-hangup", ws1001.awaitEvent("ended", Duration.ofSeconds(5)).path("reason").asText());
            ws1002.awaitEvent("ended", Duration.ofSeconds(5));
            alice.hangUp();
            bob.hangUp();
        }
    }

    @Test
    void aBrowserHearsItselfOnTheEchoNumber() throws Exception {
        try (ChromiumPeer carol = ChromiumPeer.builder().name("carol").audioCodecs("PCMU", "telephone-event").start();
             WsTestClient ws = signIn("1003")) {
            String call = ws.ok("call", "to", CallRouter.ECHO_NUMBER, "sdp", carol.createOffer()).path("call").asText();
            JsonNode connected = ws.awaitEvent("connected", Duration.ofSeconds(10));
            carol.setAnswer(connected.path("sdp").asText());
            carol.awaitIceState("connected", Duration.ofSeconds(15));
            hearsAudio(carol, "the echo of its own audio");
            ws.ok("hangup", "call", call);
            ws.awaitEvent("ended", Duration.ofSeconds(5));
            carol.hangUp();
        }
    }
}
