package io.webrtcgateway.sip;

import io.webrtcgateway.config.GatewayConfig;
import io.webrtcgateway.config.SipServerAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
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
 * Registers DNs with the active SIP Server: one {@link Registration} per DN on this instance, whoever holds
 * it. No thread per registration: each is a serial actor on the shared worker pool, with timers on one
 * scheduler.
 */
public final class RegistrationClient {
    private static final Logger LOG = LoggerFactory.getLogger(RegistrationClient.class);

    private final SipEndpoint sip;
    private final SipServerPool servers;
    private final GatewayConfig.Sip config;
    private final ScheduledExecutorService timers;
    private final ExecutorService workers;
    private final SipAddressing addressing;
    private final Map<String, Registration> byDn = new ConcurrentHashMap<>();

    public RegistrationClient(SipEndpoint sip, SipServerPool servers, GatewayConfig.Sip config,
                              ScheduledExecutorService timers, ExecutorService workers) {
        this.sip = sip;
        this.servers = servers;
        this.config = config;
        this.timers = timers;
        this.workers = workers;
        this.addressing = new SipAddressing(sip, config);
        servers.onActiveChanged(active -> {
            if (active != null) {
                byDn.values().forEach(r -> r.moveTo(active));
            }
        });
    }

    /** The registration of {@code dn} on this instance, if any (incoming calls find their session here). */
    public Registration find(String dn) {
        return byDn.get(dn);
    }

    /**
     * Registers {@code dn}; completes with the registration after SIP Server's 200 OK, or exceptionally
     * with a {@link io.webrtcgateway.error.GatewayException}. If this instance already holds the DN, the
     * caller takes it over once SIP Server accepted its credentials.
     */
    public CompletableFuture<Registration> register(String dn, String password, RegistrationListener listener,
                                                    Object owner) {
        Registration fresh = new Registration(this, dn);
        Registration existing = byDn.putIfAbsent(dn, fresh);
        if (existing != null) {
            return existing.takeOver(password, listener, owner);
        }
        return fresh.start(password, listener, owner);
    }

    public CompletableFuture<Void> unregister(Registration registration) {
        return registration.unregister();
    }

    public Collection<Registration> all() {
        return List.copyOf(byDn.values());
    }

    public int count() {
        return byDn.size();
    }

    /** Un-registers every DN (graceful shutdown), waiting at most {@code timeout} for SIP Server. */
    public void unregisterAll(Duration timeout) {
        List<CompletableFuture<Void>> all = new ArrayList<>();
        for (Registration r : byDn.values()) {
            all.add(r.unregister());
        }
        if (all.isEmpty()) {
            return;
        }
        LOG.info("un-registering {} DNs", all.size());
        try {
            CompletableFuture.allOf(all.toArray(CompletableFuture[]::new)).get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (Exception e) {
            LOG.warn("not every un-REGISTER was answered within {}: {}", timeout, e.toString());
        }
    }

    void forget(Registration r) {
        byDn.remove(r.dn(), r);
    }

    Request buildRegister(Registration r, SipServerAddress target, long cseq, int expires) throws Exception {
        SipURI aor = addressing.aor(r.dn(), target);
        FromHeader from = sip.headers().createFromHeader(sip.addresses().createAddress(aor), r.fromTag());
        ToHeader to = sip.headers().createToHeader(sip.addresses().createAddress(aor), null);
        CallIdHeader callId = sip.headers().createCallIdHeader(r.callId());
        CSeqHeader cs = sip.headers().createCSeqHeader(cseq, Request.REGISTER);
        MaxForwardsHeader mf = sip.headers().createMaxForwardsHeader(70);
        ViaHeader via = sip.headers().createViaHeader(sip.advertisedHost(), sip.advertisedPort(), target.transport(), null);
        Request request = sip.messages().createRequest(addressing.requestUri(null, target), Request.REGISTER, callId,
                cs, from, to, List.of(via), mf);
        addressing.routeTo(request, target);
        request.addHeader(addressing.contact(r.dn(), target.transport()));
        request.addHeader(sip.headers().createExpiresHeader(expires));
        request.addHeader(sip.headers().createUserAgentHeader(List.of(sip.userAgent())));
        request.addHeader(sip.headers().createAllowHeader(SipEndpoint.ALLOW));
        return request;
    }

    SipEndpoint sip() {
        return sip;
    }

    SipServerPool servers() {
        return servers;
    }

    GatewayConfig.Sip config() {
        return config;
    }

    ScheduledExecutorService timers() {
        return timers;
    }

    ExecutorService workers() {
        return workers;
    }
}
