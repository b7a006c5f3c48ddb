package io.webrtcgateway.media.dtls;

import io.webrtcgateway.media.PacketSender;
import io.webrtcgateway.media.srtp.SrtpProfile;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
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
 * <p>The certificate may be replaced while calls go on ({@link #replaceCertificate}): a call leg takes the
 * current one when it begins and keeps it to its end, for its handshake and every {@code a=fingerprint} it
 * writes (an ICE restart keeps the DTLS association, RFC 8842, so its re-answer must announce the same
 * certificate); only legs that begin afterwards get the new one.
 *
 * <p>Threading: bctls handshakes block a thread for their whole length (a few round trips). They run on at
 * most {@code maxConcurrentHandshakes} threads; more wait in a queue of {@code queueCapacity} (their
 * datagrams wait in each transport's own bounded queue, and the peer retransmits), beyond that a transport
 * fails with {@link DtlsFailure.Reason#OVERLOADED}. After completion a transport holds no thread: a late
 * DTLS datagram (the peer retransmitting its last flight, an alert) is processed by a short task on the same
 * pool. Idle pool threads exit after 30 s.
 */
public final class DtlsService implements AutoCloseable {
    /** The one new call legs get; replaced by {@link #replaceCertificate}, read by any thread. */
    private volatile DtlsCertificate certificate;
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
        this.certificate = Objects.requireNonNull(certificate, "certificate");
        this.handshakeTimeout = handshakeTimeout;
        this.handshakes = new ThreadPoolExecutor(maxConcurrentHandshakes, maxConcurrentHandshakes, 30,
                TimeUnit.SECONDS, new LinkedBlockingQueue<>(queueCapacity), threads("dtls-handshake-"));
        this.handshakes.allowCoreThreadTimeOut(true);
        this.timer = new ScheduledThreadPoolExecutor(1, threads("dtls-timer-"));
        this.timer.setRemoveOnCancelPolicy(true);
    }

    /**
     * A transport for one call leg with the current certificate. It queues DTLS datagrams from
     * {@link DtlsTransport#receive} at once and starts its handshake on {@link DtlsTransport#start}.
     */
    public DtlsTransport newTransport(PacketSender sender, DtlsListener listener) {
        return newTransport(certificate, sender, listener);
    }

    /**
     * A transport that shows the peer {@code certificate}: the one the call leg took when it began and has
     * announced in its SDP, even if the instance's has been replaced since.
     */
    public DtlsTransport newTransport(DtlsCertificate certificate, PacketSender sender, DtlsListener listener) {
        return new DtlsTransport(this, certificate, sender, listener);
    }

    /** The certificate call legs that begin now get. */
    public DtlsCertificate certificate() {
        return certificate;
    }

    /**
     * New call legs get {@code next} from now on; legs that began before keep the certificate they took.
     *
     * @return the one replaced
     */
    public DtlsCertificate replaceCertificate(DtlsCertificate next) {
        DtlsCertificate previous = certificate;
        certificate = Objects.requireNonNull(next, "certificate");
        return previous;
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
