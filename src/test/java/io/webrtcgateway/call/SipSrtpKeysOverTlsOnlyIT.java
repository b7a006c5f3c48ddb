package io.webrtcgateway.call;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.webrtcgateway.testsupport.Closing;
import io.webrtcgateway.testsupport.FreePorts;
import io.webrtcgateway.testsupport.GatewayProcess;
import io.webrtcgateway.testsupport.SipMessage;
import io.webrtcgateway.testsupport.Sipp;
import io.webrtcgateway.testsupport.TestCa;
import io.webrtcgateway.testsupport.WsTestClient;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Keys only over TLS, per call (docs/sip.md "Keys only over TLS"): a gateway with gateway.sip.srtp = required
 * and srtp-over-insecure-transport = false starts because one of its servers is TLS (a backup here, never
 * reached), but its calls over the UDP primary (SIPp) carry no keys: an RTP/SAVP INVITE over UDP gets 488 saying
 * why, and the browser's call toward the UDP server is refused before any INVITE leaves. A TLS server needs the
 * gateway's own certificate, from a test CA here. Calls over TLS with keys: SipTlsIT.
 */
class SipSrtpKeysOverTlsOnlyIT {
    private static final String DN = "2001";
    private static final Duration T = Duration.ofSeconds(10);
    private static final String KEY = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwd";
    private static final String WHY = "SDES keys (a=crypto) go into SDP only over SIP over TLS, and this call's SIP"
            + " transport is udp (gateway.sip.srtp-over-insecure-transport = false)";

    private static Sipp sipServer;
    private static GatewayProcess gw;
    private static WsTestClient ws;

    private static Path dir;

    @BeforeAll
    static void start() throws IOException {
        dir = Files.createTempDirectory("sip-srtp-keys-it-");
        Path chain = dir.resolve("gw.pem");
        Path key = dir.resolve("gw.key");
        TestCa ca = TestCa.create("SipSrtpKeysOverTlsOnlyIT CA");
        ca.issue("localhost", "127.0.0.1").writePem(chain, key, TestCa.KeyFormat.PKCS8);
        Path caFile = dir.resolve("ca.pem");
        Files.writeString(caFile, TestCa.pem(ca.certificate()));
        sipServer = Sipp.scenario("registrar-uas-echo.xml").name("registrar")
                .args("-mp", String.valueOf(FreePorts.sippMedia()), "-mi", "127.0.0.1", "-rtp_echo").start();
        gw = GatewayProcess.builder().startTimeout(Duration.ofSeconds(150))
                .sipServers(sipServer.serverEntry(), "127.0.0.1:" + FreePorts.tcp() + ";transport=tls")
                .sipTls(chain, key, caFile)
                .set("gateway.sip.srtp", "required")
                .start();
        ws = WsTestClient.connect(gw.wsUrl());
        ws.ok("hello");
        ws.startKeepalive(Duration.ofSeconds(5));
        ws.ok("register", "dn", DN);
    }

    @AfterAll
    static void stop() {
        Closing.all(ws, gw, sipServer);
        if (dir != null) {
            try (Stream<Path> files = Files.walk(dir)) {
                files.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
            } catch (IOException e) {
                // a leftover temp dir is harmless
            }
        }
    }

    @Test
    void aSavpInviteOverUdpGets488SayingKeysNeedTls() {
        try (Sipp caller = Sipp.scenario("uac-srtp-refused.xml").name("savp-over-udp")
                .remote("127.0.0.1:" + gw.sipPort()).key("profile", "RTP/SAVP")
                .key("crypto", "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:" + KEY)
                .args("-s", DN).maxCalls(1).start()) {
            assertEquals(0, caller.waitForExit(T), () -> "SIPp's call failed: " + caller.errors());
            SipMessage refusal = caller.received().stream().filter(m -> !m.isRequest() && m.status() == 488)
                    .findFirst().orElseThrow();
            String warning = refusal.header("Warning").orElse("");
            assertTrue(warning.contains("refused: " + WHY), warning);
        }
        assertTrue(ws.seen().stream().noneMatch(n -> n.path("name").asText().equals("incoming")),
                "the browser never heard of it");
    }

    @Test
    void aBrowserCallTowardTheUdpServerIsRefusedBeforeAnyInvite() throws IOException {
        int invitesBefore = sipServer.receivedRequests("INVITE").size();
        JsonNode answer = ws.request("call", "to", "5000", "sdp", chromeOffer());
        assertEquals("error", answer.path("type").asText(), answer.toString());
        assertEquals("BAD_SDP", answer.path("code").asText(), answer.toString());
        assertEquals("SRTP toward SIP is required (gateway.sip.srtp = required), but " + WHY,
                answer.path("message").asText(), answer.toString());
        assertEquals(invitesBefore, sipServer.receivedRequests("INVITE").size(), "no INVITE left");
    }

    private static String chromeOffer() throws IOException {
        try (InputStream in = SipSrtpKeysOverTlsOnlyIT.class.getResourceAsStream("/sdp/input/chrome-offer.sdp")) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }
}
