package io.webrtcgateway.edge.legacy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.webrtcgateway.call.CallService;
import io.webrtcgateway.error.ErrorCode;
import io.webrtcgateway.error.GatewayException;
import io.webrtcgateway.sdp.Direction;
import io.webrtcgateway.sdp.SdpException;
import io.webrtcgateway.sdp.SdpParser;
import io.webrtcgateway.session.Session;
import io.webrtcgateway.session.SessionEvent;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The call half of the legacy protocol for one session (SPEC §4, docs/legacy-protocol.md): turns grtc.js
 * messages into call commands and call events into grtc.js messages. Calls are known by peer (the DN in
 * {@code to=} / {@code Pragma}), as grtc.js knows them.
 */
final class LegacyCallBridge {
    private static final Logger LOG = LoggerFactory.getLogger(LegacyCallBridge.class);

    private final Session session;
    private final CallService calls;
    private final LegacyMailbox mailbox;
    private final ObjectMapper json;
    /** peer -> call id. */
    private final Map<String, String> byPeer = new ConcurrentHashMap<>();
    /** call id -> peer. */
    private final Map<String, String> peerOf = new ConcurrentHashMap<>();
    /** call id -> the browser's own session id from its OFFER (echoed as offererSessionId). */
    private final Map<String, String> browserSessionIds = new ConcurrentHashMap<>();

    LegacyCallBridge(Session session, CallService calls, LegacyMailbox mailbox, ObjectMapper json) {
        this.session = session;
        this.calls = calls;
        this.mailbox = mailbox;
        this.json = json;
    }

    /**
     * A message the browser posted to {@code peer}. A refusal (no call with that peer, wrong state, bad SDP)
     * is thrown for the POST's answer and also posted to the long poll: grtc.js never reads what a POST
     * answers, so the app hears of it only there (its onGatewayError).
     */
    void onMessage(String peer, LegacyMessage message) {
        try {
            dispatch(peer, message);
        } catch (GatewayException e) {
            mailbox.post(peer, LegacyServlet.errorBody(e));
            throw e;
        }
    }

    private void dispatch(String peer, LegacyMessage message) {
        String callId = byPeer.get(peer);
        if (message instanceof LegacyMessage.Rsmp rsmp) {
            onRsmp(peer, callId, rsmp);
        } else if (message instanceof LegacyMessage.Bye) {
            if (callId != null) {
                calls.hangup(session, callId);
            }
        } else if (message instanceof LegacyMessage.InfoMap map) {
            requireCall(peer, callId);
            String body = map.values().entrySet().stream()
                    .map(e -> enc(e.getKey()) + "=" + enc(e.getValue())).collect(Collectors.joining("&"));
            report(peer, calls.info(session, callId, "application/x-www-form-urlencoded", body));
        } else if (message instanceof LegacyMessage.InfoPeer p) {
            requireCall(peer, callId);
            report(peer, calls.info(session, callId, "application/x-www-form-urlencoded", p.body()));
        } else if (message instanceof LegacyMessage.GetStats) {
            requireCall(peer, callId);
            calls.stats(session, callId).whenComplete((stats, err) -> {
                if (err != null) {
                    mailbox.post(peer, LegacyServlet.errorBody(GatewayException.from(err)));
                } else {
                    mailbox.post(peer, "PUT-STATS " + json.valueToTree(stats));
                }
            });
        }
    }

    private void onRsmp(String peer, String callId, LegacyMessage.Rsmp rsmp) {
        JsonNode m = rsmp.json();
        switch (rsmp.messageType()) {
            case "OFFER" -> {
                String sdp = withCandidates(m.get("sdp").asText(), m.get("Candidates"));
                if (callId == null) {
                    String browserSid = m.path("offererSessionId").asText("");
                    calls.place(session, peer, sdp, attachedData(m)).whenComplete((call, err) -> {
                        if (err != null) {
                            mailbox.post(peer, LegacyServlet.errorBody(GatewayException.from(err)));
                        } else {
                            byPeer.put(peer, call.id());
                            peerOf.put(call.id(), peer);
                            browserSessionIds.put(call.id(), browserSid);
                        }
                    });
                } else {
                    // A re-offer within the call: hold (sendonly/inactive) or resume (sendrecv).
                    Boolean hold = holdIntent(sdp);
                    calls.browserReoffer(session, callId, sdp, hold).whenComplete((answer, err) -> {
                        if (err != null) {
                            mailbox.post(peer, LegacyServlet.errorBody(GatewayException.from(err)));
                        } else {
                            mailbox.post(peer, answerBody(callId, answer));
                        }
                    });
                }
            }
            case "ANSWER" -> {
                requireCall(peer, callId);
                String sdp = withCandidates(m.get("sdp").asText(), m.get("Candidates"));
                report(peer, calls.answer(session, callId, sdp));
            }
            default -> {
                // OK: grtc.js acknowledges our ANSWER; nothing to do.
            }
        }
    }

    private static Boolean holdIntent(String sdp) {
        try {
            return Direction.isHold(SdpParser.parse(sdp));
        } catch (SdpException e) {
            return null; // the call rejects the SDP itself, with its own message
        }
    }

    private Map<String, String> attachedData(JsonNode m) {
        Map<String, String> data = new java.util.LinkedHashMap<>();
        JsonNode list = m.get("attacheddata");
        if (list != null && list.isArray()) {
            for (JsonNode kv : list) {
                if (kv.path("key").isTextual()) {
                    data.put(kv.get("key").asText(), kv.path("value").asText(""));
                }
            }
        }
        return data;
    }

    private void requireCall(String peer, String callId) {
        if (callId == null) {
            throw new GatewayException(ErrorCode.CALL_UNKNOWN, "no call with " + peer);
        }
    }

    private void report(String peer, java.util.concurrent.CompletableFuture<?> f) {
        f.whenComplete((v, err) -> {
            if (err != null) {
                mailbox.post(peer, LegacyServlet.errorBody(GatewayException.from(err)));
            }
        });
    }

    /** A call event for this session, as grtc.js messages. */
    void onEvent(SessionEvent.CallEvent e) {
        Map<String, Object> f = e.fields();
        switch (e.name()) {
            case "incoming" -> {
                String peer = String.valueOf(f.get("from"));
                byPeer.put(peer, e.call());
                peerOf.put(e.call(), peer);
                ObjectNode offer = json.createObjectNode();
                offer.put("messageType", "OFFER");
                offer.put("offererSessionId", e.call());
                offer.put("seq", 1);
                offer.put("tiebreaker", (long) (Math.random() * 4294967295L));
                offer.put("sdp", String.valueOf(f.get("sdp")));
                offer.putArray("Candidates");
                // the INVITE's attached data, in the form grtc.js sends it with its own offers
                if (f.get("data") instanceof Map<?, ?> data && !data.isEmpty()) {
                    var list = offer.putArray("attacheddata");
                    data.forEach((k, v) -> list.addObject().put("key", String.valueOf(k)).put("value", String.valueOf(v)));
                }
                // grtc.js recognises an incoming call by a body that starts with "SDP".
                mailbox.post(peer, "SDP " + offer);
            }
            case "early", "connected" -> {
                Object sdp = f.get("sdp");
                String peer = peerOf.get(e.call());
                if (sdp != null && peer != null) {
                    mailbox.post(peer, answerBody(e.call(), String.valueOf(sdp)));
                }
            }
            case "remote-control" -> {
                String peer = peerOf.get(e.call());
                if (peer != null) {
                    mailbox.post(peer, "talk".equals(f.get("action")) ? "EVENT-TALK" : "EVENT-HOLD");
                }
            }
            case "info" -> {
                String peer = peerOf.get(e.call());
                if (peer != null) {
                    mailbox.post(peer, "INFO-PEER " + f.getOrDefault("body", ""));
                }
            }
            case "ended" -> {
                String peer = peerOf.remove(e.call());
                browserSessionIds.remove(e.call());
                if (peer != null) {
                    byPeer.remove(peer, e.call());
                    if (!"local-hangup".equals(f.get("reason"))) {
                        mailbox.post(peer, "BYE");
                    }
                }
            }
            default -> LOG.debug("legacy session {}: call event {} has no legacy message", session.logId(), e.name());
        }
    }

    private String answerBody(String callId, String sdp) {
        ObjectNode answer = json.createObjectNode();
        answer.put("messageType", "ANSWER");
        answer.put("offererSessionId", browserSessionIds.getOrDefault(callId, ""));
        answer.put("answererSessionId", callId);
        answer.put("seq", 1);
        answer.put("sdp", sdp);
        answer.putArray("Candidates");
        return "RSMP " + answer;
    }

    /**
     * grtc.js sends its candidates beside the SDP (non-trickle), sometimes with an "a=" prefix and
     * sdpMid "audio": add them to the m-section named by sdpMLineIndex (SPEC §4). An index that names no
     * m-line of this SDP is BAD_REQUEST: the index is the client's number, and nothing is allocated by it.
     */
    static String withCandidates(String sdp, JsonNode candidates) {
        if (candidates == null || !candidates.isArray() || candidates.isEmpty()) {
            return sdp;
        }
        String nl = sdp.contains("\r\n") ? "\r\n" : "\n";
        String[] lines = sdp.split("\r?\n");
        int sections = 0;
        for (String line : lines) {
            if (line.startsWith("m=")) {
                sections++;
            }
        }
        java.util.List<java.util.List<String>> extra = new java.util.ArrayList<>(sections);
        for (int i = 0; i < sections; i++) {
            extra.add(new java.util.ArrayList<>());
        }
        for (JsonNode c : candidates) {
            String line = c.path("candidate").asText("").trim();
            if (line.isEmpty()) {
                continue;
            }
            if (line.startsWith("a=")) {
                line = line.substring(2);
            }
            if (!line.startsWith("candidate:") || line.matches("(?s).*[\\r\\n].*")) {
                throw new GatewayException(ErrorCode.BAD_REQUEST, "not an ICE candidate: " + abbreviate(line));
            }
            int index = mLineIndex(c.get("sdpMLineIndex"));
            if (index < 0 || index >= sections) {
                throw new GatewayException(ErrorCode.BAD_REQUEST, "sdpMLineIndex " + abbreviate(String.valueOf(
                        c.get("sdpMLineIndex"))) + " names no m-line of the SDP (it has " + sections + ")");
            }
            extra.get(index).add("a=" + line);
        }
        StringBuilder out = new StringBuilder();
        int section = -1;
        for (String line : lines) {
            if (line.startsWith("m=")) {
                if (section >= 0) {
                    extra.get(section).forEach(l -> out.append(l).append(nl));
                }
                section++;
            }
            out.append(line).append(nl);
        }
        if (section >= 0) {
            extra.get(section).forEach(l -> out.append(l).append(nl));
        }
        return out.toString();
    }

    /** An sdpMLineIndex as grtc.js writes it (a number; absent means the first m-line), or -1 if it is none. */
    private static int mLineIndex(JsonNode n) {
        if (n == null || n.isNull()) {
            return 0;
        }
        if (n.isIntegralNumber()) {
            return n.canConvertToInt() ? n.intValue() : -1;
        }
        if (n.isTextual() && n.asText().matches("[0-9]{1,9}")) {
            return Integer.parseInt(n.asText());
        }
        return -1;
    }

    /** The session ends: its calls end with it (the call core hangs them up). */
    void clear() {
        byPeer.clear();
        peerOf.clear();
    }

    private static String enc(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }

    private static String abbreviate(String s) {
        return s.length() > 40 ? s.substring(0, 40) + "..." : s;
    }
}
