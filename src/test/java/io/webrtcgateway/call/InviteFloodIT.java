package io.webrtcgateway.call;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.webrtcgateway.testsupport.BrowserPhone;
import io.webrtcgateway.testsupport.FreePorts;
import io.webrtcgateway.testsupport.GatewayProcess;
import io.webrtcgateway.testsupport.Poll;
import io.webrtcgateway.testsupport.ProcessResources;
import io.webrtcgateway.testsupport.PrometheusText;
import io.webrtcgateway.testsupport.SipMessage;
import io.webrtcgateway.testsupport.Sipp;
import io.webrtcgateway.testsupport.WsTestClient;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * An INVITE flood from SIP Server's own address (SIPp at 200 calls/s): the gateway answers what it cannot take
 * with 503 and Retry-After before any media port is allocated, so the RTP port range is never emptied, and a
 * bystander still gets through:
 * <ul>
 * <li>over gateway.limits.max-incoming-calls-per-second: the calls beyond the rate are refused by the call
 * service (503, counted in gateway_sip_invites_refused_total{cause="limit-call-rate"}); the ones within it ring
 * the flooded browser, which rejects them; afterwards a Chromium phone takes SIP Server's call with audio;</li>
 * <li>over gateway.sip.max-requests-per-second of the flooding address: refused in the SIP stack already (503 for
 * INVITEs, ACKs dropped, counted in gateway_sip_rate_limited_requests_total), while another SIP Server node,
 * with a bucket of its own, reaches the phone during the flood.</li>
 * </ul>
 */
class InviteFloodIT {
    private static final String PHONE_DN = "1001";
    private static final String FLOODED_DN = "1002";
    private static final int FLOOD = 400;
    private static final Duration STEP = Duration.ofSeconds(20);
    private static final HttpClient HTTP = HttpClient.newHttpClient();

    @Test
    void callsBeyondTheRateGet503WithRetryAfterBeforeAnyMediaAndTheNextCallGoesThrough() throws Exception {
        int rate = 10;
        try (Sipp registrar = Sipp.scenario("registrar-ok.xml").name("sip-server").start();
             GatewayProcess gw = GatewayProcess.builder().sipServers(registrar.serverEntry())
                     .set("gateway.limits.max-incoming-calls-per-second", String.valueOf(rate))
                     .set("gateway.media.ice-addresses", List.of("127.0.0.1"))
                     // One DN takes the whole flood: its session's own call limit (486, ClientLimitsIT) stays out
                     // of the way of the instance-wide ones measured here.
                     .set("gateway.limits.max-calls-per-session", "0")
                     .start();
             BrowserPhone phone = BrowserPhone.start(gw.httpUrl(), "agent");
             WsTestClient flooded = WsTestClient.connect(gw.wsUrl());
             Rejecter rejecter = new Rejecter(flooded)) {
            phone.connect();
            phone.register(PHONE_DN);
            flooded.ok("hello");
            flooded.ok("register", "dn", FLOODED_DN);
            // Warm-up: a call the phone takes, so that the baseline holds what any call leaves behind.
            phoneTakesACallWithAudio(gw, phone, "127.0.0.1", "warm-up");
            long pid = gw.pid();
            FreePorts.Range range = gw.rtpPorts();
            int basePorts = rtpPortsInUse(pid, range);
            int baseThreads = ProcessResources.threads(pid);
            rejecter.start();

            AtomicInteger peakPorts = new AtomicInteger();
            long started = System.nanoTime();
            try (Sipp flood = Sipp.scenario("uac-flood-invite.xml").name("flood").remote("127.0.0.1:" + gw.sipPort())
                    .args("-s", FLOODED_DN, "-r", "200", "-buff_size", "4194304").maxCalls(FLOOD).start()) {
                Poll.until(Duration.ofSeconds(60), "every flood INVITE answered", () -> {
                    peakPorts.accumulateAndGet(rtpPortsInUse(pid, range), Math::max);
                    return !flood.isAlive();
                });
                double seconds = (System.nanoTime() - started) / 1e9;
                assertEquals(0, flood.waitForExit(STEP), "every INVITE got its 503 or 486: " + flood.errors());
                assertEquals(200, gw.httpStatus("/health/ready"), "READY: refusing a flood is what it should do");

                List<SipMessage> refusals = flood.received().stream().filter(m -> !m.isRequest() && m.status() == 503)
                        .toList();
                Set<String> refused = refusals.stream().map(SipMessage::callId).collect(Collectors.toSet());
                int admitted = rejecter.rejected.get();
                System.out.printf("InviteFloodIT: %d INVITEs in %.1f s: %d refused with 503, %d became calls; RTP ports"
                        + " in use %d before, peak %d of %d%n", FLOOD, seconds, refused.size(), admitted, basePorts,
                        peakPorts.get(), range.high() - range.low() + 1);
                assertTrue(refused.size() + admitted >= FLOOD, "each INVITE refused or a call");
                assertTrue(admitted >= 1 && admitted <= rate + rate * seconds + 2,
                        admitted + " calls admitted in " + seconds + " s at " + rate + "/s");
                for (SipMessage r : refusals) {
                    int retryAfter = Integer.parseInt(r.header("Retry-After").orElseThrow(
                            () -> new AssertionError("503 without Retry-After: " + r.text())).trim());
                    assertTrue(retryAfter >= 1 && retryAfter <= 2, "Retry-After of a 10/s bucket: " + r.text());
                }
                // Only the admitted calls took media ports: 2 each on the SIP side (RTP, RTCP), 1 toward the browser.
                assertTrue(peakPorts.get() - basePorts <= 3 * admitted + 4,
                        "ports in use grew by " + (peakPorts.get() - basePorts) + " for " + admitted + " calls");

                PrometheusText m = metrics(gw);
                double counted = m.value("gateway_sip_invites_refused_total", "cause", "limit-call-rate");
                assertTrue(counted >= refused.size() && counted <= refusals.size(),
                        counted + " counted for " + refused.size() + " refused INVITEs");
            }
            rejecter.close();

            // Once the flood stopped the bucket refills: SIP Server's next call reaches the phone.
            phoneTakesACallWithAudio(gw, phone, "127.0.0.1", "after-flood");
            Poll.until(STEP, "every RTP port back", () -> rtpPortsInUse(pid, range) <= basePorts);
            Poll.until(Duration.ofSeconds(60), "threads back to " + baseThreads,
                    () -> ProcessResources.threads(pid) <= baseThreads + 4);
        }
    }

    @Test
    void oneSourceOverItsRequestRateIsRefusedInTheStackWhileAnotherSipServerNodeCalls() throws Exception {
        try (Sipp registrar = Sipp.scenario("registrar-ok.xml").name("sip-server").start();
             GatewayProcess gw = GatewayProcess.builder().sipServers(registrar.serverEntry())
                     .set("gateway.sip.max-requests-per-second", "20")
                     .set("gateway.sip.trusted-sources", List.of("127.0.0.2"))
                     .set("gateway.limits.max-incoming-calls-per-second", "0")
                     .set("gateway.media.ice-addresses", List.of("127.0.0.1"))
                     // One DN takes the whole flood: its session's own call limit (486, ClientLimitsIT) stays out
                     // of the way of the instance-wide ones measured here.
                     .set("gateway.limits.max-calls-per-session", "0")
                     .start();
             BrowserPhone phone = BrowserPhone.start(gw.httpUrl(), "agent");
             WsTestClient flooded = WsTestClient.connect(gw.wsUrl());
             Rejecter rejecter = new Rejecter(flooded)) {
            phone.connect();
            phone.register(PHONE_DN);
            flooded.ok("hello");
            flooded.ok("register", "dn", FLOODED_DN);
            rejecter.start();
            try (Sipp flood = Sipp.scenario("uac-flood-invite.xml").name("flood").remote("127.0.0.1:" + gw.sipPort())
                    .args("-s", FLOODED_DN, "-r", "200", "-buff_size", "4194304").maxCalls(60 * 200).start()) {
                Poll.until(STEP, "the flood is being refused", () -> flood.received().stream()
                        .anyMatch(m -> !m.isRequest() && m.status() == 503));
                // The second SIP Server node has a bucket of its own: its call reaches the phone meanwhile.
                phoneTakesACallWithAudio(gw, phone, "127.0.0.2", "other-node");
                assertTrue(flood.isAlive(), "the phone's call came during the flood");
                flood.stop();

                List<SipMessage> sent = flood.sent().stream().filter(m -> m.isRequest() && "INVITE".equals(m.method()))
                        .toList();
                List<SipMessage> refusals = flood.received().stream().filter(m -> !m.isRequest() && m.status() == 503)
                        .toList();
                System.out.printf("InviteFloodIT: %d INVITEs from one source at 200/s, 20/s allowed: %d refused with 503%n",
                        sent.size(), refusals.size());
                assertTrue(refusals.size() > sent.size() / 2, refusals.size() + " of " + sent.size() + " refused at 20/s");
                for (SipMessage r : refusals) {
                    assertTrue(r.header("Retry-After").isPresent(), r.text());
                }
                PrometheusText m = metrics(gw);
                double rejected = m.value("gateway_sip_rate_limited_requests_total", "method", "INVITE", "action", "reject");
                Set<String> refused = refusals.stream().map(SipMessage::callId).collect(Collectors.toSet());
                // SIPp was stopped mid-flood: some 503s were sent after it stopped reading.
                assertTrue(rejected >= refused.size() && rejected <= sent.size(),
                        rejected + " counted, " + refused.size() + " INVITEs refused of " + sent.size() + " sent");
                assertTrue(m.valueOrZero("gateway_sip_rate_limited_requests_total", "method", "ACK", "action", "drop") > 0,
                        "ACKs over the rate are dropped");
                assertEquals(0, m.valueOrZero("gateway_sip_invites_refused_total", "cause", "limit-call-rate"));
                assertEquals(1, m.valueOrZero("gateway_sip_server_reachable"), "SIP Server's keepalive still answered");
                assertEquals(200, gw.httpStatus("/health/ready"));
            }
        }
    }

    /** SIPp from {@code from} (SIP Server, or another trusted node) calls the phone, which answers and hears itself. */
    private static void phoneTakesACallWithAudio(GatewayProcess gw, BrowserPhone phone, String from, String name) {
        int line = phone.lineCount();
        try (Sipp caller = Sipp.scenario("uac-echo.xml").name("caller-" + name).localAddress(from)
                .remote("127.0.0.1:" + gw.sipPort())
                .args("-s", PHONE_DN, "-mi", from, "-mp", String.valueOf(FreePorts.sippMedia()), "-rtp_echo")
                .maxCalls(1).start()) {
            String call = phone.awaitEvent("incoming", line, STEP).path("call").asText();
            phone.answer();
            phone.awaitCallEvent(call, "connected", STEP);
            Poll.until(STEP, "the phone hears its audio echoed (" + name + ")", phone::stats,
                    s -> s.at("/inbound/packets").asLong() > 50 && s.at("/inbound/totalAudioEnergy").asDouble() > 0);
            phone.info("text/plain", "please-hang-up"); // uac-echo.xml's cue to hang up
            JsonNode ended = phone.awaitCallEvent(call, "ended", STEP);
            assertEquals("remote-hangup", ended.at("/detail/reason").asText(), ended.toString());
            assertEquals(0, caller.waitForExit(STEP), () -> "the call failed: " + caller.errors());
        }
    }

    /** UDP ports of the gateway inside its RTP range. */
    private static int rtpPortsInUse(long pid, FreePorts.Range range) {
        return (int) ProcessResources.udpPorts(pid).stream().filter(p -> p >= range.low() && p <= range.high()).count();
    }

    private static PrometheusText metrics(GatewayProcess gw) throws Exception {
        HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(gw.httpUrl() + "/metrics")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode());
        return PrometheusText.parse(r.body());
    }

    /** The flooded browser: rejects (486) every call that rings it, on a thread of its own. */
    private static final class Rejecter implements AutoCloseable {
        final AtomicInteger rejected = new AtomicInteger();
        private final WsTestClient ws;
        private final AtomicBoolean stop = new AtomicBoolean();
        private final Thread thread;

        Rejecter(WsTestClient ws) {
            this.ws = ws;
            this.thread = new Thread(this::run, "rejecter");
            this.thread.setDaemon(true);
        }

        void start() {
            thread.start();
        }

        private void run() {
            while (!stop.get()) {
                JsonNode incoming;
                try {
                    incoming = ws.awaitEvent("incoming", Duration.ofSeconds(1));
                } catch (AssertionError none) {
                    continue; // nothing rang within a second: look again unless stopped
                }
                ws.request("reject", "call", incoming.path("call").asText(), "status", 486);
                rejected.incrementAndGet();
            }
        }

        @Override
        public void close() throws InterruptedException {
            stop.set(true);
            thread.join(5000);
        }
    }
}
