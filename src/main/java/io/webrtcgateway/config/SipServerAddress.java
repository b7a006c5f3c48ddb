package io.webrtcgateway.config;

import java.util.Locale;

/**
 * One entry of {@code gateway.sip.servers}: "host:port[;transport=udp|tcp|tls]" or "sandbox".
 * The sandbox entry resolves to the built-in sandbox server's address at start.
 */
public record SipServerAddress(HostPort address, String transport, boolean sandbox) {

    public static SipServerAddress parse(String text) {
        String s = text.trim();
        if (s.equalsIgnoreCase("sandbox")) {
            return new SipServerAddress(null, "udp", true);
        }
        String transport = "udp";
        int semi = s.indexOf(';');
        if (semi >= 0) {
            String param = s.substring(semi + 1).trim().toLowerCase(Locale.ROOT);
            s = s.substring(0, semi);
            if (!param.startsWith("transport=")) {
                throw new IllegalArgumentException("unknown parameter \"" + param + "\" (only ;transport= is allowed)");
            }
            transport = param.substring("transport=".length());
            if (!transport.equals("udp") && !transport.equals("tcp") && !transport.equals("tls")) {
                throw new IllegalArgumentException("transport must be udp, tcp or tls, not \"" + transport + "\"");
            }
        }
        int defaultPort = transport.equals("tls") ? 5061 : 5060;
        return new SipServerAddress(HostPort.parse(s, defaultPort), transport, false);
    }

    public SipServerAddress withAddress(HostPort resolved) {
        return new SipServerAddress(resolved, transport, sandbox);
    }

    @Override
    public String toString() {
        return sandbox && address == null ? "sandbox" : address + ";transport=" + transport;
    }
}
