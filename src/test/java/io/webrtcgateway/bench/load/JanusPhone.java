package io.webrtcgateway.bench.load;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.net.http.HttpClient;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The Janus JSON API over its WebSocket transport (subprotocol {@code janus-protocol}) and the SIP plugin's
 * requests: create a session, attach {@code janus.plugin.sip}, {@code register}, {@code call} (jsep offer,
 * no trickle), {@code hangup}; for calls to the phone the {@code incomingcall} event (jsep offer) and
 * {@code accept} (jsep answer). One WebSocket per fake browser, as browsers do.
 */
public final class JanusPhone implements Phone {
    private static final AtomicLong TRANSACTIONS = new AtomicLong();
    private final JsonSocket socket;
    private final String registrar;
    private long session;
    private long handle;
    private boolean inCall;

    private JanusPhone(JsonSocket socket, String registrar) {
        this.socket = socket;
        this.registrar = registrar;
    }

    /** @param registrar host:port of the SIP registrar (SIPp) */
    public static Phone.Factory factory(HttpClient http, String wsUrl, String registrar, String echoUri,
            java.util.concurrent.ScheduledExecutorService keepalives) {
        return new Phone.Factory() {
            @Override
            public Phone connect() throws Exception {
                JanusPhone phone = new JanusPhone(new JsonSocket(http, wsUrl, "janus-protocol", Duration.ofSeconds(10)),
                        registrar);
                try {
                    phone.session = phone.janus(JsonSocket.object().put("janus", "create")).path("data").path("id").asLong();
                    phone.handle = phone.janus(JsonSocket.object().put("janus", "attach").put("session_id", phone.session)
                            .put("plugin", "janus.plugin.sip")).path("data").path("id").asLong();
                    long session = phone.session;
                    // session_timeout is 0 in our config; sent anyway, as janus.js does (every 25 s)
                    phone.socket.keepalive(keepalives, Duration.ofSeconds(25), "transaction",
                            () -> JsonSocket.object().put("janus", "keepalive").put("session_id", session));
                } catch (Exception e) {
                    phone.close();
                    throw e;
                }
                return phone;
            }

            @Override
            public String echoTarget() {
                return echoUri;
            }

            @Override
            public String name() {
                return "janus";
            }
        };
    }

    /** A core request answered synchronously with success or error. */
    private JsonNode janus(ObjectNode request) throws Exception {
        String tx = "t" + TRANSACTIONS.incrementAndGet();
        request.put("transaction", tx);
        socket.send(request);
        JsonNode answer = socket.await(Duration.ofSeconds(10), request.path("janus").asText(),
                n -> tx.equals(n.path("transaction").asText()));
        if (!answer.path("janus").asText().equals("success")) {
            throw new IllegalStateException("janus " + request.path("janus").asText() + " failed: " + answer);
        }
        return answer;
    }

    /** A SIP plugin request; its outcome comes as events, awaited by the caller. */
    private void message(ObjectNode body, ObjectNode jsep) {
        ObjectNode m = JsonSocket.object().put("janus", "message").put("session_id", session).put("handle_id", handle)
                .put("transaction", "t" + TRANSACTIONS.incrementAndGet());
        m.set("body", body);
        if (jsep != null) {
            m.set("jsep", jsep);
        }
        socket.send(m);
    }

    /** The next SIP plugin event (result.event or an error), skipping acks and core events. */
    private JsonNode pluginEvent(Duration timeout, String waitingFor) throws InterruptedException {
        return socket.await(timeout, waitingFor, n -> n.path("janus").asText().equals("event")
                && n.path("plugindata").path("plugin").asText().equals("janus.plugin.sip"));
    }

    private static String eventName(JsonNode event) {
        JsonNode data = event.path("plugindata").path("data");
        if (data.has("error_code")) {
            throw new IllegalStateException("SIP plugin error: " + data);
        }
        return data.path("result").path("event").asText();
    }

    @Override
    public void register(String user, Duration timeout) throws Exception {
        String host = registrar.substring(0, registrar.lastIndexOf(':'));
        message(JsonSocket.object().put("request", "register").put("username", "sip:" + user + "@" + host)
                .put("secret", "unused").put("proxy", "sip:" + registrar), null);
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            JsonNode e = pluginEvent(Duration.ofNanos(Math.max(1, deadline - System.nanoTime())), "registered");
            String name = eventName(e);
            if (name.equals("registered")) {
                return;
            }
            if (name.equals("registration_failed")) {
                throw new IllegalStateException("registration failed: " + e);
            }
        }
    }

    @Override
    public String call(String target, String offer, Duration timeout) throws Exception {
        ObjectNode jsep = JsonSocket.object().put("type", "offer").put("sdp", offer).put("trickle", false);
        message(JsonSocket.object().put("request", "call").put("uri", target), jsep);
        inCall = true;
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            JsonNode e = pluginEvent(Duration.ofNanos(Math.max(1, deadline - System.nanoTime())), "accepted");
            String name = eventName(e);
            if (name.equals("accepted")) {
                return e.path("jsep").path("sdp").asText();
            }
            if (name.equals("hangup")) {
                inCall = false;
                throw new IllegalStateException("call ended before accepted: " + e);
            }
        }
    }

    @Override
    public Incoming awaitIncoming(Duration timeout) throws Exception {
        JsonNode e;
        try {
            e = socket.await(timeout, "incomingcall", n -> n.path("janus").asText().equals("event")
                    && n.path("plugindata").path("data").path("result").path("event").asText().equals("incomingcall"));
        } catch (JsonSocket.Timeout none) {
            return null;
        }
        inCall = true;
        return new Incoming(e.path("jsep").path("sdp").asText(),
                JsonSocket.number(e.path("plugindata").path("data").path("result").path("displayname").asText()));
    }

    @Override
    public void answer(String answer, Duration timeout) throws Exception {
        message(JsonSocket.object().put("request", "accept"),
                JsonSocket.object().put("type", "answer").put("sdp", answer).put("trickle", false));
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            JsonNode e = pluginEvent(Duration.ofNanos(Math.max(1, deadline - System.nanoTime())), "accepting");
            String name = eventName(e);
            // "accepting" follows the 200 OK the plugin sent while handling the request
            if (name.equals("accepting") || name.equals("accepted")) {
                return;
            }
            if (name.equals("hangup")) {
                inCall = false;
                throw new IllegalStateException("call ended before accepted: " + e);
            }
        }
    }

    @Override
    public void awaitRemoteHangup(Duration timeout) throws Exception {
        if (inCall) {
            inCall = false;
            awaitHangup(timeout);
        }
    }

    @Override
    public void hangup(Duration timeout) throws Exception {
        if (!inCall) {
            return;
        }
        inCall = false;
        message(JsonSocket.object().put("request", "hangup"), null);
        awaitHangup(timeout);
    }

    /**
     * Two things must happen before this handle takes the next call: the SIP plugin's "hangup" (BYE answered)
     * and the core's "hangup" (PeerConnection torn down; until then the plugin is "closing" and refuses a call
     * with 447, and a new offer gets an answer with "a=ice-ufrag:(null)"). Either may come first.
     */
    private void awaitHangup(Duration timeout) throws InterruptedException {
        boolean sipDone = false;
        boolean webrtcDone = false;
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!sipDone || !webrtcDone) {
            JsonNode n;
            try {
                n = socket.await(Duration.ofNanos(Math.max(1, deadline - System.nanoTime())), "hangup",
                        m -> m.path("janus").asText().equals("hangup") || (m.path("janus").asText().equals("event")
                                && m.path("plugindata").path("data").path("result").path("event").asText().equals("hangup")));
            } catch (IllegalStateException timedOut) {
                if (sipDone) {
                    return; // no PeerConnection was ever set up (the call failed before ICE)
                }
                throw timedOut;
            }
            if (n.path("janus").asText().equals("hangup")) {
                webrtcDone = true;
            } else {
                sipDone = true;
                deadline = Math.min(deadline, System.nanoTime() + Duration.ofSeconds(3).toNanos());
            }
        }
    }

    @Override
    public void close() {
        if (session != 0 && socket.isOpen()) {
            try {
                socket.send(JsonSocket.object().put("janus", "destroy").put("session_id", session)
                        .put("transaction", "t" + TRANSACTIONS.incrementAndGet()));
            } catch (RuntimeException ignored) {
                // the socket is going away anyway
            }
        }
        socket.close();
    }
}
