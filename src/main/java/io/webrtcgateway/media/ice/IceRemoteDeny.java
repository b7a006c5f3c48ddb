package io.webrtcgateway.media.ice;

import io.webrtcgateway.config.Cidr;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.NetworkInterface;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.atomic.LongAdder;

/**
 * The remote addresses ICE must not send to ({@code gateway.media.ice-remote-deny}, docs/media.md "ICE
 * targets"). A browser names its candidates itself: without this, an offer naming 127.0.0.1:5060 or
 * 169.254.169.254:80 makes the gateway send connectivity checks there, a UDP reflector into its own machine
 * and network.
 *
 * <ul>
 *   <li>A remote candidate (SDP or trickled) in a denied block or on one of the gateway's own addresses is
 *       never checked: {@link IceTransport#addRemoteCandidate} ignores it and counts it.</li>
 *   <li>STUN arriving from a denied block is dropped before ice4j sees it, so it is never answered and never
 *       learnt as a peer-reflexive candidate (which ice4j would then check).</li>
 *   <li>Checks arriving from the gateway's own addresses are answered as usual: they come from a program
 *       on this machine that knows the session's ICE password, a browser on the same machine (a demo).</li>
 *   <li>Whatever ice4j sends goes through {@link HostSocket#send}, which refuses a destination in a denied
 *       block (other than a configured STUN server) as a last line of defence, counted apart.</li>
 * </ul>
 *
 * <p>One per instance, shared by every transport; thread-safe (immutable lists, {@link LongAdder} counters).
 */
public final class IceRemoteDeny {

    /** Why a remote candidate was refused: the {@code reason} label of the metric. */
    public enum Reason {
        /** In a block of {@code gateway.media.ice-remote-deny}. */
        DENY_LIST("deny-list"),
        /** One of the gateway's own addresses ({@code own-addresses}). */
        OWN_ADDRESS("own-address");

        private final String label;

        Reason(String label) {
            this.label = label;
        }

        public String label() {
            return label;
        }
    }

    /** Denies nothing (tests and tools that build an {@link IceConfig} by hand). */
    public static final IceRemoteDeny NONE = new IceRemoteDeny(List.of(), List.of());

    private final List<Cidr> blocks;
    /** Each of the gateway's own addresses as a block of one. */
    private final List<Cidr> own;

    private final LongAdder refusedDenyList = new LongAdder();
    private final LongAdder refusedOwn = new LongAdder();
    private final LongAdder stunDroppedIn = new LongAdder();
    private final LongAdder sendsRefused = new LongAdder();

    private IceRemoteDeny(List<Cidr> blocks, List<Cidr> own) {
        this.blocks = List.copyOf(blocks);
        this.own = List.copyOf(own);
    }

    /** The configured blocks only. */
    public static IceRemoteDeny of(List<Cidr> blocks) {
        return new IceRemoteDeny(blocks, List.of());
    }

    /**
     * The configured blocks, and (if {@code ownAddresses}) every address of every interface of this machine
     * (up or not, loopback and link-local included) plus {@code more} (the configured ICE and public
     * addresses), enumerated now: an interface that appears later is not covered.
     */
    public static IceRemoteDeny of(List<Cidr> blocks, boolean ownAddresses, Collection<InetAddress> more) {
        if (!ownAddresses) {
            return of(blocks);
        }
        Set<InetAddress> found = new LinkedHashSet<>(more);
        try {
            for (NetworkInterface nif : Collections.list(NetworkInterface.getNetworkInterfaces())) {
                found.addAll(Collections.list(nif.getInetAddresses()));
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list the network interfaces for own-addresses", e);
        }
        List<Cidr> own = new ArrayList<>();
        for (InetAddress a : found) {
            own.add(single(a));
        }
        return new IceRemoteDeny(blocks, own);
    }

    /** Why ICE must not check a remote candidate on {@code address}, or null if it may. */
    public Reason refuses(InetAddress address) {
        if (Cidr.anyContains(blocks, address)) {
            return Reason.DENY_LIST;
        }
        if (Cidr.anyContains(own, address)) {
            return Reason.OWN_ADDRESS;
        }
        return null;
    }

    /** Whether {@code address} is in a configured block (STUN from it is dropped; nothing is sent to it). */
    boolean inDeniedBlock(InetAddress address) {
        return !blocks.isEmpty() && Cidr.anyContains(blocks, address);
    }

    void countRefused(Reason reason) {
        (reason == Reason.DENY_LIST ? refusedDenyList : refusedOwn).increment();
    }

    void countStunDropped() {
        stunDroppedIn.increment();
    }

    void countSendRefused() {
        sendsRefused.increment();
    }

    /** Remote candidates refused for {@code reason} since start. */
    public long candidatesRefused(Reason reason) {
        return (reason == Reason.DENY_LIST ? refusedDenyList : refusedOwn).sum();
    }

    /** STUN datagrams dropped because they came from a denied block. */
    public long stunDropped() {
        return stunDroppedIn.sum();
    }

    /** Sends ice4j attempted to a denied block and {@link HostSocket} refused (none expected). */
    public long sendsRefused() {
        return sendsRefused.sum();
    }

    public List<Cidr> blocks() {
        return blocks;
    }

    /** The gateway's own addresses found at start (empty without {@code own-addresses}). */
    public List<Cidr> ownAddresses() {
        return own;
    }

    private static Cidr single(InetAddress a) {
        byte[] bytes = a.getAddress();
        // getHostAddress() of an interface's IPv6 address carries "%scope": the text is for logs only.
        String text = a.getHostAddress().toLowerCase(Locale.ROOT);
        return new Cidr(bytes, bytes.length * 8, text);
    }

    @Override
    public String toString() {
        return "deny " + blocks + (own.isEmpty() ? "" : " and the own addresses " + own);
    }
}
