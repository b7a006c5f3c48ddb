package io.webrtcgateway.sip.tcp;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.security.cert.CertPathBuilderException;
import java.security.cert.CertPathValidatorException;
import java.security.cert.CertificateExpiredException;
import java.security.cert.CertificateNotYetValidException;
import java.util.ArrayDeque;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLEngineResult;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLHandshakeException;

/**
 * The TLS layer of one SIP connection (RFC 3261 §26.3.1): a JDK {@link SSLEngine} between the socket's bytes
 * and SIP's. The selector thread hands it what it read ({@link #receive}) and gets SIP bytes back; senders hand
 * it SIP bytes ({@link #send}) and it writes records to the socket through {@link Wire} (the selector's write
 * queue, which never blocks). Bounded: one TLS record of input at most is buffered (a larger record is an
 * error), and at most {@link #MAX_PENDING_BYTES} of SIP bytes wait for the handshake to end.
 *
 * <p>The handshake runs on whichever thread moves the engine: a client's begins with the first message sent,
 * a server's with the first bytes read. Its delegated tasks (signatures, certificate checks: a few
 * milliseconds) run inline, under this object's lock, which guards all of its state; the engine is never used
 * outside it.
 */
final class TlsSession {
    /** SIP bytes that may wait for the handshake (a REGISTER is about 600 bytes). */
    static final int MAX_PENDING_BYTES = 256 * 1024;
    private static final ByteBuffer EMPTY = ByteBuffer.allocate(0);

    /** Where the records go: the connection's socket, through the selector's queue. */
    interface Wire {
        void write(byte[] records) throws IOException;
    }

    /** Told once how the handshake ended. */
    interface Outcome {
        void established(TlsSession session);

        /** The handshake or a record failed: the connection closes. */
        void failed(TlsSession session, String why);

        /** The handshake did not end in time: the connection closes. */
        void timedOut(TlsSession session, String why);
    }

    /** A TLS failure; its message says why in words (not the JDK's alert). */
    static final class Failed extends SSLException {
        Failed(String message, Throwable cause) {
            super(message, cause);
        }
    }

    private final SSLEngine engine;
    private final Wire wire;
    private final Outcome outcome;
    /** Who is at the other end, for messages: "sip.example.com:5061", or the peer's address and port. */
    private final String peer;
    private final long createdNanos = System.nanoTime();

    /** Guarded by this: undecrypted input, in write mode between calls. */
    private ByteBuffer netIn;
    /** Guarded by this. */
    private ByteBuffer appIn;
    /** Guarded by this. */
    private ByteBuffer netOut;
    /** Guarded by this: SIP bytes waiting for the handshake, and their total. */
    private final ArrayDeque<byte[]> pending = new ArrayDeque<>();
    private int pendingBytes;
    /** Guarded by this. */
    private boolean begun;
    /** Written under this; read by the audit. */
    private volatile boolean established;
    /** Guarded by this: failed or closed, for good. */
    private boolean over;

    TlsSession(SSLEngine engine, String peer, Wire wire, Outcome outcome) {
        this.engine = engine;
        this.peer = peer;
        this.wire = wire;
        this.outcome = outcome;
        int packet = engine.getSession().getPacketBufferSize();
        this.netIn = ByteBuffer.allocate(packet);
        this.appIn = ByteBuffer.allocate(engine.getSession().getApplicationBufferSize());
        this.netOut = ByteBuffer.allocate(packet);
    }

    String peer() {
        return peer;
    }

    boolean client() {
        return engine.getUseClientMode();
    }

    boolean established() {
        return established;
    }

    /** Failed or closed: nothing more goes through it. */
    synchronized boolean over() {
        return over;
    }

    /** The handshake has not ended within {@code timeoutNanos} of this session's start. */
    boolean handshakeOverdue(long now, long timeoutNanos) {
        return !established && now - createdNanos > timeoutNanos;
    }

    /** The handshake did not end in time: counts as its failure (once). */
    synchronized void handshakeTimedOut(String why) {
        if (!over && !established) {
            over = true;
            outcome.timedOut(this, why);
        }
    }

    /**
     * Encrypts {@code sip} onto the socket; before the handshake has ended it waits (a client's handshake
     * starts here).
     */
    synchronized void send(byte[] sip) throws IOException {
        if (over) {
            throw new IOException("TLS connection to " + peer + " is closed");
        }
        if (!established) {
            if (pendingBytes + sip.length > MAX_PENDING_BYTES) {
                throw new IOException("TLS handshake with " + peer + " not finished and " + pendingBytes
                        + " bytes already wait for it");
            }
            pending.add(sip);
            pendingBytes += sip.length;
            if (!begun) {
                begun = true;
                guard(() -> {
                    engine.beginHandshake();
                    advance();
                });
            }
            return;
        }
        guard(() -> wrap(ByteBuffer.wrap(sip)));
    }

    /**
     * Takes bytes read from the socket; returns the SIP bytes they completed (often none: a handshake message,
     * half a record).
     *
     * @throws Failed the peer does not speak TLS, the handshake failed, or a record is too large
     * @throws IOException the peer closed TLS (close_notify)
     */
    synchronized byte[] receive(byte[] bytes) throws IOException {
        if (over) {
            throw new IOException("TLS connection with " + peer + " is closed");
        }
        begun = true;
        ByteArrayOutputStream sip = new ByteArrayOutputStream();
        ByteBuffer in = ByteBuffer.wrap(bytes);
        guard(() -> {
            while (in.hasRemaining()) {
                int n = Math.min(in.remaining(), netIn.remaining());
                if (n == 0) {
                    // A whole buffer of input and still no complete record: more than TLS allows one (RFC 8446 §5.1).
                    throw new SSLException("a TLS record larger than " + netIn.capacity() + " bytes");
                }
                netIn.put(in.array(), in.arrayOffset() + in.position(), n);
                in.position(in.position() + n);
                unwrapAll(sip);
            }
        });
        if (over && sip.size() == 0) {
            throw new IOException("TLS closed by " + peer + " (close_notify)");
        }
        // After a close_notify, what came before it still counts; the peer's FIN closes the connection next.
        return sip.toByteArray();
    }

    /** Unwraps every complete record in {@link #netIn}, moving the handshake along. */
    private void unwrapAll(ByteArrayOutputStream sip) throws IOException {
        netIn.flip();
        int idle = 0;
        try {
            while (true) {
                SSLEngineResult r = engine.unwrap(netIn, appIn);
                drain(sip);
                switch (r.getStatus()) {
                    case BUFFER_UNDERFLOW:
                        return; // the rest of a record is still to come
                    case BUFFER_OVERFLOW:
                        appIn = ByteBuffer.allocate(Math.max(appIn.capacity() * 2,
                                engine.getSession().getApplicationBufferSize()));
                        continue;
                    case CLOSED:
                        over = true;
                        engine.closeOutbound();
                        advance(); // our close_notify
                        return;
                    default:
                        break;
                }
                if (r.getHandshakeStatus() == SSLEngineResult.HandshakeStatus.FINISHED) {
                    finished();
                }
                advance();
                idle = r.bytesConsumed() == 0 && r.bytesProduced() == 0 ? idle + 1 : 0;
                if (!netIn.hasRemaining() || idle > 1) {
                    return; // all read, or the engine wants nothing more from what is there
                }
            }
        } finally {
            netIn.compact();
        }
    }

    /** Runs the engine's tasks and sends its handshake messages until it waits for the peer (or is done). */
    private void advance() throws IOException {
        while (true) {
            switch (engine.getHandshakeStatus()) {
                case NEED_TASK -> {
                    Runnable task;
                    while ((task = engine.getDelegatedTask()) != null) {
                        task.run();
                    }
                }
                case NEED_WRAP -> {
                    if (!wrapOnce(EMPTY)) {
                        return;
                    }
                }
                default -> {
                    return; // NEED_UNWRAP (the peer's turn), or not handshaking
                }
            }
        }
    }

    /** Encrypts all of {@code app}, as many records as it takes. */
    private void wrap(ByteBuffer app) throws IOException {
        do {
            if (!wrapOnce(app)) {
                throw new IOException("TLS connection to " + peer + " is closed");
            }
            advance();
        } while (app.hasRemaining());
    }

    /** One wrap; its records are written. False: the engine is closed. */
    private boolean wrapOnce(ByteBuffer app) throws IOException {
        while (true) {
            netOut.clear();
            SSLEngineResult r = engine.wrap(app, netOut);
            netOut.flip();
            if (netOut.hasRemaining()) {
                byte[] records = new byte[netOut.remaining()];
                netOut.get(records);
                wire.write(records);
            }
            switch (r.getStatus()) {
                case BUFFER_OVERFLOW -> netOut = ByteBuffer.allocate(Math.max(netOut.capacity() * 2,
                        engine.getSession().getPacketBufferSize()));
                case CLOSED -> {
                    return false;
                }
                default -> {
                    if (r.getHandshakeStatus() == SSLEngineResult.HandshakeStatus.FINISHED) {
                        finished();
                    }
                    return true;
                }
            }
        }
    }

    private void drain(ByteArrayOutputStream sip) {
        appIn.flip();
        sip.write(appIn.array(), appIn.arrayOffset() + appIn.position(), appIn.remaining());
        appIn.clear();
    }

    /** The handshake ended: what waited for it goes out now. */
    private void finished() throws IOException {
        if (established) {
            return;
        }
        established = true;
        outcome.established(this);
        while (!pending.isEmpty()) {
            byte[] sip = pending.poll();
            pendingBytes -= sip.length;
            wrap(ByteBuffer.wrap(sip));
        }
    }

    private interface EngineStep {
        void run() throws IOException;
    }

    /**
     * Runs {@code step}; a TLS failure is reported once (with the alert sent, if the engine has one) and
     * rethrown as {@link Failed}, which closes the connection.
     */
    private void guard(EngineStep step) throws IOException {
        try {
            step.run();
        } catch (Failed e) {
            throw e;
        } catch (SSLException | RuntimeException e) {
            String why = explain(e);
            boolean first = !over;
            over = true;
            pending.clear();
            pendingBytes = 0;
            try {
                engine.closeOutbound();
                wrapOnce(EMPTY); // the alert telling the peer why
            } catch (IOException | RuntimeException ignored) {
                // the connection closes anyway
            }
            if (first) {
                outcome.failed(this, why);
            }
            throw new Failed(why, e);
        }
    }

    /** Why a handshake failed, in an operator's words: the certificate problem named, else the JDK's message. */
    static String explain(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof CertificateExpiredException) {
                return "the certificate has expired (" + t.getMessage() + ")";
            }
            if (t instanceof CertificateNotYetValidException) {
                return "the certificate is not valid yet (" + t.getMessage() + ")";
            }
            if (t instanceof CertPathBuilderException) {
                return "the certificate is not issued by a trusted CA (gateway.sip.tls.trusted-certificates): "
                        + t.getMessage();
            }
            if (t instanceof CertPathValidatorException v && v.getReason() != null) {
                if (v.getReason() == CertPathValidatorException.BasicReason.EXPIRED) {
                    return "the certificate (or one of its issuers) has expired: " + t.getMessage();
                }
                if (v.getReason() == CertPathValidatorException.BasicReason.NOT_YET_VALID) {
                    return "the certificate (or one of its issuers) is not valid yet: " + t.getMessage();
                }
                return "the certificate chain is not valid (" + v.getReason() + "): " + t.getMessage();
            }
            String m = String.valueOf(t.getMessage());
            if (m.contains("subject alternative") || m.contains("No name matching")) {
                return "the certificate is not for the host name it was reached by (gateway.sip.tls.verify-host-name): "
                        + m;
            }
        }
        if (e instanceof SSLHandshakeException || e instanceof SSLException) {
            return "TLS handshake failed: " + e.getMessage();
        }
        return "TLS failed: " + e;
    }
}
