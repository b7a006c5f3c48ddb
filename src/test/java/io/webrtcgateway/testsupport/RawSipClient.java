package io.webrtcgateway.testsupport;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HexFormat;
import java.util.Locale;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A hand-written SIP client for tests: builds REGISTER and OPTIONS requests as text, sends them over UDP
 * or TCP from 127.0.0.1 and returns the final response. No SIP stack on purpose: it proves a peer's
 * behaviour with nothing of ours in between.
 *
 * <p>Over UDP it retransmits like a non-INVITE client transaction (RFC 3261 §17.1.2.2: timer E from
 * 500 ms, doubling) until the timeout; provisional responses are skipped. Not thread-safe: one request
 * at a time per client.
 */
public final class RawSipClient implements AutoCloseable {

    public enum Transport { UDP, TCP }

    private static final Duration T1 = Duration.ofMillis(500);

    private final Transport transport;
    private final String target;
    private final DatagramSocket udp;
    private final Socket tcp;
    private final int localPort;
    private final String tag = Long.toHexString(ThreadLocalRandom.current().nextLong());

    private RawSipClient(Transport transport, String target) {
        this.transport = transport;
        this.target = target;
        try {
            if (transport == Transport.UDP) {
                udp = new DatagramSocket(new InetSocketAddress(FreePorts.LOOPBACK, 0));
                tcp = null;
                localPort = udp.getLocalPort();
            } else {
                tcp = new Socket();
                tcp.bind(new InetSocketAddress(FreePorts.LOOPBACK, 0));
                tcp.connect(socketAddress(target), 5000);
                udp = null;
                localPort = tcp.getLocalPort();
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot open a " + transport + " socket toward " + target, e);
        }
    }

    /** A client sending to {@code target} ("host:port") over UDP. */
    public static RawSipClient udp(String target) {
        return new RawSipClient(Transport.UDP, target);
    }

    /** A client connected to {@code target} ("host:port") over TCP. */
    public static RawSipClient tcp(String target) {
        return new RawSipClient(Transport.TCP, target);
    }

    public int localPort() {
        return localPort;
    }

    /** The Contact URI this client registers: sip:&lt;user&gt;@127.0.0.1:&lt;localPort&gt;[;transport=tcp]. */
    public String contactUri(String user) {
        return "sip:" + user + "@127.0.0.1:" + localPort + (transport == Transport.TCP ? ";transport=tcp" : "");
    }

    /** The Request-URI of REGISTER and OPTIONS: "sip:&lt;target host&gt;" (also the digest uri). */
    public String registrarUri() {
        return "sip:" + host();
    }

    /** A REGISTER for {@code user} with its own Contact and "Expires: expires"; {@code authorization} may be null. */
    public String register(String user, String callId, long cseq, int expires, String authorization) {
        return request("REGISTER", registrarUri(), user, callId, cseq,
                "Contact: <" + contactUri(user) + ">\r\nExpires: " + expires + "\r\n"
                        + (authorization == null ? "" : "Authorization: " + authorization + "\r\n"));
    }

    /** An OPTIONS keepalive toward the target, on a Call-ID of its own. */
    public String options() {
        return request("OPTIONS", registrarUri(), "keepalive", newCallId(), 1, "Accept: application/sdp\r\n");
    }

    /**
     * A request with a fresh Via branch; {@code extraHeaders} are full lines ending in CRLF. From and To
     * are sip:&lt;user&gt;@&lt;target host&gt; (as for a REGISTER, RFC 3261 §10.2).
     */
    public String request(String method, String requestUri, String user, String callId, long cseq,
            String extraHeaders) {
        String branch = "z9hG4bK" + Long.toHexString(ThreadLocalRandom.current().nextLong());
        return method + " " + requestUri + " SIP/2.0\r\n"
                + "Via: SIP/2.0/" + transport + " 127.0.0.1:" + localPort + ";branch=" + branch + ";rport\r\n"
                + "Max-Forwards: 70\r\n"
                + "From: <sip:" + user + "@" + host() + ">;tag=" + tag + "\r\n"
                + "To: <sip:" + user + "@" + host() + ">\r\n"
                + "Call-ID: " + callId + "\r\n"
                + "CSeq: " + cseq + " " + method + "\r\n"
                + extraHeaders
                + "User-Agent: RawSipClient\r\n"
                + "Content-Length: 0\r\n\r\n";
    }

    /** Sends {@code request} and returns its final response (fails after {@code timeout}). */
    public SipMessage send(String request, Duration timeout) {
        String branch = branchOf(new SipMessage(request));
        byte[] bytes = request.getBytes(StandardCharsets.UTF_8);
        long deadline = System.nanoTime() + timeout.toNanos();
        try {
            if (transport == Transport.UDP) {
                return sendUdp(bytes, branch, deadline, timeout);
            }
            tcp.getOutputStream().write(bytes);
            tcp.getOutputStream().flush();
            return receiveTcp(branch, deadline, timeout);
        } catch (IOException e) {
            throw new UncheckedIOException("SIP " + transport + " exchange with " + target + " failed", e);
        }
    }

    /** {@link #send(String, Duration)} with a 10 s timeout. */
    public SipMessage send(String request) {
        return send(request, Duration.ofSeconds(10));
    }

    private SipMessage sendUdp(byte[] bytes, String branch, long deadline, Duration timeout) throws IOException {
        InetSocketAddress to = socketAddress(target);
        Duration interval = T1;
        long nextSend = System.nanoTime();
        byte[] buffer = new byte[65535];
        while (true) {
            long now = System.nanoTime();
            if (now - deadline >= 0) {
                throw new AssertionError("no final response from " + target + " within " + timeout
                        + " to:\n" + new String(bytes, StandardCharsets.UTF_8));
            }
            if (now - nextSend >= 0) {
                udp.send(new DatagramPacket(bytes, bytes.length, to));
                nextSend = now + interval.toNanos();
                interval = interval.multipliedBy(2).compareTo(Duration.ofSeconds(4)) > 0
                        ? Duration.ofSeconds(4) : interval.multipliedBy(2);
            }
            long waitNanos = Math.max(1_000_000, Math.min(nextSend, deadline) - System.nanoTime());
            udp.setSoTimeout((int) Math.max(1, waitNanos / 1_000_000));
            DatagramPacket packet = new DatagramPacket(buffer, buffer.length);
            try {
                udp.receive(packet);
            } catch (SocketTimeoutException e) {
                continue;
            }
            SipMessage response = new SipMessage(
                    new String(packet.getData(), 0, packet.getLength(), StandardCharsets.UTF_8));
            if (isFinalResponseTo(response, branch)) {
                return response;
            }
        }
    }

    private SipMessage receiveTcp(String branch, long deadline, Duration timeout) throws IOException {
        InputStream in = tcp.getInputStream();
        while (true) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                throw new AssertionError("no final response from " + target + " over TCP within " + timeout);
            }
            tcp.setSoTimeout((int) Math.max(1, left / 1_000_000));
            SipMessage response;
            try {
                response = readTcpMessage(in);
            } catch (SocketTimeoutException e) {
                continue;
            }
            if (isFinalResponseTo(response, branch)) {
                return response;
            }
        }
    }

    /** Reads one message from a TCP stream: headers up to the blank line, then Content-Length bytes (RFC 3261 §18.3). */
    public static SipMessage readTcpMessage(InputStream in) throws IOException {
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        int matched = 0;
        byte[] crlfcrlf = {'\r', '\n', '\r', '\n'};
        while (matched < 4) {
            int b = in.read();
            if (b < 0) {
                throw new IOException("connection closed by peer");
            }
            if (head.size() == 0 && (b == '\r' || b == '\n')) {
                continue; // keepalive CRLFs between messages (RFC 5626 §3.5.1)
            }
            head.write(b);
            matched = b == crlfcrlf[matched] ? matched + 1 : (b == '\r' ? 1 : 0);
        }
        String headers = head.toString(StandardCharsets.UTF_8);
        Matcher m = Pattern.compile("(?im)^(?:Content-Length|l)\\s*:\\s*(\\d+)").matcher(headers);
        int length = m.find() ? Integer.parseInt(m.group(1)) : 0;
        byte[] body = in.readNBytes(length);
        return new SipMessage(headers + new String(body, StandardCharsets.UTF_8));
    }

    private static boolean isFinalResponseTo(SipMessage message, String branch) {
        return !message.isRequest() && message.status() >= 200 && branch.equals(branchOf(message));
    }

    private static String branchOf(SipMessage message) {
        Matcher m = Pattern.compile(";\\s*branch=([^;,\\s]+)").matcher(message.header("Via").orElse(""));
        return m.find() ? m.group(1) : "";
    }

    private String host() {
        return target.substring(0, target.lastIndexOf(':'));
    }

    private static InetSocketAddress socketAddress(String hostPort) {
        int colon = hostPort.lastIndexOf(':');
        return new InetSocketAddress(hostPort.substring(0, colon), Integer.parseInt(hostPort.substring(colon + 1)));
    }

    public static String newCallId() {
        return UUID.randomUUID() + "@127.0.0.1";
    }

    /**
     * The Authorization header value answering {@code challenge}'s WWW-Authenticate with MD5 digest
     * (RFC 2617 §3.2.2; qop=auth when offered, nonce count {@code nc}).
     */
    public static String authorization(SipMessage challenge, String method, String uri, String user,
            String password, int nc) {
        String header = challenge.header("WWW-Authenticate")
                .or(() -> challenge.header("Proxy-Authenticate"))
                .orElseThrow(() -> new AssertionError("no digest challenge in:\n" + challenge));
        String realm = param(header, "realm");
        String nonce = param(header, "nonce");
        String qop = param(header, "qop");
        String opaque = param(header, "opaque");
        String ha1 = md5(user + ":" + realm + ":" + password);
        String ha2 = md5(method + ":" + uri);
        StringBuilder value = new StringBuilder("Digest username=\"").append(user)
                .append("\", realm=\"").append(realm)
                .append("\", nonce=\"").append(nonce)
                .append("\", uri=\"").append(uri).append('"');
        if (qop != null && qop.toLowerCase(Locale.ROOT).contains("auth")) {
            String ncText = String.format("%08x", nc);
            String cnonce = Long.toHexString(ThreadLocalRandom.current().nextLong());
            String response = md5(ha1 + ":" + nonce + ":" + ncText + ":" + cnonce + ":auth:" + ha2);
            value.append(", response=\"").append(response).append('"')
                    .append(", qop=auth, nc=").append(ncText).append(", cnonce=\"").append(cnonce).append('"');
        } else {
            value.append(", response=\"").append(md5(ha1 + ":" + nonce + ":" + ha2)).append('"');
        }
        value.append(", algorithm=MD5");
        if (opaque != null) {
            value.append(", opaque=\"").append(opaque).append('"');
        }
        return value.toString();
    }

    private static String param(String header, String name) {
        Matcher m = Pattern.compile("(?i)[\\s,]" + name + "\\s*=\\s*(?:\"([^\"]*)\"|([^,\\s]+))").matcher(" " + header);
        if (!m.find()) {
            return null;
        }
        return m.group(1) != null ? m.group(1) : m.group(2);
    }

    private static String md5(String text) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("MD5").digest(text.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public void close() {
        try {
            if (udp != null) {
                udp.close();
            }
            if (tcp != null) {
                tcp.close();
            }
        } catch (IOException e) {
            // closing a test socket: nothing to do
        }
    }
}
