package io.webrtcgateway.call;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.webrtcgateway.testsupport.CannedOffers;
import io.webrtcgateway.testsupport.Closing;
import io.webrtcgateway.testsupport.ChromiumPeer;
import io.webrtcgateway.testsupport.FreePorts;
import io.webrtcgateway.testsupport.GatewayProcess;
import io.webrtcgateway.testsupport.Poll;
import io.webrtcgateway.testsupport.PrometheusText;
import io.webrtcgateway.testsupport.RtpEcho;
import io.webrtcgateway.testsupport.SipMessage;
import io.webrtcgateway.testsupport.Sipp;
import io.webrtcgateway.testsupport.WsTestClient;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The gateway's own media deadlines and its RFC 4733 DTMF, against real peers: SIPp as SIP Server
 * ({@code uas-calls.xml}: callee {@code dtmf} answers with its media at a test {@link RtpEcho}), headless
 * Chromium as the browser, the WebSocket protocol spoken by the test. Short timeouts by config:
 * {@code media-setup-timeout} 8 s, {@code media-timeout} 3 s.
 */
class CallMediaTimeoutsIT {
    private static final Duration T = Duration.ofSeconds(15);
    /** Long enough for a cold JVM on a loaded machine to finish its first DTLS handshake. */
    private static final Duration SETUP_TIMEOUT = Duration.ofSeconds(8);
    private static final Duration SILENCE_TIMEOUT = Duration.ofSeconds(3);
    private static final long ECHO_SSRC = 0x5EED_0D7FL;

    private static RtpEcho sipMedia;
    private static Sipp sipp;
    private static GatewayProcess gw;
    private static ChromiumPeer browser;
    private static WsTestClient ws;

    @BeforeAll
    static void start() {
        // Chromium starts (start() returns at once) while the gateway does.
        browser = ChromiumPeer.builder().name("browser").audioCodecs("PCMU", "telephone-event").start();
        sipMedia = RtpEcho.rewritingSsrc(ECHO_SSRC);
        sipp = Sipp.scenario("uas-calls.xml").key("peer_rtp_port", String.valueOf(sipMedia.port()))
                .args("-mi", "127.0.0.1", "-mp", String.valueOf(FreePorts.sippMedia()), "-rtp_echo").start();
        gw = GatewayProcess.builder().sipServers(sipp.serverEntry())
                .set("gateway.media.ice-addresses", List.of("127.0.0.1"))
                .set("gateway.calls.media-setup-timeout", SETUP_TIMEOUT.toSeconds() + " s")
                .set("gateway.calls.media-timeout", SILENCE_TIMEOUT.toSeconds() + " s")
                .set("gateway.legacy.poll-timeout", "1 s")
                .jvmArgs("-Dorg.slf4j.simpleLogger.showDateTime=true", "-Dorg.slf4j.simpleLogger.log.io.webrtcgateway.media.ice=debug")
                .start();
        ws = WsTestClient.connect(gw.wsUrl());
        ws.ok("hello");
        ws.startKeepalive(Duration.ofSeconds(5));
    }

    @AfterAll
    static void stop() {
        Closing.all(ws, browser, gw, sipp, sipMedia);
    }

    /** The future's value; its failure (e.g. a Poll's AssertionError) rethrown as it was. */
    private static <T> T joined(CompletableFuture<T> future, Duration timeout) throws Exception {
        try {
            return future.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof Error error) {
                throw error;
            }
            throw e;
        }
    }

    private static JsonNode awaitEnded(String call, Duration timeout) {
        return ws.await(timeout, "ended of " + call,
                m -> "ended".equals(m.path("name").asText()) && call.equals(m.path("call").asText()));
    }

    private static JsonNode awaitCallEvent(String name, String call) {
        return ws.await(T, name + " of " + call,
                m -> name.equals(m.path("name").asText()) && call.equals(m.path("call").asText()));
    }

    private static String callIdOfInvite(String toUser, int nth) {
        List<SipMessage> invites = sipp.receivedRequests("INVITE").stream()
                .filter(m -> m.requestUri().contains("sip:" + toUser + "@")).toList();
        return invites.get(nth).callId();
    }

    private static SipMessage awaitBye(String callId, Duration timeout) {
        return sipp.awaitReceived(m -> m.isRequest() && m.method().equals("BYE")
                && callId.equals(m.callId()), 1, timeout, "BYE for " + callId).get(0);
    }

    /**
     * A browser that never does ICE, through the WebSocket protocol and through the legacy (grtc.js) one at the
     * same time (the two setup timeouts run side by side, each on its own call): each call ends after
     * media-setup-timeout, SIPp gets a BYE for each, and the legacy peer learns of the end by a BYE in its poll.
     */
    @Test
    void browsersThatNeverDoIceAreHungUpAfterTheSetupTimeout() throws Exception {
        double setupTimeoutsBefore = mediaFailures("setup-timeout");
        String call = ws.ok("call", "to", "noice", "sdp",
                CannedOffers.audioWithoutUsableCandidates()).path("call").asText();
        awaitCallEvent("connected", call);
        long connectedAt = System.nanoTime();
        String callId = callIdOfInvite("noice", 0);

        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
        String base = gw.httpUrl().replaceAll("/$", "");
        String anon = "anon" + "0123456789abcdef0123456789ABCDEF";
        String signIn = http.send(HttpRequest.newBuilder(URI.create(base + "/sign_in?" + anon)).GET().build(),
                HttpResponse.BodyHandlers.ofString()).body();
        String ssid = signIn.split("\n", 2)[0].substring(signIn.indexOf('=') + 1);
        String offer = "RSMP " + new ObjectMapper().writeValueAsString(Map.of("messageType", "OFFER",
                "sdp", CannedOffers.audioWithoutUsableCandidates(), "seq", 1, "tiebreaker", 42,
                "Candidates", List.of()));
        HttpResponse<String> sent = http.send(HttpRequest.newBuilder(URI.create(base + "/message?from=" + ssid + "&to=legacynoice"))
                .header("Content-Type", "text/plain;charset=UTF-8").POST(HttpRequest.BodyPublishers.ofString(offer)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, sent.statusCode(), sent.body());
        long sentAt = System.nanoTime();

        // The legacy peer polls on its own thread meanwhile, so that its BYE is timed as it arrives too.
        List<String> bodies = new CopyOnWriteArrayList<>();
        CompletableFuture<Long> legacyByeAt = CompletableFuture.supplyAsync(() -> {
            Poll.until(SETUP_TIMEOUT.plus(T), "BYE in the legacy poll", () -> {
                try {
                    HttpResponse<String> poll = http.send(HttpRequest.newBuilder(URI.create(base + "/wait?id=" + ssid))
                            .timeout(Duration.ofSeconds(10)).GET().build(), HttpResponse.BodyHandlers.ofString());
                    if (!poll.body().isEmpty()) {
                        bodies.add(poll.headers().firstValue("Pragma").orElse("") + ": " + poll.body());
                    }
                } catch (IOException | InterruptedException e) {
                    throw new IllegalStateException(e);
                }
                return bodies;
            }, b -> b.stream().anyMatch(m -> m.startsWith("legacynoice: BYE")));
            return System.nanoTime();
        });

        JsonNode ended = awaitEnded(call, SETUP_TIMEOUT.plus(T));
        long afterMillis = (System.nanoTime() - connectedAt) / 1_000_000;
        assertEquals("media-timeout", ended.path("reason").asText(), ended.toString());
        awaitBye(callId, Duration.ofSeconds(5));
        // Not before the deadline (counted from both SDPs applied, i.e. about when connected came), and not
        // much after it: the check runs every quarter of the timeout; generous for a loaded machine.
        assertTrue(afterMillis >= SETUP_TIMEOUT.toMillis() - 500, "ended after only " + afterMillis + " ms");
        assertTrue(afterMillis <= SETUP_TIMEOUT.toMillis() + 5_000, "ended only after " + afterMillis + " ms");

        long legacyAfterMillis = (joined(legacyByeAt, SETUP_TIMEOUT.plus(T)) - sentAt) / 1_000_000;
        assertTrue(bodies.get(0).contains("\"messageType\":\"ANSWER\""), "the answer first: " + bodies);
        assertTrue(legacyAfterMillis >= SETUP_TIMEOUT.toMillis() - 500, "BYE after only " + legacyAfterMillis + " ms");
        awaitBye(callIdOfInvite("legacynoice", 0), Duration.ofSeconds(5));
        assertEquals(setupTimeoutsBefore + 2, mediaFailures("setup-timeout"), "both counted by cause");
        http.send(HttpRequest.newBuilder(URI.create(base + "/sign_out?id=" + ssid)).GET().build(),
                HttpResponse.BodyHandlers.ofString());
    }

    /** gateway_call_media_failures_total{cause} now. */
    private static double mediaFailures(String cause) throws IOException, InterruptedException {
        HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(gw.httpUrl()
                + "/metrics")).build(), HttpResponse.BodyHandlers.ofString());
        return PrometheusText.parse(r.body()).value("gateway_call_media_failures_total", "cause", cause);
    }

    /** SIP-side RTP stops (the far end's media went away without a BYE): media-timeout, BYE to SIP. */
    @Test
    void aCallWhoseSipSideMediaStopsEndsWithMediaTimeout() throws Exception {
        int invitesBefore = (int) sipp.receivedRequests("INVITE").stream()
                .filter(m -> m.requestUri().contains("sip:dtmf@")).count();
        double silentSipBefore = mediaFailures("no-media-from-sip");
        String call = connectedBrowserCall();
        String callId = callIdOfInvite("dtmf", invitesBefore);
        try {
            // Media flows both ways for longer than the silence timeout: the call stays.
            long echoedBefore = sipMedia.rtpPackets();
            Poll.until(T, "audio through the bridge for " + (SILENCE_TIMEOUT.toSeconds() + 2) + " s",
                    () -> sipMedia.rtpPackets() - echoedBefore, n -> n >= 50 * (SILENCE_TIMEOUT.toSeconds() + 2));
            assertTrue(ws.seen().stream().noneMatch(m -> "ended".equals(m.path("name").asText())
                    && call.equals(m.path("call").asText())), "ended while media flowed");

            sipMedia.pause();
            long pausedAt = System.nanoTime();
            JsonNode ended = awaitEnded(call, SILENCE_TIMEOUT.plus(T));
            long afterMillis = (System.nanoTime() - pausedAt) / 1_000_000;
            assertEquals("media-timeout", ended.path("reason").asText(), ended + " " + afterMillis + " ms after the pause");
            awaitBye(callId, Duration.ofSeconds(5));
            assertTrue(afterMillis >= SILENCE_TIMEOUT.toMillis() - 500, "ended after only " + afterMillis + " ms");
            assertEquals(silentSipBefore + 1, mediaFailures("no-media-from-sip"));
        } finally {
            sipMedia.resume();
            browser.hangUp();
        }
    }

    /**
     * An ICE restart from the browser (what the JS library does on ICE failure) moves the media to a new
     * generation; the call outlives the setup timeout that the restart re-armed, with audio flowing.
     */
    @Test
    void anIceRestartKeepsTheCall() throws Exception {
        String call = connectedBrowserCall();
        try {
            String restartOffer = browser.restartIce();
            String answer = ws.ok("ice-restart", "call", call, "sdp", restartOffer).path("sdp").asText();
            browser.setAnswer(answer);
            browser.awaitIceState("connected", T);
            long received = browser.stats().packetsReceived();
            long echoed = sipMedia.rtpPackets();
            // Past the re-armed setup deadline and the silence timeout, media keeps flowing both ways.
            long waitMillis = SETUP_TIMEOUT.plus(SILENCE_TIMEOUT).toMillis() + 1000;
            Poll.until(Duration.ofMillis(waitMillis + 15_000), "media after the restart for " + waitMillis + " ms",
                    () -> browser.stats().packetsReceived() - received, n -> n >= waitMillis / 20 * 3 / 4);
            assertTrue(sipMedia.rtpPackets() - echoed >= waitMillis / 20 * 3 / 4, "browser audio reached SIP");
            assertTrue(ws.seen().stream().noneMatch(m -> "ended".equals(m.path("name").asText())
                    && call.equals(m.path("call").asText())), "the call ended: " + ws.seen());
        } finally {
            browser.hangUp();
            ws.request("hangup", "call", call);
        }
    }

    /**
     * The {@code dtmf} request becomes RFC 4733 telephone-events in the SIP-side stream: the right digits,
     * three end packets each, the same SSRC as the relayed audio, sequence numbers going on from the audio.
     */
    @Test
    void dtmfRequestIsSentAsTelephoneEventsInTheAudioStream() throws Exception {
        String call = connectedBrowserCall();
        try {
            int headersBefore = sipMedia.rtpHeaders().size();
            Poll.until(T, "audio at the SIP side before the DTMF", () -> sipMedia.rtpHeaders().size() - headersBefore,
                    n -> n >= 10);
            ws.ok("dtmf", "call", call, "digits", "1#9", "duration", 100);
            Poll.until(T, "three digits ended at the SIP side, each end sent three times (RFC 4733 §2.5.1.4)",
                    () -> sipMedia.telephoneEvents(101).stream().filter(RtpEcho.TelephoneEvent::end).count(),
                    n -> n >= 9);
            assertEquals(List.of(1, 11, 9), sipMedia.endedTelephoneEvents(101));
            assertTrue(sipMedia.telephoneEvents(101).stream().allMatch(e -> e.volume() == 10 && e.duration() > 0));

            // Audio resumes after the events; then look at the whole run of this call's packets.
            Poll.until(T, "audio after the events", () -> sipMedia.rtpHeaders().stream().skip(headersBefore)
                    .dropWhile(h -> h.payloadType() != 101).filter(h -> h.payloadType() == 0).count(), n -> n >= 25);
            List<RtpEcho.Header> run = sipMedia.rtpHeaders().stream().skip(headersBefore).toList();
            Set<Long> audioSsrcs = run.stream().filter(h -> h.payloadType() == 0).map(RtpEcho.Header::ssrc)
                    .collect(Collectors.toSet());
            Set<Long> eventSsrcs = run.stream().filter(h -> h.payloadType() == 101).map(RtpEcho.Header::ssrc)
                    .collect(Collectors.toSet());
            assertEquals(1, audioSsrcs.size(), "one SSRC toward SIP: " + audioSsrcs);
            assertEquals(audioSsrcs, eventSsrcs, "telephone-events under the audio's SSRC");
            // Sequence numbers strictly increasing across audio -> events -> audio (loopback keeps order;
            // a gap could only be a lost packet, a step back or a repeat never).
            for (int i = 1; i < run.size(); i++) {
                int step = (run.get(i).sequence() - run.get(i - 1).sequence()) & 0xffff;
                assertTrue(step >= 1 && step < 100, "sequence " + run.get(i - 1).sequence() + " -> "
                        + run.get(i).sequence() + " at packet " + i);
            }
            int firstEvent = indexOf(run, 101);
            RtpEcho.Header before = run.get(firstEvent - 1);
            assertEquals(0, before.payloadType());
            assertEquals((before.sequence() + 1) & 0xffff, run.get(firstEvent).sequence(), "events continue the audio");
            assertTrue(run.get(firstEvent).marker(), "first packet of the first event has the marker (§2.5.1.2)");
        } finally {
            browser.hangUp();
            ws.request("hangup", "call", call);
        }
    }

    private static int indexOf(List<RtpEcho.Header> run, int payloadType) {
        for (int i = 0; i < run.size(); i++) {
            if (run.get(i).payloadType() == payloadType) {
                return i;
            }
        }
        throw new AssertionError("no packet of payload type " + payloadType);
    }

    /** Chromium calls "dtmf" (media at the RtpEcho) through the gateway; audio flows both ways. */
    private static String connectedBrowserCall() {
        String offer = browser.createOffer();
        String call = ws.ok("call", "to", "dtmf", "sdp", offer).path("call").asText();
        JsonNode connected = awaitCallEvent("connected", call);
        browser.setAnswer(connected.path("sdp").asText());
        browser.awaitIceState("connected", T);
        Poll.until(T, "audio back at the browser", browser::stats, s -> s.packetsReceived() > 20);
        return call;
    }
}
