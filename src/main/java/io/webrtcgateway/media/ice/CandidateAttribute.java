package io.webrtcgateway.media.ice;

import io.webrtcgateway.config.IpLiteral;
import org.ice4j.TransportAddress;
import org.ice4j.ice.LocalCandidate;

import java.net.InetAddress;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * One ICE candidate as written in SDP (RFC 8839 §5.1), without the {@code a=} and {@code candidate:} prefixes:
 * {@code 1 1 udp 2130706431 192.0.2.1 50000 typ host}, {@code ... typ srflx raddr 10.0.0.1 rport 50000},
 * followed by extension pairs such as {@code generation 0 ufrag AbCd network-cost 10}.
 *
 * @param address    IP literal, or a name (mDNS {@code *.local} or FQDN) which is kept as text and never resolved
 * @param type       host, srflx, prflx or relay
 * @param relAddress raddr, or null
 * @param relPort    rport, or -1
 * @param extensions extension name to value, in order
 */
public record CandidateAttribute(
        String foundation,
        int component,
        String transport,
        long priority,
        String address,
        int port,
        String type,
        String relAddress,
        int relPort,
        Map<String, String> extensions) {

    /** Longer than any real candidate line (Chrome's are about 120 characters): refuse hostile input early. */
    private static final int MAX_LENGTH = 1024;

    public CandidateAttribute {
        extensions = Map.copyOf(extensions);
    }

    /**
     * Parses an SDP candidate attribute, with or without {@code a=} and {@code candidate:}.
     *
     * @throws IllegalArgumentException naming the part that is wrong
     */
    public static CandidateAttribute parse(String text) {
        if (text == null) {
            throw new IllegalArgumentException("bad ICE candidate: null");
        }
        if (text.length() > MAX_LENGTH) {
            throw bad(text, "longer than " + MAX_LENGTH + " characters");
        }
        String s = stripPrefixes(text);
        String[] f = s.isEmpty() ? new String[0] : s.split("[ \t]+");
        if (f.length < 8) {
            throw bad(text, "expected \"foundation component transport priority address port typ type\", got "
                    + f.length + " field(s)");
        }
        String foundation = f[0];
        if (foundation.length() > 32 || !foundation.chars().allMatch(CandidateAttribute::isIceChar)) {
            throw bad(text, "foundation \"" + foundation + "\" must be 1-32 ICE characters (RFC 8839 §5.1)");
        }
        int component = (int) number(text, "component id", f[1], 1, 256);
        String transport = f[2].toLowerCase(Locale.ROOT);
        if (!transport.matches("[a-z0-9!#$%&'*+\\-.^_`{|}~]+")) {
            throw bad(text, "transport \"" + f[2] + "\" is not a token");
        }
        long priority = number(text, "priority", f[3], 1, 0xFFFFFFFFL);
        String address = f[4];
        checkAddress(text, "connection address", address);
        int port = (int) number(text, "port", f[5], 0, 65535);
        if (!f[6].equalsIgnoreCase("typ")) {
            throw bad(text, "expected \"typ\" after the port, got \"" + f[6] + "\"");
        }
        String type = f[7].toLowerCase(Locale.ROOT);
        if (!type.equals("host") && !type.equals("srflx") && !type.equals("prflx") && !type.equals("relay")) {
            throw bad(text, "unknown candidate type \"" + f[7] + "\" (expected host, srflx, prflx or relay)");
        }
        String relAddress = null;
        int relPort = -1;
        Map<String, String> extensions = new LinkedHashMap<>();
        int i = 8;
        if (i + 1 < f.length && f[i].equalsIgnoreCase("raddr")) {
            relAddress = f[i + 1];
            checkAddress(text, "raddr", relAddress);
            i += 2;
        }
        if (i + 1 < f.length && f[i].equalsIgnoreCase("rport")) {
            relPort = (int) number(text, "rport", f[i + 1], 0, 65535);
            i += 2;
        }
        if ((f.length - i) % 2 != 0) {
            throw bad(text, "extension \"" + f[f.length - 1] + "\" has no value");
        }
        for (; i < f.length; i += 2) {
            extensions.put(f[i], f[i + 1]);
        }
        return new CandidateAttribute(foundation, component, transport, priority, address, port, type,
                relAddress, relPort, extensions);
    }

    /** One of ice4j's local candidates, as it goes into SDP. */
    static CandidateAttribute of(LocalCandidate candidate) {
        TransportAddress address = candidate.getTransportAddress();
        TransportAddress related = candidate.getRelatedAddress();
        return new CandidateAttribute(candidate.getFoundation(), candidate.getParentComponent().getComponentID(),
                "udp", candidate.getPriority(), address.getHostAddress(), address.getPort(),
                candidate.getType().toString(), related == null ? null : related.getHostAddress(),
                related == null ? -1 : related.getPort(), Map.of());
    }

    /** {@code a=end-of-candidates}, or the empty candidate browsers trickle to say the same (RFC 8838 §8.2). */
    static boolean isEndOfCandidates(String text) {
        if (text == null) {
            return false;
        }
        String s = text.strip();
        if (s.regionMatches(true, 0, "a=", 0, 2)) {
            s = s.substring(2);
        }
        return s.isEmpty() || s.equalsIgnoreCase("end-of-candidates") || s.equalsIgnoreCase("candidate:");
    }

    /** The {@code ufrag} extension (trickle, RFC 8838 §4.4 / browsers), or null. */
    public String ufrag() {
        return extensions.get("ufrag");
    }

    /** The address as an IP, never through DNS; null for names (mDNS {@code .local}, FQDN). */
    public InetAddress ipAddress() {
        return literal(address);
    }

    /** The attribute value for SDP, without {@code a=}: {@code candidate:1 1 udp ... typ host}. */
    public String format() {
        StringBuilder sb = new StringBuilder(128).append("candidate:").append(foundation).append(' ')
                .append(component).append(' ').append(transport).append(' ').append(priority).append(' ')
                .append(address).append(' ').append(port).append(" typ ").append(type);
        if (relAddress != null) {
            sb.append(" raddr ").append(relAddress);
        }
        if (relPort >= 0) {
            sb.append(" rport ").append(relPort);
        }
        extensions.forEach((k, v) -> sb.append(' ').append(k).append(' ').append(v));
        return sb.toString();
    }

    @Override
    public String toString() {
        return format();
    }

    private static String stripPrefixes(String text) {
        String s = text.strip();
        if (s.regionMatches(true, 0, "a=", 0, 2)) {
            s = s.substring(2);
        }
        if (s.regionMatches(true, 0, "candidate:", 0, 10)) {
            s = s.substring(10);
        }
        return s.strip();
    }

    private static long number(String text, String what, String value, long min, long max) {
        if (value.isEmpty() || value.length() > 10 || !value.chars().allMatch(c -> c >= '0' && c <= '9')) {
            throw bad(text, what + " \"" + value + "\" is not a number");
        }
        long n = Long.parseLong(value);
        if (n < min || n > max) {
            throw bad(text, what + " " + n + " is out of range " + min + "-" + max);
        }
        return n;
    }

    private static void checkAddress(String text, String what, String address) {
        if (address.indexOf(':') >= 0) {
            if (literal(address) == null) {
                throw bad(text, what + " \"" + address + "\" is not a valid IPv6 address");
            }
        } else if (address.chars().allMatch(c -> (c >= '0' && c <= '9') || c == '.')) {
            if (literal(address) == null) {
                throw bad(text, what + " \"" + address + "\" is not a valid IPv4 address");
            }
        } else if (address.length() > 253 || !address.matches("[A-Za-z0-9]([A-Za-z0-9\\-]*[A-Za-z0-9])?"
                + "(\\.[A-Za-z0-9]([A-Za-z0-9\\-]*[A-Za-z0-9])?)*\\.?")) {
            throw bad(text, what + " \"" + address + "\" is neither an IP address nor a host name");
        }
    }

    /** An IP literal, never a DNS lookup (config.IpLiteral). */
    static InetAddress literal(String s) {
        return IpLiteral.parse(s);
    }

    private static boolean isIceChar(int c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '+' || c == '/';
    }

    private static IllegalArgumentException bad(String text, String problem) {
        String shown = text.length() > 120 ? text.substring(0, 120) + "..." : text;
        return new IllegalArgumentException("bad ICE candidate \"" + shown.strip() + "\": " + problem);
    }
}
