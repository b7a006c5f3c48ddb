package io.webrtcgateway.sip.sandbox;

import static io.webrtcgateway.sip.sandbox.SandboxSipServerTest.await;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.time.Clock;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import io.webrtcgateway.config.HostPort;
import io.webrtcgateway.sip.sandbox.RawUserAgent.Call;
import io.webrtcgateway.sip.sandbox.RawUserAgent.SipMessage;

/** The echo number: answered by the sandbox itself, RTP sent back to its source, the socket freed on BYE. */
class SandboxEchoTest {

    static final String PCMU_OFFER = SandboxCallRoutingTest.OFFER;

    private SandboxSipServer server;
    private RawUserAgent alice;
    private DatagramSocket rtp;

    @BeforeEach
    void start() throws Exception {
        startWith(Duration.ofHours(1));
    }

    private void startWith(Duration maxCall) throws Exception {
        server = new SandboxSipServer(new HostPort("127.0.0.1", 0), Clock.systemUTC(),
                new CallRouter.Timeouts(Duration.ofSeconds(1), Duration.ofSeconds(2), Duration.ofSeconds(2), maxCall));
        server.start();
        alice = RawUserAgent.open("1001", new InetSocketAddress(server.address().host(), server.address().port()));
        rtp = new DatagramSocket(new InetSocketAddress(InetAddress.getByName("127.0.0.1"), 0));
        rtp.setSoTimeout(200);
    }

    @AfterEach
    void stop() {
        alice.close();
        rtp.close();
        server.close();
    }

    private static int audioPort(String sdp) {
        Matcher m = Pattern.compile("m=audio (\\d+) ").matcher(sdp);
        assertTrue(m.find(), sdp);
        return Integer.parseInt(m.group(1));
    }

    /** An RTP packet (RFC 3550 §5.1): V=2, PCMU, the given sequence number, 160 bytes of payload. */
    private static byte[] rtpPacket(int seq) {
        byte[] p = new byte[12 + 160];
        p[0] = (byte) 0x80;
        p[1] = 0;
        p[2] = (byte) (seq >> 8);
        p[3] = (byte) seq;
        p[8] = 0x12;
        p[9] = 0x34;
        Arrays.fill(p, 12, p.length, (byte) (seq & 0x7f));
        return p;
    }

    /** Sends packets to the echo and returns how many came back unchanged. */
    private int echoed(int port, int from, int count) throws Exception {
        InetSocketAddress echo = new InetSocketAddress("127.0.0.1", port);
        int back = 0;
        for (int i = from; i < from + count; i++) {
            byte[] sent = rtpPacket(i);
            rtp.send(new DatagramPacket(sent, sent.length, echo));
            DatagramPacket in = new DatagramPacket(new byte[2048], 2048);
            try {
                rtp.receive(in);
                assertEquals(new InetSocketAddress("127.0.0.1", port), in.getSocketAddress(), "sent from the echo's own port");
                assertArrayEquals(sent, Arrays.copyOf(in.getData(), in.getLength()));
                back++;
            } catch (SocketTimeoutException e) {
                // not echoed
            }
        }
        return back;
    }

    private SipMessage answered(Call call) throws Exception {
        SipMessage ok = alice.awaitInviteResponse(call, 200);
        assertEquals(200, ok.status(), ok.text());
        alice.ack(call, ok, null);
        return ok;
    }

    @Test
    void theEchoNumberAnswersWithTheOfferedCodecAndSendsRtpBack() throws Exception {
        Call call = alice.invite(CallRouter.ECHO_NUMBER, PCMU_OFFER);
        SipMessage ok = answered(call);
        assertEquals("application/sdp", ok.header("Content-Type"));
        assertTrue(ok.body().contains("m=audio " + audioPort(ok.body()) + " RTP/AVP 0 101\r\n"), ok.body());
        assertTrue(ok.body().contains("c=IN IP4 127.0.0.1\r\n"), ok.body());
        int port = audioPort(ok.body());
        assertEquals(0, port % 2, "RTP on an even port (RFC 3550 §11)");

        assertEquals(10, echoed(port, 1, 10));
        EchoCall echo = server.router().echoCalls().get(0);
        // The echo counts a packet after sending it back, so the count may trail what arrived here.
        await(() -> echo.rtpReceived() == 10 && echo.rtpEchoed() == 10, Duration.ofSeconds(2),
                () -> "counted " + echo.rtpReceived() + " received, " + echo.rtpEchoed() + " echoed");

        // RTCP on the next port is accepted but not sent back.
        byte[] rtcp = {(byte) 0x81, (byte) 201, 0, 1, 0, 0, 0, 1};
        rtp.send(new DatagramPacket(rtcp, rtcp.length, new InetSocketAddress("127.0.0.1", port + 1)));

        alice.request(call, "BYE", null, null);
        assertEquals(200, alice.awaitFinal(call.callId, "BYE").status());
        await(() -> server.activeCalls() == 0 && server.router().trackedCallIds() == 0, Duration.ofSeconds(5),
                () -> "echo call not forgotten");
        // Both ports are free again.
        try (DatagramSocket a = new DatagramSocket(new InetSocketAddress("127.0.0.1", port));
             DatagramSocket b = new DatagramSocket(new InetSocketAddress("127.0.0.1", port + 1))) {
            assertEquals(port, a.getLocalPort());
            assertEquals(port + 1, b.getLocalPort());
        }
    }

    @Test
    void holdStopsTheEchoAndResumeStartsItAgainOnTheSamePort() throws Exception {
        Call call = alice.invite(CallRouter.ECHO_NUMBER, PCMU_OFFER);
        int port = audioPort(answered(call).body());
        assertEquals(3, echoed(port, 1, 3));

        alice.request(call, "INVITE", PCMU_OFFER.replace("sendrecv", "sendonly").replace("o=- 1 1", "o=- 1 2"), "application/sdp");
        SipMessage held = alice.awaitFinal(call.callId, "INVITE");
        assertEquals(200, held.status());
        assertTrue(held.body().contains("a=recvonly\r\n"), held.body());
        assertTrue(held.body().contains(" 2 IN IP4 "), "o= version goes up (RFC 3264 §8): " + held.body());
        assertEquals(port, audioPort(held.body()));
        alice.send(SandboxCallRoutingTest.ackFor(alice, call, held));
        assertEquals(0, echoed(port, 4, 3), "nothing sent back while held");

        alice.request(call, "INVITE", PCMU_OFFER.replace("o=- 1 1", "o=- 1 3"), "application/sdp");
        SipMessage resumed = alice.awaitFinal(call.callId, "INVITE");
        assertTrue(resumed.body().contains("a=sendrecv\r\n"), resumed.body());
        alice.send(SandboxCallRoutingTest.ackFor(alice, call, resumed));
        assertEquals(3, echoed(port, 7, 3));
        assertEquals(9, server.router().echoCalls().get(0).rtpReceived());
    }

    @Test
    void anInviteWithoutOfferGetsAnOfferAndTheAckAnswers() throws Exception {
        Call call = alice.invite(CallRouter.ECHO_NUMBER, null);
        SipMessage ok = alice.awaitInviteResponse(call, 200);
        assertTrue(ok.body().contains("RTP/AVP 0 8 101"), ok.body());
        alice.ack(call, ok, PCMU_OFFER);
        assertTrue(echoed(audioPort(ok.body()), 1, 3) > 0);
    }

    @Test
    void infoAndCancelAfterTheAnswerDoNotEndTheCall() throws Exception {
        Call call = alice.invite(CallRouter.ECHO_NUMBER, PCMU_OFFER);
        answered(call);
        alice.request(call, "INFO", "Signal=1\r\n", "application/dtmf-relay");
        assertEquals(200, alice.awaitFinal(call.callId, "INFO").status());
        alice.cancel(call);
        assertEquals(200, alice.awaitFinal(call.callId, "CANCEL").status());
        assertEquals(1, server.activeCalls());
    }

    @Test
    void unusableOffersAre488AndLeaveNothingBehind() throws Exception {
        String srtpOnly = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
                + "m=audio 4000 UDP/TLS/RTP/SAVPF 111\r\na=rtpmap:111 opus/48000/2\r\n";
        for (String offer : List.of(srtpOnly, "v=0\r\nthis is no SDP\r\n", "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n")) {
            Call call = alice.invite(CallRouter.ECHO_NUMBER, offer);
            SipMessage refused = alice.awaitInviteResponse(call, 200);
            assertEquals(488, refused.status(), offer);
            alice.ack(call, refused, null);
        }
        await(() -> server.activeCalls() == 0 && server.router().trackedCallIds() == 0, Duration.ofSeconds(5),
                () -> "refused echo calls not forgotten");
    }

    @Test
    void anEchoCallLongerThanTheMaximumIsHungUp() throws Exception {
        stop();
        startWith(Duration.ofMillis(1500));
        Call call = alice.invite(CallRouter.ECHO_NUMBER, PCMU_OFFER);
        int port = audioPort(answered(call).body());

        SipMessage bye = alice.awaitRequest("BYE", call.callId);
        alice.respond(bye, 200, "OK", null, null, null);
        await(() -> server.activeCalls() == 0, Duration.ofSeconds(5), () -> "echo call not forgotten");
        try (DatagramSocket a = new DatagramSocket(new InetSocketAddress("127.0.0.1", port))) {
            assertEquals(port, a.getLocalPort());
        }
    }

    @Test
    void closingTheSandboxFreesTheEchoSockets() throws Exception {
        Call call = alice.invite(CallRouter.ECHO_NUMBER, PCMU_OFFER);
        int port = audioPort(answered(call).body());
        server.close();
        try (DatagramSocket a = new DatagramSocket(new InetSocketAddress("127.0.0.1", port))) {
            assertEquals(port, a.getLocalPort());
        }
        assertTrue(Thread.getAllStackTraces().keySet().stream().noneMatch(t -> t.getName().equals("sandbox-echo-" + port)));
    }
}
