package io.webrtcgateway.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.webrtcgateway.admin.PasswordHash;
import io.webrtcgateway.testsupport.BrowserPhone;
import io.webrtcgateway.testsupport.FreePorts;
import io.webrtcgateway.testsupport.GatewayProcess;
import io.webrtcgateway.testsupport.Haproxy;
import io.webrtcgateway.testsupport.ItLogs;
import io.webrtcgateway.testsupport.JsonLineHarness;
import io.webrtcgateway.testsupport.Kamailio;
import io.webrtcgateway.testsupport.Poll;
import io.webrtcgateway.testsupport.PrometheusText;
import io.webrtcgateway.testsupport.SipMessage;
import io.webrtcgateway.testsupport.Sipp;
import io.webrtcgateway.testsupport.WsTestClient;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.CookieManager;
import java.net.CookiePolicy;
import java.net.HttpCookie;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * Issue 5, end to end: three gateway instances behind the shipped HAProxy config, Kamailio as SIP Server.
 * <ol>
 *   <li>60 browsers (WebSocket clients with their own cookie jar, like browser profiles) sign in and
 *       register through HAProxy; they spread over the instances; each one's requests reach its instance
 *       (hello's {@code instance} = its affinity cookie = the instance answering its REST requests); Kamailio
 *       binds each DN to its instance. Plus 3 clients of the real JS library in one Chromium page and a
 *       legacy (grtc.js-style) client, all pinned to one instance.</li>
 *   <li>{@code kill -9} of that instance: HAProxy marks it down; every browser that lived there reconnects
 *       through HAProxy like the JS library does (backoff, same URL, resume answered SESSION_UNKNOWN, fresh
 *       hello, register) and is registered on a survivor; Kamailio's bindings point to the survivors (the
 *       stale contact is replaced at once, +sip.instance); the Chromium clients emit reconnected; the
 *       legacy client's long poll fails (non-200), its next poll gets 404 and it signs in again.
 *       Printed: time from the kill to the last re-registration.</li>
 *   <li>A call after the failover: an agent page (our JS library in its own Chromium, {@link BrowserPhone}),
 *       pinned to the killed instance too, reconnects and registers its DN on a survivor; SIPp
 *       ({@code uac-echo.xml}, echoing RTP) calls the DN through Kamailio, which routes by the binding the
 *       survivor made: the page gets {@code incoming} from the survivor, answers, hears its own audio back,
 *       and the SIP side hangs up. Printed: time from the kill to the page's {@code incoming}.</li>
 *   <li>Drain of the survivor serving the agent while the agent is in a call (SIPp through Kamailio again):
 *       /health/ready is 503, the call's media keeps flowing, HAProxy sends new sessions elsewhere but keeps
 *       the pinned browsers there, which keep working; the page hangs up (SIPp gets the BYE) and is still
 *       registered there.</li>
 * </ol>
 * {@code -Dit.failoverRuns=5} repeats steps 2 and 3 (restarting the killed instance, 60 fresh sessions each
 * run; each later run kills the instance the agent moved to) and prints p50/max over the runs.
 */
class ClusterFailoverIT {
    private static final int SESSIONS = Integer.getInteger("it.clusterSessions", 60);
    private static final int RUNS = Integer.getInteger("it.failoverRuns", 1);
    private static final List<String> IDS = List.of("gwa", "gwb", "gwc");
    private static final String ADMIN = "cluster-ops";
    private static final String ADMIN_PASSWORD = "cluster-admin-pw";
    private static final List<String> CHROMIUM_DNS = List.of("6001", "6002", "6003");
    private static final String LEGACY_DN = "6100";
    /** The agent page's DN (its own Chromium, pinned to the instance that is killed in run 1). */
    private static final String AGENT_DN = "6200";
    private static final Duration STEP = Duration.ofSeconds(20);
    /** The grtc.js app's page origin: the legacy client calls the gateway cross-origin, with credentials. */
    private static final String APP_ORIGIN = "http://agent.example.test";
    private static final ObjectMapper JSON = new ObjectMapper();

    private final ExecutorService pool = Executors.newFixedThreadPool(24);
    private final ScheduledExecutorService backoff = Executors.newScheduledThreadPool(2);
    private final Map<String, GatewayProcess> gateways = new LinkedHashMap<>();

    @Test
    void sessionsSurviveTheLossOfAnInstanceAndADrain() throws Exception {
        String hash = PasswordHash.create(ADMIN_PASSWORD.toCharArray(), 20_000).toString();
        try (Kamailio kamailio = Kamailio.builder().start()) {
            startGateways(kamailio, hash);
            try (Haproxy lb = Haproxy.start(List.copyOf(gateways.values()))) {
                Poll.until(Duration.ofSeconds(20), "HAProxy sees every instance UP",
                        () -> lb.serverStates().values().stream().allMatch(s -> s.startsWith("UP")));
                List<Long> failoverMs = new ArrayList<>();
                List<Long> deliveredMs = new ArrayList<>();
                BrowserPhone agent = null;
                try {
                    try (ChromiumClients chromium = ChromiumClients.open(lb.httpUrl(), CHROMIUM_DNS)) {
                        String pinned = chromium.awaitAllRegistered(Duration.ofSeconds(60));
                        agent = startAgent(lb, kamailio, pinned);
                        LegacyBrowser legacy = new LegacyBrowser(lb.httpUrl(), pinned);
                        String ssid = legacy.signIn(LEGACY_DN);
                        assertTrue(ssid.endsWith("." + pinned), ssid);
                        failoverMs.add(failoverRun(1, lb, kamailio, pinned, chromium, legacy, agent, deliveredMs));
                    }
                    for (int run = 2; run <= RUNS; run++) {
                        // The agent moved to a survivor: kill that one (the victim rotates with the agent).
                        failoverMs.add(failoverRun(run, lb, kamailio, agentInstance(agent), null, null, agent,
                                deliveredMs));
                    }
                    Collections.sort(failoverMs);
                    Collections.sort(deliveredMs);
                    System.out.printf("%nfailover, kill -9 -> last re-registration, %d sessions, %d run(s): p50 %d ms, "
                            + "max %d ms (all: %s)%n", SESSIONS, RUNS, failoverMs.get((failoverMs.size() - 1) / 2),
                            failoverMs.get(failoverMs.size() - 1), failoverMs);
                    System.out.printf("failover, kill -9 -> call to the moved agent delivered (incoming), %d run(s): "
                            + "p50 %d ms, max %d ms (all: %s)%n", RUNS, deliveredMs.get((deliveredMs.size() - 1) / 2),
                            deliveredMs.get(deliveredMs.size() - 1), deliveredMs);
                    drainOneInstance(lb, kamailio, agent);
                } finally {
                    if (agent != null) {
                        agent.close();
                    }
                }
            }
        } finally {
            pool.shutdownNow();
            backoff.shutdownNow();
            gateways.values().parallelStream().forEach(GatewayProcess::stop);
        }
    }

    private void startGateways(Kamailio kamailio, String adminHash) {
        Map<String, CompletableFuture<GatewayProcess>> starts = new LinkedHashMap<>();
        Map<String, Long> readyMs = new ConcurrentHashMap<>();
        long t0 = System.nanoTime();
        for (String id : IDS) {
            starts.put(id, CompletableFuture.supplyAsync(() -> {
                GatewayProcess gw = GatewayProcess.builder().instanceId(id).sipServers(kamailio.serverEntry())
                        .set("gateway.admin.username", ADMIN).set("gateway.admin.password-hash", adminHash)
                        .set("gateway.cors.allowed-origins", List.of(APP_ORIGIN))
                        // the agent page's Chromium offers only loopback ICE candidates
                        .set("gateway.media.ice-addresses", List.of("127.0.0.1"))
                        .startTimeout(Duration.ofSeconds(120)).start();
                gw.awaitHttpStatus("/health/ready", 200, Duration.ofSeconds(60));
                readyMs.put(id, (System.nanoTime() - t0) / 1_000_000);
                return gw;
            }, pool));
        }
        AssertionError failure = null;
        for (Map.Entry<String, CompletableFuture<GatewayProcess>> e : starts.entrySet()) {
            try {
                gateways.put(e.getKey(), e.getValue().join());
            } catch (RuntimeException ex) {
                failure = new AssertionError("gateway " + e.getKey() + " did not start", ex);
            }
        }
        if (failure != null) {
            throw failure;
        }
        System.out.printf("start-to-ready, %d instances started in parallel: %s ms%n", IDS.size(), new TreeMap<>(readyMs));
    }

    /**
     * The agent: our JS library in its own Chromium, with the affinity cookie of {@code pinned} (as if the
     * agent's other tab had set it), registered there through HAProxy.
     */
    private BrowserPhone startAgent(Haproxy lb, Kamailio kamailio, String pinned) {
        BrowserPhone agent = BrowserPhone.start(lb.httpUrl(), "agent", "GWINSTANCE=" + pinned);
        try {
            JsonNode hello = agent.connect();
            assertEquals(pinned, hello.path("instance").asText(), "the agent's cookie pins it: " + hello);
            agent.register(AGENT_DN);
            Poll.until(Duration.ofSeconds(15), "the agent's DN bound to " + pinned,
                    () -> kamailio.contacts(AGENT_DN).equals(List.of(contact(AGENT_DN, pinned))));
            return agent;
        } catch (RuntimeException | Error e) {
            agent.close();
            throw e;
        }
    }

    /**
     * One kill -9 of {@code victim} (where {@code agent} lives); returns kill -> last re-registration in ms and
     * adds kill -> the agent's call delivered to {@code deliveredMs}.
     */
    private long failoverRun(int run, Haproxy lb, Kamailio kamailio, String victim, ChromiumClients chromium,
                             LegacyBrowser legacy, BrowserPhone agent, List<Long> deliveredMs) throws Exception {
        assertEquals(victim, agentInstance(agent), "the agent lives on the instance to kill");
        List<Browser> browsers = signInAll(lb);
        try {
            Map<String, List<Browser>> byInstance = browsers.stream().collect(Collectors.groupingBy(b -> b.instance,
                    TreeMap::new, Collectors.toList()));
            Map<String, Integer> spread = new TreeMap<>();
            byInstance.forEach((id, list) -> spread.put(id, list.size()));
            System.out.printf("run %d: %d sessions per instance %s%n", run, SESSIONS, spread);
            for (String id : IDS) {
                assertTrue(spread.getOrDefault(id, 0) >= SESSIONS / 6, "sessions spread over the instances: " + spread);
            }
            for (Browser b : browsers) {
                b.assertPinned(lb);
            }
            Map<String, List<String>> expected = expectedBindings(browsers);
            Poll.until(Duration.ofSeconds(15), "Kamailio binds every DN to its instance",
                    () -> expected.equals(withoutOthers(kamailio.contacts(), expected)));

            String killed = victim;
            List<Browser> affected = byInstance.get(killed);
            String orphanSession = affected.get(0).session;
            CompletableFuture<Integer> legacyPoll = legacy == null ? null : legacy.waitAsync();
            if (legacy != null) {
                Poll.until(Duration.ofSeconds(10), "the legacy long poll held by " + killed,
                        () -> PrometheusText.parse(httpGet(gateways.get(killed).httpUrl() + "/metrics"))
                                .value("gateway_legacy_polls_open") >= 1);
            }
            int chromiumMark = chromium == null ? 0 : chromium.lineCount();

            int agentMark = agent.lineCount();

            long killedAt = System.nanoTime();
            List<CompletableFuture<Long>> failovers = new ArrayList<>();
            for (Browser b : affected) {
                failovers.add(b.failoverWhenClosed(lb.wsUrl(), killed, backoff, pool));
            }
            long killedAtMs = System.currentTimeMillis();
            gateways.get(killed).kill9();
            // The agent's call goes on beside the checks below, so its delivery time is not theirs.
            CompletableFuture<Long> agentCall = CompletableFuture.supplyAsync(() -> callAfterFailover(run, agent,
                    agentMark, kamailio, killed, killedAtMs), pool);
            long markedDown = Poll.until(Duration.ofSeconds(10), "HAProxy marks " + killed + " down", () -> {
                String state = lb.serverStates().get(killed);
                return state != null && state.startsWith("DOWN") ? System.nanoTime() : null;
            }, t -> t != null);
            List<Long> reRegistered = new ArrayList<>();
            for (CompletableFuture<Long> f : failovers) {
                reRegistered.add((f.get(60, TimeUnit.SECONDS) - killedAt) / 1_000_000);
            }
            Collections.sort(reRegistered);
            long last = reRegistered.get(reRegistered.size() - 1);
            // REST with the dead instance's cookie and session: a survivor answers 404 SESSION_UNKNOWN.
            CookieManager deadCookie = new CookieManager(null, CookiePolicy.ACCEPT_ALL);
            HttpCookie dead = new HttpCookie("GWINSTANCE", killed);
            dead.setPath("/");
            dead.setVersion(0);
            deadCookie.getCookieStore().add(URI.create(lb.httpUrl()), dead);
            HttpResponse<String> orphan = HttpClient.newBuilder().cookieHandler(deadCookie).build().send(
                    HttpRequest.newBuilder(URI.create(lb.httpUrl() + "/api/v1/sessions/" + orphanSession)).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(404, orphan.statusCode(), orphan.body());
            assertTrue(orphan.body().contains("SESSION_UNKNOWN") && orphan.body().contains(killed), orphan.body());
            for (Browser b : affected) {
                assertNotEquals(killed, b.instance, b.dn + " moved to a survivor");
                assertEquals(b.instance, b.cookie(lb), b.dn + "'s cookie names its new instance");
            }
            Map<String, List<String>> moved = expectedBindings(browsers);
            long bindingsAt = Poll.until(Duration.ofSeconds(15),
                    "Kamailio binds every DN to its (new) instance and nothing else", () ->
                            moved.equals(withoutOthers(kamailio.contacts(), moved)) ? System.nanoTime() : null,
                    t -> t != null);
            System.out.printf("run %d: killed %s (%d sessions): marked down after %d ms; re-registered p50 %d ms, "
                            + "last %d ms; registrar bindings all on survivors after %d ms%n", run, killed,
                    affected.size(), (markedDown - killedAt) / 1_000_000, reRegistered.get((reRegistered.size() - 1) / 2),
                    last, (bindingsAt - killedAt) / 1_000_000);

            if (chromium != null) {
                chromium.awaitAllReconnected(chromiumMark, killed, Duration.ofSeconds(60));
                Map<String, List<String>> chromiumBindings = Poll.until(Duration.ofSeconds(15),
                        "Chromium clients' DNs bound to a survivor", kamailio::contacts,
                        c -> CHROMIUM_DNS.stream().allMatch(dn -> c.getOrDefault(dn, List.of()).size() == 1
                                && !c.get(dn).get(0).endsWith(":" + gateways.get(killed).sipPort())));
                System.out.printf("run %d: Chromium clients re-registered: %s%n", run,
                        CHROMIUM_DNS.stream().collect(Collectors.toMap(dn -> dn, chromiumBindings::get)));
            }
            if (legacy != null) {
                int status = legacyPoll.get(30, TimeUnit.SECONDS);
                assertNotEquals(200, status, "the long poll on the killed instance must not end 200");
                assertEquals(404, legacy.pollStatus(), "the next poll reaches a survivor: session unknown");
                String ssid = legacy.signIn(LEGACY_DN);
                assertTrue(!ssid.endsWith("." + killed), ssid);
                System.out.printf("run %d: legacy client: long poll ended %d, next poll 404, signed in again as %s%n",
                        run, status, ssid);
                Poll.until(Duration.ofSeconds(15), "legacy DN bound to its new instance",
                        () -> kamailio.contacts(LEGACY_DN).equals(List.of(contact(LEGACY_DN, ssidInstance(ssid)))));
                legacy.signOut();
            }
            deliveredMs.add(agentCall.get(120, TimeUnit.SECONDS));

            gateways.get(killed).startAgain();
            gateways.get(killed).awaitHttpStatus("/health/ready", 200, Duration.ofSeconds(60));
            Poll.until(Duration.ofSeconds(20), "HAProxy sees " + killed + " UP again",
                    () -> lb.serverStates().getOrDefault(killed, "").startsWith("UP"));
            return last;
        } finally {
            List<CompletableFuture<Void>> byes = new ArrayList<>();
            for (Browser b : browsers) {
                byes.add(CompletableFuture.runAsync(b::signOut, pool));
            }
            byes.forEach(CompletableFuture::join);
        }
    }

    /**
     * A call between the agent and SIPp (through Kamailio), echoing RTP, is in progress on the agent's
     * instance when that instance is drained.
     */
    private void drainOneInstance(Haproxy lb, Kamailio kamailio, BrowserPhone agent) throws Exception {
        List<Browser> browsers = signInAll(lb);
        int mark = agent.lineCount();
        try (Sipp caller = echoCaller(kamailio, "caller-drain")) {
            String drained = agentInstance(agent);
            List<Browser> pinned = browsers.stream().filter(b -> b.instance.equals(drained)).toList();
            GatewayProcess gw = gateways.get(drained);
            String call = answerAndHearEcho(agent, mark, caller, drained).id();

            HttpResponse<String> answer = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                            URI.create(gw.httpUrl() + "/admin/api/drain")).POST(HttpRequest.BodyPublishers.noBody())
                    .header("Authorization", "Basic " + Base64.getEncoder().encodeToString(
                            (ADMIN + ":" + ADMIN_PASSWORD).getBytes(StandardCharsets.UTF_8)))
                    .header("X-Requested-With", "ClusterFailoverIT").build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(200, answer.statusCode(), answer.body());
            long inboundAtDrain = agent.stats().at("/inbound/packets").asLong();
            HttpResponse<String> ready = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                    URI.create(gw.httpUrl() + "/health/ready")).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(503, ready.statusCode(), ready.body());
            assertTrue(ready.body().contains("draining"), ready.body());
            Poll.until(Duration.ofSeconds(10), "HAProxy stops balancing new sessions to " + drained,
                    () -> lb.serverStates().getOrDefault(drained, "").startsWith("NOLB"));
            List<Browser> fresh = new ArrayList<>();
            for (int i = 0; i < 12; i++) {
                Browser b = new Browser(String.valueOf(7900 + i));
                b.signIn(lb.wsUrl());
                fresh.add(b);
                assertNotEquals(drained, b.instance, "a new session must not land on the drained instance");
            }
            for (Browser b : pinned) {
                b.ws.ok("ping");
                b.assertPinned(lb); // its REST requests still reach the drained instance
            }
            System.out.printf("drain: %s keeps its %d sessions; %d new sessions went to %s%n", drained, pinned.size(),
                    fresh.size(), fresh.stream().map(b -> b.instance).collect(Collectors.toCollection(java.util.TreeSet::new)));
            fresh.forEach(Browser::signOut);

            // The call goes on: the echo keeps arriving (50 packets/s) well after the drain, still connected.
            JsonNode during = Poll.until(Duration.ofSeconds(20), "the agent's call still carrying audio after the drain",
                    agent::stats, st -> st.at("/inbound/packets").asLong() > inboundAtDrain + 100);
            assertEquals("connected", during.at("/gateway/state").asText(), during.toString());
            assertEquals(503, gw.httpStatus("/health/ready"), "still draining during the call");

            agent.hangup();
            JsonNode ended = agent.awaitCallEvent(call, "ended", STEP);
            assertEquals("local-hangup", ended.at("/detail/reason").asText(), ended.toString());
            caller.awaitRequests("BYE", 1, STEP);
            assertEquals(0, caller.waitForExit(STEP), () -> "SIPp's call failed: " + caller.errors());
            System.out.printf("drain: the agent's call on %s went on through the drain (%d -> %d packets received), "
                    + "hung up by the page%n", drained, inboundAtDrain, during.at("/inbound/packets").asLong());

            JsonNode state = agent.command("state");
            assertEquals("connected", state.path("client").asText(), state.toString());
            assertEquals(AGENT_DN, state.at("/registration/dn").asText(), "still registered: " + state);
            assertTrue(state.path("session").asText().endsWith("." + drained), state.toString());
            assertEquals(List.of(contact(AGENT_DN, drained)), kamailio.contacts(AGENT_DN));
        } finally {
            browsers.forEach(Browser::signOut);
        }
    }

    /**
     * Run on its own thread after the kill: the agent page reconnects and registers on a survivor, then a
     * SIPp caller reaches it through Kamailio there, with audio both ways, and hangs up. Returns kill ->
     * the page's {@code incoming} in ms. (Times in epoch ms: the page's clock and SIPp's log are this machine's.)
     */
    private long callAfterFailover(int run, BrowserPhone agent, int mark, Kamailio kamailio, String killed,
                                   long killedAtMs) {
        agent.awaitEvent("reconnecting", mark, STEP);
        JsonNode reconnected = agent.awaitEvent("reconnected", mark, Duration.ofSeconds(60));
        JsonNode d = reconnected.path("detail");
        String survivor = d.path("instance").asText();
        assertTrue(d.path("registered").asBoolean() && !d.path("resumed").asBoolean()
                && !survivor.equals(killed) && gateways.containsKey(survivor), "agent reconnected: " + reconnected);
        Poll.until(STEP, "the agent's DN bound to " + survivor + " only",
                () -> kamailio.contacts(AGENT_DN).equals(List.of(contact(AGENT_DN, survivor))));
        long boundAtMs = System.currentTimeMillis();
        int beforeCall = agent.lineCount();
        try (Sipp caller = echoCaller(kamailio, "caller-run" + run)) {
            AgentCall answered = answerAndHearEcho(agent, beforeCall, caller, survivor);
            long inviteAtMs = caller.messageEntries().stream()
                    .filter(e -> !e.received() && e.message().isRequest() && e.message().method().equals("INVITE"))
                    .findFirst().orElseThrow().instant().toEpochMilli();
            // uac-echo.xml's cue to hang up: the SIP side sends BYE.
            agent.info("text/plain", "please-hang-up");
            JsonNode ended = agent.awaitCallEvent(answered.id(), "ended", STEP);
            assertEquals("remote-hangup", ended.at("/detail/reason").asText(), ended.toString());
            assertEquals(0, caller.waitForExit(STEP), () -> "SIPp's call failed: " + caller.errors());
            long delivered = Math.round(answered.incomingAtMs()) - killedAtMs;
            System.out.printf("run %d: agent page: kill -> reconnected on %s %d ms, -> DN bound there %d ms, -> SIPp's "
                            + "INVITE sent %d ms, -> call delivered (incoming) %d ms (INVITE -> incoming %d ms); "
                            + "answered, echo heard, SIP side hung up%n", run, survivor,
                    Math.round(reconnected.path("at").asDouble()) - killedAtMs, boundAtMs - killedAtMs,
                    inviteAtMs - killedAtMs, delivered, Math.round(answered.incomingAtMs()) - inviteAtMs);
            return delivered;
        }
    }

    /** A call the agent answered: its id and when the page saw {@code incoming} (epoch ms, the page's clock). */
    private record AgentCall(String id, double incomingAtMs) {}

    /**
     * The agent's call from {@code caller} (announced at or after line {@code mark}): it must come from
     * {@code instance} (the call id's suffix, and the Contact of the 200 that reached SIPp through Kamailio);
     * the page answers and hears its own audio back from SIPp's RTP echo.
     */
    private AgentCall answerAndHearEcho(BrowserPhone agent, int mark, Sipp caller, String instance) {
        JsonNode incoming = agent.awaitEvent("incoming", mark, STEP);
        String call = incoming.path("call").asText();
        assertTrue(call.endsWith("." + instance), "the call is on " + instance + ": " + incoming);
        assertEquals("5000", incoming.at("/detail/remote").asText(), incoming.toString());
        agent.answer();
        agent.awaitCallEvent(call, "connected", STEP);
        SipMessage ok = caller.awaitReceived(m -> !m.isRequest() && m.status() == 200
                && m.header("CSeq").orElse("").contains("INVITE"), 1, STEP, "200 OK to the INVITE").get(0);
        String contact = ok.header("Contact").orElse("");
        assertTrue(contact.contains("@127.0.0.1:" + gateways.get(instance).sipPort()),
                "answered by " + instance + ": " + ok);
        JsonNode stats = Poll.until(STEP, "the agent's audio echoed back by SIPp", agent::stats,
                st -> st.at("/inbound/packets").asLong() > 50 && st.at("/inbound/totalAudioEnergy").asDouble() > 0);
        assertTrue(stats.at("/outbound/packets").asLong() > 50, stats.toString());
        return new AgentCall(call, incoming.path("at").asDouble());
    }

    /** SIPp calling the agent's DN once through Kamailio (which looks up the binding), echoing RTP. */
    private static Sipp echoCaller(Kamailio kamailio, String name) {
        return Sipp.scenario("uac-echo.xml").name(name).remote(kamailio.address())
                .args("-s", AGENT_DN, "-mi", "127.0.0.1", "-mp", String.valueOf(FreePorts.sippMedia()), "-rtp_echo")
                .maxCalls(1).start();
    }

    /** The instance serving the agent's session (the session id's suffix). */
    private static String agentInstance(BrowserPhone agent) {
        String session = agent.command("state").path("session").asText();
        return session.substring(session.lastIndexOf('.') + 1);
    }

    private List<Browser> signInAll(Haproxy lb) throws Exception {
        List<CompletableFuture<Browser>> signIns = new ArrayList<>();
        for (int i = 0; i < SESSIONS; i++) {
            String dn = String.valueOf(7000 + i);
            signIns.add(CompletableFuture.supplyAsync(() -> {
                Browser b = new Browser(dn);
                b.signIn(lb.wsUrl());
                return b;
            }, pool));
        }
        List<Browser> out = new ArrayList<>();
        for (CompletableFuture<Browser> f : signIns) {
            out.add(f.get(60, TimeUnit.SECONDS));
        }
        return out;
    }

    private static String httpGet(String url) {
        try {
            return HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(url)).build(),
                    HttpResponse.BodyHandlers.ofString()).body();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private Map<String, List<String>> expectedBindings(List<Browser> browsers) {
        Map<String, List<String>> expected = new TreeMap<>();
        for (Browser b : browsers) {
            expected.put(b.dn, List.of(contact(b.dn, b.instance)));
        }
        return expected;
    }

    /** Only the AoRs of {@code expected} (the Chromium and legacy DNs are checked on their own). */
    private static Map<String, List<String>> withoutOthers(Map<String, List<String>> all, Map<String, List<String>> expected) {
        Map<String, List<String>> out = new TreeMap<>(all);
        out.keySet().retainAll(expected.keySet());
        return out;
    }

    private String contact(String dn, String instance) {
        return "sip:" + dn + "@127.0.0.1:" + gateways.get(instance).sipPort();
    }

    private static String ssidInstance(String ssid) {
        return ssid.substring(ssid.lastIndexOf('.') + 1);
    }

    /**
     * A browser profile with the WebSocket protocol, failing over the way /js/webrtc-gateway.js does: when
     * its socket closes it waits a backoff delay (the library's defaults: 250-500 ms, then 500-1000 ms, ...),
     * reconnects through the same URL with the cookie it has, tries to resume, and on SESSION_UNKNOWN sends a
     * fresh hello on the same socket and registers its DN again.
     */
    static final class Browser {
        final String dn;
        final CookieManager cookies = new CookieManager(null, CookiePolicy.ACCEPT_ALL);
        final HttpClient http = HttpClient.newBuilder().cookieHandler(cookies).connectTimeout(Duration.ofSeconds(5)).build();
        volatile WsTestClient ws;
        volatile String session;
        volatile String instance;

        Browser(String dn) {
            this.dn = dn;
        }

        void signIn(String wsUrl) {
            ws = WsTestClient.connect(wsUrl, http);
            JsonNode hello = ws.ok("hello");
            session = hello.path("session").asText();
            instance = hello.path("instance").asText();
            ws.ok("register", "dn", dn);
            ws.startKeepalive(Duration.ofSeconds(10));
        }

        String cookie(Haproxy lb) {
            for (HttpCookie c : cookies.getCookieStore().get(URI.create(lb.httpUrl()))) {
                if (c.getName().equals("GWINSTANCE")) {
                    return c.getValue();
                }
            }
            return null;
        }

        /** hello's instance = the affinity cookie = the instance answering this browser's REST requests. */
        void assertPinned(Haproxy lb) {
            assertEquals(instance, cookie(lb), dn + ": cookie");
            assertTrue(session.endsWith("." + instance), session);
            HttpResponse<String> r;
            try {
                r = http.send(HttpRequest.newBuilder(URI.create(lb.httpUrl() + "/api/v1/sessions/" + session)).build(),
                        HttpResponse.BodyHandlers.ofString());
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
            assertEquals(200, r.statusCode(), dn + ": GET its session through HAProxy: " + r.body());
            assertTrue(r.body().contains("\"instance\":\"" + instance + "\""), r.body());
        }

        /** Completes with System.nanoTime() when the DN is registered again after the socket closed. */
        CompletableFuture<Long> failoverWhenClosed(String wsUrl, String deadInstance, ScheduledExecutorService timers,
                                                   ExecutorService workers) {
            CompletableFuture<Long> done = new CompletableFuture<>();
            ws.closed().thenRun(() -> attempt(1, wsUrl, deadInstance, timers, workers, done));
            return done;
        }

        private void attempt(int n, String wsUrl, String deadInstance, ScheduledExecutorService timers,
                             ExecutorService workers, CompletableFuture<Long> done) {
            if (n > 10) {
                done.completeExceptionally(new AssertionError(dn + ": no reconnect after 10 attempts"));
                return;
            }
            long base = Math.min(30_000, 500L << (n - 1));
            long delay = base / 2 + ThreadLocalRandom.current().nextLong(base / 2 + 1);
            timers.schedule(() -> workers.execute(() -> {
                try {
                    WsTestClient old = ws;
                    old.close();
                    ws = WsTestClient.connect(wsUrl, http);
                    JsonNode resume = ws.request("hello", "session", session);
                    assertEquals("SESSION_UNKNOWN", resume.path("code").asText(), "resume on a survivor: " + resume);
                    assertEquals(deadInstance, resume.path("instance").asText(), "names the dead owner: " + resume);
                    JsonNode hello = ws.ok("hello");
                    session = hello.path("session").asText();
                    instance = hello.path("instance").asText();
                    ws.ok("register", "dn", dn);
                    ws.startKeepalive(Duration.ofSeconds(10));
                    done.complete(System.nanoTime());
                } catch (RuntimeException | AssertionError e) {
                    if (e instanceof AssertionError a && a.getMessage() != null && a.getMessage().contains("names the dead owner")) {
                        done.completeExceptionally(e);
                        return;
                    }
                    attempt(n + 1, wsUrl, deadInstance, timers, workers, done);
                }
            }), delay, TimeUnit.MILLISECONDS);
        }

        void signOut() {
            WsTestClient w = ws;
            if (w != null && w.isOpen()) {
                try {
                    w.request("bye");
                } catch (RuntimeException | AssertionError e) {
                    // already gone
                }
            }
            if (w != null) {
                w.close();
            }
        }
    }

    /** A grtc.js-style client: plain HTTP through HAProxy with cookies, as a browser sends them cross-origin. */
    static final class LegacyBrowser {
        final String lbUrl;
        final CookieManager cookies = new CookieManager(null, CookiePolicy.ACCEPT_ALL);
        final HttpClient http = HttpClient.newBuilder().cookieHandler(cookies).build();
        String ssid;

        /** {@code pinnedTo}: the affinity cookie the same browser already has (its page's other client set it). */
        LegacyBrowser(String lbUrl, String pinnedTo) {
            this.lbUrl = lbUrl;
            HttpCookie c = new HttpCookie("GWINSTANCE", pinnedTo);
            c.setPath("/");
            c.setVersion(0);
            cookies.getCookieStore().add(URI.create(lbUrl), c);
        }

        String signIn(String dn) throws Exception {
            HttpResponse<String> r = http.send(request("/sign_in?" + dn), HttpResponse.BodyHandlers.ofString());
            assertEquals(200, r.statusCode(), r.body());
            // Cross-origin with credentials, as grtc.js calls it: the gateway's CORS answer comes through HAProxy.
            assertEquals(APP_ORIGIN, r.headers().firstValue("Access-Control-Allow-Origin").orElse(null));
            assertEquals("true", r.headers().firstValue("Access-Control-Allow-Credentials").orElse(null));
            String first = r.body().split("\n")[0];
            ssid = first.substring(first.indexOf('=') + 1);
            return ssid;
        }

        private HttpRequest request(String pathAndQuery) {
            return HttpRequest.newBuilder(URI.create(lbUrl + pathAndQuery)).header("Origin", APP_ORIGIN).build();
        }

        CompletableFuture<Integer> waitAsync() {
            return http.sendAsync(request("/wait?id=" + ssid), HttpResponse.BodyHandlers.ofString())
                    .handle((r, e) -> r == null ? -1 : r.statusCode());
        }

        int pollStatus() throws Exception {
            return http.send(request("/wait?id=" + ssid), HttpResponse.BodyHandlers.ofString()).statusCode();
        }

        void signOut() throws Exception {
            http.send(request("/sign_out?id=" + ssid), HttpResponse.BodyHandlers.ofString());
        }
    }

    /** src/test/js/e2e/cluster-clients.mjs: JS library clients in one Chromium page. */
    static final class ChromiumClients extends JsonLineHarness {

        private ChromiumClients(Launch launch) {
            super("cluster-clients", launch.command(), launch.environment(), launch.workDir(),
                    ItLogs.file("cluster-clients", "log"), Duration.ofSeconds(60), Duration.ofSeconds(30));
        }

        static ChromiumClients open(String url, List<String> dns) {
            List<String> arguments = new ArrayList<>(List.of(url));
            arguments.addAll(dns);
            ChromiumClients clients = new ChromiumClients(chromiumHarness(Path.of("src/test/js/e2e/cluster-clients.mjs"),
                    arguments));
            clients.launch();
            return clients;
        }

        /** Waits until every client registered; returns the one instance they are all pinned to. */
        String awaitAllRegistered(Duration timeout) {
            Map<Integer, String> instances = new HashMap<>();
            awaitAll(0, timeout, "every Chromium client connected and registered", from -> {
                int registered = 0;
                for (JsonNode l : from) {
                    if (l.has("connected")) {
                        instances.put(l.get("client").asInt(), l.at("/connected/instance").asText());
                    }
                    if ("registered".equals(l.path("event").asText())) {
                        registered++;
                    }
                    if (l.has("failed")) {
                        throw new AssertionError("Chromium client failed: " + l + "\n" + transcript());
                    }
                }
                return registered >= CHROMIUM_DNS.size();
            });
            assertEquals(1, new java.util.HashSet<>(instances.values()).size(),
                    "one page's clients share the cookie, so one instance: " + instances);
            return instances.values().iterator().next();
        }

        /** Waits until every client emitted reconnected (not resumed, registered, on another instance). */
        void awaitAllReconnected(int from, String dead, Duration timeout) {
            awaitAll(from, timeout, "every Chromium client reconnected and registered", after -> {
                int reconnected = 0;
                for (JsonNode l : after) {
                    if ("reconnected".equals(l.path("event").asText())) {
                        JsonNode d = l.get("detail");
                        assertTrue(d.get("registered").asBoolean() && !d.get("resumed").asBoolean()
                                && !d.get("instance").asText().equals(dead), "reconnected: " + l);
                        reconnected++;
                    }
                }
                return reconnected >= CHROMIUM_DNS.size();
            });
        }

        private void awaitAll(int from, Duration timeout, String what, Predicate<List<JsonNode>> done) {
            await(() -> done.test(lines().subList(from, lines().size())) ? Boolean.TRUE : null, what, timeout);
        }
    }
}
