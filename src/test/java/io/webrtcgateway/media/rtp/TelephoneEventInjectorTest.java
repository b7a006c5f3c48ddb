package io.webrtcgateway.media.rtp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.webrtcgateway.media.PacketSender;
import io.webrtcgateway.testsupport.FreePorts;
import io.webrtcgateway.testsupport.Poll;
import java.io.IOException;
import java.net.DatagramPacket;
import java.net.InetSocketAddress;
import java.nio.channels.DatagramChannel;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Gateway-generated DTMF in the relayed stream toward SIP, over real sockets: same SSRC as the audio,
 * one run of sequence numbers (no number used twice, none skipped) while the browser keeps sending audio
 * on its own thread, timestamps never going back, the audio after the events marked as a new talkspurt.
 */
class TelephoneEventInjectorTest {

    private static final Duration WAIT = Duration.ofSeconds(15);
    private static final int BROWSER_SSRC = 0x0B0B0B0B;
    private static final int TO_SIP = 0x11112222;
    private static final PayloadTypeMap BROWSER_TO_SIP =
            PayloadTypeMap.builder().map(0, 0, 8000).telephoneEvent(126, 101, 8000).build();
    private static final PacketSender NOWHERE = (b, off, len) -> { };

    private UdpReceiveLoops loops;
    private RtpPortAllocator allocator;
    private PlainRtpEndpoint endpoint;
    private MediaRelay relay;
    private DatagramChannel sipRtp;
    private ScheduledExecutorService timer;
    private final List<byte[]> atSip = new CopyOnWriteArrayList<>();
    private Thread sipReceiver;

    @BeforeEach
    void setUp() throws IOException {
        loops = new UdpReceiveLoops("dtmf-test", 1);
        FreePorts.Range range = FreePorts.udpRange(10);
        allocator = new RtpPortAllocator(FreePorts.LOOPBACK, range.low(), range.high());
        endpoint = PlainRtpEndpoint.open(allocator, loops, SourcePolicy.SDP);
        sipRtp = DatagramChannel.open().bind(new InetSocketAddress(FreePorts.LOOPBACK, 0));
        relay = new MediaRelay(endpoint, NOWHERE, NOWHERE, MediaRelay.Config.audio(TO_SIP, 0x3333, BROWSER_TO_SIP));
        relay.start();
        relay.updateSipRemote((InetSocketAddress) sipRtp.getLocalAddress(),
                new InetSocketAddress(FreePorts.LOOPBACK, 9), false);
        relay.allowMedia();
        timer = Executors.newSingleThreadScheduledExecutor();
        sipReceiver = new Thread(() -> {
            DatagramPacket p = new DatagramPacket(new byte[2048], 2048);
            while (sipRtp.isOpen()) {
                try {
                    sipRtp.socket().receive(p);
                } catch (IOException e) {
                    return;
                }
                atSip.add(Arrays.copyOf(p.getData(), p.getLength()));
            }
        }, "sip-side");
        sipReceiver.start();
    }

    @AfterEach
    void tearDown() throws Exception {
        timer.shutdownNow();
        relay.close();
        sipRtp.close();
        sipReceiver.join(5000);
        loops.close();
        assertEquals(0, allocator.pairsInUse());
    }

    private List<byte[]> events() {
        return atSip.stream().filter(p -> RtpPacket.payloadType(p, 0) == 101).toList();
    }

    @Test
    void eventsShareTheAudioStreamWhileTheBrowserKeepsSending() throws Exception {
        assertTrue(relay.canSendTelephoneEvents());
        Thread browser = new Thread(() -> {
            int seq = 1000;
            long ts = 0;
            while (!Thread.currentThread().isInterrupted()) {
                byte[] p = Packets.rtp(0, seq++ & 0xffff, ts, BROWSER_SSRC, 160);
                ts += 160;
                relay.fromBrowser(p, 0, p.length, false);
                long until = System.nanoTime() + 2_000_000; // a packet every ~2 ms: many races with the events
                while (System.nanoTime() < until) {
                    Thread.onSpinWait();
                }
            }
        }, "browser-side");
        browser.start();
        try {
            Poll.until(WAIT, "audio relayed", atSip::size, n -> n > 50);
            assertTrue(relay.sendTelephoneEvents("1#", 60, timer));
            assertTrue(relay.sendTelephoneEvents("7", 60, timer), "queued behind the first request");
            Poll.until(WAIT, "three digits ended", () -> events().stream().filter(p -> (p[13] & 0x80) != 0).count(),
                    n -> n >= 9);
            int eventsSeen = atSip.size();
            Poll.until(WAIT, "audio after the events", atSip::size, n -> n > eventsSeen + 50);
        } finally {
            browser.interrupt();
            browser.join(5000);
        }

        List<byte[]> all = new ArrayList<>(atSip);
        // Loopback keeps the order; every packet under one SSRC, numbered one after the other.
        for (int i = 0; i < all.size(); i++) {
            assertEquals(TO_SIP, RtpPacket.ssrc(all.get(i), 0), "packet " + i);
            if (i > 0) {
                int prev = RtpPacket.sequence(all.get(i - 1), 0);
                assertEquals((prev + 1) & 0xffff, RtpPacket.sequence(all.get(i), 0), "sequence after packet " + (i - 1));
                long dts = (RtpPacket.timestamp(all.get(i), 0) - RtpPacket.timestamp(all.get(i - 1), 0)) & 0xffffffffL;
                assertTrue(dts < 0x8000_0000L, "timestamp went back at packet " + i);
            }
        }
        // The events: digits 1, # (11), 7 in order, each with three end packets and one onset timestamp.
        List<Integer> ended = new ArrayList<>();
        List<Long> onsets = new ArrayList<>();
        for (byte[] e : events()) {
            assertEquals(16, e.length);
            long ts = RtpPacket.timestamp(e, 0);
            if (!onsets.contains(ts)) {
                onsets.add(ts);
                assertTrue(RtpPacket.marker(e, 0), "first packet of an event has the marker");
                ended.add(e[12] & 0xff);
            } else {
                assertFalse(RtpPacket.marker(e, 0));
            }
        }
        assertEquals(List.of(1, 11, 7), ended);
        assertTrue(relay.stats().browserToSip().drops().gated() > 0, "the browser's audio of that time is held back");
        assertEquals(9, events().stream().filter(p -> (p[13] & 0x80) != 0).count(), "3 end packets per digit");

        // The first audio packet after an event run is marked (a new talkspurt).
        for (int i = 1; i < all.size(); i++) {
            if (RtpPacket.payloadType(all.get(i), 0) == 0 && RtpPacket.payloadType(all.get(i - 1), 0) == 101) {
                assertTrue(RtpPacket.marker(all.get(i), 0), "audio resuming at packet " + i);
            }
        }
    }

    @Test
    void eventsGoOutWhenTheBrowserSendsNothingAndTheAudioContinuesAfterThem() throws Exception {
        for (int seq = 10; seq < 20; seq++) {
            byte[] p = Packets.rtp(0, seq, 160L * seq, BROWSER_SSRC, 160);
            relay.fromBrowser(p, 0, p.length, false);
        }
        Poll.until(WAIT, "audio relayed", atSip::size, n -> n == 9);
        int lastAudioSeq = RtpPacket.sequence(atSip.get(8), 0);
        assertTrue(relay.sendTelephoneEvents("5", 40, timer));
        Poll.until(WAIT, "end packets", () -> events().size(), n -> n == 3);
        assertEquals(lastAudioSeq + 1, RtpPacket.sequence(events().get(0), 0));
        byte[] p = Packets.rtp(0, 20, 160L * 20, BROWSER_SSRC, 160);
        relay.fromBrowser(p, 0, p.length, false);
        Poll.until(WAIT, "audio after", atSip::size, n -> n == 13);
        assertEquals(lastAudioSeq + 4, RtpPacket.sequence(atSip.get(12), 0));
        assertTrue(RtpPacket.marker(atSip.get(12), 0));
    }

    @Test
    void noTelephoneEventNegotiatedMeansNoEvents() throws Exception {
        relay.setPayloadTypes(PayloadTypeMap.builder().map(0, 0, 8000).build(),
                PayloadTypeMap.builder().map(0, 0, 8000).build());
        assertFalse(relay.canSendTelephoneEvents());
        assertFalse(relay.sendTelephoneEvents("1", 100, timer));
    }
}
