package io.webrtcgateway.media.ice;

import io.webrtcgateway.media.PacketHandler;
import io.webrtcgateway.media.PacketSender;
import io.webrtcgateway.media.rtp.UdpReceiveLoops;
import org.ice4j.TransportAddress;
import org.ice4j.ice.CandidatePair;
import org.ice4j.ice.LocalCandidate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Consumer;

/**
 * The browser leg's transport: a full ICE agent (RFC 8445, ice4j) with one component, since rtcp-mux and
 * BUNDLE put DTLS, SRTP and SRTCP of every m-line on one 5-tuple. Controlling when the gateway made the offer,
 * controlled when the browser did (RFC 8445 §6.1.1); trickle both ways (RFC 8838); ICE restart (§9);
 * consent freshness (RFC 7675).
 *
 * <p>Typical use, gateway answering a browser's offer:
 * <pre>{@code
 * IceTransport ice = new IceTransport(config, false, call.executor());
 * ice.onStateChange(state -> ...);                    // CONNECTED: start DTLS; DISCONNECTED/FAILED: hang up or restart
 * ice.setReceiver(dtlsSrtpDemux);                     // every DTLS/SRTP/SRTCP datagram from the selected pair
 * ice.setRemoteCredentials(offer.ufrag(), offer.pwd());
 * offer.candidates().forEach(ice::addRemoteCandidate);
 * answer(ice.localUfrag(), ice.localPassword(), ice.localCandidates());
 * ice.startGathering(trickleToBrowser);               // server-reflexive candidates, when STUN servers are set
 * ice.start();
 * ... ice.addRemoteCandidate(trickled) ...            // any time, before or after start()
 * dtls.setSender(ice.sender());
 * ice.close();                                        // always: frees the ports and the threads
 * }</pre>
 *
 * <p>Threads. Configuration methods may be called from any thread (the call's serial executor, typically);
 * they take a short lock private to this transport. State and candidate events are delivered in order, on
 * the executor given to the constructor, or else on the ice4j thread that caused them (then a listener must
 * not block). The receiver runs on the {@link UdpReceiveLoops} thread that reads the socket (it must not block:
 * other calls' sockets share that thread). The sender
 * may be called from any thread and never blocks on this transport's lock.
 *
 * <p>Resources. Each ICE generation binds one UDP port per local address from the configured range, and
 * ice4j runs one thread per port (it only takes the port's STUN; the receive loop reads the port).
 * {@link #close()} frees them all, whatever the state; an ICE restart
 * binds new ports and frees the old ones once the new pair is selected.
 */
public final class IceTransport implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(IceTransport.class);

    public enum State {
        /** Created; candidates and credentials can be exchanged. */
        NEW,
        /** Connectivity checks running (first time or ICE restart without a working pair). */
        CHECKING,
        /** A pair is selected: payload flows. */
        CONNECTED,
        /** Consent lost on the selected pair (RFC 7675 §5.1): nothing is sent any more; restart or close. */
        DISCONNECTED,
        /** Checks failed without any pair; restart or close. */
        FAILED,
        /** Closed: ports and threads released. */
        CLOSED
    }

    /** Local candidates found after {@link #localCandidates()} was read (trickle, RFC 8838 §4). */
    public interface CandidateListener {
        /** {@code candidate} is an SDP attribute value, {@code candidate:...}; {@code ufrag} tells its generation. */
        void onCandidate(String ufrag, String candidate);

        /** Gathering of that generation is over (SDP {@code a=end-of-candidates}). */
        void onEndOfCandidates(String ufrag);
    }

    private static final Map<State, Set<State>> TRANSITIONS = new EnumMap<>(State.class);

    static {
        TRANSITIONS.put(State.NEW, EnumSet.of(State.CHECKING, State.CLOSED));
        TRANSITIONS.put(State.CHECKING, EnumSet.of(State.CONNECTED, State.FAILED, State.CLOSED));
        // CONNECTED -> CHECKING: consent lost while an ICE restart is already checking.
        TRANSITIONS.put(State.CONNECTED, EnumSet.of(State.DISCONNECTED, State.CHECKING, State.CLOSED));
        TRANSITIONS.put(State.DISCONNECTED, EnumSet.of(State.CHECKING, State.CLOSED));
        TRANSITIONS.put(State.FAILED, EnumSet.of(State.CHECKING, State.CLOSED));
        TRANSITIONS.put(State.CLOSED, EnumSet.noneOf(State.class));
    }

    /** Where payload goes out: the selected pair's local socket and remote address. */
    private record Route(HostSocket socket, InetSocketAddress remote) {}

    private final IceConfig config;
    private final List<InetAddress> addresses;
    private final String name;
    /** Read the sockets of every generation. */
    private final UdpReceiveLoops loops;
    /** The loops when the constructor was given none (tests, tools): this transport's own, closed with it. */
    private final UdpReceiveLoops ownLoops;

    private final Object lock = new Object();
    /** Guarded by lock. */
    private State state = State.NEW;
    /** Guarded by lock: the generation credentials, candidates and start() apply to. */
    private IceGeneration newest;
    /** Guarded by lock: the generation whose selected pair carries payload; null before the first selection. */
    private IceGeneration active;
    /** Guarded by lock: counters of generations already closed. */
    private HostSocket.Counters retired = HostSocket.Counters.ZERO;
    /** Guarded by lock. */
    private int restarts;
    /** Guarded by lock. */
    private CandidateListener candidateListener;

    /** Read on every send; written under lock. */
    private volatile Route route;
    private volatile PacketHandler receiver;
    private final PacketSender sender = this::send;
    private final LongAdder droppedOut = new LongAdder();
    private final LongAdder droppedNoReceiver = new LongAdder();

    private final List<Consumer<State>> stateListeners = new CopyOnWriteArrayList<>();
    private final OrderedEvents events;
    private final IceGeneration.Events generationEvents = new GenerationEvents();

    /** As {@link #IceTransport(IceConfig, boolean, Executor)}, events delivered on ice4j's threads. */
    public IceTransport(IceConfig config, boolean controlling) throws IOException {
        this(config, controlling, null);
    }

    /** Tests and tools: the sockets are read by a receive thread of this transport's own. */
    public IceTransport(IceConfig config, boolean controlling, Executor events) throws IOException {
        this(config, controlling, events, null);
    }

    /**
     * Binds the host candidates (and their public-address mappings) of the first generation.
     *
     * @param controlling true when the gateway is the offerer (RFC 8445 §6.1.1 with a full agent on each side)
     * @param events      where state and candidate events run, in order (a serial executor); null: on ice4j's
     *                    threads
     * @param loops       the instance's receive loops, which read the sockets and run the receiver (shared with the
     *                    SIP side's RTP sockets); null: a loop thread of this transport's own
     * @throws IOException           no free port in the range on any local address
     * @throws IllegalStateException {@link IceSystemProperties#apply} has not run
     */
    public IceTransport(IceConfig config, boolean controlling, Executor events, UdpReceiveLoops loops)
            throws IOException {
        if (!IceSystemProperties.applied()) {
            throw new IllegalStateException("IceSystemProperties.apply(config) must run before the first IceTransport"
                    + " (otherwise ice4j starts with its defaults, including the AWS metadata probe)");
        }
        this.config = config;
        this.addresses = config.resolveLocalAddresses();
        this.ownLoops = loops == null ? new UdpReceiveLoops("ice-receive", 1) : null;
        this.loops = loops == null ? ownLoops : loops;
        IceGeneration first;
        try {
            first = new IceGeneration(0, config, addresses, controlling, generationEvents, this.loops);
        } catch (IOException | RuntimeException e) {
            if (ownLoops != null) {
                ownLoops.close();
            }
            throw e;
        }
        this.newest = first;
        this.name = "ice-" + first.localUfrag();
        this.events = new OrderedEvents(name, events);
        LOG.debug("{}: created, {} on {}", name, controlling ? "controlling" : "controlled", first.sockets());
    }

    public String localUfrag() {
        synchronized (lock) {
            return newest.localUfrag();
        }
    }

    public String localPassword() {
        synchronized (lock) {
            return newest.localPassword();
        }
    }

    /** SDP {@code candidate:} attribute values of the current generation, best first. */
    public List<String> localCandidates() {
        IceGeneration generation;
        synchronized (lock) {
            generation = newest;
        }
        List<String> lines = new ArrayList<>();
        for (LocalCandidate candidate : generation.localCandidates()) {
            lines.add(CandidateAttribute.of(candidate).format());
        }
        return lines;
    }

    /**
     * Gathers server-reflexive candidates from the configured STUN servers for this generation and every
     * later one (after {@link #restart}), reporting them to {@code listener}. Without STUN servers the
     * listener only gets end-of-candidates. Not calling this means no STUN traffic at all.
     */
    public void startGathering(CandidateListener listener) {
        IceGeneration generation;
        synchronized (lock) {
            requireOpen("startGathering");
            candidateListener = listener;
            generation = newest;
        }
        gather(generation, listener);
    }

    /**
     * The browser's {@code a=ice-ufrag} / {@code a=ice-pwd} (RFC 8839 §5.4). Changed credentials mean an ICE
     * restart (RFC 8445 §9): call {@link #restart} first.
     */
    public void setRemoteCredentials(String ufrag, String password) {
        checkIceChars("ice-ufrag", ufrag, 4);
        checkIceChars("ice-pwd", password, 22);
        synchronized (lock) {
            requireOpen("setRemoteCredentials");
            String current = newest.remoteUfrag();
            if (newest.started() && current != null && !current.equals(ufrag)) {
                throw new IllegalStateException("remote ICE credentials changed after start(): that is an ICE"
                        + " restart (RFC 8445 §9), call restart() first");
            }
            newest.setRemoteCredentials(ufrag, password);
        }
    }

    /**
     * Adds one remote candidate, before or after {@link #start()} (trickle). Accepts SDP lines with or without
     * {@code a=} and {@code candidate:}; an empty candidate or {@code a=end-of-candidates} means
     * {@link #endOfRemoteCandidates()}.
     *
     * @return true if ICE will check it; false if it is valid but unusable here: component 2 (we require
     *         rtcp-mux), TCP, a host name (mDNS {@code .local} names are never resolved: the browser's checks
     *         reach us anyway and ICE learns its address as peer-reflexive), an address ICE must not send to
     *         ({@link IceRemoteDeny}: counted), another generation's {@code ufrag}, or the transport is closed
     * @throws IllegalArgumentException the line is malformed; the message says where
     */
    public boolean addRemoteCandidate(String candidateAttribute) {
        if (CandidateAttribute.isEndOfCandidates(candidateAttribute)) {
            endOfRemoteCandidates();
            return false;
        }
        CandidateAttribute c = CandidateAttribute.parse(candidateAttribute);
        String skip = null;
        IceRemoteDeny.Reason refused = null;
        InetAddress address = c.ipAddress();
        if (c.component() != 1) {
            skip = "component " + c.component() + " (RTCP is muxed, RFC 8843 §9.3)";
        } else if (!c.transport().equals("udp")) {
            skip = "transport " + c.transport();
        } else if (address == null) {
            skip = "host name " + c.address() + " (not resolved)";
        } else if (c.port() == 0) {
            skip = "port 0";
        } else {
            refused = config.remoteDeny().refuses(address);
            if (refused != null) {
                skip = "address refused (" + refused.label() + ", gateway.media.ice-remote-deny)";
            }
        }
        IceGeneration generation;
        synchronized (lock) {
            if (state == State.CLOSED) {
                return false;
            }
            generation = newest;
            String remoteUfrag = generation.remoteUfrag();
            if (skip == null && c.ufrag() != null && remoteUfrag != null && !c.ufrag().equals(remoteUfrag)) {
                skip = "ufrag " + c.ufrag() + " of another generation (now " + remoteUfrag + ")";
            }
        }
        if (skip != null) {
            if (refused != null) {
                config.remoteDeny().countRefused(refused);
            }
            LOG.debug("{}: remote candidate ignored, {}: {}", name, skip, c);
            return false;
        }
        generation.addRemoteCandidate(c, address);
        return true;
    }

    /**
     * The browser has sent all its candidates of this generation (RFC 8838 §8.2). Only logged: ice4j 3.2 has
     * no use for it, checks fail by their own timers (a generation without any candidate pair stays CHECKING
     * until the caller's own setup timeout).
     */
    public void endOfRemoteCandidates() {
        LOG.debug("{}: end of remote candidates", name);
    }

    /** Starts connectivity checks of the current generation; needs the remote credentials. Idempotent. */
    public void start() {
        IceGeneration generation;
        List<Runnable> effects = new ArrayList<>();
        synchronized (lock) {
            requireOpen("start");
            generation = newest;
            if (generation.remoteUfrag() == null) {
                throw new IllegalStateException("start() before setRemoteCredentials(): ICE checks need the"
                        + " remote ufrag and password");
            }
            if (state == State.NEW || state == State.DISCONNECTED || state == State.FAILED) {
                transition(State.CHECKING, effects);
            }
        }
        post(effects);
        generation.start();
    }

    /**
     * ICE restart (RFC 8445 §9): a new generation with new local credentials and new ports; the remote side's
     * new credentials and candidates go to it, then {@link #start()}. Payload keeps flowing on the previous
     * pair until the new one is selected. Call it when the browser's offer has a new ufrag, or to restart
     * from the gateway (then offer the new credentials).
     *
     * @param controlling the role for the new generation (the offerer of the restart controls)
     * @throws IOException no free port for the new generation; the current one is left as it was
     */
    public void restart(boolean controlling) throws IOException {
        int index;
        synchronized (lock) {
            requireOpen("restart");
            index = newest.index + 1;
        }
        IceGeneration fresh = new IceGeneration(index, config, addresses, controlling, generationEvents, loops);
        List<IceGeneration> obsolete = new ArrayList<>();
        CandidateListener listener;
        synchronized (lock) {
            if (state == State.CLOSED) {
                obsolete.add(fresh);
                listener = null;
            } else {
                if (newest != active) {
                    obsolete.add(newest);
                }
                if (active != null && active.consentLost()) {
                    obsolete.add(active);
                    active = null;
                }
                newest = fresh;
                restarts++;
                listener = candidateListener;
            }
            for (IceGeneration generation : obsolete) {
                retire(generation);
            }
        }
        obsolete.forEach(IceGeneration::close);
        if (fresh.isClosed()) {
            throw new IllegalStateException("restart() on a closed IceTransport");
        }
        LOG.info("{}: ICE restart, generation {} ({})", name, index, fresh.localUfrag());
        if (listener != null) {
            gather(fresh, listener);
        }
    }

    /** Listeners get every state change, in order (see the class comment for the thread). */
    public void onStateChange(Consumer<State> listener) {
        stateListeners.add(listener);
    }

    public State state() {
        synchronized (lock) {
            return state;
        }
    }

    /**
     * Every DTLS, SRTP and SRTCP datagram (RFC 7983 first byte) from the selected remote address, on the reader
     * thread of the socket. STUN never reaches it. Null: datagrams are dropped and counted.
     */
    public void setReceiver(PacketHandler handler) {
        this.receiver = handler;
    }

    /** Sends to the selected remote address; before a pair is selected, or after consent is lost, drops and counts. */
    public PacketSender sender() {
        return sender;
    }

    public IceStats stats() {
        State s;
        int r;
        long noReceiver = droppedNoReceiver.sum();
        HostSocket.Counters total;
        IceGeneration current;
        List<IceGeneration> live = new ArrayList<>(2);
        synchronized (lock) {
            s = state;
            r = restarts;
            total = retired;
            current = active;
            if (newest != null && !newest.isClosed()) {
                live.add(newest);
            }
            if (active != null && active != newest && !active.isClosed()) {
                live.add(active);
            }
        }
        for (IceGeneration generation : live) {
            total = total.plus(generation.counters());
        }
        CandidatePair pair = current == null || s == State.CLOSED ? null : current.selectedPair();
        InetSocketAddress local = null;
        InetSocketAddress remote = null;
        String localType = null;
        String remoteType = null;
        if (pair != null) {
            TransportAddress l = pair.getLocalCandidate().getTransportAddress();
            local = new InetSocketAddress(l.getAddress(), l.getPort());
            remote = current.selectedRemote();
            localType = pair.getLocalCandidate().getType().toString();
            remoteType = pair.getRemoteCandidate().getType().toString();
        }
        return new IceStats(s, local, localType, remote, remoteType, total.packetsIn(), total.bytesIn(),
                total.packetsOut(), total.bytesOut(), total.droppedIn() + noReceiver,
                droppedOut.sum() + total.sendErrors(), total.receiverErrors(), total.stunIn(), r);
    }

    /** Frees every port and ice4j thread of this transport; idempotent, whatever the state. */
    @Override
    public void close() {
        List<Runnable> effects = new ArrayList<>();
        List<IceGeneration> generations = new ArrayList<>(2);
        synchronized (lock) {
            if (state == State.CLOSED) {
                return;
            }
            transition(State.CLOSED, effects);
            route = null;
            generations.add(newest);
            if (active != null && active != newest) {
                generations.add(active);
            }
            for (IceGeneration generation : generations) {
                retire(generation);
            }
        }
        generations.forEach(IceGeneration::close);
        if (ownLoops != null) {
            ownLoops.close();
        }
        post(effects);
    }

    @Override
    public String toString() {
        return name;
    }

    /** The generations alive now (tests). */
    List<IceGeneration> generations() {
        synchronized (lock) {
            List<IceGeneration> list = new ArrayList<>(2);
            if (!newest.isClosed()) {
                list.add(newest);
            }
            if (active != null && active != newest && !active.isClosed()) {
                list.add(active);
            }
            return Collections.unmodifiableList(list);
        }
    }

    // ---- packet path

    private void send(byte[] buf, int off, int len) {
        Route r = route;
        if (r == null) {
            droppedOut.increment();
            return;
        }
        r.socket().sendPayload(buf, off, len, r.remote());
    }

    private void deliver(byte[] buf, int off, int len) {
        PacketHandler handler = receiver;
        if (handler == null) {
            droppedNoReceiver.increment();
            return;
        }
        handler.onPacket(buf, off, len);
    }

    // ---- events from the generations (ice4j threads)

    private final class GenerationEvents implements IceGeneration.Events {
        @Override
        public void selected(IceGeneration generation) {
            onSelected(generation);
        }

        @Override
        public void checksFailed(IceGeneration generation) {
            onChecksFailed(generation);
        }

        @Override
        public void consentLost(IceGeneration generation) {
            onConsentLost(generation);
        }

        @Override
        public void deliver(byte[] buf, int off, int len) {
            IceTransport.this.deliver(buf, off, len);
        }
    }

    private void onSelected(IceGeneration generation) {
        List<Runnable> effects = new ArrayList<>();
        IceGeneration previous = null;
        synchronized (lock) {
            if (state == State.CLOSED || generation.isClosed() || generation != newest) {
                return;
            }
            previous = active;
            active = generation;
            route = new Route(generation.selectedSocket(), generation.selectedRemote());
            if (previous == generation) {
                previous = null;
            } else if (previous != null) {
                retire(previous);
            }
            transition(State.CONNECTED, effects);
        }
        LOG.info("{}: selected {} (generation {})", name, generation.selectedPair().toShortString(), generation.index);
        if (previous != null) {
            previous.close();
        }
        post(effects);
    }

    private void onChecksFailed(IceGeneration generation) {
        List<Runnable> effects = new ArrayList<>();
        boolean keepPrevious = false;
        synchronized (lock) {
            if (state == State.CLOSED || generation.isClosed() || generation != newest) {
                return;
            }
            if (active != null && active != generation && !active.consentLost()) {
                // A failed restart leaves the old pair in place while it keeps consent.
                keepPrevious = true;
                retire(generation);
            } else {
                transition(State.FAILED, effects);
            }
        }
        if (keepPrevious) {
            LOG.warn("{}: ICE restart (generation {}) failed; keeping the previous pair", name, generation.index);
            generation.close();
        }
        post(effects);
    }

    private void onConsentLost(IceGeneration generation) {
        List<Runnable> effects = new ArrayList<>();
        synchronized (lock) {
            if (state == State.CLOSED || generation != active) {
                return;
            }
            // RFC 7675 §5.1: stop sending on that pair at once.
            route = null;
            boolean restarting = newest != generation && newest.started() && !newest.isClosed();
            transition(restarting ? State.CHECKING : State.DISCONNECTED, effects);
        }
        post(effects);
    }

    // ---- helpers

    /** Under lock: moves to {@code to} if the table allows it, and queues the notification. */
    private void transition(State to, List<Runnable> effects) {
        State from = state;
        if (from == to) {
            return;
        }
        if (!TRANSITIONS.get(from).contains(to)) {
            LOG.warn("{}: ignoring {} -> {}", name, from, to);
            return;
        }
        state = to;
        LOG.info("{}: {} -> {}", name, from, to);
        effects.add(() -> {
            for (Consumer<State> listener : stateListeners) {
                try {
                    listener.accept(to);
                } catch (RuntimeException e) {
                    LOG.warn("{}: state listener failed on {}", name, to, e);
                }
            }
        });
    }

    /** Under lock: keeps a generation's counters before it is closed. */
    private void retire(IceGeneration generation) {
        if (!generation.isClosed()) {
            retired = retired.plus(generation.counters());
        }
    }

    private void requireOpen(String what) {
        if (state == State.CLOSED) {
            throw new IllegalStateException(what + "() on a closed IceTransport");
        }
    }

    private void gather(IceGeneration generation, CandidateListener listener) {
        String ufrag = generation.localUfrag();
        ServerReflexiveGathering.start(generation.component(), generation.agent().getStunStack(), config.stunServers(),
                candidate -> {
                    if (!generation.isClosed()) {
                        String line = CandidateAttribute.of(candidate).format();
                        post(List.of(() -> listener.onCandidate(ufrag, line)));
                    }
                },
                () -> {
                    if (!generation.isClosed()) {
                        post(List.of(() -> listener.onEndOfCandidates(ufrag)));
                    }
                });
    }

    private void post(List<Runnable> effects) {
        events.post(effects);
    }

    private static void checkIceChars(String what, String value, int min) {
        if (value == null || value.length() < min || value.length() > 256
                || !value.chars().allMatch(c -> (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
                        || (c >= '0' && c <= '9') || c == '+' || c == '/')) {
            throw new IllegalArgumentException(what + " must be " + min + "-256 ICE characters (RFC 8839 §5.4), not \""
                    + (value == null ? null : value.length() > 40 ? value.substring(0, 40) + "..." : value) + "\"");
        }
    }
}
