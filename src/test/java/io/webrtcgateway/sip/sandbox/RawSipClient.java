package io.webrtcgateway.sip.sandbox;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ThreadLocalRandom;

/**
 * A SIP client that writes requests as text, over UDP or TCP, and reads responses back: it lets the
 * tests send exactly the bytes they mean, including broken ones.
 */
final class RawSipClient implements AutoCloseable {

    private final String transport;
    private final InetSocketAddress server;
    private final DatagramSocket udp;
    private final Socket tcp;

    private RawSipClient(String transport, InetSocketAddress server, DatagramSocket udp, Socket tcp) {
        this.transport = transport;
        this.server = server;
        this.udp = udp;
        this.tcp = tcp;
    }

    static RawSipClient udp(InetSocketAddress server) throws IOException {
        DatagramSocket socket = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        socket.setSoTimeout(5000);
        return new RawSipClient("UDP", server, socket, null);
    }

    static RawSipClient tcp(InetSocketAddress server) throws IOException {
        Socket socket = new Socket();
        socket.connect(server, 5000);
        socket.setSoTimeout(5000);
        return new RawSipClient("TCP", server, null, socket);
    }

    int localPort() {
        return udp != null ? udp.getLocalPort() : tcp.getLocalPort();
    }

    /** A request with the headers every request needs (RFC 3261 §8.1.1) plus {@code extraHeaders}. */
    String request(String method, String user, String callId, long cseq, String... extraHeaders) {
        String host = server.getHostString();
        StringBuilder sb = new StringBuilder()
                .append(method).append(" sip:").append(host).append(':').append(server.getPort()).append(" SIP/2.0\r\n")
                .append("Via: SIP/2.0/").append(transport).append(" 127.0.0.1:").append(localPort())
                .append(";branch=z9hG4bK").append(Long.toHexString(ThreadLocalRandom.current().nextLong())).append(";rport\r\n")
                .append("Max-Forwards: 70\r\n")
                .append("From: <sip:").append(user).append('@').append(host).append(">;tag=f").append(localPort()).append("\r\n")
                .append("To: <sip:").append(user).append('@').append(host).append(">\r\n")
                .append("Call-ID: ").append(callId).append("\r\n")
                .append("CSeq: ").append(cseq).append(' ').append(method).append("\r\n");
        for (String h : extraHeaders) {
            sb.append(h).append("\r\n");
        }
        return sb.append("Content-Length: 0\r\n\r\n").toString();
    }

    void send(String text) throws IOException {
        sendBytes(text.getBytes(StandardCharsets.UTF_8));
    }

    void sendBytes(byte[] bytes) throws IOException {
        if (udp != null) {
            udp.send(new DatagramPacket(bytes, bytes.length, server));
        } else {
            tcp.getOutputStream().write(bytes);
            tcp.getOutputStream().flush();
        }
    }

    /** The next final response (provisional ones are skipped); fails after the socket timeout. */
    SipResponse receiveFinal() throws IOException {
        while (true) {
            SipResponse r = receive();
            if (r.status() >= 200) {
                return r;
            }
        }
    }

    /** Sends and waits for the final response. */
    SipResponse exchange(String request) throws IOException {
        send(request);
        return receiveFinal();
    }

    /** True if nothing arrives within {@code millis}. */
    boolean silentFor(int millis) throws IOException {
        int old = udp.getSoTimeout();
        udp.setSoTimeout(millis);
        try {
            receive();
            return false;
        } catch (SocketTimeoutException e) {
            return true;
        } finally {
            udp.setSoTimeout(old);
        }
    }

    private SipResponse receive() throws IOException {
        if (udp != null) {
            byte[] buf = new byte[65536];
            DatagramPacket packet = new DatagramPacket(buf, buf.length);
            udp.receive(packet);
            return SipResponse.parse(new String(buf, 0, packet.getLength(), StandardCharsets.UTF_8));
        }
        return SipResponse.parse(readTcpMessage(tcp.getInputStream()));
    }

    /** Reads header lines up to the blank line, then Content-Length bytes of body. */
    private static String readTcpMessage(InputStream in) throws IOException {
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        int matched = 0;
        while (matched < 4) {
            int b = in.read();
            if (b < 0) {
                throw new IOException("connection closed by the server");
            }
            head.write(b);
            matched = (b == "\r\n\r\n".charAt(matched)) ? matched + 1 : (b == '\r' ? 1 : 0);
        }
        String text = head.toString(StandardCharsets.UTF_8);
        SipResponse headers = SipResponse.parse(text);
        String length = headers.header("Content-Length");
        int n = length == null ? 0 : Integer.parseInt(length.trim());
        return text + new String(in.readNBytes(n), StandardCharsets.UTF_8);
    }

    @Override
    public void close() throws IOException {
        if (udp != null) {
            udp.close();
        }
        if (tcp != null) {
            tcp.close();
        }
    }

    record SipResponse(int status, String reason, List<String[]> headers, String text) {

        static SipResponse parse(String text) {
            String[] lines = text.split("\r\n");
            String[] statusLine = lines[0].split(" ", 3);
            if (!statusLine[0].equals("SIP/2.0")) {
                throw new IllegalStateException("not a response: " + lines[0]);
            }
            List<String[]> headers = new ArrayList<>();
            for (int i = 1; i < lines.length && !lines[i].isEmpty(); i++) {
                int colon = lines[i].indexOf(':');
                headers.add(new String[] {lines[i].substring(0, colon).trim(), lines[i].substring(colon + 1).trim()});
            }
            return new SipResponse(Integer.parseInt(statusLine[1]), statusLine.length > 2 ? statusLine[2] : "", headers, text);
        }

        String header(String name) {
            List<String> all = headers(name);
            return all.isEmpty() ? null : all.get(0);
        }

        /** All values of a header, comma-separated lists split (outside <> and quotes). */
        List<String> headers(String name) {
            List<String> values = new ArrayList<>();
            for (String[] h : headers) {
                if (h[0].toLowerCase(Locale.ROOT).equals(name.toLowerCase(Locale.ROOT))) {
                    values.addAll(splitList(h[1]));
                }
            }
            return values;
        }

        private static List<String> splitList(String value) {
            List<String> parts = new ArrayList<>();
            int depth = 0;
            boolean quoted = false;
            int start = 0;
            for (int i = 0; i < value.length(); i++) {
                char c = value.charAt(i);
                if (c == '"') {
                    quoted = !quoted;
                } else if (!quoted && c == '<') {
                    depth++;
                } else if (!quoted && c == '>') {
                    depth--;
                } else if (!quoted && depth == 0 && c == ',') {
                    parts.add(value.substring(start, i).trim());
                    start = i + 1;
                }
            }
            parts.add(value.substring(start).trim());
            return parts;
        }

        @Override
        public String toString() {
            return text;
        }
    }
}
