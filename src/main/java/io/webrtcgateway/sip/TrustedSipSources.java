package io.webrtcgateway.sip;

import io.webrtcgateway.config.Cidr;
import io.webrtcgateway.config.SipServerAddress;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Whom the SIP listener takes requests from (docs/sip.md "Whom the SIP listener accepts"): the SIP Servers
 * (their addresses; host names resolved by a {@link SipHostResolver}, again at every keepalive, so a DNS
 * change is followed), {@code gateway.sip.trusted-sources}, and, for a request of a dialog the gateway holds,
 * also that dialog's peer. Pure rules over addresses: nothing here blocks or sends.
 */
public final class TrustedSipSources {
    private final List<Cidr> trustedSources;
    /** The SIP Servers given as IP literals (a wildcard: every local address). */
    private final Set<InetAddress> serverAddresses;
    /** The SIP Servers given as host names. */
    private final List<String> serverNames;
    private final SipHostResolver resolver;

    TrustedSipSources(List<SipServerAddress> servers, List<Cidr> trustedSources, SipHostResolver resolver) {
        this.trustedSources = List.copyOf(trustedSources);
        this.resolver = resolver;
        Set<InetAddress> addresses = new HashSet<>();
        List<String> names = new ArrayList<>();
        for (SipServerAddress s : servers) {
            if (s.address() == null) {
                continue; // "sandbox" before it started: the caller passes the resolved entry
            }
            InetAddress literal = SipHostResolver.literal(s.address().host());
            if (literal == null) {
                names.add(s.address().host());
            } else if (literal.isAnyLocalAddress()) {
                addresses.addAll(SipHostResolver.localAddresses()); // a sandbox bound to 0.0.0.0 sends from any
            } else {
                addresses.add(literal);
            }
        }
        this.serverAddresses = Set.copyOf(addresses);
        this.serverNames = List.copyOf(names);
    }

    /** Looks the SIP Servers' names up now (blocking: at start, before the listener takes requests). */
    void resolveServersNow() {
        serverNames.forEach(resolver::resolveNow);
    }

    /** Looks the SIP Servers' names up again in the background (at every keepalive). */
    void refreshServers() {
        serverNames.forEach(resolver::refresh);
    }

    /** Whether {@code source} is a SIP Server or in gateway.sip.trusted-sources. Never blocks. */
    public boolean trusted(InetAddress source) {
        InetAddress a = unmapped(source);
        if (a == null) {
            return false;
        }
        if (serverAddresses.contains(a) || Cidr.anyContains(trustedSources, a)) {
            return true;
        }
        for (String name : serverNames) {
            if (resolver.known(name).contains(a)) {
                return true;
            }
        }
        return false;
    }

    /**
     * The whole rule for a request from {@code source}: a trusted source may send anything; anyone else only
     * requests of a dialog the gateway holds ({@code owner} non-null: found by Call-ID), and only if it is
     * that dialog's peer. RFC 3261 §12.2.1.1: the peer sends its requests to our Contact, from its remote
     * target or through the first hop of the route set, so those hosts ({@link SipRequestHandler#peerHosts})
     * are where they come from. Never blocks: a peer host that is a name counts once it has been resolved.
     */
    public boolean accepts(InetAddress source, SipRequestHandler owner) {
        return trusted(source) || owner != null && isPeer(source, owner.peerHosts());
    }

    boolean isPeer(InetAddress source, List<String> peerHosts) {
        InetAddress a = unmapped(source);
        if (a == null) {
            return false;
        }
        for (String host : peerHosts) {
            if (host != null && resolver.known(host).contains(a)) {
                return true;
            }
        }
        return false;
    }

    /** ::ffff:a.b.c.d as a.b.c.d (RFC 4291 §2.5.5.2), so a dual-stack socket's view compares with IPv4 entries. */
    private static InetAddress unmapped(InetAddress a) {
        if (a == null || a.getAddress().length == 4) {
            return a;
        }
        try {
            return InetAddress.getByAddress(a.getAddress()); // an IPv4-mapped address comes back as Inet4Address
        } catch (UnknownHostException e) {
            return a;
        }
    }
}
