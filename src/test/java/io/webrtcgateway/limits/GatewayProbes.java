package io.webrtcgateway.limits;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.webrtcgateway.testsupport.GatewayProcess;
import io.webrtcgateway.testsupport.HttpFrom;
import io.webrtcgateway.testsupport.PrometheusText;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;

/** What the limits ITs ask a gateway, and the offers they attack it with. */
final class GatewayProbes {
    private static final ObjectMapper JSON = new ObjectMapper();

    private GatewayProbes() {}

    /** GET /api/v1/instance: sessions, calls, readiness. */
    static JsonNode instance(GatewayProcess gw) {
        try (HttpFrom http = new HttpFrom(InetAddress.getByName("127.0.0.1"), gw.httpUrl())) {
            return JSON.readTree(http.send("GET", "/api/v1/instance", null).body());
        } catch (Exception e) {
            throw new AssertionError("GET /api/v1/instance failed", e);
        }
    }

    /** One sample of GET /metrics, 0 when absent. */
    static double metric(GatewayProcess gw, String name, String... labels) {
        try (HttpFrom http = new HttpFrom(InetAddress.getByName("127.0.0.1"), gw.httpUrl())) {
            return PrometheusText.parse(http.send("GET", "/metrics", null).body()).valueOrZero(name, labels);
        } catch (Exception e) {
            throw new AssertionError("GET /metrics failed", e);
        }
    }

    /**
     * A browser offer (DTLS-SRTP, PCMU) with {@code n} audio m-lines, all in one BUNDLE group, so the gateway
     * would bridge every one: without the bound, a pair of RTP ports each. Transport attributes at session level
     * keep 400 sections within 32 KiB, so it is the m-line count that refuses it. {@code candidates} (without
     * "a=candidate:") go in the first section.
     */
    static String offerWithAudioSections(int n, List<String> candidates) {
        StringBuilder sdp = new StringBuilder("v=0\r\no=- 4242 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE");
        for (int i = 0; i < n; i++) {
            sdp.append(' ').append(i);
        }
        sdp.append("\r\na=ice-ufrag:lim1\r\na=ice-pwd:limitslimitslimitslimits\r\na=fingerprint:sha-256 ");
        List<String> bytes = new ArrayList<>();
        for (int i = 0; i < 32; i++) {
            bytes.add(String.format("%02X", i * 7));
        }
        sdp.append(String.join(":", bytes)).append("\r\na=setup:actpass\r\nc=IN IP4 127.0.0.1\r\n");
        for (int i = 0; i < n; i++) {
            sdp.append("m=audio 9 UDP/TLS/RTP/SAVPF 0\r\na=mid:").append(i).append("\r\na=rtcp-mux\r\n")
                    .append("a=rtpmap:0 PCMU/8000\r\n");
            if (i == 0) {
                candidates.forEach(c -> sdp.append("a=candidate:").append(c).append("\r\n"));
            }
        }
        return sdp.toString();
    }
}
