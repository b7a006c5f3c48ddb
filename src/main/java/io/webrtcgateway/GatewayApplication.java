package io.webrtcgateway;

import io.webrtcgateway.auth.AccessControl;
import io.webrtcgateway.call.CallService;
import io.webrtcgateway.cluster.AffinityCookie;
import io.webrtcgateway.cluster.Admission;
import io.webrtcgateway.cluster.Readiness;
import io.webrtcgateway.concurrent.ExecutorWatchdog;
import io.webrtcgateway.config.GatewayConfig;
import io.webrtcgateway.config.SipServerAddress;
import io.webrtcgateway.edge.http.ClientAddress;
import io.webrtcgateway.media.MediaEngine;
import io.webrtcgateway.metrics.GatewayMetrics;
import io.webrtcgateway.session.SessionService;
import io.webrtcgateway.sip.CallSignaling;
import io.webrtcgateway.sip.RegistrationClient;
import io.webrtcgateway.sip.SipEndpoint;
import io.webrtcgateway.sip.SipServerPool;
import io.webrtcgateway.sip.sandbox.SandboxSipServer;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The gateway's parts, wired and started in order and stopped in reverse. One instance per deployed WAR;
 * no static mutable state, so a redeploy starts clean. Thread pools are owned here and shut down in
 * {@link #stop()}.
 */
public final class GatewayApplication {
    private static final Logger LOG = LoggerFactory.getLogger(GatewayApplication.class);

    private final GatewayConfig config;
    private final Instant startedAt = Instant.now();
    private final Admission admission = new Admission();
    private final AffinityCookie affinityCookie;
    private final ClientAddress clientAddress;
    private ScheduledExecutorService timers;
    private ThreadPoolExecutor workers;
    /** Measures how late gw-worker, gw-timer and the actors run; on its own thread, gw-watchdog. */
    private ExecutorWatchdog watchdog;
    /** PBKDF2 for admin logins: few threads, a bounded queue, refuses when full (admin.AdminAuthenticator). */
    private ThreadPoolExecutor adminHashing;
    private SandboxSipServer sandbox;
    private SipEndpoint sip;
    private SipServerPool servers;
    private RegistrationClient registrations;
    private SessionService sessions;
    private Readiness readiness;
    private GatewayMetrics metrics;
    private CallService calls;
    private MediaEngine media;
    private AccessControl access;

    public GatewayApplication(GatewayConfig config) {
        this.config = config;
        this.affinityCookie = new AffinityCookie(config.cluster().affinityCookie(), config.instanceId());
        this.clientAddress = new ClientAddress(config.http().trustedProxies());
    }

    public void start() throws Exception {
        LOG.info("starting WebRTC Gateway instance {}", config.instanceId());
        metrics = new GatewayMetrics(config.instanceId());
        ScheduledThreadPoolExecutor t = new ScheduledThreadPoolExecutor(1, named("gw-timer"));
        t.setRemoveOnCancelPolicy(true); // refresh timers are cancelled often; don't let them pile up
        timers = t;
        int workerThreads = Math.max(2, Runtime.getRuntime().availableProcessors());
        workers = new ThreadPoolExecutor(workerThreads, workerThreads, 0, TimeUnit.MILLISECONDS, new LinkedBlockingQueue<>(),
                named("gw-worker"));
        GatewayConfig.LoginThrottle throttle = config.admin().loginThrottle();
        adminHashing = new ThreadPoolExecutor(throttle.hashThreads(), throttle.hashThreads(), 0, TimeUnit.SECONDS,
                new ArrayBlockingQueue<>(throttle.hashQueue()), named("gw-admin-hash"), new ThreadPoolExecutor.AbortPolicy());

        List<SipServerAddress> resolved = new ArrayList<>();
        for (SipServerAddress s : config.sip().servers()) {
            if (s.sandbox()) {
                if (sandbox == null) {
                    sandbox = new SandboxSipServer(config.sip().sandboxListen());
                    sandbox.start();
                    LOG.warn("sandbox SIP server running on {}: demo/development only, it accepts every REGISTER",
                            sandbox.address());
                }
                resolved.add(s.withAddress(sandbox.address()));
            } else {
                resolved.add(s);
            }
        }
        sip = new SipEndpoint(config.sip(), config.instanceId(), metrics.registry());
        sip.start(resolved); // requests are taken from these (and gateway.sip.trusted-sources) only
        servers = new SipServerPool(sip, config.sip(), resolved, timers, metrics.registry());
        registrations = new RegistrationClient(sip, servers, config.sip(), timers, workers, metrics.registry());
        sip.onRequest("OPTIONS", event -> sip.reply(event, 200));
        servers.start();
        access = new AccessControl(config.auth(), config.calls().dialPlan(), java.time.Clock.systemUTC(),
                metrics.registry());
        warnWhenOpen();
        sessions = new SessionService(config, registrations, timers, admission, metrics.registry(), access);
        sessions.start();
        media = new MediaEngine(config.media(), config.limits().inputs(), config.sip().srtp(), sipMediaAddress(),
                sipBindAddress(), workers,
                metrics.registry());
        calls = new CallService(config, new CallSignaling(sip, config.sip(), servers, timers,
                (int) config.calls().sessionTimers().sessionExpires().toSeconds(),
                (int) config.calls().sessionTimers().minSe().toSeconds()), registrations, sessions,
                media, workers, timers, metrics.registry());
        watchdog = new ExecutorWatchdog(config.health().stuckAfter(), io.micrometer.core.instrument.Clock.SYSTEM);
        watchdog.watchPool("gw-worker", workers, () -> workers.getQueue().size());
        watchdog.watchPool("gw-timer", timers, null); // its queue holds every future timer: no backlog to count
        watchdog.watchActors(calls.actors(), "gw-worker");
        watchdog.watchActors(registrations.actors(), "gw-worker");
        watchdog.bindTo(metrics.registry());
        watchdog.start(named("gw-watchdog"));
        readiness = new Readiness(config, admission, servers, sessions, watchdog, metrics.registry());
        LOG.info("instance {} started", config.instanceId());
    }

    /**
     * Graceful shutdown, in this order (docs/deployment.md):
     * <ol>
     *   <li>drain: refuse new sessions; /health/ready and /health/lb answer 503, so load balancers stop
     *       sending anything here; end the calls in progress (BYE/CANCEL toward SIP Server);</li>
     *   <li>un-REGISTER every DN, waiting up to gateway.cluster.shutdown-timeout for SIP Server, so it stops
     *       routing calls here;</li>
     *   <li>only then tell browsers to reconnect: their new REGISTER through another instance comes after
     *       our un-REGISTER, so even a registrar that keeps one contact per DN and ignores which Contact an
     *       un-REGISTER names cannot drop the new binding;</li>
     *   <li>release the SIP stack, timers and threads.</li>
     * </ol>
     */
    public void stop() {
        LOG.info("stopping instance {}", config.instanceId());
        admission.stopping();
        if (calls != null) {
            calls.terminateAll();
        }
        if (sessions != null) {
            sessions.close();
        }
        if (registrations != null) {
            registrations.unregisterAll(config.cluster().shutdownTimeout());
        }
        if (sessions != null) {
            sessions.announceShutdown();
        }
        if (servers != null) {
            servers.close();
        }
        // The sandbox's SIP stack stops beside ours: JAIN-SIP sleeps a second in each stack's stop.
        Thread sandboxStop = null;
        if (sandbox != null) {
            SandboxSipServer s = sandbox;
            sandboxStop = new Thread(s::close, "gw-sandbox-stop");
            sandboxStop.start();
        }
        if (sip != null) {
            sip.close();
        }
        if (media != null) {
            media.close();
        }
        if (sandboxStop != null) {
            try {
                sandboxStop.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        if (watchdog != null) {
            watchdog.close();
        }
        shutdown(timers);
        shutdown(workers);
        shutdown(adminHashing);
        if (metrics != null) {
            metrics.close();
        }
        LOG.info("instance {} stopped", config.instanceId());
    }

    /**
     * none mode lets any browser register any DN the SIP Server accepts: fine for the sandbox demo on this machine,
     * worth a warning as soon as the gateway listens beyond loopback.
     */
    private void warnWhenOpen() {
        if (config.auth().tokens()) {
            LOG.info("browsers sign in with tokens (gateway.auth.mode = token)");
            return;
        }
        String host = config.http().host();
        boolean loopbackOnly = host.equals("localhost") || host.startsWith("127.") || host.equals("::1")
                || host.equals("[::1]");
        if (!loopbackOnly) {
            LOG.warn("gateway.auth.mode = none and the HTTP listener is on {}: any browser that reaches it can register"
                    + " any DN{}; set gateway.auth.token.* (docs/configuration.md, Tokens)", host,
                    config.sip().usesSandbox() ? " of the sandbox" : " that SIP Server accepts without a password");
        }
    }

    public AccessControl access() {
        return access;
    }

    /** Where SIP Server sends RTP: the media public address, else the SIP one, else the detected one. */
    private String sipMediaAddress() {
        String pub = config.sip().publicAddress();
        if (!pub.isEmpty()) {
            return io.webrtcgateway.config.HostPort.parse(pub, 0).host();
        }
        return sip.advertisedHost();
    }

    private java.net.InetAddress sipBindAddress() throws java.net.UnknownHostException {
        return java.net.InetAddress.getByName(config.sip().listen().host());
    }

    private static void shutdown(ExecutorService pool) {
        if (pool == null) {
            return;
        }
        pool.shutdownNow();
        try {
            pool.awaitTermination(2, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static ThreadFactory named(String prefix) {
        AtomicInteger n = new AtomicInteger();
        return r -> {
            Thread th = new Thread(r, prefix + "-" + n.incrementAndGet());
            th.setDaemon(true);
            return th;
        };
    }

    public GatewayConfig config() {
        return config;
    }

    public Instant startedAt() {
        return startedAt;
    }

    public Admission admission() {
        return admission;
    }

    public AffinityCookie affinityCookie() {
        return affinityCookie;
    }

    /** Who an HTTP request or WebSocket comes from (X-Forwarded-For believed from gateway.http.trusted-proxies only). */
    public ClientAddress clientAddress() {
        return clientAddress;
    }

    /** The call core, or null while this build serves no calls. */
    public CallService calls() {
        return calls;
    }

    /** The media resources (DTLS certificate, ports), or null before start. */
    public MediaEngine media() {
        return media;
    }

    public SessionService sessions() {
        return sessions;
    }

    public RegistrationClient registrations() {
        return registrations;
    }

    public SipServerPool servers() {
        return servers;
    }

    public Readiness readiness() {
        return readiness;
    }

    public GatewayMetrics metrics() {
        return metrics;
    }

    /**
     * Where admin password hashes are computed; throws RejectedExecutionException when its threads and its
     * queue (gateway.admin.login-throttle.hash-threads, hash-queue) are all taken.
     */
    public Executor adminHashing() {
        return adminHashing;
    }

    public ScheduledExecutorService timers() {
        return timers;
    }

    public SandboxSipServer sandbox() {
        return sandbox;
    }

    public String version() {
        String v = GatewayApplication.class.getPackage().getImplementationVersion();
        return v == null ? "dev" : v;
    }
}
