package io.webrtcgateway.edge.legacy;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.webrtcgateway.error.ErrorCode;
import io.webrtcgateway.error.GatewayException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One browser -> gateway message of the legacy protocol (docs/legacy-protocol.md), parsed and validated:
 * {@code RSMP {json}}, {@code BYE}, {@code INFO-MAP <urlencoded>}, {@code INFO-PEER <urlencoded>},
 * {@code GET-STATS}.
 */
public sealed interface LegacyMessage {

    /** An RSMP envelope: messageType OFFER, ANSWER or OK, with its JSON. */
    record Rsmp(String messageType, JsonNode json) implements LegacyMessage {}

    record Bye() implements LegacyMessage {}

    record InfoMap(Map<String, String> values) implements LegacyMessage {}

    /** INFO-PEER body passed through to SIP as is (still URL-encoded form text). */
    record InfoPeer(String body) implements LegacyMessage {}

    record GetStats() implements LegacyMessage {}

    static LegacyMessage parse(String body, ObjectMapper json) {
        String text = body == null ? "" : body.strip();
        if (text.isEmpty()) {
            throw bad("empty message body");
        }
        if (text.startsWith("RSMP")) {
            String rest = text.substring(4).strip();
            JsonNode node;
            try {
                node = json.readTree(rest);
            } catch (JsonProcessingException e) {
                throw bad("RSMP body is not JSON: " + e.getOriginalMessage());
            }
            if (node == null || !node.isObject()) {
                throw bad("RSMP body must be a JSON object");
            }
            JsonNode type = node.get("messageType");
            if (type == null || !type.isTextual()) {
                throw bad("RSMP body needs a string 'messageType'");
            }
            String t = type.asText();
            if (!t.equals("OFFER") && !t.equals("ANSWER") && !t.equals("OK")) {
                throw bad("unknown RSMP messageType '" + t + "' (expected OFFER, ANSWER or OK)");
            }
            if ((t.equals("OFFER") || t.equals("ANSWER")) && !node.path("sdp").isTextual()) {
                throw bad("RSMP " + t + " needs a string 'sdp'");
            }
            JsonNode candidates = node.get("Candidates");
            if (candidates != null && !candidates.isNull() && !candidates.isArray()) {
                throw bad("'Candidates' must be an array");
            }
            return new Rsmp(t, node);
        }
        if (text.equals("BYE")) {
            return new Bye();
        }
        if (text.equals("GET-STATS")) {
            return new GetStats();
        }
        if (text.startsWith("INFO-MAP")) {
            return new InfoMap(decodeForm(text.substring("INFO-MAP".length()).strip()));
        }
        if (text.startsWith("INFO-PEER")) {
            String rest = text.substring("INFO-PEER".length()).strip();
            decodeForm(rest); // validates the encoding
            return new InfoPeer(rest);
        }
        String head = text.length() > 20 ? text.substring(0, 20) + "..." : text;
        throw bad("unknown message \"" + head.replaceAll("[^\\x20-\\x7e]", "?") + "\"");
    }

    private static Map<String, String> decodeForm(String form) {
        Map<String, String> out = new LinkedHashMap<>();
        if (form.isEmpty()) {
            return out;
        }
        try {
            for (String pair : form.split("&")) {
                if (pair.isEmpty()) {
                    continue;
                }
                int eq = pair.indexOf('=');
                String k = URLDecoder.decode(eq < 0 ? pair : pair.substring(0, eq), StandardCharsets.UTF_8);
                String v = eq < 0 ? "" : URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8);
                out.put(k, v);
            }
        } catch (IllegalArgumentException e) {
            throw bad("malformed URL-encoded data: " + e.getMessage());
        }
        return out;
    }

    private static GatewayException bad(String message) {
        return new GatewayException(ErrorCode.BAD_REQUEST, message);
    }
}
