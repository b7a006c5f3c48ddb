package io.webrtcgateway.config;

/** A "host:port" pair as written in config; IPv6 literals in brackets ("[::1]:5060"). */
public record HostPort(String host, int port) {

    public static HostPort parse(String text, int defaultPort) {
        String s = text.trim();
        if (s.isEmpty()) {
            throw new IllegalArgumentException("empty address");
        }
        String host;
        String portText = null;
        if (s.startsWith("[")) {
            int end = s.indexOf(']');
            if (end < 0) {
                throw new IllegalArgumentException("unclosed '[' in \"" + text + "\"");
            }
            host = s.substring(1, end);
            String rest = s.substring(end + 1);
            if (!rest.isEmpty()) {
                if (!rest.startsWith(":")) {
                    throw new IllegalArgumentException("expected ':port' after ']' in \"" + text + "\"");
                }
                portText = rest.substring(1);
            }
        } else {
            int colon = s.lastIndexOf(':');
            if (colon >= 0 && s.indexOf(':') != colon) {
                throw new IllegalArgumentException("IPv6 address must be written in brackets: \"" + text + "\"");
            }
            host = colon >= 0 ? s.substring(0, colon) : s;
            portText = colon >= 0 ? s.substring(colon + 1) : null;
        }
        if (host.isEmpty() || !host.matches("[A-Za-z0-9.\\-:_%]+")) {
            throw new IllegalArgumentException("invalid host in \"" + text + "\"");
        }
        int port = defaultPort;
        if (portText != null) {
            try {
                port = Integer.parseInt(portText);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("invalid port in \"" + text + "\"");
            }
        }
        if (port < 0 || port > 65535 || (port == 0 && defaultPort != 0)) {
            throw new IllegalArgumentException("port out of range in \"" + text + "\"");
        }
        return new HostPort(host, port);
    }

    /** host:port with IPv6 literals bracketed, as in a SIP URI. */
    @Override
    public String toString() {
        return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + port;
    }
}
