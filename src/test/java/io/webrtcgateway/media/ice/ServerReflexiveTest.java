package io.webrtcgateway.media.ice;

import io.webrtcgateway.testsupport.Poll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Server-reflexive candidates: a real STUN Binding round on loopback, and the 1:1 NAT public-address mapping. */
class ServerReflexiveTest {

    private static final Duration WAIT = Duration.ofSeconds(10);
    /** What the fake NAT maps every host socket to: a loopback alias, so nothing can leave the machine. */
    private static final InetAddress NAT_ADDRESS = CandidateAttribute.literal("127.0.0.9");
    private static final int PORT_SHIFT = 7;

    private static IceConfig config;

    @BeforeAll
    static void configure() {
        config = IceTestSupport.config();
    }

    @Test
    void stunRoundGivesAServerReflexiveCandidateTrickledWithItsUfrag() throws Exception {
        try (StunResponder stun = new StunResponder();
             IceTransport ice = new IceTransport(config.withStunServers(List.of(stun.address())), false)) {
            List<String> host = ice.localCandidates();
            assertEquals(1, host.size(), "host only until gathering: " + host);
            CandidateAttribute hostCandidate = CandidateAttribute.parse(host.get(0));

            List<String> events = new CopyOnWriteArrayList<>();
            ice.startGathering(new IceTransport.CandidateListener() {
                @Override
                public void onCandidate(String ufrag, String candidate) {
                    events.add(ufrag + " " + candidate);
                }

                @Override
                public void onEndOfCandidates(String ufrag) {
                    events.add(ufrag + " end");
                }
            });
            Poll.until(WAIT, "a candidate then end-of-candidates", () -> events.size() == 2);
            assertEquals(1, stun.requests.get());
            assertEquals(ice.localUfrag() + " end", events.get(1));
            String line = events.get(0).substring(ice.localUfrag().length() + 1);
            CandidateAttribute srflx = CandidateAttribute.parse(line);
            assertEquals("srflx", srflx.type());
            assertEquals("127.0.0.9", srflx.address());
            assertEquals(hostCandidate.port() + PORT_SHIFT, srflx.port());
            assertEquals(hostCandidate.address(), srflx.relAddress());
            assertEquals(hostCandidate.port(), srflx.relPort());
            assertTrue(srflx.priority() < hostCandidate.priority(), "srflx ranks below host");
            assertEquals(2, ice.localCandidates().size());
            assertTrue(ice.localCandidates().contains(line));
        }
    }

    @Test
    void withoutStunServersGatheringEndsAtOnceAndSendsNothing() throws Exception {
        try (IceTransport ice = new IceTransport(config, true)) {
            List<String> events = new CopyOnWriteArrayList<>();
            ice.startGathering(new IceTransport.CandidateListener() {
                @Override
                public void onCandidate(String ufrag, String candidate) {
                    events.add(candidate);
                }

                @Override
                public void onEndOfCandidates(String ufrag) {
                    events.add("end");
                }
            });
            assertEquals(List.of("end"), events, "delivered inline: no executor was given");
        }
    }

    @Test
    void restartGathersAgainForTheNewGeneration() throws Exception {
        try (StunResponder stun = new StunResponder();
             IceTransport ice = new IceTransport(config.withStunServers(List.of(stun.address())), true)) {
            List<String> ends = new CopyOnWriteArrayList<>();
            ice.startGathering(new IceTransport.CandidateListener() {
                @Override
                public void onCandidate(String ufrag, String candidate) {
                }

                @Override
                public void onEndOfCandidates(String ufrag) {
                    ends.add(ufrag);
                }
            });
            Poll.until(WAIT, "first generation gathered", () -> ends.size() == 1);
            String first = ice.localUfrag();
            ice.restart(true);
            Poll.until(WAIT, "second generation gathered", () -> ends.size() == 2);
            assertEquals(List.of(first, ice.localUfrag()), ends);
            assertEquals(2, stun.requests.get());
        }
    }

    @Test
    void publicAddressAddsAMappedCandidateWithTheHostPort() throws Exception {
        InetAddress publicAddress = CandidateAttribute.literal("127.0.0.77");
        try (IceTransport ice = new IceTransport(config.withPublicAddress(publicAddress), false)) {
            List<String> lines = ice.localCandidates();
            assertEquals(2, lines.size(), lines.toString());
            CandidateAttribute host = CandidateAttribute.parse(lines.get(0));
            CandidateAttribute mapped = CandidateAttribute.parse(lines.get(1));
            assertEquals("host", host.type());
            assertEquals("srflx", mapped.type());
            assertEquals("127.0.0.77", mapped.address());
            assertEquals(host.port(), mapped.port(), "1:1 NAT keeps the port");
            assertEquals(host.address(), mapped.relAddress());
            assertEquals(host.port(), mapped.relPort());
        }
    }

    @Test
    void publicAddressOfTheOtherFamilyIsNotMapped() throws Exception {
        try (IceTransport ice = new IceTransport(config.withPublicAddress(CandidateAttribute.literal("2001:db8::7")),
                false)) {
            assertEquals(1, ice.localCandidates().size(), ice.localCandidates().toString());
        }
    }

    /**
     * A minimal STUN server (RFC 8489 §6.3.1): answers each Binding request with an XOR-MAPPED-ADDRESS that
     * plays a NAT, {@code 127.0.0.9} and the source port plus {@value #PORT_SHIFT}.
     */
    static final class StunResponder implements AutoCloseable {
        private final DatagramSocket socket = new DatagramSocket(0, IceTestSupport.LOOPBACK);
        private final Thread thread = new Thread(this::run, "test-stun-responder");
        final AtomicInteger requests = new AtomicInteger();

        StunResponder() throws SocketException {
            thread.setDaemon(true);
            thread.start();
        }

        InetSocketAddress address() {
            return new InetSocketAddress(IceTestSupport.LOOPBACK, socket.getLocalPort());
        }

        private void run() {
            byte[] buf = new byte[1500];
            while (!socket.isClosed()) {
                DatagramPacket p = new DatagramPacket(buf, buf.length);
                try {
                    socket.receive(p);
                } catch (IOException e) {
                    return;
                }
                if (p.getLength() < 20 || buf[0] != 0 || buf[1] != 1) {
                    continue;
                }
                requests.incrementAndGet();
                byte[] r = new byte[32];
                r[0] = 0x01;
                r[1] = 0x01;                       // Binding success response
                r[3] = 12;                         // one attribute of 4 + 8 bytes
                System.arraycopy(buf, 4, r, 4, 16); // magic cookie and transaction id
                r[21] = 0x20;                      // XOR-MAPPED-ADDRESS
                r[23] = 8;
                r[25] = 0x01;                      // IPv4
                int port = p.getPort() + PORT_SHIFT;
                r[26] = (byte) ((port >> 8) ^ 0x21);
                r[27] = (byte) ((port & 0xFF) ^ 0x12);
                byte[] a = NAT_ADDRESS.getAddress();
                byte[] cookie = {0x21, 0x12, (byte) 0xA4, 0x42};
                for (int i = 0; i < 4; i++) {
                    r[28 + i] = (byte) (a[i] ^ cookie[i]);
                }
                try {
                    socket.send(new DatagramPacket(r, r.length, p.getSocketAddress()));
                } catch (IOException e) {
                    return;
                }
            }
        }

        @Override
        public void close() throws InterruptedException {
            socket.close();
            thread.join(5000);
        }
    }
}
