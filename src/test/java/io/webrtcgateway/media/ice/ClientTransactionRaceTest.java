package io.webrtcgateway.media.ice;

import io.webrtcgateway.testsupport.Poll;
import org.ice4j.ResponseCollector;
import org.ice4j.StunResponseEvent;
import org.ice4j.StunTimeoutEvent;
import org.ice4j.Transport;
import org.ice4j.TransportAddress;
import org.ice4j.message.MessageFactory;
import org.ice4j.message.Request;
import org.ice4j.socket.IceSocketWrapper;
import org.ice4j.stack.StunStack;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.Socket;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Pins down the ice4j 3.2 behaviour behind "consent lost" on calls whose browser was answering all along.
 *
 * <p>{@code StunClientTransaction.sendRequest} puts the request on the wire, then schedules its
 * retransmission timer. A response handled in between (a loaded machine preempts the sending thread; the
 * peer on loopback answers within a millisecond) cancels a timer that is not running yet, which does
 * nothing; the timer then starts anyway, counts its (suppressed) retransmissions and finally reports a
 * timeout.
 * ConnectivityCheckClient turns that timeout into "pair FAILED", for the selected pair too. IceGeneration
 * therefore does not take a selected pair's FAILED as consent loss on its own (see its onPairChange).
 *
 * <p>The test makes the interleaving certain: the socket's send returns only once the response has been
 * processed. If an ice4j upgrade fixes the race, this test fails: then the work-around may go.
 */
class ClientTransactionRaceTest {

    @Test
    void aResponseHandledBeforeTheRetransmitterIsScheduledStillEndsInATimeout() throws Exception {
        InetAddress loopback = InetAddress.getLoopbackAddress();
        StunStack stack = new StunStack();
        try (DatagramSocket peer = new DatagramSocket(0, loopback);
             DatagramSocket local = new DatagramSocket(0, loopback)) {
            CountDownLatch answered = new CountDownLatch(1);
            AtomicInteger responses = new AtomicInteger();
            AtomicInteger timeouts = new AtomicInteger();
            AtomicInteger requestsSeen = new AtomicInteger();
            ResponseCollector collector = new ResponseCollector() {
                @Override
                public void processResponse(StunResponseEvent event) {
                    responses.incrementAndGet();
                    answered.countDown();
                }

                @Override
                public void processTimeout(StunTimeoutEvent event) {
                    timeouts.incrementAndGet();
                }
            };
            stack.addSocket(new SendThenWait(local, answered));

            // The peer answers every Binding request (and retransmission) at once with an empty success response.
            Thread answering = new Thread(() -> answerAll(peer, requestsSeen), "stun-peer");
            answering.setDaemon(true);
            answering.start();

            Request request = MessageFactory.createBindingRequest();
            stack.sendRequest(request, new TransportAddress(loopback, peer.getLocalPort(), Transport.UDP),
                    new TransportAddress(loopback, local.getLocalPort(), Transport.UDP), collector,
                    org.ice4j.stack.TransactionID.createNewTransactionID(), 100, 500, 2);

            assertEquals(1, responses.get(), "answered before sendRequest returned");
            // 100 + 200 + 400 ms later the answered transaction reports a timeout.
            Poll.until(Duration.ofSeconds(10), "the answered transaction's timeout", () -> timeouts.get() == 1);
            // The timer knew the transaction was answered (cancelled): it sent nothing more, yet reported a timeout.
            assertEquals(1, requestsSeen.get(), "no retransmission reached the peer");
            assertEquals(1, responses.get());
        } finally {
            stack.shutDown();
        }
    }

    private static void answerAll(DatagramSocket peer, AtomicInteger requestsSeen) {
        byte[] buf = new byte[1500];
        while (!peer.isClosed()) {
            DatagramPacket in = new DatagramPacket(buf, buf.length);
            try {
                peer.receive(in);
                if (in.getLength() < 20 || buf[0] != 0 || buf[1] != 1) {
                    continue;
                }
                requestsSeen.incrementAndGet();
                ByteBuffer out = ByteBuffer.allocate(20);
                out.putShort((short) 0x0101).putShort((short) 0).put(buf, 4, 16);
                peer.send(new DatagramPacket(out.array(), 20, in.getSocketAddress()));
            } catch (IOException e) {
                return;
            }
        }
    }

    /** A plain UDP socket for ice4j whose send returns only once the response has been processed. */
    private static final class SendThenWait extends IceSocketWrapper {
        private final DatagramSocket socket;
        private final CountDownLatch answered;

        SendThenWait(DatagramSocket socket, CountDownLatch answered) {
            this.socket = socket;
            this.answered = answered;
        }

        @Override
        public void send(DatagramPacket p) throws IOException {
            socket.send(p);
            try {
                answered.await(5, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }

        @Override
        public void receive(DatagramPacket p) throws IOException {
            socket.receive(p);
        }

        @Override
        public void close() {
            socket.close();
        }

        @Override
        public InetAddress getLocalAddress() {
            return socket.getLocalAddress();
        }

        @Override
        public int getLocalPort() {
            return socket.getLocalPort();
        }

        @Override
        public SocketAddress getLocalSocketAddress() {
            return socket.getLocalSocketAddress();
        }

        @Override
        public Socket getTCPSocket() {
            return null;
        }

        @Override
        public DatagramSocket getUDPSocket() {
            return socket;
        }
    }
}
