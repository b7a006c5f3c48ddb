package io.webrtcgateway.bench.load;

import io.webrtcgateway.media.dtls.DtlsFingerprint;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;

/**
 * The load client's side of the SDP: an audio-only, PCMU-only offer or answer shaped like a browser's (BUNDLE,
 * rtcp-mux, DTLS-SRTP, its one host candidate inline, no trickle), and what it needs from the gateway's.
 */
final class BrowserSdp {
    private BrowserSdp() {}

    static String offer(InetSocketAddress local, String ufrag, String pwd, String fingerprint, long ssrc) {
        return description(local, ufrag, pwd, fingerprint, ssrc, "actpass", "0");
    }

    /** The answer to a gateway's offer: a=setup:active (RFC 5763 §5: the answerer picks; browsers pick active). */
    static String answer(InetSocketAddress local, String ufrag, String pwd, String fingerprint, long ssrc, String mid) {
        return description(local, ufrag, pwd, fingerprint, ssrc, "active", mid);
    }

    private static String description(InetSocketAddress local, String ufrag, String pwd, String fingerprint, long ssrc,
            String setup, String mid) {
        String ip = local.getAddress().getHostAddress();
        return String.join("\r\n",
                "v=0",
                "o=- " + (ssrc & 0x7fffffffL) + " 2 IN IP4 127.0.0.1",
                "s=-",
                "t=0 0",
                "a=group:BUNDLE " + mid,
                "a=msid-semantic: WMS load",
                "m=audio " + local.getPort() + " UDP/TLS/RTP/SAVPF 0",
                "c=IN IP4 " + ip,
                "a=rtcp:9 IN IP4 0.0.0.0",
                "a=candidate:1 1 udp 2130706431 " + ip + " " + local.getPort() + " typ host generation 0",
                "a=end-of-candidates",
                "a=ice-ufrag:" + ufrag,
                "a=ice-pwd:" + pwd,
                "a=fingerprint:" + fingerprint,
                "a=setup:" + setup,
                "a=mid:" + mid,
                "a=sendrecv",
                "a=msid:load load-audio",
                "a=rtcp-mux",
                "a=rtpmap:0 PCMU/8000",
                "a=ssrc:" + ssrc + " cname:load" + Long.toHexString(ssrc),
                "a=ssrc:" + ssrc + " msid:load load-audio",
                "");
    }

    /**
     * ICE credentials, the first usable IPv4 UDP candidate, fingerprints, the DTLS setup and the audio mid of the
     * gateway's answer (a call we placed) or offer (a call to us).
     */
    record Remote(String ufrag, String pwd, InetSocketAddress candidate, List<DtlsFingerprint> fingerprints,
            String setup, String mid) {
        static Remote parse(String sdp) {
            String mid = "0";
            String ufrag = null;
            String pwd = null;
            String setup = "active";
            InetSocketAddress candidate = null;
            List<DtlsFingerprint> fingerprints = new ArrayList<>();
            for (String raw : sdp.split("\r?\n")) {
                String line = raw.trim();
                if (line.startsWith("a=ice-ufrag:") && ufrag == null) {
                    ufrag = line.substring(12);
                } else if (line.startsWith("a=ice-pwd:") && pwd == null) {
                    pwd = line.substring(10);
                } else if (line.startsWith("a=mid:")) {
                    mid = line.substring(6);
                } else if (line.startsWith("a=setup:")) {
                    setup = line.substring(8);
                } else if (line.startsWith("a=fingerprint:")) {
                    fingerprints.add(DtlsFingerprint.parse(line.substring(14)));
                } else if (line.startsWith("a=candidate:") && candidate == null) {
                    // candidate:<foundation> <component> <transport> <priority> <address> <port> typ <type>
                    String[] f = line.substring(12).split(" ");
                    if (f.length >= 8 && f[1].equals("1") && f[2].equalsIgnoreCase("udp") && f[4].indexOf(':') < 0) {
                        candidate = new InetSocketAddress(f[4], Integer.parseInt(f[5]));
                    }
                }
            }
            if (ufrag == null || pwd == null || candidate == null || fingerprints.isEmpty()) {
                throw new IllegalArgumentException("SDP lacks ICE credentials, an IPv4 UDP candidate or a"
                        + " fingerprint:\n" + sdp);
            }
            return new Remote(ufrag, pwd, candidate, fingerprints, setup, mid);
        }
    }
}
