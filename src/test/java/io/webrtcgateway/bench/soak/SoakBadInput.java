package io.webrtcgateway.bench.soak;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.webrtcgateway.testsupport.GatewayProcess;
import io.webrtcgateway.testsupport.HttpFrom;
import io.webrtcgateway.testsupport.WsTestClient;
import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HexFormat;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;

/**
 * The soak's background of bad input, at a modest rate: every {@code period} one round of malformed, oversized
 * and out-of-place input on each edge, each checked against the answer its document gives (docs/protocol.md
 * "Errors" and "Close codes", legacy-protocol.md "Status codes", sip.md "Whom the SIP listener accepts" and
 * "Message bounds"); all along, garbage datagrams to random ports of the gateway's RTP range, which must get no
 * answer (media.md: whatever is not a call's peer's is dropped). Any other answer, or none where one is due, is
 * counted as unexpected, and the first few are kept to print.
 *
 * <p>The gateway runs with {@code gateway.auth.mode = none} (benches do), so there are no tokens to forge: the
 * WebSocket part sends bad {@code hello}s and requests instead. The per-session limits are on (only the
 * per-address ones are off for the phones' sake), so a burst of requests meets {@code RATE_LIMITED}.
 */
final class SoakBadInput implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration ANSWER = Duration.ofSeconds(10);
    /** How long a datagram that must get no answer is watched for one. */
    private static final Duration SILENCE = Duration.ofMillis(300);
    private static final int BURST = 150;
    private static final int UNEXPECTED_KEPT = 20;
    private static final InetAddress SIP_SERVER_HOST = address("127.0.0.1");
    /** Not a SIP Server, not a call's peer: a stranger on this machine's loopback. */
    private static final InetAddress STRANGER = address("127.0.0.2");

    private final GatewayProcess gw;
    private final String echoDn;
    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5)).build();
    private final ScheduledExecutorService rounds =
            Executors.newSingleThreadScheduledExecutor(r -> daemon(r, "soak-bad-input"));
    private final ScheduledExecutorService trickle =
            Executors.newSingleThreadScheduledExecutor(r -> daemon(r, "soak-rtp-garbage"));
    private final DatagramChannel garbage;
    private final AtomicInteger callIds = new AtomicInteger();

    /** Inputs whose answer was checked. */
    final LongAdder checked = new LongAdder();
    /** Garbage datagrams sent to the RTP port range. */
    final LongAdder datagrams = new LongAdder();
    final LongAdder unexpected = new LongAdder();
    final ConcurrentLinkedQueue<String> firstUnexpected = new ConcurrentLinkedQueue<>();
    private final AtomicInteger unexpectedSeen = new AtomicInteger();

    SoakBadInput(GatewayProcess gw, String echoDn) throws IOException {
        this.gw = gw;
        this.echoDn = echoDn;
        this.garbage = DatagramChannel.open();
        garbage.bind(new InetSocketAddress(STRANGER, 0));
        garbage.configureBlocking(false);
    }

    /** A round every {@code period}, and {@code datagramsPerSecond} garbage datagrams to the RTP range. */
    void start(Duration period, int datagramsPerSecond) {
        rounds.scheduleWithFixedDelay(this::round, period.toMillis() / 2, period.toMillis(), TimeUnit.MILLISECONDS);
        if (datagramsPerSecond > 0) {
            long every = 1_000_000 / datagramsPerSecond;
            trickle.scheduleAtFixedRate(this::rtpGarbage, every, every, TimeUnit.MICROSECONDS);
        }
    }

    @Override
    public void close() {
        rounds.shutdownNow();
        trickle.shutdownNow();
        try {
            rounds.awaitTermination(30, TimeUnit.SECONDS);
            trickle.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        drainGarbageAnswers();
        try {
            garbage.close();
        } catch (IOException ignored) {
            // closing anyway
        }
    }

    // ---- one round ----------------------------------------------------------------------------------

    private void round() {
        Runnable[] parts = {this::webSocket, this::oversizedFrame, this::legacy, this::rest, this::sip};
        for (Runnable part : parts) {
            try {
                part.run();
            } catch (RuntimeException | AssertionError e) {
                // a timeout waiting for an answer, a connection refused...: the answer did not come
                unexpected("a round's part failed: " + e);
            }
        }
    }

    /** docs/protocol.md: requests out of place or malformed, and a burst over the session's request rate. */
    private void webSocket() {
        String nope = "nope." + gw.instanceId();
        try (WsTestClient c = WsTestClient.connect(gw.wsUrl(), http)) {
            code("register before hello", c.request("register", "dn", "soak-bad"), "NOT_SIGNED_IN", null);
            code("hello version 2", c.request("hello", "version", 2), "UNSUPPORTED_VERSION", null);
            code("hello resuming an unknown session", c.request("hello", "session", nope), "SESSION_UNKNOWN", null);
            c.sendRaw("not json");
            code("a frame that is not JSON", c.await(ANSWER, "BAD_JSON", n -> n.has("code")), "BAD_JSON", null);
            c.sendRaw("[1,2]");
            code("a JSON array", c.await(ANSWER, "BAD_JSON", n -> n.has("code")), "BAD_JSON", null);
            c.sendRaw("{\"id\":9007}");
            code("a request without type", c.await(ANSWER, "id 9007", n -> n.path("id").asInt() == 9007),
                    "BAD_REQUEST", null);
            JsonNode hello = c.request("hello", "version", 1);
            check("hello", "result".equals(hello.path("type").asText()), hello);
            code("an unknown request type", c.request("frobnicate"), "UNKNOWN_TYPE", null);
            code("an invalid DN", c.request("register", "dn", "31 01"), "INVALID_DN", null);
            code("a call without SDP", c.request("call", "to", echoDn), "BAD_REQUEST", null);
            code("a call with an SDP that is none",
                    c.request("call", "to", echoDn, "sdp", "v=0\r\nnot an SDP at all\r\n"), "BAD_SDP", null);
            code("a call with 400 m-lines", c.request("call", "to", echoDn, "sdp", offer(400, 0)), "BAD_SDP",
                    "max-media-sections");
            code("a call with a 40 kB SDP", c.request("call", "to", echoDn, "sdp", offer(1, 40_000)), "BAD_SDP",
                    "max-sdp-bytes");
            code("hang up a call that does not exist", c.request("hangup", "call", nope), "CALL_UNKNOWN", null);
            burst(c);
            JsonNode bye = c.request("bye");
            check("bye after all that", "result".equals(bye.path("type").asText()), bye);
        }
    }

    /** More requests at once than gateway.limits.request-burst-per-session: some RATE_LIMITED, the rest served. */
    private void burst(WsTestClient c) {
        for (int i = 0; i < BURST; i++) {
            c.sendRaw("{\"type\":\"ping\",\"id\":\"burst-" + i + "\"}");
        }
        int served = 0;
        int limited = 0;
        JsonNode other = null;
        for (int i = 0; i < BURST; i++) {
            String id = "burst-" + i;
            JsonNode n = c.await(ANSWER, id, m -> id.equals(m.path("id").asText()));
            if ("result".equals(n.path("type").asText())) {
                served++;
            } else if ("RATE_LIMITED".equals(n.path("code").asText()) && n.path("retryAfter").asInt(0) > 0) {
                limited++;
            } else {
                other = n;
            }
        }
        check(BURST + " requests at once", limited > 0 && other == null,
                served + " served, " + limited + " RATE_LIMITED" + (other == null ? "" : ", and " + other));
    }

    /** A frame over gateway.limits.max-message-bytes (64 KiB) closes the socket with 1009, before any hello. */
    private void oversizedFrame() {
        try (WsTestClient big = WsTestClient.connect(gw.wsUrl(), http)) {
            try {
                big.sendRaw("{\"type\":\"ping\",\"id\":1,\"pad\":\"" + "x".repeat(70_000) + "\"}");
            } catch (RuntimeException closedWhileSending) {
                // the gateway may close before the frame's end has been sent: the close code says
            }
            Integer code;
            try {
                code = big.closed().get(ANSWER.toSeconds(), TimeUnit.SECONDS);
            } catch (Exception e) {
                code = null;
            }
            check("a 70 kB frame", code != null && code == 1009, "close " + code);
        }
    }

    /** docs/legacy-protocol.md: malformed /message bodies, an unknown session, a body over the size limit. */
    private void legacy() {
        String anon = "anon" + HexFormat.of().formatHex(randomBytes(16));
        HttpResponse<String> signedIn = get("/sign_in?" + anon);
        String line = signedIn.body().lines().findFirst().orElse("");
        if (!check("legacy anonymous sign-in", signedIn.statusCode() == 200 && line.startsWith(anon + "="), signedIn)) {
            return;
        }
        String session = line.substring(anon.length() + 1);
        String message = "/message?from=" + session + "&to=5000";
        legacyError("a /message body that is no message", post(message, "HELLO THERE"), 400, "BAD_REQUEST");
        legacyError("an RSMP body that is not JSON", post(message, "RSMP {not json"), 400, "BAD_REQUEST");
        legacyError("a /message of an unknown session",
                post("/message?from=nope." + gw.instanceId() + "&to=5000", "RSMP {\"messageType\":\"BYE\"}"), 404,
                "SESSION_UNKNOWN");
        try (HttpFrom raw = new HttpFrom(SIP_SERVER_HOST, gw.httpUrl())) {
            raw.write("POST " + message + " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 4194304\r\n\r\nRSMP {");
            HttpFrom.Response r = raw.read();
            check("a 4 MiB /message", r.status() == 413 && r.body().indexOf("ERROR") > 0
                    && r.body().contains("MESSAGE_TOO_BIG"), r);
        }
        HttpResponse<String> out = get("/sign_out?id=" + session);
        check("legacy sign-out", out.statusCode() == 200, out);
    }

    private void legacyError(String what, HttpResponse<String> r, int status, String code) {
        // grtc.js tests indexOf("ERROR") > 0: the body starts with "RSMP ", never with ERROR.
        check(what, r.statusCode() == status && r.body().indexOf("ERROR") > 0 && r.body().contains(code), r);
    }

    /** The REST edge: a body over max-message-bytes, refused by its Content-Length before it is read. */
    private void rest() {
        try (HttpFrom raw = new HttpFrom(SIP_SERVER_HOST, gw.httpUrl())) {
            raw.write("POST /api/v1/sessions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 4194304\r\n\r\nxx");
            HttpFrom.Response r = raw.read();
            check("a 4 MiB REST body", r.status() == 413 && r.body().contains("\"MESSAGE_TOO_BIG\""), r);
        }
    }

    /**
     * docs/sip.md: a stranger's requests get 403; from SIP Server's address (the port does not matter), a request
     * over gateway.sip.max-headers or max-header-bytes gets 513; a datagram that is no SIP message gets nothing.
     */
    private void sip() {
        InetSocketAddress gateway = new InetSocketAddress(SIP_SERVER_HOST, gw.sipPort());
        try (DatagramSocket stranger = new DatagramSocket(new InetSocketAddress(STRANGER, 0));
             DatagramSocket server = new DatagramSocket(new InetSocketAddress(SIP_SERVER_HOST, 0))) {
            status("a stranger's OPTIONS", stranger, gateway, request("OPTIONS", "soak", stranger, "", ""), 403);
            String sdp = "v=0\r\no=bad 1 1 IN IP4 127.0.0.2\r\ns=-\r\nc=IN IP4 127.0.0.2\r\nt=0 0\r\n"
                    + "m=audio 4000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n";
            status("a stranger's INVITE to a DN", stranger, gateway, request("INVITE", "soak-1", stranger,
                    "Contact: <sip:bad@127.0.0.2>\r\nContent-Type: application/sdp\r\n", sdp), 403);
            StringBuilder many = new StringBuilder();
            for (int i = 0; i < 200; i++) {
                many.append("X-Soak-").append(i).append(": v\r\n");
            }
            status("200 header fields from SIP Server's address", server, gateway,
                    request("OPTIONS", "soak", server, many.toString(), ""), 513);
            status("a 9000-byte header field from SIP Server's address", server, gateway,
                    request("OPTIONS", "soak", server, "X-Soak-Note: " + "n".repeat(9000) + "\r\n", ""), 513);
            silence("random bytes from SIP Server's address", server, gateway, randomBytes(200));
            silence("a stranger's text that is no SIP", stranger, gateway,
                    "NOT SIP AT ALL\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        } catch (IOException e) {
            unexpected("SIP sockets: " + e);
        }
    }

    private String request(String method, String user, DatagramSocket from, String extraHeaders, String body) {
        String target = "sip:" + user + "@127.0.0.1:" + gw.sipPort();
        String host = from.getLocalAddress().getHostAddress() + ":" + from.getLocalPort();
        byte[] b = body.getBytes(StandardCharsets.US_ASCII);
        return method + " " + target + " SIP/2.0\r\n"
                + "Via: SIP/2.0/UDP " + host + ";branch=z9hG4bK" + HexFormat.of().formatHex(randomBytes(8))
                + ";rport\r\n"
                + "Max-Forwards: 70\r\n"
                + "From: <sip:soak-bad@" + host + ">;tag=" + HexFormat.of().formatHex(randomBytes(4)) + "\r\n"
                + "To: <" + target + ">\r\n"
                + "Call-ID: soak-bad-" + callIds.incrementAndGet() + "@" + host + "\r\n"
                + "CSeq: 1 " + method + "\r\n"
                + extraHeaders
                + "Content-Length: " + b.length + "\r\n\r\n" + body;
    }

    /** Sends {@code request} and checks the first final response to its Call-ID. */
    private void status(String what, DatagramSocket socket, InetSocketAddress to, String request, int expected)
            throws IOException {
        String callId = request.lines().filter(l -> l.startsWith("Call-ID: ")).findFirst().orElseThrow().substring(9);
        byte[] bytes = request.getBytes(StandardCharsets.US_ASCII);
        socket.send(new DatagramPacket(bytes, bytes.length, to));
        long deadline = System.nanoTime() + ANSWER.toNanos();
        byte[] buf = new byte[65536];
        while (true) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                unexpected(what + ": no answer in " + ANSWER.toSeconds() + " s, " + expected + " due");
                checked.increment();
                return;
            }
            DatagramPacket p = new DatagramPacket(buf, buf.length);
            socket.setSoTimeout((int) Math.max(1, TimeUnit.NANOSECONDS.toMillis(left)));
            try {
                socket.receive(p);
            } catch (SocketTimeoutException e) {
                continue;
            }
            String response = new String(p.getData(), 0, p.getLength(), StandardCharsets.US_ASCII);
            String first = response.lines().findFirst().orElse("");
            if (!response.contains(callId) || !first.startsWith("SIP/2.0 ") || first.startsWith("SIP/2.0 1")) {
                continue; // another request's answer, or a provisional one
            }
            check(what, first.startsWith("SIP/2.0 " + expected + " "), first);
            return;
        }
    }

    /** Sends {@code bytes}; nothing may come back within {@link #SILENCE}. */
    private void silence(String what, DatagramSocket socket, InetSocketAddress to, byte[] bytes) throws IOException {
        socket.send(new DatagramPacket(bytes, bytes.length, to));
        socket.setSoTimeout((int) SILENCE.toMillis());
        byte[] buf = new byte[65536];
        DatagramPacket p = new DatagramPacket(buf, buf.length);
        try {
            socket.receive(p);
            check(what, false, "an answer: " + new String(p.getData(), 0, Math.min(80, p.getLength()),
                    StandardCharsets.US_ASCII).lines().findFirst().orElse(""));
        } catch (SocketTimeoutException expected) {
            check(what, true, null);
        }
    }

    // ---- garbage to the RTP range -------------------------------------------------------------------

    /**
     * One datagram of random bytes to a random port of the RTP range, its first byte from one of RFC 7983's
     * classes in turn (STUN, DTLS, RTP/RTCP, none), so each of the gateway's demultiplexing paths sees garbage;
     * and whatever came back since the last one counted as unexpected.
     */
    private void rtpGarbage() {
        try {
            drainGarbageAnswers();
            ThreadLocalRandom random = ThreadLocalRandom.current();
            byte[] b = randomBytes(20 + random.nextInt(400));
            int[][] classes = {{0, 3}, {20, 63}, {128, 191}, {64, 127}};
            int[] c = classes[(int) (datagrams.sum() % classes.length)];
            b[0] = (byte) (c[0] + random.nextInt(c[1] - c[0] + 1));
            int port = gw.rtpPorts().low() + random.nextInt(gw.rtpPorts().high() - gw.rtpPorts().low() + 1);
            garbage.send(ByteBuffer.wrap(b), new InetSocketAddress(SIP_SERVER_HOST, port));
            datagrams.increment();
        } catch (IOException | RuntimeException e) {
            unexpected("sending RTP garbage: " + e);
        }
    }

    private void drainGarbageAnswers() {
        ByteBuffer in = ByteBuffer.allocate(2048);
        try {
            for (InetSocketAddress from; (from = (InetSocketAddress) garbage.receive(in.clear())) != null; ) {
                unexpected("garbage sent to the RTP range was answered from port " + from.getPort() + " ("
                        + in.position() + " bytes)");
            }
        } catch (IOException e) {
            // closed: nothing more can arrive
        }
    }

    // ---- checks -------------------------------------------------------------------------------------

    /** An error with {@code code} (and, if given, a message mentioning {@code mentions}). */
    private void code(String what, JsonNode answer, String code, String mentions) {
        check(what, "error".equals(answer.path("type").asText()) && code.equals(answer.path("code").asText())
                && (mentions == null || answer.path("message").asText().contains(mentions)), answer);
    }

    private boolean check(String what, boolean asDocumented, Object got) {
        checked.increment();
        if (!asDocumented) {
            unexpected(what + ": " + shorten(got));
        }
        return asDocumented;
    }

    private void unexpected(String what) {
        unexpected.increment();
        if (unexpectedSeen.incrementAndGet() <= UNEXPECTED_KEPT) {
            firstUnexpected.add(what);
        }
    }

    private static String shorten(Object got) {
        String s = got instanceof HttpResponse<?> r ? r.statusCode() + " " + r.body() : String.valueOf(got);
        return s.length() > 300 ? s.substring(0, 300) + "..." : s;
    }

    private HttpResponse<String> get(String path) {
        return send(HttpRequest.newBuilder(URI.create(gw.httpUrl() + path)).GET());
    }

    private HttpResponse<String> post(String path, String body) {
        return send(HttpRequest.newBuilder(URI.create(gw.httpUrl() + path))
                .header("Content-Type", "text/plain;charset=UTF-8").POST(HttpRequest.BodyPublishers.ofString(body)));
    }

    private HttpResponse<String> send(HttpRequest.Builder request) {
        try {
            return http.send(request.timeout(ANSWER).build(), HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }

    /**
     * A browser offer (DTLS-SRTP, PCMU) with {@code sections} audio m-lines in one BUNDLE group, padded with an
     * attribute to at least {@code bytes}.
     */
    static String offer(int sections, int bytes) {
        StringBuilder sdp = new StringBuilder("v=0\r\no=- 4242 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE");
        for (int i = 0; i < sections; i++) {
            sdp.append(' ').append(i);
        }
        sdp.append("\r\na=ice-ufrag:soak\r\na=ice-pwd:soaksoaksoaksoaksoaksoak\r\na=fingerprint:sha-256 ")
                .append(HexFormat.ofDelimiter(":").withUpperCase().formatHex(new byte[32]))
                .append("\r\na=setup:actpass\r\nc=IN IP4 127.0.0.1\r\n");
        for (int i = 0; i < sections; i++) {
            sdp.append("m=audio 9 UDP/TLS/RTP/SAVPF 0\r\na=mid:").append(i)
                    .append("\r\na=rtcp-mux\r\na=rtpmap:0 PCMU/8000\r\n");
        }
        while (sdp.length() < bytes) {
            sdp.append("a=x-soak-padding:").append("p".repeat(200)).append("\r\n");
        }
        return sdp.toString();
    }

    private static byte[] randomBytes(int n) {
        byte[] b = new byte[n];
        ThreadLocalRandom.current().nextBytes(b);
        return b;
    }

    private static Thread daemon(Runnable r, String name) {
        Thread t = new Thread(r, name);
        t.setDaemon(true);
        return t;
    }

    private static InetAddress address(String literal) {
        try {
            return InetAddress.getByName(literal);
        } catch (IOException e) {
            throw new IllegalStateException(literal, e);
        }
    }
}
