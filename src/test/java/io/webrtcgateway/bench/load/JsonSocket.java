package io.webrtcgateway.bench.load;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.time.Duration;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * One signaling WebSocket of a fake browser, JSON frames both ways. Frames are queued as they arrive; the
 * phone's (blocking) flow takes the one it waits for and drops what it does not care about.
 */
final class JsonSocket implements AutoCloseable {
    static final ObjectMapper JSON = new ObjectMapper();
    private final WebSocket ws;
    private final LinkedBlockingQueue<JsonNode> inbox = new LinkedBlockingQueue<>();
    private volatile boolean open = true;
    private volatile java.util.concurrent.ScheduledFuture<?> keepalive;

    JsonSocket(HttpClient http, String url, String subprotocol, Duration timeout) {
        WebSocket.Builder builder = http.newWebSocketBuilder().connectTimeout(timeout);
        if (subprotocol != null) {
            builder.subprotocols(subprotocol);
        }
        this.ws = builder.buildAsync(URI.create(url), new WebSocket.Listener() {
            private final StringBuilder text = new StringBuilder();

            @Override
            public CompletionStage<?> onText(WebSocket w, CharSequence data, boolean last) {
                text.append(data);
                if (last) {
                    try {
                        JsonNode n = JSON.readTree(text.toString());
                        // Answers to our own keepalives concern nobody.
                        if (!n.path("id").asText().startsWith(KEEPALIVE) && !n.path("transaction").asText().startsWith(KEEPALIVE)) {
                            inbox.add(n);
                        }
                    } catch (Exception e) {
                        inbox.add(JSON.createObjectNode().put("unparseable", text.toString()));
                    }
                    text.setLength(0);
                }
                w.request(1);
                return null;
            }

            @Override
            public CompletionStage<?> onClose(WebSocket w, int statusCode, String reason) {
                open = false;
                inbox.add(JSON.createObjectNode().put("closed", statusCode).put("reason", reason));
                return null;
            }

            @Override
            public void onError(WebSocket w, Throwable error) {
                open = false;
                inbox.add(JSON.createObjectNode().put("closed", -1).put("reason", String.valueOf(error)));
            }
        }).orTimeout(timeout.toMillis(), TimeUnit.MILLISECONDS).join();
    }

    /** Nothing matching came in time (as opposed to the socket closing). */
    static final class Timeout extends IllegalStateException {
        Timeout(String message) {
            super(message);
        }
    }

    static final String KEEPALIVE = "keepalive-";
    private static final java.util.concurrent.atomic.AtomicLong KEEPALIVES = new java.util.concurrent.atomic.AtomicLong();

    /**
     * Sends {@code message} (its id or transaction field set to a fresh "keepalive-n") every {@code period}
     * while open: both gateways end a session whose browser stays silent (ours after 60 s, docs/protocol.md).
     */
    void keepalive(java.util.concurrent.ScheduledExecutorService timer, Duration period, String idField,
            java.util.function.Supplier<ObjectNode> message) {
        long first = java.util.concurrent.ThreadLocalRandom.current().nextLong(period.toMillis());
        keepalive = timer.scheduleAtFixedRate(() -> {
            if (open) {
                try {
                    send(message.get().put(idField, KEEPALIVE + KEEPALIVES.incrementAndGet()));
                } catch (RuntimeException e) {
                    // closed meanwhile: the next await reports it
                }
            }
        }, first, period.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** {@code text} as a number, quotes around it ignored (a SIP display name may keep them); NaN if it is none. */
    static double number(String text) {
        try {
            return Double.parseDouble(text.replace("\"", "").trim());
        } catch (NumberFormatException e) {
            return Double.NaN;
        }
    }

    static ObjectNode object() {
        return JSON.createObjectNode();
    }

    /** java.net.http allows one outstanding send per socket. */
    synchronized void send(JsonNode message) {
        ws.sendText(message.toString(), true).join();
    }

    /** The first frame matching {@code what}, dropping the others; fails at the deadline or on close. */
    JsonNode await(Duration timeout, String description, Predicate<JsonNode> what) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            long left = deadline - System.nanoTime();
            JsonNode n = left > 0 ? inbox.poll(left, TimeUnit.NANOSECONDS) : null;
            if (n == null) {
                throw new Timeout("timed out after " + timeout.toMillis() + " ms waiting for " + description);
            }
            if (what.test(n)) {
                return n;
            }
            if (n.has("closed")) {
                throw new IllegalStateException("socket closed (" + n + ") waiting for " + description);
            }
        }
    }

    boolean isOpen() {
        return open;
    }

    @Override
    public void close() {
        java.util.concurrent.ScheduledFuture<?> k = keepalive;
        if (k != null) {
            k.cancel(false);
        }
        if (open) {
            open = false;
            ws.sendClose(WebSocket.NORMAL_CLOSURE, "").orTimeout(2, TimeUnit.SECONDS)
                    .exceptionally(e -> null).join();
        }
        ws.abort();
    }
}
