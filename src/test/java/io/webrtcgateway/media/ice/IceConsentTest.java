package io.webrtcgateway.media.ice;

import io.webrtcgateway.media.ice.IceTestSupport.Pair;
import io.webrtcgateway.media.ice.IceTestSupport.Received;
import io.webrtcgateway.testsupport.Poll;
import org.ice4j.ice.CandidatePair;
import org.ice4j.ice.CandidatePairState;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** When consent (RFC 7675) is lost and when it is not, and the cause given for it. */
class IceConsentTest {

    private static final Duration WAIT = Duration.ofSeconds(10);
    private static IceConfig config;

    @BeforeAll
    static void configure() {
        config = IceTestSupport.config();
    }

    @Test
    void aPairFailedByIce4jWhileThePeerKeepsAnsweringKeepsConsent() throws Exception {
        try (Pair pair = IceTestSupport.connectedPair(config)) {
            IceTransport gateway = pair.controlled();
            List<IceTransport.State> seen = new CopyOnWriteArrayList<>();
            gateway.onStateChange(seen::add);
            IceGeneration generation = gateway.generations().get(0);
            CandidatePair selected = generation.selectedPair();

            // What ice4j 3.2 does when an answered check's retransmission timer reports a timeout anyway
            // (ClientTransactionRaceTest). Events run on the calling thread here: the decision is already made.
            selected.setStateFailed();
            assertEquals(IceTransport.State.CONNECTED, gateway.state());
            assertNull(generation.consentLostCause());

            // ice4j's next answered consent check puts the pair back by itself; consent then holds for longer
            // than a consent timeout, and payload flows both ways.
            long failedAt = System.currentTimeMillis();
            Poll.until(WAIT, "the pair SUCCEEDED again", () -> selected.getState() == CandidatePairState.SUCCEEDED);
            Poll.until(WAIT, "consent responses for longer than a consent timeout", () -> selected.getConsentFreshness()
                    > failedAt + IceTestSupport.CONSENT_TIMEOUT.toMillis());
            Received atGateway = new Received();
            Received atBrowser = new Received();
            gateway.setReceiver(atGateway);
            pair.controlling().setReceiver(atBrowser);
            pair.controlling().sender().send(rtp(1), 0, 172);
            gateway.sender().send(rtp(2), 0, 172);
            Poll.until(WAIT, "a datagram each way", () -> atGateway.count() == 1 && atBrowser.count() == 1);
            assertEquals(List.of(), seen);
        }
    }

    @Test
    void aSilentPeerLosesConsentAndTheCauseSaysForHowLong() throws Exception {
        try (Pair pair = IceTestSupport.connectedPair(config)) {
            IceTransport gateway = pair.controlled();
            IceGeneration generation = gateway.generations().get(0);
            pair.controlling().close();
            Poll.until(IceSystemProperties.consentDetectionBound().plusSeconds(3), "DISCONNECTED",
                    () -> gateway.state() == IceTransport.State.DISCONNECTED);
            String cause = generation.consentLostCause();
            assertTrue(cause.matches("no response for \\d+ ms \\(a check timed out\\)"), cause);
            long silent = Long.parseLong(cause.split(" ")[3]);
            assertTrue(silent >= IceSystemProperties.consentCheckLifetime().toMillis(), cause);
        }
    }

    @Test
    void anErrorResponseEndsConsentAtOnceAndNamesTheCode() throws Exception {
        try (Pair pair = IceTestSupport.connectedPair(config)) {
            IceTransport gateway = pair.controlled();
            IceGeneration generation = gateway.generations().get(0);
            InetSocketAddress browserAddress = gateway.stats().remoteAddress();
            // The browser's socket is taken over by one that refuses every check (as after the peer forgot our
            // credentials): the consent check in flight, or the next one, gets a 401.
            pair.controlling().close();
            try (DatagramSocket refusing = Poll.untilPresent(WAIT, "the browser's port free",
                    () -> bind(browserAddress))) {
                refusing.setSoTimeout(100);
                Poll.until(WAIT, "a consent check answered with 401", () -> answerWithError(refusing, 401,
                        "Unauthorized\u0007"));
                Poll.until(WAIT, "DISCONNECTED", () -> gateway.state() == IceTransport.State.DISCONNECTED);
            }
            assertEquals("error response 401 Unauthorized? to a check", generation.consentLostCause());
        }
    }

    @Test
    void theErrorCodeIsReadFromAWellFormedResponseOnly() {
        InetSocketAddress from = new InetSocketAddress(IceTestSupport.LOOPBACK, 9);
        byte[] tid = new byte[12];
        byte[] ok = errorResponse(tid, 438, "Stale Nonce");
        HostSocket.ErrorResponse e = HostSocket.parseErrorResponse(ok, ok.length, from, 42);
        assertEquals(438, e.code());
        assertEquals("Stale Nonce", e.reason());
        assertEquals("438 Stale Nonce", e.toString());
        assertEquals(42, e.atNanos());
        assertEquals(from, e.from());

        // An attribute running past the message, or a message without ERROR-CODE, gives nothing.
        assertNull(HostSocket.parseErrorResponse(ok, ok.length - 4, from, 0));
        byte[] noAttributes = Arrays.copyOf(ok, 20);
        noAttributes[2] = 0;
        noAttributes[3] = 0;
        assertNull(HostSocket.parseErrorResponse(noAttributes, 20, from, 0));
    }

    private static Optional<DatagramSocket> bind(InetSocketAddress address) {
        try {
            return Optional.of(new DatagramSocket(address));
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    /** Answers the next Binding request (if one comes within the socket timeout) with an error response. */
    private static boolean answerWithError(DatagramSocket socket, int code, String reason) {
        byte[] buf = new byte[1500];
        DatagramPacket in = new DatagramPacket(buf, buf.length);
        try {
            socket.receive(in);
            if (in.getLength() < 20 || buf[0] != 0 || buf[1] != 1) {
                return false;
            }
            byte[] out = errorResponse(Arrays.copyOfRange(buf, 8, 20), code, reason);
            socket.send(new DatagramPacket(out, out.length, in.getSocketAddress()));
            return true;
        } catch (SocketTimeoutException e) {
            return false;
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** A Binding error response with one ERROR-CODE attribute (RFC 5389 §15.6). */
    private static byte[] errorResponse(byte[] transactionId, int code, String reason) {
        byte[] text = reason.getBytes(StandardCharsets.UTF_8);
        int length = 4 + text.length;
        int padded = (length + 3) & ~3;
        ByteBuffer b = ByteBuffer.allocate(20 + 4 + padded);
        b.putShort((short) 0x0111).putShort((short) (4 + padded)).putInt(0x2112A442).put(transactionId);
        b.putShort((short) 0x0009).putShort((short) length).putShort((short) 0)
                .put((byte) (code / 100)).put((byte) (code % 100)).put(text);
        return b.array();
    }

    private static byte[] rtp(int n) {
        byte[] b = new byte[172];
        Arrays.fill(b, (byte) n);
        b[0] = (byte) 0x80;
        return b;
    }
}
