package io.webrtcgateway.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.webrtcgateway.testsupport.BrowserPhone;
import io.webrtcgateway.testsupport.Closing;
import io.webrtcgateway.testsupport.FreePorts;
import io.webrtcgateway.testsupport.GatewayProcess;
import io.webrtcgateway.testsupport.ItLogs;
import io.webrtcgateway.testsupport.Poll;
import io.webrtcgateway.testsupport.RawHttp;
import io.webrtcgateway.testsupport.Sipp;
import io.webrtcgateway.testsupport.TestCa;
import io.webrtcgateway.testsupport.TlsProbe;
import java.io.IOException;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The standalone jar over HTTPS and WSS (issue 14 item 1) with real peers: headless Chromium trusting a test CA
 * (and nothing else: --ignore-certificate-errors-spki-list with the CA's key) runs our JS library on an
 * https:// page, signs in over wss:// and calls SIPp, which echoes the audio. Then the certificate's files are
 * replaced on disk while the call goes on: new connections get the new certificate (a TLS client reads its
 * serial; a second browser signs in with it), the call's audio keeps flowing and its WebSocket stays up.
 * The plain-HTTP port redirects to HTTPS except the health probes.
 */
class HttpsIT {
    private static final Duration STEP = Duration.ofSeconds(15);

    private static TestCa ca;
    private static TestCa.Issued first;
    private static Path chain;
    private static Path key;
    private static Sipp sipp;
    private static GatewayProcess gw;

    @BeforeAll
    static void start() throws IOException {
        ca = TestCa.create("HttpsIT test CA");
        first = ca.issue("127.0.0.1", "localhost");
        Path dir = Files.createDirectories(ItLogs.dir().resolve("HttpsIT-certificates"));
        chain = dir.resolve("chain.pem");
        key = dir.resolve("key.pem");
        first.writePem(chain, key, TestCa.KeyFormat.PKCS8);
        sipp = Sipp.scenario("uas-calls.xml")
                .key("peer_rtp_port", String.valueOf(FreePorts.udp())) // the "dtmf" number's peer: not called here
                .args("-mi", "127.0.0.1", "-mp", String.valueOf(FreePorts.sippMedia()), "-rtp_echo")
                .start();
        gw = GatewayProcess.builder().sipServers(sipp.serverEntry())
                .set("gateway.media.ice-addresses", List.of("127.0.0.1"))
                .https(chain, key)
                .set("gateway.http.tls.redirect-http", "true")
                .set("gateway.http.tls.hsts-max-age", "1 d")
                .start();
    }

    @AfterAll
    static void stop() {
        Closing.all(gw, sipp);
    }

    @Test
    void aCallOverHttpsGoesOnWhileTheCertificateIsReplaced() throws Exception {
        assertEquals(first.serial(), served());
        try (BrowserPhone phone = BrowserPhone.start(gw.httpsUrl(), "phone", null, List.of(ca.spkiSha256()))) {
            phone.connect();
            phone.register("1001");
            BrowserPhone.Placed call = phone.call("5000");
            phone.awaitCallEvent(call.id(), "connected", STEP);
            JsonNode before = phone.awaitAudio("audio echoed through SIPp over an HTTPS page", 0, 0);
            assertTrue(before.at("/outbound/packets").asLong() > 50, before.toString());

            TestCa.Issued second = ca.issue("127.0.0.1", "localhost");
            long replacedAt = System.nanoTime();
            second.writePem(chain, key, TestCa.KeyFormat.PKCS8);
            Poll.until(STEP, "new connections get the new certificate", HttpsIT::served, second.serial()::equals);
            long reloadMillis = (System.nanoTime() - replacedAt) / 1_000_000;
            System.out.println("HttpsIT: new connections got the new certificate " + reloadMillis + " ms after the files were replaced");

            // The call goes on: more audio both ways, same WebSocket (no reconnect), still connected.
            JsonNode after = phone.awaitAudio("audio after the certificate was replaced",
                    before.at("/inbound/packets").asLong() + 100, before.at("/inbound/totalAudioEnergy").asDouble());
            assertTrue(after.at("/outbound/packets").asLong() > before.at("/outbound/packets").asLong() + 100,
                    after.toString());
            assertEquals("connected", after.at("/gateway/state").asText(), after.toString());
            assertFalse(phone.callEvents(call.id()).contains("ended"));
            assertEquals(0, phone.linesFrom(0, l -> List.of("disconnected", "reconnecting")
                    .contains(l.path("event").asText())).size(), "the WebSocket stayed up");

            // A browser that comes now gets (and trusts) the new certificate: it signs in.
            try (BrowserPhone late = BrowserPhone.start(gw.httpsUrl(), "late", null, List.of(ca.spkiSha256()))) {
                late.connect();
                late.register("1002");
            }

            phone.hangup();
            assertEquals("local-hangup", phone.awaitCallEvent(call.id(), "ended", STEP).at("/detail/reason").asText());
        }
    }

    /** The trust above is the CA's key, not "any certificate": a browser trusting another key gets no page. */
    @Test
    void aBrowserThatDoesNotTrustTheCaGetsNoPage() {
        String otherKey = TestCa.create("another CA").spkiSha256();
        try (BrowserPhone stranger = BrowserPhone.start(gw.httpsUrl(), "stranger", null, List.of(otherKey))) {
            AssertionError refused = assertThrows(AssertionError.class, stranger::connect);
            assertTrue(refused.getMessage().contains("ERR_CERT_AUTHORITY_INVALID"), refused.getMessage());
        }
    }

    @Test
    void wssUpgradesSetASecureAffinityCookieAndHttpsAnswersCarryHsts() throws Exception {
        try (TlsProbe.Connection c = TlsProbe.connect(gw.httpsPort())) {
            RawHttp.Response live = c.get("/health/live");
            assertEquals(200, live.status(), live.head());
            assertEquals("max-age=86400", live.header("Strict-Transport-Security"));
        }
        try (TlsProbe.Connection c = TlsProbe.connect(gw.httpsPort())) {
            RawHttp.Response upgrade = c.request("GET /ws HTTP/1.1\r\nHost: 127.0.0.1:" + gw.httpsPort() + "\r\n"
                    + RawHttp.UPGRADE_HEADERS + "Origin: https://127.0.0.1:" + gw.httpsPort() + "\r\n\r\n");
            assertEquals(101, upgrade.status(), upgrade.head());
            String cookie = upgrade.header("Set-Cookie");
            assertTrue(cookie != null && cookie.startsWith("GWINSTANCE=" + gw.instanceId() + ";")
                    && cookie.contains("; Secure") && cookie.contains("SameSite=None"), upgrade.head());
        }
        // The gateway's own Host check still applies over HTTPS.
        try (TlsProbe.Connection c = TlsProbe.connect(gw.httpsPort())) {
            assertEquals(421, c.request("GET /demo/ HTTP/1.1\r\nHost: rebound.example\r\n\r\n").status());
        }
    }

    @Test
    void thePlainPortRedirectsToHttpsButServesHealthProbes() throws Exception {
        RawHttp.Response demo = RawHttp.send(gw.httpUrl(), null, "GET /demo/ HTTP/1.1\r\nHost: 127.0.0.1:"
                + gw.httpPort() + "\r\nConnection: close\r\n\r\n");
        assertEquals(308, demo.status(), demo.head());
        assertEquals(gw.httpsUrl() + "/demo/", demo.header("Location"));
        assertNull(demo.header("Strict-Transport-Security"), "no HSTS over plain HTTP (RFC 6797 §7.2)");
        assertEquals(200, gw.httpStatus("/health/ready"));
        assertEquals(200, gw.httpStatus("/health/lb"));
        // Not redirected to a host the gateway does not serve: refused as before.
        assertEquals(421, RawHttp.send(gw.httpUrl(), null, "GET /demo/ HTTP/1.1\r\nHost: rebound.example\r\n"
                + "Connection: close\r\n\r\n").status());
    }

    private static BigInteger served() {
        return TlsProbe.certificate(gw.httpsPort()).getSerialNumber();
    }
}
