package io.webrtcgateway.testsupport;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;

/**
 * A plain WebSocket client speaking protocol v1 (docs/protocol.md) for tests: send a request, await its
 * result or error by id, await events. Every received message is kept for assertions.
 */
public final class WsTestClient implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final WebSocket ws;
    private final LinkedBlockingQueue<JsonNode> inbox = new LinkedBlockingQueue<>();
    private final List<JsonNode> seen = new CopyOnWriteArrayList<>();
    /** Received but not yet returned by an await. Guarded by itself. */
    private final java.util.ArrayDeque<JsonNode> unmatched = new java.util.ArrayDeque<>();
    private final AtomicInteger ids = new AtomicInteger();
    private volatile int closeCode = -1;
    private volatile String closeReason;
    private final java.util.concurrent.CompletableFuture<Integer> closed = new java.util.concurrent.CompletableFuture<>();

    private WsTestClient(WebSocket.Builder builder, URI uri) {
        this.ws = builder.buildAsync(uri, new WebSocket.Listener() {
            private final StringBuilder text = new StringBuilder();

            @Override
            public CompletionStage<?> onText(WebSocket w, CharSequence data, boolean last) {
                text.append(data);
                if (last) {
                    try {
                        JsonNode n = JSON.readTree(text.toString());
                        if (n.path("id").asText().startsWith("keepalive-")) {
                            text.setLength(0);
                            w.request(1);
                            return null; // answers to our own keepalives are not the test's business
                        }
                        seen.add(n);
                        inbox.add(n);
                    } catch (Exception e) {
                        inbox.add(JSON.createObjectNode().put("type", "unparseable").put("text", text.toString()));
                    }
                    text.setLength(0);
                }
                w.request(1);
                return null;
            }

            @Override
            public CompletionStage<?> onClose(WebSocket w, int statusCode, String reason) {
                closeCode = statusCode;
                closeReason = reason;
                closed.complete(statusCode);
                return null;
            }

            @Override
            public void onError(WebSocket w, Throwable error) {
                closeCode = 1006;
                closeReason = error.toString();
                closed.complete(1006);
            }
        }).orTimeout(10, TimeUnit.SECONDS).join();
    }

    public static WsTestClient connect(String wsUrl) {
        return new WsTestClient(HttpClient.newHttpClient().newWebSocketBuilder(), URI.create(wsUrl));
    }

    /**
     * Connects with {@code client}'s settings: give each simulated browser its own client with a
     * {@link java.net.CookieManager}, and the handshake carries and keeps its cookies (the affinity cookie)
     * like a browser's.
     */
    public static WsTestClient connect(String wsUrl, HttpClient client) {
        return new WsTestClient(client.newWebSocketBuilder(), URI.create(wsUrl));
    }

    public static WsTestClient connect(String wsUrl, String origin) {
        return new WsTestClient(HttpClient.newHttpClient().newWebSocketBuilder().header("Origin", origin), URI.create(wsUrl));
    }

    /** Connects with these extra handshake headers (e.g. X-Forwarded-For; java.net.http refuses Host). */
    public static WsTestClient connect(String wsUrl, java.util.Map<String, String> headers) {
        WebSocket.Builder builder = HttpClient.newHttpClient().newWebSocketBuilder();
        headers.forEach(builder::header);
        return new WsTestClient(builder, URI.create(wsUrl));
    }

    /**
     * Pings every {@code interval} like a browser would (the JS library does), so a test that waits longer
     * than gateway.session.idle-timeout keeps its session. Stops with {@link #close()} or {@link #abort()}.
     */
    public void startKeepalive(Duration interval) {
        Thread t = new Thread(() -> {
            int n = 0;
            while (isOpen() && !Thread.currentThread().isInterrupted()) {
                java.util.concurrent.locks.LockSupport.parkNanos(interval.toNanos());
                if (!isOpen()) {
                    return;
                }
                try {
                    sendRaw("{\"type\":\"ping\",\"id\":\"keepalive-" + (++n) + "\"}");
                } catch (RuntimeException e) {
                    return;
                }
            }
        }, "ws-test-keepalive");
        t.setDaemon(true);
        keepalive = t;
        t.start();
    }

    private volatile Thread keepalive;

    /** Sends raw text (for bad-input tests). */
    public void sendRaw(String text) {
        ws.sendText(text, true).orTimeout(5, TimeUnit.SECONDS).join();
    }

    /** Sends {@code {"type": type, "id": n, ...fields}} and returns the answer with that id. */
    public JsonNode request(String type, Object... fieldsAndValues) {
        int id = ids.incrementAndGet();
        ObjectNode msg = JSON.createObjectNode();
        msg.put("type", type);
        msg.put("id", id);
        for (int i = 0; i < fieldsAndValues.length; i += 2) {
            msg.set((String) fieldsAndValues[i], JSON.valueToTree(fieldsAndValues[i + 1]));
        }
        sendRaw(msg.toString());
        return await(Duration.ofSeconds(20), "answer to " + type + " #" + id,
                n -> n.path("id").asInt(-1) == id && (n.path("type").asText().equals("result")
                        || n.path("type").asText().equals("error")));
    }

    /** The result of a request that must succeed. */
    public JsonNode ok(String type, Object... fieldsAndValues) {
        JsonNode answer = request(type, fieldsAndValues);
        if (!answer.path("type").asText().equals("result")) {
            throw new AssertionError(type + " failed: " + answer);
        }
        return answer;
    }

    public JsonNode awaitEvent(String name, Duration timeout) {
        return await(timeout, "event " + name,
                n -> n.path("type").asText().equals("event") && n.path("name").asText().equals(name));
    }

    /**
     * Waits for the oldest not yet awaited message matching {@code what}. Messages that did not match stay
     * available to later awaits (an event may arrive before the result a test waits for first).
     */
    public JsonNode await(Duration timeout, String description, Predicate<JsonNode> what) {
        synchronized (unmatched) {
            for (var it = unmatched.iterator(); it.hasNext(); ) {
                JsonNode n = it.next();
                if (what.test(n)) {
                    it.remove();
                    return n;
                }
            }
        }
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                throw new AssertionError("no " + description + " within " + timeout + "; got " + seen
                        + (closeCode >= 0 ? "; closed " + closeCode + " " + closeReason : ""));
            }
            JsonNode n;
            try {
                n = inbox.poll(left, TimeUnit.NANOSECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError("interrupted");
            }
            if (n != null) {
                if (what.test(n)) {
                    return n;
                }
                synchronized (unmatched) {
                    unmatched.add(n);
                }
            }
        }
    }

    public List<JsonNode> seen() {
        return List.copyOf(seen);
    }

    /** The close code once the server closed the socket, else -1. */
    public int closeCode() {
        return closeCode;
    }

    /** Completes with the close code when the connection ends (1006: broken without a close frame). */
    public java.util.concurrent.CompletableFuture<Integer> closed() {
        return closed;
    }

    public String closeReason() {
        return closeReason;
    }

    public boolean isOpen() {
        return !ws.isOutputClosed() && !ws.isInputClosed() && closeCode < 0;
    }

    /** Drops the connection without a close handshake's courtesy (like a browser tab that died). */
    public void abort() {
        stopKeepalive();
        ws.abort();
    }

    private void stopKeepalive() {
        Thread t = keepalive;
        if (t != null) {
            t.interrupt();
        }
    }

    @Override
    public void close() {
        stopKeepalive();
        if (closeCode < 0 && !ws.isOutputClosed()) {
            try {
                ws.sendClose(WebSocket.NORMAL_CLOSURE, "bye").orTimeout(2, TimeUnit.SECONDS).join();
            } catch (RuntimeException e) {
                // already gone
            }
        }
        ws.abort();
    }
}
