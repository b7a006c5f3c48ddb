package io.webrtcgateway.media.ice;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.webrtcgateway.config.Cidr;
import io.webrtcgateway.config.ConfigLoader;
import io.webrtcgateway.config.GatewayConfig;
import io.webrtcgateway.media.rtp.UdpReceiveLoops;
import io.webrtcgateway.testsupport.Poll;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * gateway.media.ice-remote-deny: which remote addresses ICE refuses, and that it really never sends there
 * (raw sockets listening where the refused candidates point), while a peer on an allowed address connects.
 */
class IceRemoteDenyTest {

    private static final Duration WAIT = Duration.ofSeconds(10);
    private static IceConfig config;

    @BeforeAll
    static void configure() {
        config = IceTestSupport.config();
    }

    private static InetAddress ip(String literal) throws Exception {
        return InetAddress.getByName(literal);
    }

    /** The default list (reference.conf) with own-addresses, as IceConfig.from builds it. */
    @Test
    void theDefaultListRefusesLoopbackLinkLocalMetadataMulticastAndOwnAddresses() throws Exception {
        GatewayConfig.Media media = ConfigLoader.parse("").media();
        IceRemoteDeny deny = IceRemoteDeny.of(media.iceRemoteDeny(), media.iceDenyOwnAddresses(),
                List.of(ip("198.51.100.20")));
        for (String denied : List.of("127.0.0.1", "127.0.0.53", "::1", "169.254.169.254", "fe80::1", "fd00:ec2::254",
                "0.0.0.0", "::", "224.0.0.251", "ff02::fb", "255.255.255.255", "::ffff:169.254.169.254")) {
            assertEquals(IceRemoteDeny.Reason.DENY_LIST, deny.refuses(ip(denied)), denied);
        }
        assertEquals(IceRemoteDeny.Reason.OWN_ADDRESS, deny.refuses(ip("198.51.100.20")), "a configured own address");
        for (NetworkInterface nif : Collections.list(NetworkInterface.getNetworkInterfaces())) {
            for (InetAddress a : Collections.list(nif.getInetAddresses())) {
                assertTrue(deny.refuses(a) != null, "this machine's " + a);
                // as a browser would write it: no %scope
                assertTrue(deny.refuses(InetAddress.getByAddress(a.getAddress())) != null, "this machine's " + a);
            }
        }
        for (String allowed : List.of("203.0.113.9", "10.20.30.40", "2001:db8::7")) {
            assertNull(deny.refuses(ip(allowed)), allowed);
        }
        assertTrue(IceRemoteDeny.of(List.of(), false, List.of(ip("198.51.100.20"))).ownAddresses().isEmpty());
        assertNull(IceRemoteDeny.NONE.refuses(ip("127.0.0.1")));
    }

    /**
     * The gateway's side answers a browser's offer naming 127.0.0.5 and 169.254.169.254 (denied blocks) and
     * the machine's own addresses, the browser's own candidate included (127.0.0.1 here): none of them is ever
     * checked, each is counted, and the browser's checks still connect (its address learnt as peer-reflexive,
     * which is how a browser on the gateway's own machine gets through).
     */
    @Test
    void refusedCandidatesAreNeverCheckedAndTheBrowserStillConnects() throws Exception {
        IceRemoteDeny deny = IceRemoteDeny.of(List.of(Cidr.parse("127.0.0.5/32"), Cidr.parse("169.254.0.0/16")),
                true, List.of());
        IceConfig gatewaySide = config.withRemoteDeny(deny);
        try (DatagramSocket deniedBlock = watch("127.0.0.5");
             DatagramSocket ownAddress = watch("127.0.0.1");
             IceTransport gateway = new IceTransport(gatewaySide, false);
             IceTransport browser = new IceTransport(config, true)) {
            gateway.setRemoteCredentials(browser.localUfrag(), browser.localPassword());
            browser.setRemoteCredentials(gateway.localUfrag(), gateway.localPassword());
            for (String c : browser.localCandidates()) {
                assertFalse(gateway.addRemoteCandidate(c), "the browser's own 127.0.0.1 is an own address: " + c);
            }
            assertFalse(gateway.addRemoteCandidate("candidate:7 1 udp 2130706431 127.0.0.5 "
                    + deniedBlock.getLocalPort() + " typ host"));
            assertFalse(gateway.addRemoteCandidate("candidate:8 1 udp 1694498815 169.254.169.254 80 typ srflx"
                    + " raddr 0.0.0.0 rport 0"));
            gateway.start();
            // trickled after start, as Chrome writes them
            assertFalse(gateway.addRemoteCandidate("a=candidate:9 1 udp 2122260223 127.0.0.1 "
                    + ownAddress.getLocalPort() + " typ host generation 0 ufrag " + browser.localUfrag()));
            assertFalse(gateway.addRemoteCandidate("candidate:10 1 udp 2122260223 169.254.169.254 53 typ host"));
            gateway.localCandidates().forEach(browser::addRemoteCandidate);
            browser.start();
            new IceTestSupport.Pair(browser, gateway).awaitConnected();
            assertEquals("prflx", gateway.stats().remoteCandidateType());

            assertTrue(nothingArrives(deniedBlock, Duration.ofSeconds(1)), "a STUN packet reached 127.0.0.5");
            assertTrue(nothingArrives(ownAddress, Duration.ofMillis(200)), "a STUN packet reached the own address");
            assertEquals(3, deny.candidatesRefused(IceRemoteDeny.Reason.DENY_LIST));
            assertEquals(1 + browser.localCandidates().size(), deny.candidatesRefused(IceRemoteDeny.Reason.OWN_ADDRESS));
            assertEquals(0, deny.sendsRefused());
        }
    }

    /**
     * Checks from a denied block are dropped before ice4j: not answered, not learnt as peer-reflexive (which
     * ice4j would then check). A real ICE agent on 127.0.0.5 never gets an answer; the same on 127.0.0.6
     * connects (its address learnt from its checks).
     */
    @Test
    void checksFromADeniedBlockAreNeitherAnsweredNorLearnt() throws Exception {
        IceRemoteDeny deny = IceRemoteDeny.of(List.of(Cidr.parse("127.0.0.5/32")));
        try (IceTransport gateway = new IceTransport(config.withRemoteDeny(deny), false);
             IceTransport denied = new IceTransport(on("127.0.0.5"), true)) {
            introduce(gateway, denied);
            Poll.until(WAIT, "the denied agent's checks dropped", deny::stunDropped, n -> n >= 3);
            assertEquals(0, denied.stats().stunIn(), "no answer reached 127.0.0.5");
            assertEquals(0, gateway.stats().stunIn(), "ice4j never saw the checks");
            assertEquals(IceTransport.State.CHECKING, gateway.state());
        }
        try (IceTransport gateway = new IceTransport(config.withRemoteDeny(deny), false);
             IceTransport allowed = new IceTransport(on("127.0.0.6"), true)) {
            introduce(gateway, allowed);
            new IceTestSupport.Pair(allowed, gateway).awaitConnected();
            assertEquals("prflx", gateway.stats().remoteCandidateType());
        }
    }

    /** Host candidates on one loopback address, the test JVM's ports and consent settings. */
    private static IceConfig on(String address) throws Exception {
        return IceConfig.onAddresses(List.of(ip(address)), config.portMin(), config.portMax())
                .withConsent(config.consentInterval(), config.consentTimeout());
    }

    /** The browser gets the gateway's candidates, the gateway none of the browser's (mDNS-like); both start. */
    private static void introduce(IceTransport gateway, IceTransport browser) {
        gateway.setRemoteCredentials(browser.localUfrag(), browser.localPassword());
        browser.setRemoteCredentials(gateway.localUfrag(), gateway.localPassword());
        gateway.localCandidates().forEach(browser::addRemoteCandidate);
        gateway.start();
        browser.start();
    }

    /** The last line of defence: whatever ice4j sends to a denied block is stopped, except to a STUN server. */
    @Test
    void theSocketRefusesToSendToADeniedBlock() throws Exception {
        IceRemoteDeny deny = IceRemoteDeny.of(List.of(Cidr.parse("127.0.0.5/32"), Cidr.parse("127.0.0.7/32")));
        try (DatagramSocket denied = watch("127.0.0.5");
             DatagramSocket stunServer = watch("127.0.0.7");
             UdpReceiveLoops loops = new UdpReceiveLoops("deny-test", 1)) {
            IceConfig c = config.withRemoteDeny(deny)
                    .withStunServers(List.of((InetSocketAddress) stunServer.getLocalSocketAddress()));
            HostSocket socket = HostSocket.bind(c, IceTestSupport.LOOPBACK, new HostSocket.Sink() {
                @Override
                public boolean accepts(HostSocket s, InetAddress address, int port) {
                    return false;
                }

                @Override
                public void deliver(byte[] buf, int off, int len) {
                }
            }, loops.leastLoaded());
            try {
                byte[] b = bindingRequestWithoutCredentials();
                socket.send(new DatagramPacket(b, b.length, denied.getLocalSocketAddress()));
                socket.send(new DatagramPacket(b, b.length, stunServer.getLocalSocketAddress()));
                assertTrue(receivedSomething(stunServer), "the configured STUN server is exempt");
                assertTrue(nothingArrives(denied, Duration.ofMillis(300)));
                assertEquals(1, deny.sendsRefused());
            } finally {
                socket.close();
            }
        }
    }

    private static DatagramSocket watch(String address) throws Exception {
        return new DatagramSocket(new InetSocketAddress(InetAddress.getByName(address), 0));
    }

    private static boolean nothingArrives(DatagramSocket s, Duration during) throws Exception {
        s.setSoTimeout((int) during.toMillis());
        try {
            s.receive(new DatagramPacket(new byte[2048], 2048));
            return false;
        } catch (SocketTimeoutException expected) {
            return true;
        }
    }

    private static boolean receivedSomething(DatagramSocket s) throws Exception {
        s.setSoTimeout((int) WAIT.toMillis());
        try {
            s.receive(new DatagramPacket(new byte[2048], 2048));
            return true;
        } catch (SocketTimeoutException e) {
            return false;
        }
    }

    /** RFC 5389 §6: a Binding request (0x0001), no attributes, magic cookie, a transaction id. */
    private static byte[] bindingRequestWithoutCredentials() {
        byte[] b = new byte[20];
        b[1] = 0x01;
        b[4] = 0x21;
        b[5] = 0x12;
        b[6] = (byte) 0xA4;
        b[7] = 0x42;
        for (int i = 8; i < 20; i++) {
            b[i] = (byte) (i * 7);
        }
        return b;
    }
}
