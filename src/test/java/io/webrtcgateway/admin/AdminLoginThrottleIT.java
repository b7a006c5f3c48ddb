package io.webrtcgateway.admin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.webrtcgateway.session.SessionService;
import io.webrtcgateway.testsupport.GatewayProcess;
import io.webrtcgateway.testsupport.Poll;
import io.webrtcgateway.testsupport.PrometheusText;
import io.webrtcgateway.testsupport.WsTestClient;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * Admin login throttling against a real gateway (docs/admin.md, "Login throttling"): an attacker at
 * 127.0.0.1 sends 50 wrong passwords, five at a time, alternating HTTP Basic and the console login, then
 * keeps guessing until it is locked out; meanwhile the operator logs in from 127.0.0.2 with both, and
 * {@code /health/live} stays fast. The hash is a real 600,000-round PBKDF2, so a checked guess is visibly
 * slower than a throttled one; the counters in /metrics prove that only the permitted guesses were hashed.
 */
class AdminLoginThrottleIT {
    private static final String USER = "ops";
    private static final String PASSWORD = "throttle-secret";
    private static final String ATTACKER = "127.0.0.1";
    private static final String OPERATOR = "127.0.0.2";
    private static final int FREE = 3;
    private static final int LOCKOUT_AFTER = 5;
    private static final ObjectMapper JSON = new ObjectMapper();

    /** One HTTP exchange and how long it took, connect to last byte. */
    private record Answer(int status, Map<String, String> headers, String body, long nanos) {
        String header(String name) {
            return headers.get(name.toLowerCase(Locale.ROOT));
        }

        long retryAfter() {
            String v = header("Retry-After");
            return v == null ? -1 : Long.parseLong(v);
        }
    }

    @Test
    void oneAddressGuessingIsThrottledWhileTheOperatorGetsInFromAnother() throws Exception {
        String hash = PasswordHash.create(PASSWORD.toCharArray(), PasswordHash.DEFAULT_ITERATIONS).toString();
        ExecutorService attackers = Executors.newFixedThreadPool(6);
        try (GatewayProcess gw = GatewayProcess.builder().instanceId("throttle-gw")
                .set("gateway.admin.username", USER).set("gateway.admin.password-hash", hash)
                .setHocon("gateway.admin.login-throttle.free-attempts", String.valueOf(FREE))
                .set("gateway.admin.login-throttle.delay", "1 s")
                .set("gateway.admin.login-throttle.max-delay", "2 s")
                .setHocon("gateway.admin.login-throttle.lockout-after", String.valueOf(LOCKOUT_AFTER))
                .set("gateway.admin.login-throttle.lockout", "10 m")
                // Low, so the user-name rule is in force while the operator logs in: it must spare a clean address.
                .setHocon("gateway.admin.login-throttle.user-free-attempts", "2")
                .startTimeout(Duration.ofSeconds(90)).start();
             WsTestClient browser = WsTestClient.connect(gw.wsUrl())) {
            gw.awaitHttpStatus("/health/ready", 200, Duration.ofSeconds(30));
            String sessionId = browser.ok("hello").path("session").asText();
            int port = gw.httpPort();

            List<Answer> guesses = Collections.synchronizedList(new ArrayList<>());
            AtomicInteger number = new AtomicInteger();
            Callable<Answer> guess = () -> {
                int n = number.incrementAndGet();
                Answer a = n % 2 == 0 ? login(ATTACKER, port, USER, "guess-" + n)
                        : basic(ATTACKER, port, USER + ":guess-" + n);
                guesses.add(a);
                return a;
            };
            CompletableFuture<Void> attack = CompletableFuture.runAsync(() -> {
                try {
                    for (var f : attackers.invokeAll(Collections.nCopies(50, guess))) {
                        f.get();
                    }
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
                // Then on, one guess at a time until the lock-out: 1 s and 2 s waits pass on the way.
                Poll.until(Duration.ofSeconds(60), "the attacker's lock-out", () -> {
                    try {
                        return guess.call();
                    } catch (Exception e) {
                        throw new IllegalStateException(e);
                    }
                }, a -> a.status() == 429 && a.retryAfter() > 60);
            }, attackers);

            Poll.until(Duration.ofSeconds(30), "the attacker's first 429",
                    () -> guesses.stream().anyMatch(a -> a.status() == 429));

            // /health/live answers on the listener threads however many guesses arrive or are being hashed.
            List<Long> health = new ArrayList<>();
            int duringAttack = 0;
            for (int i = 0; i < 10; i++) {
                duringAttack += attack.isDone() ? 0 : 1;
                health.add(probeHealth(port));
            }

            // The operator, from a clean address, while the attacker is being throttled.
            Answer sessions = basic(OPERATOR, port, USER + ":" + PASSWORD, "/admin/api/sessions");
            assertEquals(200, sessions.status(), sessions.body());
            JsonNode item = JSON.readTree(sessions.body()).path("items").get(0);
            assertEquals(sessionId, item.path("id").asText());
            String logId = item.path("logId").asText();
            assertEquals(SessionService.logId(sessionId), logId);
            Answer consoleLogin = login(OPERATOR, port, USER, PASSWORD);
            assertEquals(200, consoleLogin.status(), consoleLogin.body());
            String cookie = consoleLogin.header("Set-Cookie");
            assertNotNull(cookie);
            assertTrue(cookie.startsWith("GWADMIN="), cookie);
            Answer me = exchange(OPERATOR, port, "GET", "/admin/api/me",
                    Map.of("Cookie", cookie.substring(0, cookie.indexOf(';'))), null);
            assertEquals(200, me.status(), me.body());
            boolean operatorDuringAttack = !attack.isDone();

            AtomicInteger laterProbes = new AtomicInteger();
            Poll.until(Duration.ofSeconds(60), "the attacker's lock-out, probing /health/live meanwhile", () -> {
                if (!attack.isDone()) {
                    laterProbes.incrementAndGet();
                    health.add(probeHealth(port));
                }
                return attack.isDone();
            });
            attack.join();
            duringAttack += laterProbes.get();

            List<Answer> all = List.copyOf(guesses);
            List<Answer> checked = all.stream().filter(a -> a.status() == 401).toList();
            List<Answer> throttled = all.stream().filter(a -> a.status() == 429).toList();
            assertEquals(all.size(), checked.size() + throttled.size(), "every guess is 401 or 429: " + statuses(all));
            assertEquals(LOCKOUT_AFTER, checked.size(), "exactly the permitted guesses were checked: " + statuses(all));
            assertTrue(all.size() >= 50);
            for (Answer a : throttled) {
                assertTrue(a.retryAfter() >= 1, "Retry-After on every 429");
                assertEquals("TOO_MANY_ATTEMPTS", JSON.readTree(a.body()).path("code").asText(), a.body());
            }
            long checkedMedian = medianMillis(checked);
            long throttledMedian = medianMillis(throttled);
            long healthMedian = median(health) / 1_000_000;
            long healthMax = Collections.max(health) / 1_000_000;
            System.out.printf("[AdminLoginThrottleIT] %d guesses: %d checked (401, median %d ms), %d throttled (429,"
                    + " median %d ms, max %d ms); /health/live x%d (%d while the attack ran): median %d ms, max %d ms;"
                    + " operator logged in while the attack ran: %s%n",
                    all.size(), checked.size(), checkedMedian, throttled.size(), throttledMedian,
                    Collections.max(throttled.stream().map(Answer::nanos).toList()) / 1_000_000, health.size(),
                    duringAttack, healthMedian, healthMax, operatorDuringAttack);
            assertTrue(throttledMedian * 3 < checkedMedian, "a throttled guess is answered without hashing: "
                    + throttledMedian + " ms vs " + checkedMedian + " ms");
            assertTrue(healthMax < 1000, "every /health/live under 1 s; max " + healthMax + " ms");
            assertTrue(duringAttack >= 10, "probed while the attack ran: " + duringAttack);
            assertTrue(operatorDuringAttack, "the operator got in before the attacker's lock-out, i.e. while the"
                    + " attacker's address and the user name were throttled");

            // A lock-out means it: the right password from the attacker's address is refused too, unhashed.
            Answer rightBasic = basic(ATTACKER, port, USER + ":" + PASSWORD);
            assertEquals(429, rightBasic.status(), rightBasic.body());
            assertTrue(rightBasic.retryAfter() > 500, "the lock-out's Retry-After: " + rightBasic.retryAfter());
            Answer rightLogin = login(ATTACKER, port, USER, PASSWORD);
            assertEquals(429, rightLogin.status(), rightLogin.body());
            assertTrue(rightLogin.retryAfter() > 500);
            assertEquals(200, basic(OPERATOR, port, USER + ":" + PASSWORD).status(), "the operator still gets in");

            PrometheusText metrics = PrometheusText.parse(
                    exchange(OPERATOR, port, "GET", "/metrics", Map.of(), null).body());
            String name = "gateway_admin_logins_total";
            assertEquals(LOCKOUT_AFTER, metrics.valueOrZero(name, "result", "failed"));
            assertEquals(2, metrics.valueOrZero(name, "result", "ok"), "the operator's Basic and console login");
            assertEquals(throttled.size() + 2, metrics.valueOrZero(name, "result", "throttled"));
            assertEquals(0, metrics.valueOrZero(name, "result", "busy"));
            assertEquals(1, metrics.value(name, "via", "login", "result", "ok"));
            System.out.printf("[AdminLoginThrottleIT] %s: %s%n", name, metrics.find(name, Map.of()));

            // Session ids are bearer secrets: the log names the session by its logId only.
            browser.ok("bye");
            Poll.until(Duration.ofSeconds(10), "the session's end in the log",
                    () -> readLog(gw).contains("session " + logId + " ended"));
            String log = readLog(gw);
            assertTrue(log.contains("session " + logId + " created"), "logId in the log");
            assertFalse(log.contains(sessionId), "the session id itself is never logged");
            assertFalse(log.contains(cookie.substring("GWADMIN=".length(), cookie.indexOf(';'))), "nor the login cookie");
            assertTrue(log.contains("action=login-throttle"), "the lock-out is in the audit log");
        } finally {
            attackers.shutdownNow();
            assertTrue(attackers.awaitTermination(30, TimeUnit.SECONDS));
        }
    }

    private static long probeHealth(int port) {
        Answer live = exchange("127.0.0.3", port, "GET", "/health/live", Map.of(), null);
        assertEquals(200, live.status());
        return live.nanos();
    }

    private static String readLog(GatewayProcess gw) {
        try {
            return Files.readString(gw.logFile());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static String statuses(List<Answer> answers) {
        return answers.stream().map(a -> String.valueOf(a.status())).toList().toString();
    }

    private static long medianMillis(List<Answer> answers) {
        return median(answers.stream().map(Answer::nanos).toList()) / 1_000_000;
    }

    private static long median(List<Long> values) {
        List<Long> sorted = new ArrayList<>(values);
        Collections.sort(sorted);
        return sorted.get(sorted.size() / 2);
    }

    private static Answer basic(String from, int port, String userColonPassword) {
        return basic(from, port, userColonPassword, "/admin/api/instance");
    }

    private static Answer basic(String from, int port, String userColonPassword, String path) {
        String credentials = Base64.getEncoder().encodeToString(userColonPassword.getBytes(StandardCharsets.UTF_8));
        return exchange(from, port, "GET", path, Map.of("Authorization", "Basic " + credentials), null);
    }

    private static Answer login(String from, int port, String user, String password) {
        String body = JSON.createObjectNode().put("username", user).put("password", password).toString();
        return exchange(from, port, "POST", "/admin/api/login", Map.of("Content-Type", "application/json"), body);
    }

    /**
     * HTTP/1.0 over a socket bound to {@code from} (any 127.0.0.0/8 address is this machine's), so the
     * gateway sees the client address the test chooses: java.net.http cannot bind its source address.
     * HTTP/1.0, so the answer ends with the connection and is never chunked.
     */
    private static Answer exchange(String from, int port, String method, String path, Map<String, String> headers,
            String body) {
        long start = System.nanoTime();
        try (Socket s = new Socket()) {
            s.bind(new InetSocketAddress(from, 0));
            s.connect(new InetSocketAddress("127.0.0.1", port), 5000);
            s.setSoTimeout(30_000);
            byte[] content = body == null ? new byte[0] : body.getBytes(StandardCharsets.UTF_8);
            StringBuilder head = new StringBuilder(method).append(' ').append(path).append(" HTTP/1.0\r\n")
                    .append("Host: 127.0.0.1:").append(port).append("\r\n");
            headers.forEach((k, v) -> head.append(k).append(": ").append(v).append("\r\n"));
            if (body != null) {
                head.append("Content-Length: ").append(content.length).append("\r\n");
            }
            head.append("\r\n");
            OutputStream out = s.getOutputStream();
            out.write(head.toString().getBytes(StandardCharsets.US_ASCII));
            out.write(content);
            out.flush();
            InputStream in = s.getInputStream();
            String answer = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            long nanos = System.nanoTime() - start;
            int end = answer.indexOf("\r\n\r\n");
            if (end < 0) {
                throw new IllegalStateException("no HTTP answer from " + path + ": " + answer);
            }
            String[] lines = answer.substring(0, end).split("\r\n");
            Map<String, String> answerHeaders = new LinkedHashMap<>();
            for (int i = 1; i < lines.length; i++) {
                int colon = lines[i].indexOf(':');
                if (colon > 0) {
                    answerHeaders.merge(lines[i].substring(0, colon).trim().toLowerCase(Locale.ROOT),
                            lines[i].substring(colon + 1).trim(), (a, b) -> a + "\n" + b);
                }
            }
            return new Answer(Integer.parseInt(lines[0].split(" ")[1]), answerHeaders, answer.substring(end + 4), nanos);
        } catch (IOException e) {
            throw new UncheckedIOException(from + " -> " + method + " " + path, e);
        }
    }
}
