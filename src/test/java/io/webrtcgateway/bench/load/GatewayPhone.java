package io.webrtcgateway.bench.load;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.net.http.HttpClient;
import java.time.Duration;

/** Our WebSocket protocol v1 (docs/protocol.md): hello, register, call, hangup; incoming, answer. */
public final class GatewayPhone implements Phone {
    private final JsonSocket socket;
    private int ids;
    private String callId;

    private GatewayPhone(JsonSocket socket) {
        this.socket = socket;
    }

    public static Phone.Factory factory(HttpClient http, String wsUrl, String echoDn,
            java.util.concurrent.ScheduledExecutorService keepalives) {
        return new Phone.Factory() {
            @Override
            public Phone connect() throws Exception {
                GatewayPhone phone = new GatewayPhone(new JsonSocket(http, wsUrl, null, Duration.ofSeconds(10)));
                try {
                    phone.request("hello", Duration.ofSeconds(10), "version", 1);
                    phone.socket.keepalive(keepalives, Duration.ofSeconds(15), "id",
                            () -> JsonSocket.object().put("type", "ping"));
                } catch (Exception e) {
                    phone.close();
                    throw e;
                }
                return phone;
            }

            @Override
            public String echoTarget() {
                return echoDn;
            }

            @Override
            public String name() {
                return "gateway";
            }
        };
    }

    private JsonNode request(String type, Duration timeout, Object... fields) throws Exception {
        int id = ++ids;
        ObjectNode m = JsonSocket.object().put("type", type).put("id", id);
        for (int i = 0; i < fields.length; i += 2) {
            m.putPOJO((String) fields[i], fields[i + 1]);
        }
        socket.send(m);
        JsonNode answer = socket.await(timeout, type + " #" + id, n -> n.path("id").asInt(-1) == id
                && (n.path("type").asText().equals("result") || n.path("type").asText().equals("error")));
        if (!answer.path("type").asText().equals("result")) {
            throw new IllegalStateException(type + " refused: " + answer);
        }
        return answer;
    }

    @Override
    public void register(String user, Duration timeout) throws Exception {
        request("register", timeout, "dn", user);
    }

    @Override
    public String call(String target, String offer, Duration timeout) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        callId = request("call", timeout, "to", target, "sdp", offer).path("call").asText();
        String answer = null;
        while (true) {
            Duration left = Duration.ofNanos(Math.max(1, deadline - System.nanoTime()));
            JsonNode e = socket.await(left, "connected of " + callId, n -> n.path("type").asText().equals("event")
                    && callId.equals(n.path("call").asText()));
            switch (e.path("name").asText()) {
                case "early" -> answer = e.path("sdp").asText(null);
                case "connected" -> {
                    String sdp = e.path("sdp").asText(null);
                    return sdp != null ? sdp : answer;
                }
                case "ended" -> throw new IllegalStateException("call ended before connected: " + e);
                default -> { }
            }
        }
    }

    @Override
    public Incoming awaitIncoming(Duration timeout) throws Exception {
        JsonNode e;
        try {
            e = socket.await(timeout, "incoming", n -> n.path("type").asText().equals("event")
                    && n.path("name").asText().equals("incoming"));
        } catch (JsonSocket.Timeout none) {
            return null;
        }
        callId = e.path("call").asText();
        return new Incoming(e.path("sdp").asText(), JsonSocket.number(e.path("fromName").asText()));
    }

    @Override
    public void answer(String answer, Duration timeout) throws Exception {
        String id = callId;
        int requestId = ++ids;
        socket.send(JsonSocket.object().put("type", "answer").put("id", requestId).put("call", id).put("sdp", answer));
        // The result and the connected event may come in either order.
        boolean answered = false;
        boolean connected = false;
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!answered || !connected) {
            JsonNode n = socket.await(Duration.ofNanos(Math.max(1, deadline - System.nanoTime())), "answer of " + id,
                    m -> m.path("id").asInt(-1) == requestId || (m.path("type").asText().equals("event")
                            && id.equals(m.path("call").asText())));
            if (n.path("id").asInt(-1) == requestId) {
                if (!n.path("type").asText().equals("result")) {
                    throw new IllegalStateException("answer refused: " + n);
                }
                answered = true;
            } else if (n.path("name").asText().equals("connected")) {
                connected = true;
            } else if (n.path("name").asText().equals("ended")) {
                callId = null;
                throw new IllegalStateException("call ended before connected: " + n);
            }
        }
    }

    @Override
    public void awaitRemoteHangup(Duration timeout) throws Exception {
        String id = callId;
        if (id == null) {
            return;
        }
        socket.await(timeout, "ended of " + id, n -> "ended".equals(n.path("name").asText())
                && id.equals(n.path("call").asText()));
        callId = null;
    }

    @Override
    public String stats() throws Exception {
        String id = callId;
        return id == null ? null : request("stats", Duration.ofSeconds(10), "call", id).path("stats").toString();
    }

    @Override
    public void hangup(Duration timeout) throws Exception {
        String id = callId;
        if (id == null) {
            return;
        }
        callId = null;
        int requestId = ++ids;
        socket.send(JsonSocket.object().put("type", "hangup").put("id", requestId).put("call", id));
        // The result and the ended event may come in either order.
        boolean answered = false;
        boolean ended = false;
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!answered || !ended) {
            JsonNode n = socket.await(Duration.ofNanos(Math.max(1, deadline - System.nanoTime())), "hangup of " + id,
                    m -> m.path("id").asInt(-1) == requestId
                            || ("ended".equals(m.path("name").asText()) && id.equals(m.path("call").asText())));
            if (n.path("id").asInt(-1) == requestId) {
                if (!n.path("type").asText().equals("result")) {
                    throw new IllegalStateException("hangup refused: " + n);
                }
                answered = true;
            } else {
                ended = true;
            }
        }
    }

    /** {@code bye}: the gateway un-registers the DN, ends the session and closes the socket (docs/protocol.md). */
    @Override
    public void signOut(Duration timeout) throws Exception {
        try {
            request("bye", timeout);
        } finally {
            close();
        }
    }

    @Override
    public void close() {
        socket.close();
    }
}
