package io.webrtcgateway.media.dtls;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.webrtcgateway.testsupport.FuzzBudget;
import java.io.IOException;
import java.lang.reflect.Field;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.List;
import org.bouncycastle.tls.DTLSServerProtocol;
import org.bouncycastle.tls.DatagramTransport;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Tag;

/**
 * DTLS record and handshake parsing with the gateway's server side (what a browser offering a=setup:active
 * talks to): datagrams from fuzz input go through {@link PacketKind} and the size check of
 * {@link DtlsTransport#receive}, then into bctls' server protocol with our {@link DtlsServerPeer} (ECDSA suites,
 * required client certificate, use_srtp), run synchronously here rather than on the handshake pool. The
 * handshake must end in an IOException (TlsFatalAlert, or the input running out); a RuntimeException would
 * be a parsing bug, which {@link DtlsTransport} would only report as PROTOCOL_ERROR.
 *
 * <p>Input: datagrams, each a 2-byte big-endian length and that many bytes.
 */
@Tag("fuzz")
class DtlsRecordFuzzTest {
    private static final DtlsService SERVICE = new DtlsService(DtlsCertificate.generate(), 1, 1, Duration.ofSeconds(5));
    private static final List<DtlsFingerprint> BROWSER = List.of(DtlsCertificate.generate().sha256Fingerprint());

    @AfterAll
    static void stop() {
        SERVICE.close();
    }

    @FuzzTest(maxDuration = FuzzBudget.MAX_DURATION, maxExecutions = FuzzBudget.EXECUTIONS)
    void handshakeRefusesCleanly(byte[] input) throws Exception {
        ArrayDeque<byte[]> datagrams = new ArrayDeque<>();
        ByteBuffer in = ByteBuffer.wrap(input);
        while (in.remaining() >= 2 && datagrams.size() < 16) {
            byte[] d = new byte[Math.min(in.getShort() & 0xffff, in.remaining())];
            in.get(d);
            if (d.length > 0 && d.length <= QueuedDatagrams.RECEIVE_LIMIT
                    && PacketKind.of(d, 0, d.length) == PacketKind.DTLS) {
                datagrams.add(d);
            }
        }
        if (datagrams.isEmpty()) {
            return;
        }
        DtlsTransport transport = SERVICE.newTransport((b, off, len) -> { }, new DtlsListener() {
            @Override
            public void onHandshakeComplete(DtlsSrtpKeys keys) {}

            @Override
            public void onHandshakeFailed(DtlsFailure failure) {}
        });
        startedAsServer(transport);
        DTLSServerProtocol server = new DTLSServerProtocol();
        server.setVerifyRequests(false);
        try {
            server.accept(new DtlsServerPeer(SERVICE, transport), new Replay(datagrams));
        } catch (IOException refused) {
            // TlsFatalAlert, or the input ran out: both are what bad datagrams should get
        }
    }

    /** What {@link DtlsTransport#start} sets before its handshake task runs, without starting that task. */
    private static void startedAsServer(DtlsTransport transport) throws ReflectiveOperationException {
        Field role = DtlsTransport.class.getDeclaredField("role");
        role.setAccessible(true);
        role.set(transport, DtlsRole.SERVER);
        Field fingerprints = DtlsTransport.class.getDeclaredField("remoteFingerprints");
        fingerprints.setAccessible(true);
        fingerprints.set(transport, BROWSER);
    }

    /** Hands bctls the fuzz datagrams, then fails its next receive as a closed transport does. */
    private static final class Replay implements DatagramTransport {
        private final ArrayDeque<byte[]> datagrams;

        Replay(ArrayDeque<byte[]> datagrams) {
            this.datagrams = datagrams;
        }

        @Override
        public int getReceiveLimit() {
            return QueuedDatagrams.RECEIVE_LIMIT;
        }

        @Override
        public int getSendLimit() {
            return QueuedDatagrams.SEND_LIMIT;
        }

        @Override
        public int receive(byte[] buf, int off, int len, int waitMillis) throws IOException {
            byte[] d = datagrams.poll();
            if (d == null) {
                throw new IOException("end of fuzz input");
            }
            int n = Math.min(len, d.length);
            System.arraycopy(d, 0, buf, off, n);
            return n;
        }

        @Override
        public void send(byte[] buf, int off, int len) {}

        @Override
        public void close() {}
    }
}
