package io.webrtcgateway.edge.http;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Which {@code Host} headers the gateway answers: the defence against DNS rebinding. A page on an
 * attacker's domain whose DNS answer is then switched to the gateway's address is same-origin with the
 * gateway as far as the browser knows, so it may read every answer and open WebSockets; but its requests
 * still name the attacker's domain in {@code Host} (RFC 9110 §7.2), and that is what is refused here.
 *
 * <p>Always allowed: IP literals (IPv4, or IPv6 in brackets), whose origin no other site can borrow,
 * and {@code localhost}. Any other name must be one of {@code gateway.http.allowed-hosts}, where
 * {@code *.example.com} stands for every subdomain of example.com (not example.com itself). The port is
 * ignored, case too, and a trailing dot ({@code gw.example.com.}, the same DNS name written absolute). A
 * missing, empty or malformed Host is refused.
 */
public final class AllowedHosts {
    /** A dotted quad, each part 0-255 without leading zeros (RFC 3986 §3.2.2 IPv4address). */
    private static final Pattern IPV4 = Pattern.compile(
            "(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(\\.(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}");

    private static final Pattern NAME = Pattern.compile("[a-z0-9_-]+(\\.[a-z0-9_-]+)*");
    private static final Pattern PORT = Pattern.compile("[0-9]{0,5}");

    private final Set<String> names = new HashSet<>();
    /** ".example.com" for each "*.example.com". */
    private final List<String> suffixes = new ArrayList<>();

    /** @param configured gateway.http.allowed-hosts as ConfigLoader normalised it (lower case, no trailing dot) */
    public AllowedHosts(List<String> configured) {
        for (String name : configured) {
            if (name.startsWith("*.")) {
                suffixes.add(name.substring(1));
            } else {
                names.add(name);
            }
        }
    }

    /** Whether a request with this Host header value (null when absent) is served. */
    public boolean allows(String hostHeader) {
        Host host = parse(hostHeader);
        if (host == null) {
            return false;
        }
        if (host.literal() || host.name().equals("localhost") || names.contains(host.name())) {
            return true;
        }
        for (String suffix : suffixes) {
            if (host.name().endsWith(suffix) && host.name().length() > suffix.length()) {
                return true;
            }
        }
        return false;
    }

    /** A Host header's host: an IP literal, or a name in lower case without a trailing dot. */
    record Host(String name, boolean literal) {}

    /** The host of a Host header value ({@code uri-host [":" port]}, RFC 9110 §7.2), or null when malformed. */
    static Host parse(String header) {
        if (header == null) {
            return null;
        }
        String value = header.trim();
        String host;
        String port;
        if (value.startsWith("[")) {
            int end = value.indexOf(']');
            if (end < 0) {
                return null;
            }
            host = value.substring(1, end);
            String rest = value.substring(end + 1);
            if (!rest.isEmpty() && !rest.startsWith(":")) {
                return null;
            }
            port = rest.isEmpty() ? "" : rest.substring(1);
            // An IPv6 address (Java maps "::ffff:192.0.2.1" to an Inet4Address, so look for the colon).
            boolean v6 = host.contains(":") && ClientAddress.literal(host) != null;
            return v6 && PORT.matcher(port).matches() ? new Host(host, true) : null;
        }
        int colon = value.indexOf(':');
        host = colon < 0 ? value : value.substring(0, colon);
        port = colon < 0 ? "" : value.substring(colon + 1);
        if (!PORT.matcher(port).matches()) {
            return null; // also a second colon: an IPv6 literal must be in brackets
        }
        if (IPV4.matcher(host).matches()) {
            return new Host(host, true);
        }
        host = host.toLowerCase(Locale.ROOT);
        if (host.endsWith(".")) {
            host = host.substring(0, host.length() - 1);
        }
        return NAME.matcher(host).matches() ? new Host(host, false) : null;
    }
}
