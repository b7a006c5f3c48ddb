package io.webrtcgateway.edge.http;

import io.webrtcgateway.config.Cidr;
import jakarta.servlet.http.HttpServletRequest;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.List;

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
        return resolve(req.getRemoteAddr(), req.getHeader("X-Forwarded-For"));
    }

    /**
     * @param peer          the TCP peer's address literal
     * @param forwardedFor  the X-Forwarded-For header (comma-separated, possibly repeated joined by commas), or null
     */
    public String resolve(String peer, String forwardedFor) {
        InetAddress hop = literal(peer);
        if (hop == null || forwardedFor == null || forwardedFor.isBlank() || !Cidr.anyContains(trustedProxies, hop)) {
            return peer;
        }
        String[] entries = forwardedFor.split(",");
        String client = peer;
        for (int i = entries.length - 1; i >= 0; i--) {
            String entry = strip(entries[i].trim());
            InetAddress a = literal(entry);
            if (a == null) {
                return client; // garbage from beyond the last trusted proxy: keep the last address we can vouch for
            }
            client = a.getHostAddress();
            if (!Cidr.anyContains(trustedProxies, a)) {
                return client;
            }
        }
        return client;
    }

    public boolean trustsProxies() {
        return !trustedProxies.isEmpty();
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

    /** The address a literal names, or null when it is not an IP literal (never a DNS lookup). */
    static InetAddress literal(String text) {
        if (text == null || text.isEmpty() || text.length() > 45 || !text.matches("[0-9A-Fa-f.:]+")
                || !(text.contains(".") || text.contains(":"))) {
            return null;
        }
        try {
            return InetAddress.getByName(text);
        } catch (UnknownHostException e) {
            return null;
        }
    }
}
