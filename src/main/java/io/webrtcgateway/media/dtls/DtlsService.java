package io.webrtcgateway.media.dtls;

import io.webrtcgateway.media.PacketSender;
import io.webrtcgateway.media.srtp.SrtpProfile;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.bouncycastle.tls.crypto.impl.bc.BcTlsCrypto;

/**
 * The instance's DTLS machinery, owned by the application lifecycle: the certificate, the bounded pool the
 * blocking bctls handshakes run on, the timer for handshake timeouts, and the counters. Makes one
 * {@link DtlsTransport} per call leg.
 *
 * <p>Threading: bctls handshakes block a thread for their whole length (a few round trips). They run on at
 * most {@code maxConcurrentHandshakes} threads; more wait in a queue of {@code queueCapacity} (their
 * datagrams wait in each transport's own bounded queue, and the peer retransmits), beyond that a transport
 * fails with {@link DtlsFailure.Reason#OVERLOADED}. After completion a transport holds no thread: a late
 * DTLS datagram (the peer retransmitting its last flight, an alert) is processed by a short task on the same
 * pool. Idle pool threads exit after 30 s.
 */
public final class DtlsService implements AutoCloseable {
    private final DtlsCertificate certificate;
    private final Duration handshakeTimeout;
    private final ThreadPoolExecutor handshakes;
    private final ScheduledThreadPoolExecutor timer;
    private final BcTlsCrypto crypto = new BcTlsCrypto(new SecureRandom());
    private final DtlsCounters counters = new DtlsCounters();
    private final List<SrtpProfile> srtpProfiles;

    /** With both SRTP profiles, _80 preferred: it is the one every WebRTC endpoint implements. */
    public DtlsService(DtlsCertificate certificate, int maxConcurrentHandshakes, int queueCapacity,
            Duration handshakeTimeout) {
        this(certificate, maxConcurrentHandshakes, queueCapacity, handshakeTimeout,
                List.of(SrtpProfile.AES_CM_128_HMAC_SHA1_80, SrtpProfile.AES_CM_128_HMAC_SHA1_32));
    }

    /** @param srtpProfiles the profiles offered as client and accepted as server, in our order of preference */
    public DtlsService(DtlsCertificate certificate, int maxConcurrentHandshakes, int queueCapacity,
            Duration handshakeTimeout, List<SrtpProfile> srtpProfiles) {
        if (maxConcurrentHandshakes < 1 || queueCapacity < 1 || handshakeTimeout.isNegative()
                || handshakeTimeout.isZero()) {
            throw new IllegalArgumentException("DTLS pool size, queue and timeout must be positive");
        }
        if (srtpProfiles.isEmpty()) {
            throw new IllegalArgumentException("at least one SRTP profile is needed");
        }
        this.srtpProfiles = List.copyOf(srtpProfiles);
        this.certificate = certificate;
        this.handshakeTimeout = handshakeTimeout;
        this.handshakes = new ThreadPoolExecutor(maxConcurrentHandshakes, maxConcurrentHandshakes, 30,
                TimeUnit.SECONDS, new LinkedBlockingQueue<>(queueCapacity), threads("dtls-handshake-"));
        this.handshakes.allowCoreThreadTimeOut(true);
        this.timer = new ScheduledThreadPoolExecutor(1, threads("dtls-timer-"));
        this.timer.setRemoveOnCancelPolicy(true);
    }

    /**
     * A transport for one call leg. It queues DTLS datagrams from {@link DtlsTransport#receive} at once and
     * starts its handshake on {@link DtlsTransport#start}.
     */
    public DtlsTransport newTransport(PacketSender sender, DtlsListener listener) {
        return new DtlsTransport(this, sender, listener);
    }

    public DtlsCertificate certificate() {
        return certificate;
    }

    public DtlsCounters counters() {
        return counters;
    }

    List<SrtpProfile> srtpProfiles() {
        return srtpProfiles;
    }

    Duration handshakeTimeout() {
        return handshakeTimeout;
    }

    ExecutorService handshakePool() {
        return handshakes;
    }

    ScheduledThreadPoolExecutor timer() {
        return timer;
    }

    BcTlsCrypto crypto() {
        return crypto;
    }

    /**
     * Stops the pool and timer. Handshakes still running are interrupted and fail (PROTOCOL_ERROR) unless
     * their transport was closed first, as it should be: close the calls, then the service.
     */
    @Override
    public void close() {
        handshakes.shutdownNow();
        timer.shutdownNow();
    }

    private static ThreadFactory threads(String prefix) {
        AtomicInteger n = new AtomicInteger();
        return r -> {
            Thread t = new Thread(r, prefix + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
    }
}
