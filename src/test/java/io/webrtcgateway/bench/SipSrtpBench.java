package io.webrtcgateway.bench;

import io.webrtcgateway.media.srtp.SdesCrypto;
import io.webrtcgateway.media.srtp.SrtpProfile;
import io.webrtcgateway.media.srtp.SrtpSession;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * SRTP toward SIP (issue 14 item 3, docs/media.md "SRTP on both legs"): the gateway's own CPU per packet with
 * DTLS-SRTP on the browser side and plain RTP toward SIP, against SRTP on both sides (SDES toward SIP), measured
 * side by side in one run: the two variants alternate, 5 times each, and the medians are reported.
 * Run: {@code mvn -B verify -Pbench -Dit.test=SipSrtpBench} (table on stdout and in target/bench/sip-srtp.md).
 *
 * <ul>
 *   <li>browser -> SIP: RFC 7983 demultiplex, browser SRTP unprotect, relay logic (validate, copy, payload type,
 *   SSRC/sequence rewrite, stats), and with SRTP toward SIP the endpoint's copy and SRTP protect. Everything but
 *   the system calls ({@code RtpRelayBench.relayLogicOnly});</li>
 *   <li>SIP -> browser: what SRTP toward SIP adds in that direction, the SIP-side unprotect of each packet (the
 *   relay logic and the browser-side protect are the same in both variants).</li>
 * </ul>
 * No system calls: a relayed packet's two (recvfrom, sendto) cost 5-13 µs on this VM (docs/media.md), which
 * both variants pay alike. Not a test: it asserts nothing about speed.
 */
class SipSrtpBench {
    private static final int PACKET = 172;
    private static final int ROUNDS = 5;

    public static void main(String[] args) throws Exception {
        new SipSrtpBench().srtpOnBothSidesAgainstOne();
    }

    @Test
    void srtpOnBothSidesAgainstOne() throws Exception {
        double[] oneSide = new double[ROUNDS];
        double[] bothSides = new double[ROUNDS];
        double[] unprotect = new double[ROUNDS];
        for (int i = 0; i < ROUNDS; i++) {
            oneSide[i] = RtpRelayBench.relayLogicOnly(true, false);
            bothSides[i] = RtpRelayBench.relayLogicOnly(true, true);
            unprotect[i] = sipSideUnprotectNanos();
        }
        double a = median(oneSide);
        double b = median(bothSides);
        double u = median(unprotect);
        String table = String.format("%nSipSrtpBench: gateway CPU per 172-byte G.711 packet, no system calls, medians of %d"
                        + " alternating rounds (each itself the median of 9), %d cores, load average %s%n%n"
                        + "| ns per packet | DTLS-SRTP browser side + plain RTP SIP side | SRTP on both sides (SDES toward SIP) | added |%n"
                        + "|---|---|---|---|%n"
                        + "| browser -> SIP (demux, unprotect, relay%s) | %.0f | %.0f | %.0f |%n"
                        + "| SIP -> browser, SIP-side SRTP unprotect | 0 | %.0f | %.0f |%n"
                        + "| one packet each way | | | %.0f |%n"
                        + "%nrounds, one side: %s%nrounds, both sides: %s%nrounds, SIP-side unprotect: %s%n",
                ROUNDS, Runtime.getRuntime().availableProcessors(), loadAverage(), ", SIP-side protect", a, b, b - a, u, u,
                (b - a) + u, fmt(oneSide), fmt(bothSides), fmt(unprotect));
        System.out.println(table);
        Path out = Path.of(System.getProperty("it.buildDir", "target"), "bench", "sip-srtp.md");
        Files.createDirectories(out.getParent());
        Files.writeString(out, table);
    }

    /** The SIP leg's SRTP unprotect alone: a peer protects 10,000 packets (untimed), the gateway unprotects them. */
    private static double sipSideUnprotectNanos() {
        SecureRandom random = new SecureRandom();
        SdesCrypto offer = SdesCrypto.generate(1, SrtpProfile.AES_CM_128_HMAC_SHA1_80, random);
        SdesCrypto answer = offer.answer(random);
        SrtpSession gateway = SrtpSession.fromSdes(answer, offer);
        SrtpSession peer = SrtpSession.fromSdes(offer, answer);
        com.sun.management.ThreadMXBean threads =
                (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
        int batch = 10_000;
        int stride = PACKET + 16;
        byte[] packets = new byte[batch * stride];
        int[] lengths = new int[batch];
        int perRound = 200_000;
        double[] nanos = new double[9];
        int seq = 0;
        for (int round = -3; round < nanos.length; round++) {
            long cpu = 0;
            for (int done = 0; done < perRound; done += batch) {
                for (int i = 0; i < batch; i++, seq++) {
                    int off = i * stride;
                    ByteBuffer h = ByteBuffer.wrap(packets, off, stride);
                    h.put(off, (byte) 0x80).put(off + 1, (byte) 0).putShort(off + 2, (short) seq)
                            .putInt(off + 4, seq * 160).putInt(off + 8, 0x5151);
                    lengths[i] = peer.protectRtp(packets, off, PACKET);
                }
                long t0 = threads.getCurrentThreadCpuTime();
                for (int i = 0; i < batch; i++) {
                    gateway.unprotectRtp(packets, i * stride, lengths[i]);
                }
                cpu += threads.getCurrentThreadCpuTime() - t0;
            }
            if (round >= 0) {
                nanos[round] = cpu / (double) perRound;
            }
        }
        if (gateway.counters().authFailures() + gateway.counters().replayDropped() > 0) {
            throw new IllegalStateException("SRTP round trip failed: " + gateway.counters());
        }
        return median(nanos);
    }

    private static double median(double[] values) {
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        return sorted[sorted.length / 2];
    }

    private static String fmt(double[] values) {
        List<String> out = new ArrayList<>();
        for (double v : values) {
            out.add(String.format("%.0f", v));
        }
        return String.join(", ", out);
    }

    private static String loadAverage() {
        try {
            return Files.readString(Path.of("/proc/loadavg")).split(" ")[0];
        } catch (Exception e) {
            return "?";
        }
    }
}
