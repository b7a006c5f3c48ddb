package io.webrtcgateway.sip.tcp;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.ByteBuffer;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLEngineResult;
import javax.net.ssl.SSLEngineResult.HandshakeStatus;
import javax.net.ssl.SSLException;

/**
 * One TLS handshake between a client engine and a server engine of the gateway's own {@link TlsContexts} (the
 * engines {@link TlsSession} runs: its protocols, suites, host-name check and session resumption), wired back to
 * back in memory on the calling thread: no sockets, no selector. For benches, which may not reach the engines
 * (package-private) from their own package.
 *
 * <p>The two engines' bytes are passed until neither has anything left to say, so TLS 1.3's NewSessionTicket
 * (sent by the server after its Finished, RFC 8446 §4.6.1) is part of the handshake and reaches the client's
 * session cache: a later handshake from the same context to the same host and port resumes (RFC 8446 §2.2).
 * Each side's CPU time is counted around its own engine calls (engine creation, wrap, unwrap and the delegated
 * tasks, where the signatures and certificate checks run), with the thread CPU clock.
 */
public final class InMemoryTlsHandshake {
    private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();
    private static final ByteBuffer EMPTY = ByteBuffer.allocate(0);

    /**
     * What one handshake cost: each side's CPU, the wall time of the whole (both sides on one thread), the bytes
     * each side sent, and what was agreed.
     */
    public record Result(long clientCpuNanos, long serverCpuNanos, long wallNanos, int clientBytes, int serverBytes,
            String protocol, String cipherSuite) {}

    private InMemoryTlsHandshake() {}

    /**
     * A client engine of {@code contexts} for {@code peerName}:{@code port} (the name its certificate check and SNI
     * use; the port only keys the client's session cache: a new port, a full handshake) against a server engine of
     * the same {@code contexts}, presenting its certificate.
     *
     * @throws SSLException the handshake failed (e.g. the certificate does not name {@code peerName})
     */
    public static Result run(TlsContexts contexts, String peerName, int port) throws SSLException {
        long wall0 = System.nanoTime();
        Side[] sides = handshake(contexts, peerName, port);
        long wall = System.nanoTime() - wall0;
        Side client = sides[0];
        Side server = sides[1];
        return new Result(client.cpu, server.cpu, wall, client.sent, server.sent,
                client.engine.getSession().getProtocol(), client.engine.getSession().getCipherSuite());
    }

    /**
     * After a handshake as {@link #run}'s, the client's CPU per exchange of {@code request} (sealed by the client,
     * opened by the server) and {@code answer} (sealed by the server, opened by the client): what TLS adds to the
     * gateway's side of a REGISTER and its 200 OK on an open connection. Timed in batches of 100 exchanges; the
     * server's side is not counted.
     */
    public static double exchangeCpuNanos(TlsContexts contexts, String peerName, int port, byte[] request,
            byte[] answer, int exchanges) throws SSLException {
        Side[] sides = handshake(contexts, peerName, port);
        SSLEngine client = sides[0].engine;
        SSLEngine server = sides[1].engine;
        int batch = 100;
        int packet = client.getSession().getPacketBufferSize();
        ByteBuffer toServer = ByteBuffer.allocate(batch * (request.length + 256) + packet);
        ByteBuffer toClient = ByteBuffer.allocate(batch * (answer.length + 256) + packet);
        ByteBuffer app = ByteBuffer.allocate(batch * Math.max(request.length, answer.length)
                + client.getSession().getApplicationBufferSize());
        long cpu = 0;
        int done = 0;
        while (done < exchanges) {
            long t = THREADS.getCurrentThreadCpuTime();
            for (int i = 0; i < batch; i++) {
                expectOk(client.wrap(ByteBuffer.wrap(request), toServer), "client wrap");
            }
            cpu += THREADS.getCurrentThreadCpuTime() - t;
            openAll(server, toServer, app, batch * request.length);
            for (int i = 0; i < batch; i++) {
                expectOk(server.wrap(ByteBuffer.wrap(answer), toClient), "server wrap");
            }
            t = THREADS.getCurrentThreadCpuTime();
            openAll(client, toClient, app, batch * answer.length);
            cpu += THREADS.getCurrentThreadCpuTime() - t;
            done += batch;
        }
        return cpu / (double) done;
    }

    /** Unwraps every record of {@code in}; they must hold {@code expected} bytes of data. */
    private static void openAll(SSLEngine engine, ByteBuffer in, ByteBuffer app, int expected) throws SSLException {
        in.flip();
        app.clear();
        while (in.hasRemaining()) {
            expectOk(engine.unwrap(in, app), "unwrap");
        }
        in.clear();
        if (app.position() != expected) {
            throw new SSLException("opened " + app.position() + " bytes, sent " + expected);
        }
    }

    private static void expectOk(SSLEngineResult r, String what) throws SSLException {
        if (r.getStatus() != SSLEngineResult.Status.OK) {
            throw new SSLException(what + ": " + r);
        }
    }

    /** Client and server, handshaken. */
    private static Side[] handshake(TlsContexts contexts, String peerName, int port) throws SSLException {
        Side client = new Side();
        Side server = new Side();
        long t = client.begin();
        client.engine = contexts.clientEngine(peerName, port);
        client.engine.beginHandshake();
        client.end(t);
        t = server.begin();
        server.engine = contexts.serverEngine();
        server.engine.beginHandshake();
        server.end(t);
        int packet = client.engine.getSession().getPacketBufferSize();
        ByteBuffer toServer = ByteBuffer.allocate(4 * packet);
        ByteBuffer toClient = ByteBuffer.allocate(4 * packet);
        ByteBuffer app = ByteBuffer.allocate(client.engine.getSession().getApplicationBufferSize());
        for (int pass = 0; ; pass++) {
            if (pass > 100) {
                throw new SSLException("TLS handshake in memory did not settle: client "
                        + client.engine.getHandshakeStatus() + ", server " + server.engine.getHandshakeStatus());
            }
            boolean moved = client.wrap(toServer) | server.unwrap(toServer, app);
            moved |= server.wrap(toClient) | client.unwrap(toClient, app);
            if (!moved) {
                break;
            }
        }
        if (client.engine.getHandshakeStatus() != HandshakeStatus.NOT_HANDSHAKING
                || server.engine.getHandshakeStatus() != HandshakeStatus.NOT_HANDSHAKING) {
            throw new SSLException("TLS handshake in memory stopped unfinished: client "
                    + client.engine.getHandshakeStatus() + ", server " + server.engine.getHandshakeStatus());
        }
        return new Side[] {client, server};
    }

    /** One engine, what it sent and the CPU its calls took. */
    private static final class Side {
        SSLEngine engine;
        long cpu;
        int sent;

        long begin() {
            return THREADS.getCurrentThreadCpuTime();
        }

        void end(long begin) {
            cpu += THREADS.getCurrentThreadCpuTime() - begin;
        }

        /** Everything the engine has to send, appended to {@code out}; true if anything was. */
        boolean wrap(ByteBuffer out) throws SSLException {
            long t = begin();
            try {
                boolean moved = false;
                while (true) {
                    SSLEngineResult r = engine.wrap(EMPTY, out);
                    runTasks();
                    if (r.getStatus() != SSLEngineResult.Status.OK) {
                        throw new SSLException("wrap: " + r);
                    }
                    sent += r.bytesProduced();
                    if (r.bytesProduced() == 0) {
                        return moved;
                    }
                    moved = true;
                }
            } finally {
                end(t);
            }
        }

        /** Every whole record of {@code in} (in write mode), handed to the engine; true if any was. */
        boolean unwrap(ByteBuffer in, ByteBuffer app) throws SSLException {
            long t = begin();
            in.flip();
            try {
                boolean moved = false;
                while (in.hasRemaining()) {
                    SSLEngineResult r = engine.unwrap(in, app);
                    runTasks();
                    if (r.getStatus() == SSLEngineResult.Status.BUFFER_UNDERFLOW) {
                        break;
                    }
                    if (r.getStatus() != SSLEngineResult.Status.OK) {
                        throw new SSLException("unwrap: " + r);
                    }
                    if (app.position() > 0) {
                        throw new SSLException("application data during a handshake with none sent");
                    }
                    if (r.bytesConsumed() == 0) {
                        break;
                    }
                    moved = true;
                }
                return moved;
            } finally {
                in.compact();
                end(t);
            }
        }

        private void runTasks() {
            Runnable task;
            while ((task = engine.getDelegatedTask()) != null) {
                task.run();
            }
        }
    }
}
