package io.webrtcgateway.admin;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Asks the other instances ({@code gateway.admin.peers}) on behalf of an operator: every request signed
 * with {@link ClusterSignature}, with a short connect and answer timeout ({@code gateway.admin.peer-timeout});
 * a peer that fails is reported, never fatal. Learns which instance id answers at which URL from their
 * {@code /admin/api/instance}, to forward requests about a call or session to the instance its id names.
 * Its small thread pool is shut down with the admin servlet.
 */
final class PeerClient implements AutoCloseable {
    /** A peer's answer (any status), or {@code error} when it could not be asked. */
    record Reply(String url, int status, byte[] body, String error) {
        boolean ok() {
            return error == null && status == 200;
        }
    }

    private final List<String> peers;
    private final ClusterSignature signature;
    private final String self;
    private final Duration timeout;
    private final ObjectMapper json;
    private final ExecutorService pool;
    private final HttpClient http;
    /** Instance id -> base URL, from the peers' own answers. */
    private final Map<String, String> urlById = new ConcurrentHashMap<>();

    PeerClient(List<String> peers, ClusterSignature signature, String self, Duration timeout, ObjectMapper json) {
        this.peers = List.copyOf(peers);
        this.signature = signature;
        this.self = self;
        this.timeout = timeout;
        this.json = json;
        AtomicInteger n = new AtomicInteger();
        this.pool = Executors.newFixedThreadPool(2, r -> {
            Thread t = new Thread(r, "gw-admin-peers-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        this.http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(timeout)
                .followRedirects(HttpClient.Redirect.NEVER).executor(pool).build();
    }

    List<String> peers() {
        return peers;
    }

    /** Sends one signed request; never completes exceptionally (a failure is a Reply with {@code error}). */
    CompletableFuture<Reply> send(String baseUrl, String method, String pathAndQuery, String user) {
        String encodedUser = URLEncoder.encode(user, StandardCharsets.UTF_8);
        ClusterSignature.Signed signed = signature.sign(method, pathAndQuery, self, encodedUser,
                System.currentTimeMillis() / 1000);
        HttpRequest request;
        try {
            request = HttpRequest.newBuilder(URI.create(baseUrl + pathAndQuery)).timeout(timeout)
                    .method(method, HttpRequest.BodyPublishers.noBody())
                    .header(ClusterSignature.PEER_HEADER, signed.peer())
                    .header(ClusterSignature.USER_HEADER, signed.user())
                    .header(ClusterSignature.TIME_HEADER, String.valueOf(signed.time()))
                    .header(ClusterSignature.NONCE_HEADER, signed.nonce())
                    .header(ClusterSignature.SIGNATURE_HEADER, signed.signature())
                    .header("Accept", "application/json")
                    .build();
        } catch (IllegalArgumentException e) {
            return CompletableFuture.completedFuture(new Reply(baseUrl, 0, null, "bad peer URL: " + e.getMessage()));
        }
        return http.sendAsync(request, HttpResponse.BodyHandlers.ofByteArray())
                .handle((response, error) -> {
                    if (error != null) {
                        Throwable cause = error.getCause() != null ? error.getCause() : error;
                        return new Reply(baseUrl, 0, null, describe(cause));
                    }
                    return new Reply(baseUrl, response.statusCode(), response.body(), null);
                });
    }

    private String describe(Throwable t) {
        if (t instanceof java.net.http.HttpTimeoutException) {
            return "no answer within " + timeout.toMillis() + " ms";
        }
        if (t instanceof java.net.ConnectException) {
            return "connection refused or unreachable";
        }
        return t instanceof IOException && t.getMessage() != null ? t.getMessage() : t.toString();
    }

    /** The same request to every peer, all at once; the replies in peer order. */
    List<Reply> sendToAll(String method, String pathAndQuery, String user) {
        List<CompletableFuture<Reply>> pending = new ArrayList<>();
        for (String peer : peers) {
            pending.add(send(peer, method, pathAndQuery, user));
        }
        List<Reply> replies = new ArrayList<>();
        for (CompletableFuture<Reply> f : pending) {
            replies.add(f.join());
        }
        return replies;
    }

    /** Parses a reply's JSON body, or null. */
    JsonNode body(Reply reply) {
        if (reply.body() == null) {
            return null;
        }
        try {
            return json.readTree(reply.body());
        } catch (IOException e) {
            return null;
        }
    }

    /** Remembers that instance {@code id} answers at {@code url}. */
    void learn(String id, String url) {
        if (id != null && !id.equals(self)) {
            urlById.put(id, url);
        }
    }

    /** The base URL of instance {@code id}: known, or learned by asking every peer who it is; else null. */
    String urlOf(String id, String user) {
        String url = urlById.get(id);
        if (url != null) {
            return url;
        }
        for (Reply r : sendToAll("GET", "/admin/api/instance", user)) {
            JsonNode body = r.ok() ? body(r) : null;
            if (body != null) {
                learn(body.path("instance").asText(null), r.url());
            }
        }
        return urlById.get(id);
    }

    @Override
    public void close() {
        pool.shutdownNow();
    }
}
