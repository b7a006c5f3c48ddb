package io.webrtcgateway.sip;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.webrtcgateway.testsupport.Baresip;
import io.webrtcgateway.testsupport.ChromiumPeer;
import io.webrtcgateway.testsupport.Closing;
import io.webrtcgateway.testsupport.GatewayProcess;
import io.webrtcgateway.testsupport.Kamailio;
import io.webrtcgateway.testsupport.Poll;
import io.webrtcgateway.testsupport.TestCa;
import io.webrtcgateway.testsupport.WsTestClient;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * SIP over TLS with real peers, certificates from a test CA: Kamailio with its TLS module as registrar and proxy
 * (reached as "localhost", its certificate's name), baresip registered with it over TLS, headless Chromium behind
 * the gateway. The gateway registers over TLS (its TLS port and ;transport=tls in the Contact Kamailio keeps),
 * the browser calls the phone and the phone calls the browser (Kamailio makes that INVITE's Request-URI sips:, the
 * gateway's Contact follows), audio both ways, every hop TLS, and the media toward the phone SRTP (the gateway with
 * gateway.sip.srtp = required, baresip with SRTP mandatory: SDES keys in SDP, sent only because the SIP is TLS;
 * the browser leg DTLS-SRTP as always). Then the refusals:
 * a Kamailio whose certificate names another host, as primary, is refused with the server named (log and
 * /health/ready) and the gateway fails over to the good one; a gateway that does not trust the CA reports
 * not-ready with the reason. Last, Kamailio restarts (closing the gateway's connection) and the gateway
 * registers again on a new connection.
 */
@TestMethodOrder(MethodOrderer.MethodName.class)
class SipTlsIT {
    private static final String BROWSER_DN = "2001";
    private static final String DESK_DN = "3001";
    private static final Duration T = Duration.ofSeconds(15);
    /** Three gateways start side by side with Chromium, Kamailio and baresip: on two busy cores that takes a while. */
    private static final Duration START = Duration.ofSeconds(120);
    private static final ObjectMapper JSON = new ObjectMapper();

    private static Path dir;
    private static Path caFile;
    private static Kamailio kamailio;
    private static Kamailio wrongName;
    private static Baresip desk;
    private static GatewayProcess gw;
    private static GatewayProcess failover;
    private static GatewayProcess distrustful;
    private static ChromiumPeer browser;
    private static WsTestClient ws;
    private static Path kamailioChain;
    private static Path kamailioKey;

    @BeforeAll
    static void start() throws IOException {
        browser = ChromiumPeer.builder().name("browser").start();
        dir = Files.createTempDirectory("sip-tls-it-");
        TestCa ca = TestCa.create("SipTlsIT CA");
        caFile = dir.resolve("ca.pem");
        Files.writeString(caFile, TestCa.pem(ca.certificate()));
        kamailioChain = dir.resolve("kamailio.pem");
        kamailioKey = dir.resolve("kamailio.key");
        ca.issue("localhost", "127.0.0.1").writePem(kamailioChain, kamailioKey, TestCa.KeyFormat.TRADITIONAL);
        Path otherChain = dir.resolve("other.pem");
        Path otherKey = dir.resolve("other.key");
        ca.issue("sip.other.test").writePem(otherChain, otherKey, TestCa.KeyFormat.TRADITIONAL);
        Path gwChain = dir.resolve("gw.pem");
        Path gwKey = dir.resolve("gw.key");
        ca.issue("localhost", "127.0.0.1").writePem(gwChain, gwKey, TestCa.KeyFormat.PKCS8);
        TestCa.Issued phone = ca.issue("127.0.0.1");
        Path phoneFile = dir.resolve("phone.pem");
        Files.writeString(phoneFile, phone.chainPem() + phone.keyPem(TestCa.KeyFormat.TRADITIONAL));
        Path strangerCa = dir.resolve("stranger-ca.pem");
        Files.writeString(strangerCa, TestCa.pem(TestCa.create("Stranger CA").certificate()));

        // Kamailio sends the browser's calls with a sips: Request-URI: the gateway must answer with a sips: Contact.
        kamailio = Kamailio.builder().tls(kamailioChain, kamailioKey).maxExpires(20).sipsTo(BROWSER_DN).start();
        wrongName = Kamailio.builder().name("kamailio-wrong-name").tls(otherChain, otherKey).start();
        // The desk phone insists on SRTP (RTP/SAVP with SDES keys), which it accepts only because SIP runs over TLS.
        desk = Baresip.builder().user(DESK_DN).registrar("127.0.0.1:" + kamailio.tlsPort()).tls(phoneFile, caFile)
                .mediaEncryption("srtp-mand").start();
        List<GatewayProcess> gateways = GatewayProcess.startAll(
                GatewayProcess.builder().name("gw").startTimeout(START).sipServers(kamailio.tlsServerEntry("localhost"))
                        .sipTls(gwChain, gwKey, caFile)
                        .set("gateway.sip.srtp", "required") // keys in the SDP: allowed, the SIP is TLS
                        .set("gateway.media.ice-addresses", List.of("127.0.0.1")),
                GatewayProcess.builder().name("gw-failover").startTimeout(START)
                        .sipServers(wrongName.tlsServerEntry("localhost"), kamailio.tlsServerEntry("localhost"))
                        .sipTls(gwChain, gwKey, caFile)
                        .set("gateway.sip.keepalive-interval", "1 s").set("gateway.sip.keepalive-failures", "1"),
                GatewayProcess.builder().name("gw-distrustful").startTimeout(START).sipServers(kamailio.tlsServerEntry("localhost"))
                        .sipTls(gwChain, gwKey, strangerCa)
                        .set("gateway.sip.keepalive-interval", "1 s").set("gateway.sip.keepalive-failures", "1"));
        gw = gateways.get(0);
        failover = gateways.get(1);
        distrustful = gateways.get(2);
        ws = WsTestClient.connect(gw.wsUrl());
        ws.ok("hello");
        ws.startKeepalive(Duration.ofSeconds(5));
        ws.ok("register", "dn", BROWSER_DN);
        Poll.until(T, "both DNs registered at Kamailio", () -> kamailio.contacts().keySet(),
                aors -> aors.containsAll(List.of(BROWSER_DN, DESK_DN)));
    }

    @AfterAll
    static void stop() {
        Closing.all(ws, browser, gw, failover, distrustful, desk, wrongName, kamailio);
        if (dir != null) {
            try (Stream<Path> files = Files.walk(dir)) {
                files.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
            } catch (IOException e) {
                // a leftover temp dir is harmless
            }
        }
    }

    @Test
    void theGatewayRegistersOverTlsWithItsTlsContact() {
        List<String> contacts = kamailio.contacts(BROWSER_DN);
        assertEquals(1, contacts.size(), contacts.toString());
        String contact = contacts.get(0);
        assertTrue(contact.contains("127.0.0.1:" + gw.sipTlsPort()) && contact.contains("transport=tls"),
                "Contact on the gateway's TLS port with ;transport=tls: " + contact);
        JsonNode ready = health(gw);
        assertEquals("READY", ready.path("status").asText(), ready.toString());
        assertTrue(ready.path("sipServers").get(0).path("problem").isNull(), ready.toString());
    }

    @Test
    void theBrowserCallsThePhoneOverTls() {
        String call = ws.ok("call", "to", DESK_DN, "sdp", browser.createOffer()).path("call").asText();
        JsonNode ringing = desk.awaitEvent("CALL_INCOMING", T);
        assertTrue(ringing.path("peeruri").asText().contains(BROWSER_DN), ringing.toString());
        desk.accept();
        JsonNode connected = ws.awaitEvent("connected", T);
        assertEquals(call, connected.path("call").asText());
        browser.setAnswer(connected.path("sdp").asText());

        assertAudioBothWays(call);

        ws.ok("hangup", "call", call);
        desk.awaitEvent("CALL_CLOSED", T);
        assertEquals("local-hangup", ws.awaitEvent("ended", T).path("reason").asText());
        browser.hangUp();
        assertTrue(kamailio.logTail(2000).contains("INVITE sip:" + DESK_DN), "the INVITE went through Kamailio");
    }

    /** Kamailio rewrites the INVITE to a sips: Request-URI (sipsTo): the gateway's Contact must be sips: too. */
    @Test
    void thePhoneCallsTheBrowserOverTlsWithASipsRequestUri() {
        desk.dial(BROWSER_DN);
        JsonNode incoming = ws.awaitEvent("incoming", T);
        assertEquals(DESK_DN, incoming.path("from").asText(), incoming.toString());
        String call = incoming.path("call").asText();
        ws.ok("answer", "call", call, "sdp", browser.setOffer(incoming.path("sdp").asText()));
        desk.awaitEvent("CALL_ESTABLISHED", T);

        assertAudioBothWays(call);

        desk.hangUp();
        JsonNode ended = ws.awaitEvent("ended", T);
        assertEquals("remote-hangup", ended.path("reason").asText(), ended.toString());
        desk.awaitEvent("CALL_CLOSED", T);
        browser.hangUp();
        String log = kamailio.logTail(2000);
        assertTrue(log.contains("reply 200 to INVITE Call-ID") && log.contains("Contact <sips:" + BROWSER_DN
                + "@127.0.0.1:" + gw.sipTlsPort() + ">"),
                "the gateway answered the sips: INVITE with a sips: Contact on its TLS port (RFC 3261 §12.1.1)");
    }

    @Test
    void aCertificateForAnotherHostIsRefusedWithTheServerNamedAndTheNextServerTakesOver() {
        String wrong = "localhost:" + wrongName.tlsPort();
        JsonNode ready = Poll.until(T, "the wrong-name server reported with its problem", () -> health(failover),
                h -> !h.path("sipServers").get(0).path("problem").isNull()
                        && h.path("sipServers").get(1).path("active").asBoolean());
        JsonNode primary = ready.path("sipServers").get(0);
        assertTrue(primary.path("address").asText().startsWith(wrong), primary.toString());
        assertTrue(primary.path("problem").asText().contains("not for the host name"), primary.toString());
        assertEquals(false, primary.path("reachable").asBoolean(), primary.toString());
        assertEquals("READY", ready.path("status").asText(), "the backup serves: " + ready);
        assertTrue(failover.logTail(3000).contains("SIP over TLS to " + wrong + " refused"),
                "the log names the server and why");

        try (WsTestClient other = WsTestClient.connect(failover.wsUrl())) {
            other.ok("hello");
            other.ok("register", "dn", "2002");
            Poll.until(T, "2002 registered at the backup", () -> kamailio.contacts("2002").size() == 1);
        }
    }

    @Test
    void aServerFromAnUntrustedCaIsRefusedAndTheGatewayIsNotReady() {
        JsonNode ready = Poll.until(T, "not ready, with the reason", () -> health(distrustful),
                h -> h.path("status").asText().equals("NOT_READY")
                        && !h.path("sipServers").get(0).path("problem").isNull());
        assertTrue(ready.path("reasons").toString().contains("sip-unreachable"), ready.toString());
        assertTrue(ready.path("sipServers").get(0).path("problem").asText().contains("trusted CA"), ready.toString());
        assertEquals(503, distrustful.httpStatus("/health/ready"));
    }

    /** Last in this class by name: Kamailio restarts and the gateway's next REGISTER opens a new TLS connection. */
    @Test
    void zAfterKamailioClosesTheConnectionTheGatewayRegistersAgainOnANewOne() {
        int port = kamailio.port();
        int tlsPort = kamailio.tlsPort();
        kamailio.stop();
        kamailio = Kamailio.builder().port(port).tls(kamailioChain, kamailioKey).tlsPort(tlsPort).maxExpires(20)
                .start();
        // Kamailio forgot every binding; the gateway refreshes within 60 % of the 20 s it was granted.
        Poll.until(Duration.ofSeconds(30), "the browser's DN registered again over TLS",
                () -> kamailio.contacts(BROWSER_DN), c -> c.size() == 1 && c.get(0).contains("transport=tls"));
        assertEquals("READY", health(gw).path("status").asText());
    }

    /**
     * Audio both ways, SRTP on the SIP leg: baresip (srtp-mand) counts only packets its SRTP layer authenticated,
     * and the gateway relays to the browser only what the SIP leg's SRTP session authenticated.
     */
    private static void assertAudioBothWays(String call) {
        browser.awaitIceState("connected", Duration.ofSeconds(15));
        ChromiumPeer.Stats stats = Poll.until(Duration.ofSeconds(20), "the desk phone's tone decoded by the browser",
                browser::stats, s -> s.packetsReceived() > 50 && s.totalAudioEnergy() > 0);
        assertTrue(stats.inbound().codec().startsWith("PCM"), "G.711 end to end: " + stats);
        desk.awaitEvent("CALL_RTPESTAB", T);
        Poll.until(Duration.ofSeconds(20), "the browser's RTP decrypted by the desk phone",
                desk::rtpPacketsReceived, n -> n > 50);
        Poll.until(T, "SIP-side SRTP packets relayed to the browser",
                () -> callStats(call).path("streams").path(0).path("sipToBrowser").path("packets").asLong(), n -> n > 50);
        JsonNode sipSrtp = callStats(call).path("sipSrtp");
        assertEquals(1, sipSrtp.size(), sipSrtp.toString());
        assertTrue(sipSrtp.get(0).path("profile").asText().startsWith("AES_CM_128_HMAC_SHA1_"), sipSrtp.toString());
        assertEquals(0, sipSrtp.get(0).path("authFailures").asLong(), sipSrtp.toString());
        assertEquals(0, sipSrtp.get(0).path("replayDropped").asLong(), sipSrtp.toString());
    }

    private static JsonNode callStats(String call) {
        return ws.ok("stats", "call", call).path("stats");
    }

    private static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5)).build();

    private static JsonNode health(GatewayProcess gateway) {
        try {
            HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(gateway.httpUrl() + "/health/ready"))
                    .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
            return JSON.readTree(r.body());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
