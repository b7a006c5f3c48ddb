package io.webrtcgateway.admin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.webrtcgateway.testsupport.Closing;
import io.webrtcgateway.testsupport.BrowserPhone;
import io.webrtcgateway.testsupport.FreePorts;
import io.webrtcgateway.testsupport.GatewayProcess;
import io.webrtcgateway.testsupport.Poll;
import io.webrtcgateway.testsupport.Sipp;
import io.webrtcgateway.testsupport.WsTestClient;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * The admin console (/admin/, docs/admin.md) driven by Playwright against a real two-instance cluster:
 * each gateway names the other in {@code gateway.admin.peers}. On gw1 an agent (our JS library in
 * Chromium) registered DN 1001 and is in a call from a SIPp customer ({@code uac-echo.xml}, echoing
 * RTP); on gw2 a WebSocket client registered DN 2002. The operator opens the console on gw2, so the call's
 * live view, its hang-up and gw1's drain all go through the cluster forwarding. Screenshots of every
 * step land in {@code target/admin-console-screenshots/}.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class AdminConsoleIT {
    private static final Duration STEP = Duration.ofSeconds(20);
    private static final String USER = "ops";
    private static final String PASSWORD = "console-secret";
    private static final String AGENT_DN = "1001";
    private static final String OTHER_DN = "2002";
    private static final String GW1 = "console-gw1";
    private static final String GW2 = "console-gw2";

    private static final String LIST_ROWS =
            "#sessions-table tbody tr, #registrations-table tbody tr, #calls-table tbody tr, #failures-table tbody tr";

    private static Sipp registrar;
    private static GatewayProcess gw1;
    private static GatewayProcess gw2;
    private static BrowserPhone agent;
    private static WsTestClient other;
    private static AdminConsoleBrowser console;

    @BeforeAll
    static void start() {
        String hash = PasswordHash.create(PASSWORD.toCharArray(), 20_000).toString();
        String secret = "cluster-secret-" + Long.toHexString(System.nanoTime());
        int port1 = FreePorts.tcp();
        int port2 = FreePorts.tcp();
        registrar = Sipp.scenario("registrar-ok.xml").start();
        List<GatewayProcess> both = GatewayProcess.startAll(instance(GW1, port1, port2, hash, secret),
                instance(GW2, port2, port1, hash, secret));
        gw1 = both.get(0);
        gw2 = both.get(1);
        console = AdminConsoleBrowser.open(gw2.httpUrl(), screenshotDir());
        agent = BrowserPhone.start(gw1.httpUrl(), "agent");
        agent.connect();
        agent.register(AGENT_DN);
        other = WsTestClient.connect(gw2.wsUrl());
        other.startKeepalive(Duration.ofSeconds(10));
        other.ok("hello");
        other.ok("register", "dn", OTHER_DN);
    }

    private static GatewayProcess.Builder instance(String id, int port, int peerPort, String hash, String secret) {
        return GatewayProcess.builder().instanceId(id).httpPort(port).sipServers(registrar.serverEntry())
                .set("gateway.media.ice-addresses", List.of("127.0.0.1"))
                .set("gateway.admin.username", USER).set("gateway.admin.password-hash", hash)
                .set("gateway.admin.peers", List.of("http://127.0.0.1:" + peerPort))
                .set("gateway.admin.cluster-secret", secret)
                .startTimeout(Duration.ofSeconds(90));
    }

    @AfterAll
    static void stop() {
        Closing.all(console, agent, other, GatewayProcess.together(gw2, gw1), registrar);
    }

    @Test
    @Order(1)
    void wrongPasswordShowsAnErrorAndNoData() {
        console.reset();
        console.open("/admin/");
        console.awaitVisible("#login-form");
        console.fill("#login-username", USER);
        console.fill("#login-password", "not-the-password");
        console.click("#login-submit");
        console.awaitVisible("#login-error");
        assertTrue(console.text("#login-error").contains("Wrong user name or password"), console.text("#login-error"));
        console.screenshot("01-wrong-password");

        console.awaitHidden("#app");
        assertEquals(0, console.count("#instance-cards > *"));
        assertEquals(0, console.count(LIST_ROWS));
        assertEquals("—", console.text("#total-calls"));
        // The page asked for nothing but "who am I" and the login, and both were refused.
        for (JsonNode request : console.apiRequests()) {
            String path = request.path("path").asText();
            assertTrue(path.equals("/admin/api/me") || path.equals("/admin/api/login"), request.toString());
            assertEquals(401, request.path("status").asInt(), request.toString());
        }
        assertEquals(List.of(), console.pageErrors());
        assertEquals(List.of(), console.consoleProblems());
    }

    @Test
    @Order(2)
    void operatorWatchesACallLiveHangsItUpAndDrainsAnInstance() {
        // The operator is signed in before the call comes (steps with a live call are kept few: see the
        // note on ice-failed below).
        signIn();
        console.awaitVisible(card(GW1));
        console.awaitVisible(card(GW2));
        console.awaitText(card(GW1) + " .instance-state", "ready", STEP);

        // The session of the other DN, found on the other instance.
        console.click("#tab-sessions");
        console.fill("#dn-filter", OTHER_DN);
        console.press("#dn-filter", "Enter");
        console.awaitVisible("#sessions-table tbody tr[data-dn=\"" + OTHER_DN + "\"][data-instance=\"" + GW2 + "\"]");
        console.screenshot("02-sessions");
        console.click("#tab-calls");
        console.fill("#dn-filter", AGENT_DN);
        console.press("#dn-filter", "Enter");

        int from = agent.lineCount();
        try (Sipp customer = Sipp.scenario("uac-echo.xml").name("customer")
                .remote("127.0.0.1:" + gw1.sipPort())
                .args("-s", AGENT_DN, "-mi", "127.0.0.1", "-mp", String.valueOf(FreePorts.sippMedia()), "-rtp_echo")
                .maxCalls(1)
                .start()) {
            String call = agent.awaitEvent("incoming", from, STEP).path("call").asText();
            agent.answer();
            agent.awaitCallEvent(call, "connected", STEP);

            // The overview and the calls list refresh by themselves every 5 s; the operator does not wait.
            // The calls tab with cluster scope: the call lives on gw1, the console on gw2.
            console.click("#refresh");
            console.awaitText("#total-calls", "^[1-9]", STEP);
            String row = "#calls-table tbody tr[data-dn=\"" + AGENT_DN + "\"]";
            console.awaitVisible(row);
            assertEquals(1, console.count("#calls-table tbody tr"));
            assertEquals(GW1, console.attribute(row, "data-instance"));
            console.screenshot("03-overview-and-call");

            // Live view: counters climb in both directions while SIPp echoes the agent's audio.
            console.click(row + " button[data-action=\"details\"]");
            console.awaitVisible("#call-detail");
            console.awaitText("#detail-state", "connected", STEP);
            console.awaitText("#detail-dn", AGENT_DN, STEP);
            long toSip = awaitPackets("#b2s-packets", 0);
            long toBrowser = awaitPackets("#s2b-packets", 0);
            awaitPackets("#b2s-packets", toSip);
            awaitPackets("#s2b-packets", toBrowser);
            console.awaitText("#detail-codec", "PCMU", STEP);
            // Both legs' SSRCs, in hexadecimal as in a capture: what the browser sent -> the gateway's own.
            console.awaitText("#b2s-ssrc", "^0x[0-9a-f]{8} → 0x[0-9a-f]{8}$", STEP);
            console.screenshot("04-call-detail");
            console.viewport(820, 1180);
            console.screenshot("05-call-detail-tablet");
            console.viewport(1280, 860);

            // A call that ended by itself would make the hang-up below a 404: say so plainly. Seen on this
            // loaded machine: ICE consent lost (ended: ice-failed) some 7 s after connect, also in tests
            // without the admin API; a gateway media issue, not the console's.
            assertFalse(agent.callEvents(call).contains("ended"), () -> "the call ended before the operator hung it up: "
                    + agent.linesFrom(0, l -> "ended".equals(l.path("event").asText(null))) + "; see " + gw1.logFile());
            console.click("#detail-hangup");
            console.awaitVisible("#confirm-dialog");
            console.screenshot("06-confirm-hangup");
            console.click("#confirm-ok");
            // SIPp's scenario ends only on a BYE from the gateway (answered 200): exit 0.
            assertEquals(0, customer.waitForExit(STEP), () -> "SIPp's call failed: " + customer.errors());
            JsonNode ended = agent.awaitCallEvent(call, "ended", STEP);
            assertEquals("admin", ended.at("/detail/reason").asText(), ended.toString());
            console.awaitText("#notice-text", "hung up", STEP);
            console.awaitText("#detail-status", "ended", STEP);
            console.awaitHidden(row);
            console.screenshot("07-hung-up");
        }

        // A refused call (the agent answers 486) is listed under Failures and counted in the chart.
        int mark = agent.lineCount();
        try (Sipp refused = Sipp.scenario("uac-rejected.xml").name("refused").remote("127.0.0.1:" + gw1.sipPort())
                .args("-s", AGENT_DN).maxCalls(1).start()) {
            String rejected = agent.awaitEvent("incoming", mark, STEP).path("call").asText();
            agent.reject(486);
            agent.awaitCallEvent(rejected, "ended", STEP);
            assertEquals(0, refused.waitForExit(STEP), () -> "SIPp's call failed: " + refused.errors());
        }
        console.click("#tab-failures");
        String failure = "#failures-table tbody tr[data-dn=\"" + AGENT_DN + "\"][data-instance=\"" + GW1 + "\"]";
        console.awaitVisible(failure);
        console.awaitText(failure, "486", STEP);
        Poll.until(STEP, "the chart counting the failure", () -> console.attribute("#history-svg", "data-failures"),
                failures -> failures != null && Integer.parseInt(failures) >= 1);
        console.screenshot("08-failures");

        // Drain gw1 from the overview (the console runs on gw2): its readiness probe turns 503.
        // Escape (the keyboard's way out of the dialog) changes nothing.
        console.click(card(GW1) + " button[data-action=\"drain\"]");
        console.awaitVisible("#confirm-dialog");
        console.press("#confirm-dialog", "Escape");
        console.awaitHidden("#confirm-dialog");
        assertEquals(200, gw1.httpStatus("/health/ready"));
        console.click(card(GW1) + " button[data-action=\"drain\"]");
        console.awaitVisible("#confirm-dialog");
        console.click("#confirm-ok");
        gw1.awaitHttpStatus("/health/ready", 503, STEP);
        assertEquals(200, gw2.httpStatus("/health/ready"));
        console.awaitText(card(GW1) + " .instance-state", "draining", STEP);
        console.awaitText("#notice-text", "draining", STEP);
        console.screenshot("09-drained");

        console.click(card(GW1) + " button[data-action=\"undrain\"]");
        console.awaitVisible("#confirm-dialog");
        console.click("#confirm-ok");
        gw1.awaitHttpStatus("/health/ready", 200, STEP);
        console.awaitText(card(GW1) + " .instance-state", "ready", STEP);

        // Sign out the other DN's session: its registration goes (un-REGISTER at the SIP Server).
        console.click("#tab-sessions");
        console.fill("#dn-filter", OTHER_DN);
        console.press("#dn-filter", "Enter");
        String session = "#sessions-table tbody tr[data-dn=\"" + OTHER_DN + "\"]";
        console.click(session + " button[data-action=\"sign-out\"]");
        console.awaitVisible("#confirm-dialog");
        console.click("#confirm-ok");
        registrar.awaitUnregister(OTHER_DN, STEP);
        console.awaitText("#notice-text", "signed out", STEP);
        console.awaitHidden(session);
        console.screenshot("10-signed-out");

        console.click("#logout");
        console.awaitVisible("#login-form");
        assertEquals(0, console.count("#instance-cards > *"));
        assertEquals(List.of(), console.pageErrors());
        assertEquals(List.of(), console.consoleProblems());
    }

    private static void signIn() {
        console.reset();
        console.open("/admin/");
        console.awaitVisible("#login-form");
        console.fill("#login-username", USER);
        console.fill("#login-password", PASSWORD);
        console.click("#login-submit");
        console.awaitVisible("#app");
        assertEquals(USER, console.text("#whoami"));
    }

    /** Waits until the live view's raw counter exceeds {@code above}; returns it. */
    private static long awaitPackets(String cell, long above) {
        return Poll.until(STEP, cell + " above " + above, () -> {
            String value = console.attribute(cell, "data-value");
            return value == null || value.isEmpty() ? -1L : Long.parseLong(value);
        }, packets -> packets > above);
    }

    private static String card(String instance) {
        return "#instance-cards [data-instance=\"" + instance + "\"]";
    }

    private static Path screenshotDir() {
        String buildDir = System.getProperty("it.buildDir");
        return (buildDir == null || buildDir.isBlank() ? Path.of("target") : Path.of(buildDir))
                .resolve("admin-console-screenshots");
    }
}
