package io.webrtcgateway.edge.http;

import io.webrtcgateway.config.IpLiteral;
import io.webrtcgateway.config.Cidr;
import jakarta.servlet.http.HttpServletRequest;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Enumeration;
import java.util.List;
import java.util.Map;

/**
 * Who a request comes from. The TCP peer, unless that peer is one of {@code gateway.http.trusted-proxies}: then
 * {@code X-Forwarded-For} is walked from its right end (the entry the nearest proxy appended) past every
 * trusted proxy, and the first address that is not one is the client. A header from anyone else is ignored,
 * so a client cannot choose the address its limits and logs are kept under.
 */
public final class ClientAddress {
    private final List<Cidr> trustedProxies;

    public ClientAddress(List<Cidr> trustedProxies) {
        this.trustedProxies = List.copyOf(trustedProxies);
    }

    /** The client's IP address as text (no port). */
    public String of(HttpServletRequest req) {
        return resolve(req.getRemoteAddr(), forwardedFor(req));
    }

    /**
     * The client as a session records it for logs and the admin API: {@code ip:port} ({@code [v6]:port}) when
     * the client is the TCP peer, the bare {@code ip} when a trusted proxy named it (the port would be the
     * proxy's).
     */
    public String withPort(HttpServletRequest req) {
        return withPort(req.getRemoteAddr(), req.getRemotePort(), forwardedFor(req));
    }

    /** {@link #withPort(HttpServletRequest)} from the parts, for a WebSocket handshake. */
    public String withPort(String peer, int peerPort, String forwardedFor) {
        Client client = client(peer, forwardedFor);
        if (client.forwarded()) {
            return client.ip();
        }
        return (client.ip().contains(":") ? "[" + client.ip() + "]" : client.ip()) + ":" + peerPort;
    }

    /**
     * @param peer          the TCP peer's address literal ({@code [v6]} as Jetty writes it, or bare)
     * @param forwardedFor  the X-Forwarded-For header (comma-separated, possibly repeated joined by commas), or null
     */
    public String resolve(String peer, String forwardedFor) {
        return client(peer, forwardedFor).ip();
    }

    /** @param forwarded whether the address came from X-Forwarded-For rather than the TCP peer */
    private record Client(String ip, boolean forwarded) {}

    private Client client(String peer, String forwardedFor) {
        peer = unbracket(peer);
        InetAddress hop = literal(peer);
        if (hop == null || forwardedFor == null || forwardedFor.isBlank() || !Cidr.anyContains(trustedProxies, hop)) {
            return new Client(peer, false);
        }
        String[] entries = forwardedFor.split(",");
        Client client = new Client(peer, false);
        for (int i = entries.length - 1; i >= 0; i--) {
            String entry = strip(entries[i].trim());
            InetAddress a = literal(entry);
            if (a == null) {
                return client; // garbage from beyond the last trusted proxy: keep the last address we can vouch for
            }
            client = new Client(a.getHostAddress(), true);
            if (!Cidr.anyContains(trustedProxies, a)) {
                return client;
            }
        }
        return client;
    }

    /**
     * Every X-Forwarded-For line of the request joined by commas, as RFC 9110 §5.3 combines repeated
     * fields: HAProxy's {@code option forwardfor} adds its own line after one the client sent, and reading
     * only the first line would believe the client's.
     */
    static String forwardedFor(HttpServletRequest req) {
        Enumeration<String> lines = req.getHeaders("X-Forwarded-For");
        return lines == null || !lines.hasMoreElements() ? null : String.join(",", Collections.list(lines));
    }

    /** Joins the X-Forwarded-For lines of a header map (a WebSocket handshake's), names compared ignoring case. */
    public static String forwardedFor(Map<String, List<String>> headers) {
        List<String> lines = new ArrayList<>();
        headers.forEach((name, values) -> {
            if (name.equalsIgnoreCase("X-Forwarded-For")) {
                lines.addAll(values);
            }
        });
        return lines.isEmpty() ? null : String.join(",", lines);
    }

    public boolean trustsProxies() {
        return !trustedProxies.isEmpty();
    }

    /** "[::1]" -> "::1"; anything else unchanged. */
    private static String unbracket(String peer) {
        return peer != null && peer.startsWith("[") && peer.endsWith("]") ? peer.substring(1, peer.length() - 1) : peer;
    }

    /** "1.2.3.4:5678" -> "1.2.3.4", "[::1]:80" -> "::1"; anything else unchanged. */
    private static String strip(String entry) {
        if (entry.startsWith("[")) {
            int end = entry.indexOf(']');
            return end > 0 ? entry.substring(1, end) : entry;
        }
        int colon = entry.indexOf(':');
        if (colon > 0 && colon == entry.lastIndexOf(':')) {
            return entry.substring(0, colon);
        }
        return entry;
    }

    /** The address a literal names, or null; never a DNS lookup (X-Forwarded-For entries are the client's text). */
    static InetAddress literal(String text) {
        return IpLiteral.parse(text);
    }
}
