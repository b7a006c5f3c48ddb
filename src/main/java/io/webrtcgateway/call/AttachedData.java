package io.webrtcgateway.call;

import io.webrtcgateway.config.GatewayConfig;
import io.webrtcgateway.error.ErrorCode;
import io.webrtcgateway.error.GatewayException;
import io.webrtcgateway.sip.SipLeg;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.UnaryOperator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Attached data of a call (the JS library's {@code data}, grtc.js {@code attacheddata}): key/value pairs that
 * travel as SIP headers of the INVITE (docs/sip.md, "Calls"), both ways. A key listed in
 * gateway.calls.attached-data.headers uses that header; any other becomes {@code <header-prefix><key>}.
 * Bounded both ways by gateway.limits.max-attached-data-keys and max-attached-data-bytes (keys and values,
 * UTF-8): from the browser more is BAD_REQUEST; from SIP Server the entries past either bound are left out,
 * with a warning, and the call goes on.
 */
final class AttachedData {
    private static final Logger LOG = LoggerFactory.getLogger(AttachedData.class);

    private AttachedData() {}

    /** The browser's data as SIP headers (header name -> value), or BAD_REQUEST. */
    static Map<String, String> toHeaders(Map<String, String> data, GatewayConfig.Calls calls,
                                         GatewayConfig.Inputs inputs) {
        Map<String, String> headers = new LinkedHashMap<>();
        if (data == null) {
            return headers;
        }
        long bytes = bytes(data);
        if (data.size() > inputs.maxAttachedDataKeys() || bytes > inputs.maxAttachedDataBytes()) {
            throw new GatewayException(ErrorCode.BAD_REQUEST, "attached data of " + data.size() + " entries, "
                    + bytes + " bytes: at most " + inputs.maxAttachedDataKeys() + " entries and "
                    + inputs.maxAttachedDataBytes() + " bytes of keys and values (gateway.limits.max-attached-data-keys,"
                    + " max-attached-data-bytes)");
        }
        for (Map.Entry<String, String> e : data.entrySet()) {
            String name = calls.attachedDataHeaders().getOrDefault(e.getKey(), calls.attachedDataPrefix() + e.getKey());
            headers.put(name, e.getValue());
        }
        List<String> bad = SipLeg.invalidHeaders(headers);
        if (!bad.isEmpty()) {
            throw new GatewayException(ErrorCode.BAD_REQUEST, "attached data cannot be sent as SIP headers: " + bad
                    + " (keys must be tokens, values at most 1024 characters without line breaks)");
        }
        return headers;
    }

    /**
     * The attached data of an incoming INVITE, the reverse of {@link #toHeaders}: a header named in the mapping
     * gives its key; any other header starting with the prefix (case-insensitive, RFC 3261 §7.3.1) gives the rest
     * of its name as the key (X-Genesys-case: 42 -> case = 42). Collecting stops at the first entry that would
     * pass a bound.
     *
     * @param headerNames the INVITE's header names as sent
     * @param header      a header's value by name, or null
     */
    static Map<String, String> fromHeaders(List<String> headerNames, UnaryOperator<String> header,
                                           GatewayConfig.Calls calls, GatewayConfig.Inputs inputs) {
        Bounded data = new Bounded(inputs);
        Set<String> mapped = new TreeSet<>(String.CASE_INSENSITIVE_ORDER);
        for (Map.Entry<String, String> e : calls.attachedDataHeaders().entrySet()) {
            mapped.add(e.getValue());
            String v = header.apply(e.getValue());
            if (v != null && !data.put(e.getKey(), v)) {
                return data.map;
            }
        }
        String prefix = calls.attachedDataPrefix();
        if (!prefix.isEmpty()) {
            for (String name : headerNames) {
                if (name.length() > prefix.length() && name.regionMatches(true, 0, prefix, 0, prefix.length())
                        && !mapped.contains(name) && !data.map.containsKey(name.substring(prefix.length()))) {
                    String v = header.apply(name);
                    if (v != null && !data.put(name.substring(prefix.length()), v)) {
                        return data.map;
                    }
                }
            }
        }
        return data.map;
    }

    /** Keys and values, UTF-8. */
    static long bytes(Map<String, String> data) {
        long n = 0;
        for (Map.Entry<String, String> e : data.entrySet()) {
            n += utf8(e.getKey()) + utf8(e.getValue());
        }
        return n;
    }

    private static long utf8(String s) {
        return s == null ? 0 : s.getBytes(StandardCharsets.UTF_8).length;
    }

    /** Entries up to the bounds; the first that does not fit ends the collection, with a warning. */
    private static final class Bounded {
        final Map<String, String> map = new LinkedHashMap<>();
        private final GatewayConfig.Inputs inputs;
        private long bytes;

        Bounded(GatewayConfig.Inputs inputs) {
            this.inputs = inputs;
        }

        boolean put(String key, String value) {
            long size = utf8(key) + utf8(value);
            if (map.size() >= inputs.maxAttachedDataKeys() || bytes + size > inputs.maxAttachedDataBytes()) {
                LOG.warn("incoming call: attached data from entry {} on left out: {} entries and {} bytes kept, the"
                        + " most gateway.limits.max-attached-data-keys ({}) and max-attached-data-bytes ({}) allow",
                        map.size() + 1, map.size(), bytes, inputs.maxAttachedDataKeys(), inputs.maxAttachedDataBytes());
                return false;
            }
            map.put(key, value);
            bytes += size;
            return true;
        }
    }
}
