package io.webrtcgateway.sip;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.webrtcgateway.testsupport.BrowserPhone;
import io.webrtcgateway.testsupport.FreePorts;
import io.webrtcgateway.testsupport.GatewayProcess;
import io.webrtcgateway.testsupport.Poll;
import io.webrtcgateway.testsupport.ProcessResources;
import io.webrtcgateway.testsupport.PrometheusText;
import io.webrtcgateway.testsupport.Sipp;
import io.webrtcgateway.testsupport.TcpConnectionFlood;
import io.webrtcgateway.testsupport.WsTestClient;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * Issue 13: "200 idle or half-written TCP connections to the SIP port made 400 threads; none was closed after
 * 15 s". An attacker on six loopback addresses (one of them busier) keeps 240 connections open to the SIP port (half of them stop
 * half-way through a request, the rest send nothing) and opens a new one for each the gateway closes. SIP
 * Server is SIPp on 127.0.0.1, over TCP both ways: the gateway's REGISTERs and keepalives go out on its own
 * connection, and SIP Server's call comes in on a connection of its own.
 *
 * <p>While the flood runs: the gateway's threads stay flat (one selector thread serves every connection), it
 * holds no more than gateway.sip.tcp.max-connections strangers' connections and closes the others at once,
 * closes silent and half-written ones after the read timeout, stays READY; a browser registers its DN (the
 * REGISTER goes out over TCP) and a Chromium phone registered before takes SIP Server's TCP call and hears
 * its audio echoed. Afterwards every connection is closed, threads and file descriptors are back where they
 * were.
 */
class SipTcpFloodIT {
    private static final String PHONE_DN = "1001";
    private static final String WS_DN = "1002";
    /** Six attacking addresses; 127.0.0.3 opens three times as many connections as each of the others. */
    private static final List<String> ATTACKERS = List.of("127.0.0.3", "127.0.0.4", "127.0.0.3", "127.0.0.5",
            "127.0.0.6", "127.0.0.3", "127.0.0.7", "127.0.0.8");
    private static final int FLOOD = 240;
    private static final int MAX_CONNECTIONS = 100;
    private static final int PER_SOURCE = 30;
    private static final Duration STEP = Duration.ofSeconds(20);
    /** Threads the gateway may start besides during the flood (a call's media, pools growing): far from 2 per connection. */
    private static final int THREAD_SLACK = 25;
    private static final HttpClient HTTP = HttpClient.newHttpClient();

    @Test
    void aConnectionFloodCostsNoThreadsIsCappedAndTimedOutWhileSipServerStillRegistersAndCalls() throws Exception {
        try (Sipp sipServer = Sipp.scenario("registrar-ok.xml").name("sip-server").transport(Sipp.Transport.TCP)
                     .start();
             GatewayProcess gw = GatewayProcess.builder().sipServers(sipServer.serverEntry())
                     .set("gateway.sip.keepalive-interval", "1 s")
                     .set("gateway.sip.tcp.max-connections", String.valueOf(MAX_CONNECTIONS))
                     .set("gateway.sip.tcp.max-connections-per-source", String.valueOf(PER_SOURCE))
                     .set("gateway.sip.tcp.read-timeout", "3 s")
                     .set("gateway.sip.tcp.idle-timeout", "8 s")
                     .set("gateway.calls.no-answer-timeout", "7 s")
                     .set("gateway.media.ice-addresses", List.of("127.0.0.1"))
                     .start();
             BrowserPhone phone = BrowserPhone.start(gw.httpUrl(), "agent");
             WsTestClient ws = WsTestClient.connect(gw.wsUrl())) {
            long pid = gw.pid();
            phone.connect();
            phone.register(PHONE_DN);
            // Warm-up: one call over TCP (thread pools, media, the TCP machinery), then the baseline.
            sipServerCalls(gw, phone, "warm-up");
            Poll.until(STEP, "the warm-up call's connection closed", () -> open(gw) == 0);
            int baseThreads = ProcessResources.threads(pid);
            int baseFiles = ProcessResources.openFiles(pid);

            AtomicInteger peakThreads = new AtomicInteger();
            AtomicInteger peakHeld = new AtomicInteger();
            try (TcpConnectionFlood flood = TcpConnectionFlood.start(gw.sipPort(), ATTACKERS, FLOOD, true)) {
                Runnable sample = () -> {
                    peakThreads.accumulateAndGet(ProcessResources.threads(pid), Math::max);
                    peakHeld.accumulateAndGet(ProcessResources.tcpConnectionsOn(pid, gw.sipPort()), Math::max);
                };
                sample.run();
                Poll.until(STEP, "the gateway refused connections over its caps", () -> {
                    sample.run();
                    PrometheusText m = metrics(gw);
                    return closed(m, "max-connections") > 0 && closed(m, "max-connections-per-source") > 0;
                });
                Poll.until(STEP, "silent and half-written connections closed on the read timeout", () -> {
                    sample.run();
                    return closed(metrics(gw), "read-timeout") >= MAX_CONNECTIONS;
                });
                assertEquals(200, gw.httpStatus("/health/ready"), "READY: a flood on the SIP port takes nothing away");

                // The bystanders, with the table full: a browser registers (REGISTER over TCP) ...
                ws.ok("hello");
                ws.ok("register", "dn", WS_DN);
                sipServer.awaitReceived(m -> "REGISTER".equals(m.method()) && WS_DN.equals(m.toUser()), 1, STEP,
                        "REGISTER of " + WS_DN + " during the flood");
                // ... and SIP Server's call reaches the phone, over a TCP connection of its own.
                sample.run();
                sipServerCalls(gw, phone, "during-flood");
                sample.run();
                assertTrue(flood.opened() > FLOOD, "the attacker kept reopening: " + flood.opened());
                assertTrue(open(gw) <= MAX_CONNECTIONS + PER_SOURCE, "strangers hold at most max-connections: " + open(gw));
            }
            System.out.printf("SipTcpFloodIT: %d attacking connections; threads %d before, peak %d; connections held on"
                    + " the SIP port at most %d; fds %d before%n", FLOOD, baseThreads, peakThreads.get(), peakHeld.get(),
                    baseFiles);
            assertTrue(peakThreads.get() <= baseThreads + THREAD_SLACK,
                    "threads " + baseThreads + " -> peak " + peakThreads.get() + " during the flood");
            assertTrue(peakHeld.get() <= MAX_CONNECTIONS + PER_SOURCE + 5,
                    "connections held on the SIP port: " + peakHeld.get());

            Poll.until(Duration.ofSeconds(30), "every accepted connection closed",
                    () -> open(gw) == 0 && ProcessResources.tcpConnectionsOn(pid, gw.sipPort()) == 0);
            int threadsAfter = Poll.until(Duration.ofSeconds(60), "threads back to " + baseThreads,
                    () -> ProcessResources.threads(pid), n -> n <= baseThreads + 2);
            int filesAfter = Poll.until(Duration.ofSeconds(30), "file descriptors back to " + baseFiles,
                    () -> ProcessResources.openFiles(pid), n -> n <= baseFiles + 2);
            System.out.printf("SipTcpFloodIT: afterwards threads %d, fds %d%n", threadsAfter, filesAfter);
            PrometheusText m = metrics(gw);
            assertEquals(1, m.valueOrZero("gateway_sip_server_reachable"), "the keepalive over TCP kept going");
            assertEquals(200, gw.httpStatus("/health/ready"));
        }
    }

    /** SIP Server (SIPp from 127.0.0.1, over TCP) calls the phone, which answers and hears its audio back. */
    private static void sipServerCalls(GatewayProcess gw, BrowserPhone phone, String name) {
        int from = phone.lineCount();
        try (Sipp caller = Sipp.scenario("uac-echo.xml").name("caller-" + name).transport(Sipp.Transport.TCP)
                .remote("127.0.0.1:" + gw.sipPort())
                .args("-s", PHONE_DN, "-mi", "127.0.0.1", "-mp", String.valueOf(FreePorts.sippMedia()), "-rtp_echo")
                .maxCalls(1).start()) {
            String call = phone.awaitEvent("incoming", from, STEP).path("call").asText();
            phone.answer();
            phone.awaitCallEvent(call, "connected", STEP);
            Poll.until(STEP, "the phone hears its audio echoed by SIP Server (" + name + ")", phone::stats,
                    s -> s.at("/inbound/packets").asLong() > 50 && s.at("/inbound/totalAudioEnergy").asDouble() > 0);
            phone.info("text/plain", "please-hang-up"); // uac-echo.xml's cue to hang up
            JsonNode ended = phone.awaitCallEvent(call, "ended", STEP);
            assertEquals("remote-hangup", ended.at("/detail/reason").asText(), ended.toString());
            assertEquals(0, caller.waitForExit(STEP), () -> "SIP Server's call failed: " + caller.errors());
        }
    }

    private static double closed(PrometheusText m, String reason) {
        return m.valueOrZero("gateway_sip_tcp_connections_closed_total", "reason", reason);
    }

    /** gateway_sip_tcp_connections: accepted connections open now. */
    private static double open(GatewayProcess gw) {
        return metrics(gw).value("gateway_sip_tcp_connections");
    }

    private static PrometheusText metrics(GatewayProcess gw) {
        try {
            HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(gw.httpUrl() + "/metrics")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(200, r.statusCode());
            return PrometheusText.parse(r.body());
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
