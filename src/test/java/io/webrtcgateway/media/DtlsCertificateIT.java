package io.webrtcgateway.media;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.webrtcgateway.admin.PasswordHash;
import io.webrtcgateway.testsupport.ChromiumPeer;
import io.webrtcgateway.testsupport.Closing;
import io.webrtcgateway.testsupport.FreePorts;
import io.webrtcgateway.testsupport.GatewayProcess;
import io.webrtcgateway.testsupport.ItLogs;
import io.webrtcgateway.testsupport.Poll;
import io.webrtcgateway.testsupport.PrometheusText;
import io.webrtcgateway.testsupport.Sipp;
import io.webrtcgateway.testsupport.TestCa;
import io.webrtcgateway.testsupport.WsTestClient;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The DTLS certificate toward browsers from files (gateway.media.dtls, issue 14 item 4), with real Chromium
 * and SIPp echoing the audio: two gateways given the same files announce the same a=fingerprint (a cluster
 * shares one); the files are replaced while a call goes on: new calls get the new certificate and connect,
 * the call in progress keeps its own to the end — its audio goes on, hold and resume work, and its answer to
 * an ICE restart still names the old fingerprint, with audio after it. Files that cannot be used are refused
 * and counted; new calls keep the last good certificate.
 */
class DtlsCertificateIT {
    private static final Duration STEP = Duration.ofSeconds(20);
    private static final String RELOADS = "gateway_dtls_certificate_reloads_total";
    private static final String ADMIN_PASSWORD = "dtls-admin-pw";
    private static final Pattern FINGERPRINT = Pattern.compile("a=fingerprint:(\\S+ \\S+)");
    private static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5)).build();
    private static final ObjectMapper JSON = new ObjectMapper();

    private static Path chain;
    private static Path key;
    private static TestCa.Issued first;
    private static Sipp sipp;
    private static GatewayProcess gw1;
    private static GatewayProcess gw2;
    /** The call in progress across the rotation. */
    private static ChromiumPeer longCall;
    /** The calls placed after it, one at a time. */
    private static ChromiumPeer newCalls;

    @BeforeAll
    static void start() throws IOException {
        Path dir = Files.createDirectories(ItLogs.dir().resolve("DtlsCertificateIT-certificates"));
        chain = dir.resolve("chain.pem");
        key = dir.resolve("key.pem");
        first = TestCa.selfSigned("WebRTC gateway cluster");
        first.writePem(chain, key, TestCa.KeyFormat.PKCS8);
        // Chromium starts (start() returns at once) while the gateways do.
        longCall = ChromiumPeer.builder().name("long-call").audioCodecs("PCMU", "telephone-event").start();
        newCalls = ChromiumPeer.builder().name("new-calls").audioCodecs("PCMU", "telephone-event").start();
        sipp = Sipp.scenario("uas-echo.xml")
                .args("-mp", String.valueOf(FreePorts.sippMedia()), "-mi", "127.0.0.1", "-rtp_echo").start();
        String hash = PasswordHash.create(ADMIN_PASSWORD.toCharArray(), 20_000).toString();
        List<GatewayProcess> both = GatewayProcess.startAll(gateway("dtls-gw1", hash), gateway("dtls-gw2", hash));
        gw1 = both.get(0);
        gw2 = both.get(1);
    }

    private static GatewayProcess.Builder gateway(String id, String adminHash) {
        return GatewayProcess.builder().instanceId(id).sipServers(sipp.serverEntry())
                .set("gateway.media.ice-addresses", List.of("127.0.0.1"))
                .set("gateway.media.dtls.certificate-chain", chain.toString())
                .set("gateway.media.dtls.private-key", key.toString())
                .set("gateway.admin.username", "ops").set("gateway.admin.password-hash", adminHash);
    }

    @AfterAll
    static void stop() {
        Closing.all(longCall, newCalls, GatewayProcess.together(gw1, gw2), sipp);
    }

    @Test
    void aClusterSharesTheCertificateAndARotationKeepsTheCallsInProgress() throws Exception {
        String firstFingerprint = "sha-256 " + sha256(first.certificate());
        try (WsTestClient ws1 = WsTestClient.connect(gw1.wsUrl()); WsTestClient ws2 = WsTestClient.connect(gw2.wsUrl())) {
            ws1.ok("hello");
            ws1.startKeepalive(Duration.ofSeconds(5));
            ws2.ok("hello");
            ws2.startKeepalive(Duration.ofSeconds(5));

            // Both instances announce the configured certificate, and a browser connects with it on each.
            Call a = Call.place(ws1, longCall, "5000");
            assertEquals(firstFingerprint, a.fingerprint, "gw1");
            a.awaitAudio("audio both ways on gw1's first call");
            Call other = Call.place(ws2, newCalls, "5001");
            assertEquals(firstFingerprint, other.fingerprint, "gw2 announces the same certificate");
            other.awaitAudio("audio both ways on gw2");
            other.hangUp();
            assertEquals(firstFingerprint, adminFingerprint(gw1));
            assertEquals(0, reloads(gw1, "applied") + reloads(gw1, "refused"));

            // The files are replaced (each written aside and moved over the old one): a CA-issued one now.
            TestCa.Issued second = TestCa.create("DtlsCertificateIT CA").issue("gw.example.com");
            String secondFingerprint = "sha-256 " + sha256(second.certificate());
            assertNotEquals(firstFingerprint, secondFingerprint);
            long replacedAt = System.nanoTime();
            second.writePem(chain, key, TestCa.KeyFormat.PKCS8);
            Poll.until(STEP, "gw1 took the new files", () -> reloads(gw1, "applied"), n -> n >= 1);
            System.out.println("DtlsCertificateIT: the new certificate was taken "
                    + (System.nanoTime() - replacedAt) / 1_000_000 + " ms after the files were replaced");
            Poll.until(STEP, "gw2 took them too", () -> reloads(gw2, "applied"), n -> n >= 1);
            assertEquals(1, reloads(gw1, "applied"));
            assertEquals(0, reloads(gw1, "refused"));
            assertEquals(secondFingerprint, adminFingerprint(gw1));

            // A new call gets the new certificate and connects with it.
            Call b = Call.place(ws1, newCalls, "5002");
            assertEquals(secondFingerprint, b.fingerprint, "a new call after the rotation");
            b.awaitAudio("audio both ways on the call placed after the rotation");

            // The call in progress goes on with the old one.
            a.awaitMoreAudio("the first call's audio after the rotation");
            assertEquals("connected", ws1.ok("stats", "call", a.id).path("stats").path("state").asText());
            ws1.ok("hold", "call", a.id);
            a.awaitEvent("held");
            ws1.ok("resume", "call", a.id);
            a.awaitEvent("resumed");
            a.awaitMoreAudio("the first call's audio after hold and resume");
            // Its re-answer (ICE restart: the DTLS association stays, RFC 8842) names the certificate it began with.
            String restartOffer = longCall.restartIce();
            String restartAnswer = ws1.ok("ice-restart", "call", a.id, "sdp", restartOffer).path("sdp").asText();
            assertEquals(firstFingerprint, fingerprint(restartAnswer), "the first call's re-answer");
            longCall.setAnswer(restartAnswer);
            longCall.awaitIceState("connected", STEP);
            a.awaitMoreAudio("the first call's audio after its ICE restart");

            // Files that cannot be used: refused and counted; new calls keep the last good certificate.
            b.hangUp();
            TestCa.replace(chain, "not a certificate\n".getBytes(StandardCharsets.US_ASCII));
            TestCa.replace(key, "not a key\n".getBytes(StandardCharsets.US_ASCII));
            Poll.until(STEP, "gw1 refused the garbage", () -> reloads(gw1, "refused"), n -> n >= 1);
            assertEquals(1, reloads(gw1, "applied"));
            Call c = Call.place(ws1, newCalls, "5003");
            assertEquals(secondFingerprint, c.fingerprint, "a new call after the refused files");
            c.awaitAudio("audio both ways on the call placed after the refused files");
            c.hangUp();
            a.awaitMoreAudio("the first call's audio at the end");
            a.hangUp();
        }
    }

    /** One browser call through a gateway, connected: its id, the gateway's answer's fingerprint, its browser. */
    private static final class Call {
        final WsTestClient ws;
        final ChromiumPeer browser;
        final String id;
        final String fingerprint;
        private long received;

        private Call(WsTestClient ws, ChromiumPeer browser, String id, String fingerprint) {
            this.ws = ws;
            this.browser = browser;
            this.id = id;
            this.fingerprint = fingerprint;
        }

        static Call place(WsTestClient ws, ChromiumPeer browser, String to) {
            String id = ws.ok("call", "to", to, "sdp", browser.createOffer()).path("call").asText();
            JsonNode connected = ws.await(STEP, "call " + id + " connected", n -> isEvent(n, "connected", id));
            String answer = connected.path("sdp").asText();
            browser.setAnswer(answer);
            return new Call(ws, browser, id, fingerprint(answer));
        }

        JsonNode awaitEvent(String name) {
            return ws.await(STEP, "call " + id + " " + name, n -> isEvent(n, name, id));
        }

        /** Echoed audio decoded by the browser: what it sent came back through SIPp, so both directions work. */
        void awaitAudio(String what) {
            browser.awaitConnectionState("connected", STEP);
            ChromiumPeer.Stats stats = Poll.until(STEP, what, browser::stats,
                    s -> s.packetsReceived() > 50 && s.packetsSent() > 50 && s.totalAudioEnergy() > 0);
            assertEquals("connected", stats.dtlsState(), stats.toString());
            received = stats.packetsReceived();
        }

        /** At least 100 more packets (2 s of audio) received since the last look. */
        void awaitMoreAudio(String what) {
            long before = received;
            received = Poll.until(STEP, what, () -> browser.stats().packetsReceived(), n -> n > before + 100);
        }

        void hangUp() {
            ws.ok("hangup", "call", id);
            awaitEvent("ended");
            browser.hangUp();
        }

        private static boolean isEvent(JsonNode n, String name, String call) {
            return n.path("type").asText().equals("event") && n.path("name").asText().equals(name)
                    && n.path("call").asText().equals(call);
        }
    }

    private static String fingerprint(String sdp) {
        Matcher m = FINGERPRINT.matcher(sdp);
        assertTrue(m.find(), "no a=fingerprint in " + sdp);
        String found = m.group(1);
        while (m.find()) {
            assertEquals(found, m.group(1), "one fingerprint for the whole bundle: " + sdp);
        }
        return found;
    }

    /** What {@code openssl x509 -noout -fingerprint -sha256} prints, over the certificate's DER. */
    private static String sha256(X509Certificate certificate) throws Exception {
        return HexFormat.ofDelimiter(":").withUpperCase()
                .formatHex(MessageDigest.getInstance("SHA-256").digest(certificate.getEncoded()));
    }

    private static long reloads(GatewayProcess gw, String result) {
        try {
            HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(gw.httpUrl() + "/metrics")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(200, r.statusCode(), r.body());
            return (long) PrometheusText.parse(r.body()).value(RELOADS, "result", result);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        }
    }

    /** The fingerprint GET /admin/api/instance shows operators. */
    private static String adminFingerprint(GatewayProcess gw) throws Exception {
        String basic = Base64.getEncoder().encodeToString(("ops:" + ADMIN_PASSWORD).getBytes(StandardCharsets.UTF_8));
        HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(gw.httpUrl() + "/admin/api/instance"))
                .header("Authorization", "Basic " + basic).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode(), r.body());
        JsonNode dtls = JSON.readTree(r.body()).path("dtls");
        assertEquals("files", dtls.path("certificate").asText(), r.body());
        return dtls.path("fingerprint").asText();
    }
}
