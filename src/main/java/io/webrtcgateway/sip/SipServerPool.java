package io.webrtcgateway.sip;

import io.webrtcgateway.config.GatewayConfig;
import io.webrtcgateway.config.SipServerAddress;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import javax.sip.ClientTransaction;
import javax.sip.ResponseEvent;
import javax.sip.address.SipURI;
import javax.sip.header.CSeqHeader;
import javax.sip.header.CallIdHeader;
import javax.sip.header.FromHeader;
import javax.sip.header.MaxForwardsHeader;
import javax.sip.header.ToHeader;
import javax.sip.header.ViaHeader;
import javax.sip.message.Request;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The configured SIP Servers, primary first, and which one is in use. Every server is probed with OPTIONS
 * every {@code keepalive-interval} (with jitter so instances don't probe in step); any response means
 * reachable. After {@code keepalive-failures} missed probes a server is down. The active server is the
 * first reachable one in configured order, so the gateway moves to a backup when the primary fails and
 * back when it answers again. Listeners hear about every change of the active server.
 */
public final class SipServerPool implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(SipServerPool.class);

    /** Per-server probe state; fields are written only by the pool's probe callbacks, under the pool lock. */
    public static final class Server {
        final SipServerAddress address;
        /** Guarded by the pool. */
        boolean reachable;
        /** Guarded by the pool. */
        int missed;
        /** Guarded by the pool. */
        long lastAnswerMillis;
        /** Guarded by the pool. */
        int lastStatus;
        /** Guarded by the pool: a probe in flight, so a slow server is not probed twice at once. */
        boolean probing;

        Server(SipServerAddress address) {
            this.address = address;
        }
    }

    /**
     * What health and admin report about one server; {@code problem}: why the gateway's last TLS connection to it
     * failed (its certificate for another name, an untrusted CA, ...), null when none.
     */
    public record ServerState(String address, boolean reachable, boolean active, long lastAnswerMillis, int lastStatus,
                              String problem) {}

    private final SipEndpoint sip;
    private final GatewayConfig.Sip config;
    private final ScheduledExecutorService timers;
    private final List<Server> servers = new ArrayList<>();
    private final List<Consumer<SipServerAddress>> activeListeners = new CopyOnWriteArrayList<>();
    /** Guarded by this. Null when no server is reachable. */
    private Server active;
    private volatile boolean probedOnce;
    private ScheduledFuture<?> probeTask;

    public SipServerPool(SipEndpoint sip, GatewayConfig.Sip config, List<SipServerAddress> resolved,
                         ScheduledExecutorService timers, MeterRegistry meters) {
        this.sip = sip;
        this.config = config;
        this.timers = timers;
        for (SipServerAddress a : resolved) {
            Server server = new Server(a);
            servers.add(server);
            Gauge.builder("gateway.sip.server.reachable", this, pool -> pool.isReachable(server) ? 1 : 0)
                    .description("1 while the SIP Server answers OPTIONS keepalives, else 0")
                    .tag("server", a.toString())
                    .register(meters);
            Gauge.builder("gateway.sip.server.active", this, pool -> pool.isActive(server) ? 1 : 0)
                    .description("1 for the SIP Server new requests go to, else 0")
                    .tag("server", a.toString())
                    .register(meters);
        }
        // Until the first probes answer, assume the primary works: a request sent to it fails fast anyway.
        Server primary = servers.get(0);
        primary.reachable = true;
        active = primary;
    }

    public void start() {
        long intervalMs = config.keepaliveInterval().toMillis();
        probeAll();
        probeTask = timers.scheduleWithFixedDelay(this::probeAll,
                intervalMs + ThreadLocalRandom.current().nextLong(Math.max(1, intervalMs / 10)),
                intervalMs, TimeUnit.MILLISECONDS);
    }

    /** The SIP Server to send new requests to, or null when none is reachable. */
    public synchronized SipServerAddress active() {
        return active == null ? null : active.address;
    }

    /** True once a probe answered from the active server (used by readiness). */
    public synchronized boolean activeConfirmed() {
        return active != null && active.lastAnswerMillis > 0;
    }

    private synchronized boolean isReachable(Server s) {
        return s.reachable;
    }

    private synchronized boolean isActive(Server s) {
        return s == active;
    }

    public boolean probedOnce() {
        return probedOnce;
    }

    public void onActiveChanged(Consumer<SipServerAddress> listener) {
        activeListeners.add(listener);
    }

    public synchronized List<ServerState> states() {
        List<ServerState> out = new ArrayList<>();
        for (Server s : servers) {
            out.add(new ServerState(s.address.toString(), s.reachable, s == active, s.lastAnswerMillis, s.lastStatus,
                    sip.tlsProblem(s.address)));
        }
        return out;
    }

    /** A request to {@code address} got no answer: count it like a missed probe. */
    public void reportNoAnswer(SipServerAddress address) {
        for (Server s : servers) {
            if (s.address.equals(address)) {
                missed(s, true);
            }
        }
    }

    private void probeAll() {
        sip.refreshServerAddresses(); // the source check follows the servers' DNS names (in the background)
        for (Server s : servers) {
            synchronized (this) {
                if (s.probing) {
                    continue;
                }
                s.probing = true;
            }
            probe(s);
        }
    }

    private void probe(Server server) {
        SipServerAddress a = server.address;
        try {
            SipURI target = sip.addresses().createSipURI(null, a.address().host());
            target.setPort(a.address().port());
            target.setTransportParam(a.transport());
            SipURI self = sip.addresses().createSipURI("gateway", sip.advertisedHost());
            self.setPort(sip.advertisedPort(a.transport()));
            FromHeader from = sip.headers().createFromHeader(sip.addresses().createAddress(self), SipEndpoint.randomHex(4));
            ToHeader to = sip.headers().createToHeader(sip.addresses().createAddress(target), null);
            CallIdHeader callId = sip.headers().createCallIdHeader(sip.newCallId());
            CSeqHeader cseq = sip.headers().createCSeqHeader(1L, Request.OPTIONS);
            MaxForwardsHeader mf = sip.headers().createMaxForwardsHeader(70);
            ViaHeader via = sip.headers().createViaHeader(sip.advertisedHost(), sip.advertisedPort(a.transport()), a.transport(), null);
            Request options = sip.messages().createRequest(target, Request.OPTIONS, callId, cseq, from, to,
                    List.of(via), mf);
            options.addHeader(sip.headers().createUserAgentHeader(List.of(sip.userAgent())));
            ProbeHandler handler = new ProbeHandler(server);
            ClientTransaction ct = sip.send(options, a.transport(), handler);
            handler.timeout = timers.schedule(() -> {
                if (handler.fail("no answer within " + config.requestTimeout().toMillis() + " ms")) {
                    sip.countNoAnswer(Request.OPTIONS);
                }
                try {
                    ct.terminate();
                } catch (Exception ignored) {
                    // already terminated
                }
            }, Math.min(config.requestTimeout().toMillis(), config.keepaliveInterval().toMillis()), TimeUnit.MILLISECONDS);
        } catch (Exception e) {
            LOG.debug("OPTIONS to {} failed: {}", a, e.toString());
            synchronized (this) {
                server.probing = false;
            }
            missed(server, false);
        }
    }

    private final class ProbeHandler implements ClientTransactionHandler {
        private final Server server;
        volatile ScheduledFuture<?> timeout;
        private boolean done; // guarded by SipServerPool.this

        ProbeHandler(Server server) {
            this.server = server;
        }

        @Override
        public void onResponse(ResponseEvent event) {
            int status = event.getResponse().getStatusCode();
            if (status < 200) {
                return;
            }
            synchronized (SipServerPool.this) {
                if (done) {
                    return;
                }
                done = true;
                server.probing = false;
            }
            if (timeout != null) {
                timeout.cancel(false);
            }
            answered(server, status);
        }

        @Override
        public void onFailure(String why) {
            fail(why);
        }

        /** True if this ended the probe (false: it had already ended). */
        boolean fail(String why) {
            synchronized (SipServerPool.this) {
                if (done) {
                    return false;
                }
                done = true;
                server.probing = false;
            }
            if (timeout != null) {
                timeout.cancel(false);
            }
            LOG.debug("OPTIONS to {}: {}", server.address, why);
            missed(server, false);
            return true;
        }
    }

    private void answered(Server server, int status) {
        boolean wasDown;
        synchronized (this) {
            wasDown = !server.reachable;
            server.reachable = true;
            server.missed = 0;
            server.lastAnswerMillis = System.currentTimeMillis();
            server.lastStatus = status;
        }
        probedOnce = true;
        if (wasDown) {
            LOG.info("SIP Server {} is reachable again", server.address);
        }
        recomputeActive();
    }

    private void missed(Server server, boolean fromRequest) {
        boolean nowDown = false;
        synchronized (this) {
            server.missed++;
            // A request that got no answer marks the server down at once: the user is waiting.
            if (server.reachable && (fromRequest || server.missed >= config.keepaliveFailures())) {
                server.reachable = false;
                nowDown = true;
            }
        }
        probedOnce = true;
        if (nowDown) {
            String tls = sip.tlsProblem(server.address);
            if (tls != null) {
                LOG.warn("SIP Server {} is unreachable: TLS refused: {}", server.address, tls);
            } else {
                LOG.warn("SIP Server {} is unreachable", server.address);
            }
        }
        recomputeActive();
    }

    private void recomputeActive() {
        SipServerAddress changedTo;
        synchronized (this) {
            Server next = null;
            for (Server s : servers) {
                if (s.reachable) {
                    next = s;
                    break;
                }
            }
            if (next == active) {
                return;
            }
            active = next;
            changedTo = next == null ? null : next.address;
        }
        LOG.warn("active SIP Server is now {}", changedTo == null ? "none (all unreachable)" : changedTo);
        for (Consumer<SipServerAddress> l : activeListeners) {
            try {
                l.accept(changedTo);
            } catch (RuntimeException e) {
                LOG.error("active-server listener failed", e);
            }
        }
    }

    @Override
    public void close() {
        if (probeTask != null) {
            probeTask.cancel(false);
        }
    }
}
