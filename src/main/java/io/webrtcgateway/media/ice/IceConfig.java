package io.webrtcgateway.media.ice;

import io.webrtcgateway.config.GatewayConfig;
import io.webrtcgateway.config.HostPort;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * What an {@link IceTransport} needs to know about this machine.
 *
 * @param localAddresses   addresses to bind host candidates on. Empty: every address of every interface that
 *                         is up, except loopback and link-local ones (ice4j's own host harvester is never
 *                         used, see {@link IceSystemProperties}). Listing an address uses it even if it is
 *                         loopback: that is how tests run on 127.0.0.1.
 * @param portMin          lowest UDP port for host candidates ({@code gateway.media.rtp-port-range})
 * @param portMax          highest UDP port, inclusive
 * @param stunServers      STUN servers asked for server-reflexive candidates (RFC 8445 §5.1.1.2); resolved
 *                         addresses only, so that creating a transport never waits on DNS
 * @param publicAddress    address of a 1:1 NAT in front of this machine ({@code gateway.media.public-address}),
 *                         advertised as a server-reflexive candidate with the host candidate's port; null: none
 * @param consentInterval  how often consent is refreshed on the selected pair (RFC 7675 §5.1: 5 s, randomized)
 * @param consentTimeout   a peer that stops answering for this long is reported DISCONNECTED (RFC 7675 §5.1:
 *                         30 s). Both consent values are JVM-wide in ice4j 3.2; see {@link IceSystemProperties}.
 * @param remoteDeny       remote addresses never checked nor answered ({@code gateway.media.ice-remote-deny})
 */
public record IceConfig(
        List<InetAddress> localAddresses,
        int portMin,
        int portMax,
        List<InetSocketAddress> stunServers,
        InetAddress publicAddress,
        Duration consentInterval,
        Duration consentTimeout,
        IceRemoteDeny remoteDeny) {

    public static final Duration DEFAULT_CONSENT_INTERVAL = Duration.ofSeconds(5);
    public static final Duration DEFAULT_CONSENT_TIMEOUT = Duration.ofSeconds(30);

    public IceConfig {
        localAddresses = List.copyOf(localAddresses);
        stunServers = List.copyOf(stunServers);
        if (remoteDeny == null) {
            throw new IllegalArgumentException("remoteDeny is required (IceRemoteDeny.NONE denies nothing)");
        }
        if (portMin < 1 || portMax > 65535 || portMin > portMax) {
            throw new IllegalArgumentException("ICE port range must be within 1-65535 with min <= max, not "
                    + portMin + "-" + portMax);
        }
        for (InetSocketAddress server : stunServers) {
            if (server.isUnresolved()) {
                throw new IllegalArgumentException("STUN server " + server + " is not resolved");
            }
        }
        if (consentInterval.isNegative() || consentInterval.isZero()) {
            throw new IllegalArgumentException("consentInterval must be positive, not " + consentInterval);
        }
        // A check is sent every 0.8-1.2 intervals (RFC 7675 §5.1) and needs time to be answered.
        Duration floor = consentInterval.multipliedBy(12).dividedBy(10).plusMillis(200);
        if (consentTimeout.compareTo(floor) < 0) {
            throw new IllegalArgumentException("consentTimeout " + consentTimeout
                    + " is too short for consentInterval " + consentInterval + ": at least " + floor);
        }
    }

    /** Production settings from {@code gateway.media.*}; resolves STUN/public host names once, here. */
    public static IceConfig from(GatewayConfig.Media media) {
        List<InetSocketAddress> stun = new ArrayList<>();
        for (HostPort server : media.stunServers()) {
            stun.add(new InetSocketAddress(resolve("gateway.media.stun-servers", server.host()), server.port()));
        }
        String publicAddress = media.publicAddress() == null ? "" : media.publicAddress().trim();
        List<InetAddress> local = new ArrayList<>();
        for (String a : media.iceAddresses()) {
            local.add(resolve("gateway.media.ice-addresses", a));
        }
        InetAddress mapped = publicAddress.isEmpty() ? null : resolve("gateway.media.public-address", publicAddress);
        List<InetAddress> own = new ArrayList<>(local);
        if (mapped != null) {
            own.add(mapped);
        }
        return new IceConfig(
                local,
                media.rtpPortMin(),
                media.rtpPortMax(),
                stun,
                mapped,
                DEFAULT_CONSENT_INTERVAL,
                DEFAULT_CONSENT_TIMEOUT,
                IceRemoteDeny.of(media.iceRemoteDeny(), media.iceDenyOwnAddresses(), own));
    }

    /**
     * Host candidates on the given addresses only (tests: loopback), default STUN/NAT/consent settings, no
     * remote address denied.
     */
    public static IceConfig onAddresses(List<InetAddress> addresses, int portMin, int portMax) {
        return new IceConfig(addresses, portMin, portMax, List.of(), null,
                DEFAULT_CONSENT_INTERVAL, DEFAULT_CONSENT_TIMEOUT, IceRemoteDeny.NONE);
    }

    public IceConfig withStunServers(List<InetSocketAddress> servers) {
        return new IceConfig(localAddresses, portMin, portMax, servers, publicAddress, consentInterval,
                consentTimeout, remoteDeny);
    }

    public IceConfig withPublicAddress(InetAddress address) {
        return new IceConfig(localAddresses, portMin, portMax, stunServers, address, consentInterval,
                consentTimeout, remoteDeny);
    }

    public IceConfig withConsent(Duration interval, Duration timeout) {
        return new IceConfig(localAddresses, portMin, portMax, stunServers, publicAddress, interval, timeout,
                remoteDeny);
    }

    public IceConfig withRemoteDeny(IceRemoteDeny deny) {
        return new IceConfig(localAddresses, portMin, portMax, stunServers, publicAddress, consentInterval,
                consentTimeout, deny);
    }

    /** Whether a server-reflexive candidate with {@link #publicAddress} belongs next to a host candidate on {@code local}. */
    boolean mapsToPublic(InetAddress local) {
        return publicAddress != null
                && (publicAddress instanceof Inet4Address) == (local instanceof Inet4Address)
                && !publicAddress.equals(local);
    }

    /**
     * The configured addresses, or every address of an interface that is up, except loopback, link-local
     * (unreachable from a browser) and wildcard/multicast ones.
     */
    List<InetAddress> resolveLocalAddresses() throws IOException {
        if (!localAddresses.isEmpty()) {
            return localAddresses;
        }
        List<InetAddress> found = new ArrayList<>();
        for (NetworkInterface nif : Collections.list(NetworkInterface.getNetworkInterfaces())) {
            if (!nif.isUp() || nif.isLoopback()) {
                continue;
            }
            for (InetAddress address : Collections.list(nif.getInetAddresses())) {
                if (!address.isLoopbackAddress() && !address.isLinkLocalAddress() && !address.isAnyLocalAddress()
                        && !address.isMulticastAddress()) {
                    found.add(address);
                }
            }
        }
        if (found.isEmpty()) {
            throw new IOException("no usable local address for ICE host candidates (only loopback or link-local);"
                    + " list the addresses in IceConfig.localAddresses");
        }
        return List.copyOf(found);
    }

    private static InetAddress resolve(String key, String host) {
        try {
            return InetAddress.getByName(host);
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException(key + ": cannot resolve \"" + host + "\"", e);
        }
    }

    @Override
    public String toString() {
        return "IceConfig[addresses=" + (localAddresses.isEmpty() ? "auto" : localAddresses)
                + ", ports=" + portMin + "-" + portMax + ", stun=" + stunServers
                + ", public=" + (publicAddress == null ? "none" : publicAddress.getHostAddress())
                + ", consent=" + consentInterval.toMillis() + "/" + consentTimeout.toMillis() + " ms, " + remoteDeny + "]";
    }
}
