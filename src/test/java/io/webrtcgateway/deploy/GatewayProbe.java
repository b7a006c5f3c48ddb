package io.webrtcgateway.deploy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/** Talks to a running gateway the way a client would: plain HTTP and the WebSocket API at /ws. */
public final class GatewayProbe {

    /** What to do between two polls: pace the loop and fail early if the server died. */
    @FunctionalInterface
    public interface Pause {
        void between() throws InterruptedException;
    }

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(5);

    private final URI base;
    private final HttpClient http = HttpClient.newBuilder()
            .connectTimeout(Duration.ofSeconds(2))
            .version(HttpClient.Version.HTTP_1_1)
            .build();

    /** {@code base} is the application's root, e.g. {@code http://127.0.0.1:8086/}. */
    public GatewayProbe(URI base) {
        this.base = base.toString().endsWith("/") ? base : URI.create(base + "/");
    }

    public HttpResponse<String> get(String path) throws IOException, InterruptedException {
        HttpRequest request = HttpRequest.newBuilder(base.resolve(relative(path)))
                .timeout(REQUEST_TIMEOUT)
                .GET()
                .build();
        return http.send(request, HttpResponse.BodyHandlers.ofString());
    }

    /**
     * GETs {@code path} until it answers {@code status} or {@code timeout} runs out; returns the matching
     * response. Connection failures count as "not yet": the server may still be opening its port.
     */
    public HttpResponse<String> awaitStatus(String path, int status, Duration timeout, Pause pause)
            throws InterruptedException {
        Instant deadline = Instant.now().plus(timeout);
        String last = "no attempt";
        while (true) {
            try {
                HttpResponse<String> response = get(path);
                if (response.statusCode() == status) {
                    return response;
                }
                last = "HTTP " + response.statusCode() + " " + response.body();
            } catch (IOException e) {
                last = e.toString();
            }
            if (Instant.now().isAfter(deadline)) {
                throw new AssertionError("GET " + path + " did not answer " + status + " within " + timeout
                        + "; last: " + last);
            }
            pause.between();
        }
    }

    /**
     * Opens a WebSocket on {@code path}, sends {@code request} (which must carry an "id") and returns the
     * first message that carries the same "id"; events in between are skipped.
     */
    public JsonNode exchange(String path, String request, Duration timeout) throws Exception {
        int id = JSON.readTree(request).path("id").asInt();
        CompletableFuture<JsonNode> reply = new CompletableFuture<>();
        WebSocket.Listener listener = new WebSocket.Listener() {
            private final StringBuilder partial = new StringBuilder();

            @Override
            public CompletionStage<?> onText(WebSocket ws, CharSequence data, boolean last) {
                partial.append(data);
                if (last) {
                    String text = partial.toString();
                    partial.setLength(0);
                    try {
                        JsonNode message = JSON.readTree(text);
                        if (message.path("id").asInt(-1) == id) {
                            reply.complete(message);
                        }
                    } catch (IOException e) {
                        reply.completeExceptionally(new AssertionError("not JSON: " + text, e));
                    }
                }
                ws.request(1);
                return null;
            }

            @Override
            public CompletionStage<?> onClose(WebSocket ws, int statusCode, String reason) {
                reply.completeExceptionally(new AssertionError("closed by server: " + statusCode + " " + reason));
                return null;
            }

            @Override
            public void onError(WebSocket ws, Throwable error) {
                reply.completeExceptionally(error);
            }
        };
        URI ws = URI.create(base.resolve(relative(path)).toString().replaceFirst("^http", "ws"));
        WebSocket socket = http.newWebSocketBuilder()
                .connectTimeout(timeout)
                .buildAsync(ws, listener)
                .get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        try {
            socket.sendText(request, true).get(timeout.toMillis(), TimeUnit.MILLISECONDS);
            return reply.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            throw new AssertionError("no reply with id " + id + " on " + ws + " within " + timeout, e);
        } catch (ExecutionException e) {
            throw new AssertionError("WebSocket " + ws + " failed: " + e.getCause(), e.getCause());
        } finally {
            // Don't wait for the server's close frame: the probe is done either way.
            socket.sendClose(WebSocket.NORMAL_CLOSURE, "probe done").whenComplete((w, e) -> socket.abort());
        }
    }

    private static String relative(String path) {
        return path.startsWith("/") ? path.substring(1) : path;
    }
}
