package io.webrtcgateway.media.dtls;

import io.webrtcgateway.media.PacketSender;
import io.webrtcgateway.media.srtp.SrtpProfile;
import java.io.IOException;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.bouncycastle.tls.AlertDescription;
import org.bouncycastle.tls.AlertLevel;
import org.bouncycastle.tls.DTLSClientProtocol;
import org.bouncycastle.tls.DTLSServerProtocol;
import org.bouncycastle.tls.DTLSTransport;
import org.bouncycastle.tls.ExporterLabel;
import org.bouncycastle.tls.TlsContext;
import org.bouncycastle.tls.TlsFatalAlert;
import org.bouncycastle.tls.TlsTimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * DTLS 1.2 for one call leg's browser transport, for keying SRTP only (RFC 5763, RFC 5764): the handshake in
 * the role {@code a=setup} gave us, use_srtp with SRTP_AES128_CM_HMAC_SHA1_80 or _32, the peer certificate
 * checked against the {@code a=fingerprint} of its SDP, keys exported as RFC 5764 §4.2 says.
 *
 * <p>Lifecycle: {@code NEW -> HANDSHAKING -> CONNECTED | FAILED}, and {@code CLOSED} from any state
 * ({@link #close()}, or the peer's close_notify after completion). {@link #receive} may be called from
 * creation on (datagrams that arrive before {@link #start} wait, a bounded number of them).
 *
 * <p>Threading: {@link #receive} is called on the ICE receive thread and never blocks: it copies the datagram
 * into a bounded queue (full: dropped and counted; the peer retransmits). The blocking bctls handshake runs on
 * the {@link DtlsService} pool and sends through the {@link PacketSender} from there.
 * Listener callbacks come from that pool or the service's timer.
 */
public final class DtlsTransport {
    public enum State { NEW, HANDSHAKING, CONNECTED, FAILED, CLOSED }

    private static final Logger LOG = LoggerFactory.getLogger(DtlsTransport.class);

    private final DtlsService service;
    /** What we show the peer: the certificate the call leg announced in its SDP. */
    private final DtlsCertificate certificate;
    private final DtlsListener listener;
    private final QueuedDatagrams datagrams;
    private final AtomicReference<State> state = new AtomicReference<>(State.NEW);
    private final AtomicBoolean draining = new AtomicBoolean();

    /** Written by {@link #start} before the handshake task is submitted (which publishes them to it). */
    private volatile DtlsRole role;
    private List<DtlsFingerprint> remoteFingerprints;
    private volatile ScheduledFuture<?> timeout;

    /** Written and read by the handshake thread only. */
    private DtlsFailure refusal;
    private DtlsFingerprint peerFingerprint;
    private DtlsSrtpKeys keys;
    private short fatalAlertReceived = -1;
    /** The established association; null before completion and after it broke. */
    private volatile DTLSTransport association;

    DtlsTransport(DtlsService service, DtlsCertificate certificate, PacketSender sender, DtlsListener listener) {
        this.service = Objects.requireNonNull(service);
        this.certificate = Objects.requireNonNull(certificate, "certificate");
        this.listener = Objects.requireNonNull(listener, "listener");
        this.datagrams = new QueuedDatagrams(Objects.requireNonNull(sender, "sender"));
    }

    /**
     * Starts the handshake once the peer's SDP is known and ICE has a selected pair (as client, our first
     * ClientHello goes out at once; sent earlier it is lost and bctls resends it only after 1 s).
     *
     * @param role               from {@link DtlsSetup}
     * @param remoteFingerprints every {@code a=fingerprint} of the peer's SDP (media level, else session level)
     * @throws IllegalStateException if already started; a no-op after {@link #close()}
     */
    public void start(DtlsRole role, List<DtlsFingerprint> remoteFingerprints) {
        Objects.requireNonNull(role, "role");
        if (remoteFingerprints == null || remoteFingerprints.isEmpty()) {
            throw new IllegalArgumentException("the peer's SDP has no a=fingerprint: DTLS-SRTP cannot authenticate it");
        }
        List<DtlsFingerprint> expected = List.copyOf(remoteFingerprints);
        if (!state.compareAndSet(State.NEW, State.HANDSHAKING)) {
            if (state.get() == State.CLOSED) {
                return;
            }
            throw new IllegalStateException("DTLS transport already started: " + state.get());
        }
        this.role = role;
        this.remoteFingerprints = expected;
        service.counters().started.increment();
        try {
            timeout = service.timer().schedule(this::timedOut, service.handshakeTimeout().toMillis(),
                    TimeUnit.MILLISECONDS);
            service.handshakePool().execute(this::handshake);
        } catch (RejectedExecutionException e) {
            failed(new DtlsFailure(DtlsFailure.Reason.OVERLOADED, "DTLS handshake queue full or service stopped"));
        }
    }

    /**
     * A DTLS datagram from the transport below (see {@link PacketKind}); copied, so {@code buf} may be reused
     * at once. Never blocks, never throws.
     */
    public void receive(byte[] buf, int off, int len) {
        State s = state.get();
        if (s == State.FAILED || s == State.CLOSED || buf == null || off < 0 || len <= 0
                || len > QueuedDatagrams.RECEIVE_LIMIT || off > buf.length - len
                || (s == State.CONNECTED && association == null)) {
            service.counters().datagramsDropped.increment();
            return;
        }
        if (!datagrams.offer(Arrays.copyOfRange(buf, off, off + len))) {
            service.counters().datagramsDropped.increment();
            return;
        }
        if (s == State.CONNECTED) {
            scheduleDrain();
        }
    }

    /** Ends the association (close_notify if it was up). No listener call follows. Idempotent. */
    public void close() {
        State previous = state.getAndSet(State.CLOSED);
        if (previous == State.CLOSED) {
            return;
        }
        cancelTimeout();
        DTLSTransport t = association;
        if (t != null) {
            try {
                datagrams.unmuteAlerts();
                t.close(); // sends close_notify through the sender, then closes the datagram queue
            } catch (IOException | RuntimeException e) {
                LOG.debug("closing DTLS association: {}", e.toString());
            }
        }
        datagrams.close();
    }

    public State state() {
        return state.get();
    }

    /** Our certificate in this transport's handshake, fixed at creation. */
    public DtlsCertificate certificate() {
        return certificate;
    }

    /** The role given to {@link #start}, or null before. */
    public DtlsRole role() {
        return role;
    }

    private void handshake() {
        if (state.get() != State.HANDSHAKING) {
            return; // closed or timed out while queued
        }
        long started = System.nanoTime();
        try {
            DTLSTransport t;
            if (role == DtlsRole.CLIENT) {
                t = new DTLSClientProtocol().connect(new DtlsClientPeer(service, this),
                        datagrams);
            } else {
                DTLSServerProtocol server = new DTLSServerProtocol();
                // no HelloVerifyRequest cookie round trip: the cookie proves the peer's address (RFC 6347
                // §4.2.1), which ICE connectivity checks have already done; browsers skip it too
                server.setVerifyRequests(false);
                t = server.accept(new DtlsServerPeer(service, this), datagrams);
            }
            connected(t, started);
        } catch (IOException | RuntimeException e) {
            failed(classify(e));
        }
    }

    private void connected(DTLSTransport t, long started) {
        datagrams.muteAlerts();
        association = t;
        if (!state.compareAndSet(State.HANDSHAKING, State.CONNECTED)) {
            association = null;
            try {
                t.close();
            } catch (IOException | RuntimeException e) {
                LOG.debug("closing a DTLS association completed too late: {}", e.toString());
            }
            return;
        }
        cancelTimeout();
        service.counters().completed.increment();
        LOG.debug("DTLS {} handshake done in {} ms: {}", role, (System.nanoTime() - started) / 1_000_000, keys);
        try {
            listener.onHandshakeComplete(keys);
        } catch (RuntimeException e) {
            LOG.warn("DTLS completion listener failed", e);
        }
        if (datagrams.hasPending()) {
            scheduleDrain();
        }
    }

    private void failed(DtlsFailure failure) {
        if (!state.compareAndSet(State.HANDSHAKING, State.FAILED)) {
            return; // closed, or already failed (the timer and the handshake thread race to here)
        }
        cancelTimeout();
        service.counters().failed(failure.reason());
        datagrams.close(); // wakes the handshake thread if the timer got here first
        LOG.info("DTLS {} handshake failed: {}", role, failure);
        try {
            listener.onHandshakeFailed(failure);
        } catch (RuntimeException e) {
            LOG.warn("DTLS failure listener failed", e);
        }
    }

    private void timedOut() {
        failed(new DtlsFailure(DtlsFailure.Reason.TIMEOUT, "no DTLS handshake within "
                + service.handshakeTimeout().toMillis() + " ms"));
    }

    private void cancelTimeout() {
        ScheduledFuture<?> t = timeout;
        if (t != null) {
            t.cancel(false);
        }
    }

    private DtlsFailure classify(Exception e) {
        if (refusal != null) {
            return refusal;
        }
        if (fatalAlertReceived >= 0) {
            return new DtlsFailure(DtlsFailure.Reason.ALERT_RECEIVED, "peer sent fatal alert "
                    + AlertDescription.getText(fatalAlertReceived));
        }
        if (e instanceof TlsTimeoutException) {
            return new DtlsFailure(DtlsFailure.Reason.TIMEOUT, e.getMessage());
        }
        String detail = e instanceof TlsFatalAlert alert
                ? AlertDescription.getText(alert.getAlertDescription()) + (e.getMessage() == null ? "" : ": " + e.getMessage())
                : e.toString();
        return new DtlsFailure(DtlsFailure.Reason.PROTOCOL_ERROR, detail);
    }

    /**
     * After completion no thread waits on this transport. A late datagram (the peer resending its last flight
     * because ours was lost, RFC 6347 §4.2.4; an alert) is fed to bctls by a short task on the pool.
     */
    private void scheduleDrain() {
        if (draining.compareAndSet(false, true)) {
            try {
                service.handshakePool().execute(this::drain);
            } catch (RejectedExecutionException e) {
                draining.set(false); // service stopping; the datagram stays queued or is dropped with it
            }
        }
    }

    private void drain() {
        byte[] scratch = new byte[QueuedDatagrams.RECEIVE_LIMIT];
        try {
            DTLSTransport t = association;
            while (t != null && state.get() == State.CONNECTED && datagrams.hasPending()) {
                int n = t.receive(scratch, 0, scratch.length, 1);
                if (n >= 0) {
                    LOG.debug("DTLS application data ignored ({} bytes): no data channels", n);
                }
            }
        } catch (IOException | RuntimeException e) {
            if (state.get() == State.CONNECTED) {
                // a record bctls could not take (garbage that looked like DTLS): the association is unusable
                // for retransmissions from now on, but the SRTP keys stay valid; drop further DTLS
                association = null;
                LOG.debug("DTLS association stopped after a bad record: {}", e.toString());
            }
        } finally {
            draining.set(false);
            if (state.get() == State.CONNECTED && association != null && datagrams.hasPending()) {
                scheduleDrain();
            }
        }
    }

    // --- called by the bctls peers, on the thread running the handshake or a drain task ---

    /** Records why we refuse, returns the alert bctls sends to the peer. */
    TlsFatalAlert refuse(DtlsFailure.Reason reason, short alert, String message) {
        refusal = new DtlsFailure(reason, message);
        return new TlsFatalAlert(alert, message);
    }

    void verifyPeer(byte[] certificateDer) throws IOException {
        if (certificateDer == null) {
            throw refuse(DtlsFailure.Reason.NO_PEER_CERTIFICATE, AlertDescription.handshake_failure,
                    "peer sent no certificate");
        }
        if (!DtlsFingerprint.anyMatches(remoteFingerprints, certificateDer)) {
            String expected = remoteFingerprints.get(0).toSdp();
            String actual = DtlsFingerprint.of(remoteFingerprints.get(0).algorithm(), certificateDer).toSdp();
            throw refuse(DtlsFailure.Reason.FINGERPRINT_MISMATCH, AlertDescription.bad_certificate,
                    "peer certificate fingerprint " + actual + " does not match a=fingerprint " + expected);
        }
        peerFingerprint = DtlsFingerprint.of("sha-256", certificateDer);
    }

    void exportKeys(TlsContext context, SrtpProfile profile) throws IOException {
        if (peerFingerprint == null) {
            throw refuse(DtlsFailure.Reason.NO_PEER_CERTIFICATE, AlertDescription.handshake_failure,
                    "handshake completed without a verified peer certificate");
        }
        if (profile == null) {
            throw refuse(DtlsFailure.Reason.NO_SRTP_PROFILE, AlertDescription.handshake_failure,
                    "handshake completed without use_srtp");
        }
        byte[] material = context.exportKeyingMaterial(ExporterLabel.dtls_srtp, null, DtlsSrtpKeys.EXPORTER_LENGTH);
        keys = DtlsSrtpKeys.fromExporter(material, profile, role, peerFingerprint);
        Arrays.fill(material, (byte) 0);
    }

    void alertReceived(short level, short description) {
        if (state.get() == State.CONNECTED) {
            if ((description == AlertDescription.close_notify || level == AlertLevel.fatal)
                    && state.compareAndSet(State.CONNECTED, State.CLOSED)) {
                LOG.debug("DTLS peer closed: {}", AlertDescription.getText(description));
                try {
                    listener.onPeerClosed();
                } catch (RuntimeException e) {
                    LOG.warn("DTLS close listener failed", e);
                }
            }
            return;
        }
        if (level == AlertLevel.fatal) {
            fatalAlertReceived = description;
        }
    }

    void alertRaised(short level, short description, String message) {
        LOG.debug("DTLS alert sent: {} {}{}", AlertLevel.getText(level), AlertDescription.getText(description),
                message == null ? "" : " (" + message + ")");
    }
}
