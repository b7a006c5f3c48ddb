package io.webrtcgateway.sip;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.webrtcgateway.config.Cidr;
import io.webrtcgateway.config.SipServerAddress;
import io.webrtcgateway.testsupport.Poll;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.time.Duration;
import java.util.List;
import javax.sip.RequestEvent;
import javax.sip.ResponseEvent;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The source rule of the SIP listener: who is trusted, and who else may send inside a dialog. */
class TrustedSipSourcesTest {
    private final SipHostResolver resolver = new SipHostResolver("test-dns");

    @AfterEach
    void close() {
        resolver.close();
    }

    private TrustedSipSources sources(List<String> servers, String... trusted) {
        List<SipServerAddress> parsed = servers.stream().map(SipServerAddress::parse).toList();
        List<Cidr> blocks = java.util.Arrays.stream(trusted).map(Cidr::parse).toList();
        TrustedSipSources s = new TrustedSipSources(parsed, blocks, resolver);
        s.resolveServersNow();
        return s;
    }

    private static InetAddress ip(String literal) {
        InetAddress a = SipHostResolver.literal(literal);
        if (a == null) {
            throw new IllegalArgumentException(literal);
        }
        return a;
    }

    /** A dialog owner whose peer sends from {@code hosts}. */
    private static SipRequestHandler owner(String... hosts) {
        return new SipRequestHandler() {
            @Override
            public void onRequest(RequestEvent event) {}

            @Override
            public void onStrayResponse(ResponseEvent event) {}

            @Override
            public List<String> peerHosts() {
                return List.of(hosts);
            }
        };
    }

    @Test
    void sipServersAndTrustedSourcesAreTrustedNobodyElse() {
        TrustedSipSources s = sources(List.of("10.0.0.5:5060", "10.0.0.9:5062;transport=tcp"), "192.168.1.0/24", "::1");
        assertTrue(s.trusted(ip("10.0.0.5")), "the primary");
        assertTrue(s.trusted(ip("10.0.0.9")), "the backup (the port does not matter: a server sends from any)");
        assertTrue(s.trusted(ip("192.168.1.77")), "inside a trusted block");
        assertTrue(s.trusted(ip("::1")));
        assertFalse(s.trusted(ip("10.0.0.6")));
        assertFalse(s.trusted(ip("192.168.2.1")));
        assertFalse(s.trusted(ip("127.0.0.1")), "loopback is nothing special");
        assertFalse(s.trusted(null));
    }

    @Test
    void anIpv4MappedSourceComparesAsItsIpv4Address() throws Exception {
        TrustedSipSources s = sources(List.of("10.0.0.5"));
        byte[] mapped = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, (byte) 0xff, (byte) 0xff, 10, 0, 0, 5};
        assertTrue(s.trusted(java.net.Inet6Address.getByAddress(null, mapped, -1)));
    }

    @Test
    void aServerNameIsResolvedAtStart() {
        TrustedSipSources s = sources(List.of("localhost:5060"));
        assertTrue(s.trusted(ip("127.0.0.1")), "localhost resolved before the first request");
        assertFalse(s.trusted(ip("127.0.0.2")));
    }

    @Test
    void aSandboxBoundToTheWildcardIsTrustedFromEveryLocalAddress() {
        TrustedSipSources s = sources(List.of("0.0.0.0:5080"));
        assertTrue(s.trusted(InetAddress.getLoopbackAddress()));
        assertFalse(s.trusted(ip("203.0.113.7")));
    }

    @Test
    void insideADialogItsPeerIsAcceptedToo() {
        TrustedSipSources s = sources(List.of("10.0.0.5"));
        SipRequestHandler dialog = owner("10.9.9.1", "10.9.9.2"); // first route hop, remote target
        assertTrue(s.accepts(ip("10.9.9.1"), dialog), "the route set's first hop");
        assertTrue(s.accepts(ip("10.9.9.2"), dialog), "the remote target");
        assertTrue(s.accepts(ip("10.0.0.5"), dialog), "SIP Server, whoever the peer is");
        assertFalse(s.accepts(ip("10.9.9.3"), dialog), "anyone else");
        assertFalse(s.accepts(ip("10.9.9.1"), null), "the same host outside any dialog");
        assertFalse(s.accepts(ip("10.9.9.1"), owner()), "a dialog whose peer is not known yet");
        assertTrue(s.accepts(ip("10.0.0.5"), null));
    }

    @Test
    void aPeerNamedByHostNameCountsOnceResolvedWithoutBlocking() {
        TrustedSipSources s = sources(List.of("10.0.0.5"));
        SipRequestHandler dialog = owner("localhost");
        assertFalse(s.accepts(ip("127.0.0.1"), dialog), "first sight: the lookup only starts");
        Poll.until(Duration.ofSeconds(5), "localhost resolved in the background",
                () -> s.accepts(ip("127.0.0.1"), dialog));
        assertFalse(s.accepts(ip("127.0.0.2"), dialog));
    }

    @Test
    void literalsAreParsedNamesNeverLookedUp() {
        assertEquals(ip("10.1.2.3"), SipHostResolver.literal("10.1.2.3"));
        assertEquals("::1", SipHostResolver.literal("[::1]").getHostAddress().replace("0:0:0:0:0:0:0:1", "::1"));
        InetAddress mapped = SipHostResolver.literal("::ffff:1.2.3.4");
        assertTrue(mapped instanceof Inet4Address, String.valueOf(mapped));
        assertNull(SipHostResolver.literal("999.1.1.1"));
        assertNull(SipHostResolver.literal("1.2.3"));
        assertNull(SipHostResolver.literal("cafe.be"), "hex letters and dots: still a name");
        assertNull(SipHostResolver.literal("sip.example.com"));
        assertNull(SipHostResolver.literal(""));
    }
}
