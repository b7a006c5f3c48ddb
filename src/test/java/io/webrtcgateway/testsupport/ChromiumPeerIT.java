package io.webrtcgateway.testsupport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The real-peer tools the media tests stand on: two headless Chromiums (two harness processes) connect
 * to each other with SDP handed across by this test, on loopback only, then through coturn with
 * relay-only ICE; the audio of each fake microphone must arrive and be decoded at the other end.
 * Chromium, node, playwright-core, cc and coturn are required: without them these tests fail.
 */
class ChromiumPeerIT {

    private static final Duration STEP = Duration.ofSeconds(20);
    private static final Pattern CANDIDATE = Pattern.compile("(?m)^a=candidate:\\S+ \\d+ (\\S+) \\d+ (\\S+) (\\d+) typ (\\S+)");

    @Test
    void audioFlowsBothWaysOnLoopback() {
        try (ChromiumPeer alice = ChromiumPeer.builder().name("alice").start();
             ChromiumPeer bob = ChromiumPeer.builder().name("bob").start()) {
            String offer = alice.createOffer();
            List<String[]> candidates = candidates(offer);
            assertFalse(candidates.isEmpty(), () -> "no candidates in the offer:\n" + offer);
            candidates.forEach(c -> assertLoopback(c[1], offer));
            assertTrue(candidates.stream().allMatch(c -> c[3].equals("host")), offer);

            alice.setAnswer(bob.setOffer(offer));
            alice.awaitConnectionState("connected", STEP);
            bob.awaitConnectionState("connected", STEP);

            ChromiumPeer.Stats heard = awaitAudioFrom(bob, "alice");
            awaitAudioFrom(alice, "bob");
            assertEquals("connected", heard.dtlsState());
            ChromiumPeer.SelectedPair pair = heard.selectedPair();
            assertEquals("host", pair.localType(), heard::toString);
            assertEquals("host", pair.remoteType(), heard::toString);
            assertLoopback(pair.localAddress(), heard.toString());
            assertLoopback(pair.remoteAddress(), heard.toString());
        }
    }

    @Test
    void relayOnlyThroughCoturn() {
        try (Coturn turn = Coturn.start();
             ChromiumPeer alice = ChromiumPeer.builder().name("alice").iceServers(turn.iceServersJson()).relayOnly().start();
             ChromiumPeer bob = ChromiumPeer.builder().name("bob").iceServers(turn.iceServersJson()).relayOnly().start()) {
            String offer = alice.createOffer();
            List<String[]> candidates = candidates(offer);
            assertFalse(candidates.isEmpty(), () -> "no relay candidate in the offer:\n" + offer);
            for (String[] c : candidates) {
                assertEquals("relay", c[3], offer);
                assertLoopback(c[1], offer);
                int port = Integer.parseInt(c[2]);
                assertTrue(port >= turn.relayPorts().low() && port <= turn.relayPorts().high(),
                        () -> "relay port " + port + " outside coturn's " + turn.relayPorts());
            }

            alice.setAnswer(bob.setOffer(offer));
            alice.awaitConnectionState("connected", STEP);

            for (ChromiumPeer listener : List.of(bob, alice)) {
                ChromiumPeer.Stats heard = awaitAudioFrom(listener, listener == bob ? "alice" : "bob");
                assertEquals("relay", heard.selectedPair().localType(), heard::toString);
                assertEquals("relay", heard.selectedPair().remoteType(), heard::toString);
            }
        }
    }

    /** Trickle both ways, an ICE restart, DTMF, then a hang-up and a second call in the same browsers. */
    @Test
    void trickleRestartDtmfAndASecondCall() {
        try (ChromiumPeer alice = ChromiumPeer.builder().name("alice").trickle()
                     .audioCodecs("PCMU", "telephone-event").start();
             ChromiumPeer bob = ChromiumPeer.builder().name("bob").trickle().start()) {
            String offer = alice.createOffer();
            assertTrue(candidates(offer).isEmpty(), "a trickle offer comes before any candidate");
            assertTrue(Pattern.compile("(?m)^m=audio \\d+ UDP/TLS/RTP/SAVPF 0 ").matcher(offer).find(),
                    () -> "PCMU first:\n" + offer);
            connectTrickling(alice, bob, offer);
            assertEquals("PCMU/8000", awaitAudioFrom(bob, "alice").inbound().codec());

            String firstUfrag = ufrag(offer);
            String restart = alice.restartIce();
            assertNotEquals(firstUfrag, ufrag(restart), "an ICE restart changes ice-ufrag (RFC 8445 §9)");
            connectTrickling(alice, bob, restart);
            long before = bob.stats().packetsReceived();
            Poll.until(STEP, "audio after the ICE restart", () -> bob.stats().packetsReceived(), n -> n > before + 10);

            int from = alice.lineCount();
            alice.dtmf("1#");
            int tone = alice.awaitEvent("tonechange", from, STEP);
            assertEquals("1", alice.line(tone).path("tone").asText());
            int next = alice.awaitEvent("tonechange", tone + 1, STEP);
            assertEquals("#", alice.line(next).path("tone").asText());

            alice.hangUp();
            bob.hangUp();
            assertEquals("closed", alice.stats().json().path("signalingState").asText());
            assertEquals("closed", alice.iceState(), "a hang-up leaves no stale \"connected\" behind");

            connectTrickling(bob, alice, bob.createOffer());
            awaitAudioFrom(alice, "bob in the second call");
        }
    }

    /** The offerer's SDP is out; hands the answer back and every trickled candidate across. */
    private static void connectTrickling(ChromiumPeer offerer, ChromiumPeer answerer, String offer) {
        String answer = answerer.setOffer(offer);
        offerer.setAnswer(answer);
        for (JsonNode candidate : offerer.awaitCandidates(STEP)) {
            assertLoopback(candidate.path("candidate").asText().split(" ")[4], candidate.toString());
            answerer.addCandidate(candidate);
        }
        answerer.endOfCandidates();
        for (JsonNode candidate : answerer.awaitCandidates(STEP)) {
            offerer.addCandidate(candidate);
        }
        offerer.endOfCandidates();
        offerer.awaitIceState("connected", STEP);
        answerer.awaitIceState("connected", STEP);
    }

    /** Polls until {@code listener} has received audio and played something audible out of it. */
    private static ChromiumPeer.Stats awaitAudioFrom(ChromiumPeer listener, String speaker) {
        return Poll.until(STEP, listener.name() + " hearing " + speaker, listener::stats,
                s -> s.packetsReceived() > 0 && s.totalAudioEnergy() > 0);
    }

    /** [transport, address, port, type] of each a=candidate line. */
    private static List<String[]> candidates(String sdp) {
        Matcher m = CANDIDATE.matcher(sdp);
        List<String[]> found = new ArrayList<>();
        while (m.find()) {
            found.add(new String[] {m.group(1), m.group(2), m.group(3), m.group(4)});
        }
        return found;
    }

    private static String ufrag(String sdp) {
        Matcher m = Pattern.compile("(?m)^a=ice-ufrag:(\\S+)").matcher(sdp);
        assertTrue(m.find(), () -> "no ice-ufrag in\n" + sdp);
        return m.group(1);
    }

    private static void assertLoopback(String address, String context) {
        assertTrue(address.startsWith("127.") || address.equals("::1"),
                () -> address + " is not a loopback address in\n" + context);
    }
}
