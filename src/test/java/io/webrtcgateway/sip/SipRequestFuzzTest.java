package io.webrtcgateway.sip;

import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.junit.FuzzTest;
import gov.nist.javax.sip.header.UserAgent;
import gov.nist.javax.sip.message.SIPMessage;
import gov.nist.javax.sip.message.SIPRequest;
import gov.nist.javax.sip.stack.MessageChannel;
import gov.nist.javax.sip.stack.SIPTransactionStack;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.webrtcgateway.config.GatewayConfig;
import io.webrtcgateway.config.SipServerAddress;
import io.webrtcgateway.testsupport.FuzzBudget;
import java.net.InetAddress;
import java.text.ParseException;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Tag;

/**
 * A SIP request as the gateway receives it, without a network: bytes parsed by the stack's parser
 * ({@link SipMessageGuard} in front of JAIN-SIP's StringMsgParser, what its UDP channel does with a datagram)
 * and checked for the headers the stack requires, then the
 * gateway's own handling of a request, in the order the stack calls it:
 * <ol>
 *   <li>{@link SipSourceFilter} from a source that is not SIP Server (the 403 it builds, To tag, User-Agent),
 *       from SIP Server with small header bounds (the header count and size check and its 513), and over the
 *       per-source rate (the 503 with Retry-After), answered on a fake channel that keeps the response;</li>
 *   <li>the session-timer headers an INVITE or UPDATE carries (RFC 4028: Session-Expires, Min-SE, Supported,
 *       Require), read by {@link SessionTimer}.</li>
 * </ol>
 * Parse errors are ParseException; the gateway's part must then neither throw nor produce a response that does
 * not encode.
 */
@Tag("fuzz")
class SipRequestFuzzTest {
    private static final SipHostResolver RESOLVER = new SipHostResolver("fuzz-dns");
    private static final TrustedSipSources SOURCES = new TrustedSipSources(
            List.of(SipServerAddress.parse("127.0.0.1:5060")), List.of(), RESOLVER);
    /** 192.0.2.1 (TEST-NET-1) as an address object only: nothing is ever sent anywhere. */
    private static final InetAddress STRANGER = address(192, 0, 2, 1);
    private static final InetAddress SIP_SERVER = address(127, 0, 0, 1);
    /** Small enough that fuzz inputs reach both limits. */
    private static final GatewayConfig.Sip.Headers BOUNDS = new GatewayConfig.Sip.Headers(12, 200);

    @AfterAll
    static void stop() {
        RESOLVER.close();
    }

    @FuzzTest(maxDuration = FuzzBudget.MAX_DURATION, maxExecutions = FuzzBudget.EXECUTIONS)
    void handlesAnyRequest(byte[] datagram) throws Exception {
        SIPRequest request;
        try {
            SIPMessage message = new SipMessageGuard().parseSIPMessage(datagram, true, false, null);
            if (!(message instanceof SIPRequest r)) {
                return; // keep-alive CRLFs, or a response
            }
            r.checkHeaders();
            request = r;
        } catch (ParseException refused) {
            return; // the stack drops it (UDP) or answers 400 itself
        }
        UserAgent userAgent = new UserAgent();
        userAgent.addProductToken("webrtc-gateway-fuzz");
        SipSourceFilter.overBounds(request, GatewayConfig.Sip.Headers.DEFAULTS);
        for (GatewayConfig.Sip.Untrusted action : GatewayConfig.Sip.Untrusted.values()) {
            for (boolean reliable : new boolean[] {true, false}) {
                FakeChannel channel = new FakeChannel(reliable, action == GatewayConfig.Sip.Untrusted.DROP
                        ? SIP_SERVER : STRANGER);
                SipSourceFilter filter = new SipSourceFilter(SOURCES, callId -> null, action, transport -> null,
                        userAgent, new SimpleMeterRegistry(), new SourceRateLimit(1), BOUNDS);
                // The first is refused for its source (or let through or refused for its headers, from SIP
                // Server), the second for its rate too.
                filter.processRequest(request, channel);
                filter.processRequest(request, channel);
                for (SIPMessage response : channel.sent) {
                    assertTrue(response.encode().startsWith("SIP/2.0 "), "response does not encode");
                }
            }
        }
        SessionTimer.tooBrief(new SessionTimer.Settings(1800, 90), request);
        SessionTimer.requireInAnswer(request);
        SessionTimer.expiresOf(request);
        SessionTimer.intHeader(request, SessionTimer.MIN_SE);
    }

    private static InetAddress address(int a, int b, int c, int d) {
        try {
            return InetAddress.getByAddress(new byte[] {(byte) a, (byte) b, (byte) c, (byte) d});
        } catch (java.net.UnknownHostException e) {
            throw new IllegalStateException(e);
        }
    }

    /** A channel from {@code peer}; keeps what is sent on it, sends nothing. */
    private static final class FakeChannel extends MessageChannel {
        final List<SIPMessage> sent = new ArrayList<>();
        private final boolean reliable;
        private final InetAddress peer;

        FakeChannel(boolean reliable, InetAddress peer) {
            this.reliable = reliable;
            this.peer = peer;
        }

        @Override
        public void close() {}

        @Override
        public SIPTransactionStack getSIPStack() {
            return null;
        }

        @Override
        public String getTransport() {
            return reliable ? "TCP" : "UDP";
        }

        @Override
        public boolean isReliable() {
            return reliable;
        }

        @Override
        public boolean isSecure() {
            return false;
        }

        @Override
        public void sendMessage(SIPMessage message) {
            sent.add(message);
        }

        @Override
        public String getPeerAddress() {
            return peer.getHostAddress();
        }

        @Override
        protected InetAddress getPeerInetAddress() {
            return peer;
        }

        @Override
        protected String getPeerProtocol() {
            return getTransport();
        }

        @Override
        public int getPeerPort() {
            return 5062;
        }

        @Override
        public int getPeerPacketSourcePort() {
            return 5062;
        }

        @Override
        public InetAddress getPeerPacketSourceAddress() {
            return peer;
        }

        @Override
        public String getKey() {
            return "fuzz";
        }

        @Override
        public String getViaHost() {
            return "127.0.0.1";
        }

        @Override
        public int getViaPort() {
            return 5060;
        }

        @Override
        protected void sendMessage(byte[] message, InetAddress receiver, int port, boolean retry) {}
    }
}
