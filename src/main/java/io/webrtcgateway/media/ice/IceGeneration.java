package io.webrtcgateway.media.ice;

import io.webrtcgateway.media.rtp.UdpReceiveLoops;
import org.ice4j.Transport;
import org.ice4j.TransportAddress;
import org.ice4j.ice.Agent;
import org.ice4j.ice.CandidatePair;
import org.ice4j.ice.CandidatePairState;
import org.ice4j.ice.CandidateType;
import org.ice4j.ice.Component;
import org.ice4j.ice.HostCandidate;
import org.ice4j.ice.IceMediaStream;
import org.ice4j.ice.IceProcessingState;
import org.ice4j.ice.KeepAliveStrategy;
import org.ice4j.ice.LocalCandidate;
import org.ice4j.ice.RemoteCandidate;
import org.ice4j.ice.harvest.AbstractCandidateHarvester;
import org.ice4j.ice.harvest.StaticMappingCandidateHarvester;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.beans.PropertyChangeEvent;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * One ICE session of a transport: an ice4j {@link Agent} with one stream and one component (rtcp-mux and
 * BUNDLE put everything on one 5-tuple), its host sockets, and its local credentials. An ICE restart
 * (RFC 8445 §9) makes a new generation with new credentials and new ports; the previous one keeps carrying
 * media until the new one has a selected pair.
 *
 * <p>Threads: constructed and configured (remote credentials, candidates, start) by the transport's caller;
 * ice4j reports on its own threads through {@link Events}; payload arrives on the receive-loop thread
 * that reads the socket.
 */
final class IceGeneration implements HostSocket.Sink {

    private static final Logger LOG = LoggerFactory.getLogger(IceGeneration.class);

    /** What a generation tells its transport; called on ice4j threads, never under a lock of this class. */
    interface Events {
        void selected(IceGeneration generation);

        void checksFailed(IceGeneration generation);

        void consentLost(IceGeneration generation);

        void deliver(byte[] buf, int off, int len);
    }

    final int index;
    private final Events events;
    private final Agent agent;
    private final IceMediaStream stream;
    private final Component component;
    /** Filled once by the host harvester inside the constructor, read-only afterwards. */
    private final List<HostSocket> sockets = new CopyOnWriteArrayList<>();

    /** Set once, on an ice4j thread, when ICE completes; read on every received packet. */
    private volatile CandidatePair selectedPair;
    private volatile HostSocket selectedSocket;
    private volatile InetSocketAddress selectedRemote;

    /**
     * How long ice4j waits for a consent check's answer before reporting a timeout: a genuine timeout means the
     * peer has answered nothing for at least this long (see {@link #onPairChange}).
     */
    private final long consentCheckLifetimeNanos = IceSystemProperties.consentCheckLifetime().toNanos();
    /** System.nanoTime() of the selection or of the latest consent response on the selected pair. */
    private volatile long lastResponseNanos;
    /** Why consent was lost (for the log line and tests); null while it holds. */
    private volatile String consentLostCause;

    private final AtomicBoolean consentLost = new AtomicBoolean();
    private final AtomicBoolean closed = new AtomicBoolean();
    private volatile boolean started;
    private volatile String remoteUfrag;

    IceGeneration(int index, IceConfig config, List<InetAddress> addresses, boolean controlling, Events events,
            UdpReceiveLoops loops) throws IOException {
        this.index = index;
        this.events = events;
        this.agent = new Agent();
        try {
            agent.setControlling(controlling);
            // Host candidates come from our harvester (configured addresses, gateway port range), never from
            // ice4j's, which binds ephemeral ports on every non-loopback interface.
            agent.setUseDynamicPorts(false);
            agent.addCandidateHarvester(new HostHarvester(config, addresses, loops));
            // "Trickling" keeps createComponent from running ice4j's other harvesters, which block the caller
            // (up to 15 s per STUN server); server-reflexive candidates are gathered asynchronously instead.
            agent.setTrickling(true);
            // RFC 7675: keep checking the selected pair and fail it when the peer stops answering.
            agent.setPerformConsentFreshness(true);
            stream = agent.createMediaStream("media");
            component = agent.createComponent(stream, KeepAliveStrategy.SELECTED_ONLY, false);
            if (config.publicAddress() != null) {
                addPublicMapping(config);
            }
            agent.addStateChangeListener(this::onAgentState);
            stream.addPairChangeListener(this::onPairChange);
        } catch (IOException | RuntimeException e) {
            close();
            if (e instanceof UncheckedIOException u) {
                throw u.getCause();
            }
            throw e;
        }
    }

    /** 1:1 NAT: next to each host candidate, a server-reflexive one with the public address and the same port. */
    private void addPublicMapping(IceConfig config) {
        for (HostSocket socket : sockets) {
            InetAddress local = socket.getLocalAddress();
            if (config.mapsToPublic(local)) {
                new StaticMappingCandidateHarvester(
                        new TransportAddress(config.publicAddress(), socket.getLocalPort(), Transport.UDP),
                        new TransportAddress(local, socket.getLocalPort(), Transport.UDP))
                        .harvest(component);
            }
        }
    }

    String localUfrag() {
        return agent.getLocalUfrag();
    }

    String localPassword() {
        return agent.getLocalPassword();
    }

    List<LocalCandidate> localCandidates() {
        return component.getLocalCandidates();
    }

    List<HostSocket> sockets() {
        return sockets;
    }

    Agent agent() {
        return agent;
    }

    Component component() {
        return component;
    }

    void setRemoteCredentials(String ufrag, String password) {
        stream.setRemoteUfrag(ufrag);
        stream.setRemotePassword(password);
        remoteUfrag = ufrag;
    }

    String remoteUfrag() {
        return remoteUfrag;
    }

    void addRemoteCandidate(CandidateAttribute c, InetAddress address) {
        RemoteCandidate candidate = new RemoteCandidate(
                new TransportAddress(address, c.port(), Transport.UDP), component, CandidateType.parse(c.type()),
                c.foundation(), c.priority(), null, c.ufrag());
        // Before start() candidates just accumulate; after it, they join the running check list (trickle).
        synchronized (this) {
            if (closed.get()) {
                return;
            }
            if (!started) {
                component.addRemoteCandidate(candidate);
                return;
            }
        }
        component.addUpdateRemoteCandidates(candidate);
        component.updateRemoteCandidates();
    }

    void start() {
        synchronized (this) {
            if (started || closed.get()) {
                return;
            }
            started = true;
        }
        agent.startConnectivityEstablishment();
    }

    boolean started() {
        return started;
    }

    boolean isSelected() {
        return selectedRemote != null;
    }

    boolean consentLost() {
        return consentLost.get();
    }

    CandidatePair selectedPair() {
        return selectedPair;
    }

    HostSocket selectedSocket() {
        return selectedSocket;
    }

    InetSocketAddress selectedRemote() {
        return selectedRemote;
    }

    private void onAgentState(PropertyChangeEvent event) {
        IceProcessingState state = (IceProcessingState) event.getNewValue();
        if (closed.get()) {
            return;
        }
        if (state == IceProcessingState.COMPLETED) {
            CandidatePair pair = component.getSelectedPair();
            HostSocket socket = pair == null ? null : socketOf(pair.getLocalCandidate());
            if (socket == null) {
                LOG.warn("ICE gen {} {}: completed without a usable selected pair ({})", index, localUfrag(), pair);
                events.checksFailed(this);
                return;
            }
            lastResponseNanos = System.nanoTime();
            selectedSocket = socket;
            selectedPair = pair;
            selectedRemote = pair.getRemoteCandidate().getTransportAddress();
            LOG.debug("ICE gen {} {}: selected {}", index, localUfrag(), pair.toShortString());
            events.selected(this);
        } else if (state == IceProcessingState.FAILED) {
            events.checksFailed(this);
        }
    }

    /**
     * Consent (RFC 7675 §5.1). ice4j sends the consent checks and marks the selected pair FAILED when one of
     * them, or any other check on that pair, times out or gets an error response. Consent is lost when:
     * <ul>
     *   <li>the peer answered with an error (other than 487): it refuses us, e.g. 401 once it no longer knows
     *       our credentials; or</li>
     *   <li>the check timed out and the peer has answered nothing for a whole consent-check lifetime. That is
     *       what a real timeout implies, since the check was sent at least that long ago.</li>
     * </ul>
     * A FAILED while answers keep arriving is not believed. ice4j 3.2 reports a timeout for a check that WAS
     * answered when the answer is processed before the check's retransmission timer is scheduled (see
     * ClientTransactionRaceTest): on a loaded machine that ended live calls a few seconds after they
     * connected. ice4j's next answered check puts the pair back to SUCCEEDED by itself.
     */
    private void onPairChange(PropertyChangeEvent event) {
        String property = event.getPropertyName();
        if (IceMediaStream.PROPERTY_PAIR_CONSENT_FRESHNESS_CHANGED.equals(property)) {
            // ice4j records this for an answered check on the selected pair only.
            lastResponseNanos = System.nanoTime();
            return;
        }
        if (!IceMediaStream.PROPERTY_PAIR_STATE_CHANGED.equals(property)
                || event.getNewValue() != CandidatePairState.FAILED) {
            return;
        }
        CandidatePair selected = selectedPair;
        if (selected == null || event.getSource() != selected || closed.get() || consentLost.get()) {
            return;
        }
        long last = lastResponseNanos;
        long silentNanos = System.nanoTime() - last;
        long silentMillis = silentNanos / 1_000_000;
        HostSocket.ErrorResponse error = selectedSocket.lastErrorResponse();
        String cause;
        if (error != null && error.from().equals(selectedRemote) && error.atNanos() - last > 0) {
            cause = "error response " + error + " to a check";
        } else if (silentNanos >= consentCheckLifetimeNanos) {
            cause = "no response for " + silentMillis + " ms (a check timed out)";
        } else {
            LOG.debug("ICE gen {} {}: ice4j failed {} on a check timeout, but the peer answered {} ms ago;"
                    + " consent holds", index, localUfrag(), selected.toShortString(), silentMillis);
            return;
        }
        if (consentLost.compareAndSet(false, true)) {
            consentLostCause = cause;
            LOG.info("ICE gen {} {}: consent lost on {}: {}", index, localUfrag(), selected.toShortString(), cause);
            events.consentLost(this);
        }
    }

    /** Why consent was lost ("no response for 24600 ms ...", "error response 401 ..."), or null. */
    String consentLostCause() {
        return consentLostCause;
    }

    private HostSocket socketOf(LocalCandidate candidate) {
        LocalCandidate base = candidate.getBase() != null ? candidate.getBase() : candidate;
        for (HostSocket socket : sockets) {
            if (socket.localAddress().getPort() == base.getTransportAddress().getPort()
                    && socket.getLocalAddress().equals(base.getTransportAddress().getAddress())) {
                return socket;
            }
        }
        return null;
    }

    /**
     * Payload is accepted from the selected remote only. Before selection (a DTLS ClientHello can arrive in
     * the same round trip as the nominating check) it is accepted from any address ICE is checking against
     * this socket: a signalled candidate or one learned from an authenticated check (peer-reflexive).
     */
    @Override
    public boolean accepts(HostSocket socket, InetAddress address, int port) {
        InetSocketAddress remote = selectedRemote;
        if (remote != null) {
            return remote.getPort() == port && remote.getAddress().equals(address)
                    && socket == selectedSocket && !consentLost.get();
        }
        if (!started || closed.get()) {
            return false;
        }
        TransportAddress local = new TransportAddress(socket.getLocalAddress(), socket.getLocalPort(), Transport.UDP);
        return stream.findCandidatePair(local, new TransportAddress(address, port, Transport.UDP)) != null;
    }

    @Override
    public void deliver(byte[] buf, int off, int len) {
        events.deliver(buf, off, len);
    }

    /** Frees the agent (its STUN stack stops every Connector, which closes the sockets), then the sockets. */
    void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        try {
            agent.free();
        } catch (RuntimeException e) {
            LOG.warn("ICE gen {}: freeing the agent failed", index, e);
        } finally {
            for (HostSocket socket : sockets) {
                socket.close();
            }
        }
    }

    boolean isClosed() {
        return closed.get();
    }

    HostSocket.Counters counters() {
        HostSocket.Counters total = HostSocket.Counters.ZERO;
        for (HostSocket socket : sockets) {
            total = total.plus(socket.counters());
        }
        return total;
    }

    @Override
    public String toString() {
        return "IceGeneration[" + index + ", " + agent.getLocalUfrag() + "]";
    }

    /** Binds one socket per local address from the port range and registers it with the agent's STUN stack. */
    private final class HostHarvester extends AbstractCandidateHarvester {
        private final IceConfig config;
        private final List<InetAddress> addresses;
        private final UdpReceiveLoops loops;

        HostHarvester(IceConfig config, List<InetAddress> addresses, UdpReceiveLoops loops) {
            this.config = config;
            this.addresses = addresses;
            this.loops = loops;
        }

        @Override
        public boolean isHostHarvester() {
            return true;
        }

        @Override
        public Collection<LocalCandidate> harvest(Component component) {
            List<LocalCandidate> found = new ArrayList<>();
            IOException failure = null;
            for (InetAddress address : addresses) {
                HostSocket socket;
                try {
                    socket = HostSocket.bind(config, address, IceGeneration.this, loops.leastLoaded());
                } catch (IOException e) {
                    LOG.warn("ICE: no host candidate on {}: {}", address.getHostAddress(), e.getMessage());
                    failure = e;
                    continue;
                }
                sockets.add(socket);
                HostCandidate candidate = new HostCandidate(socket, component, Transport.UDP);
                component.addLocalCandidate(candidate);
                // Starts the Connector thread that takes this socket's STUN (HostSocket#receive).
                agent.getStunStack().addSocket(socket);
                found.add(candidate);
            }
            if (found.isEmpty()) {
                throw new UncheckedIOException(failure != null ? failure
                        : new IOException("no local address to bind a host candidate on"));
            }
            return found;
        }
    }
}
