package io.webrtcgateway.testsupport;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * A bare HTTP/1.1 exchange over a socket, for what java.net.http hides or forbids: the headers of a
 * WebSocket handshake (Set-Cookie, a 403 for a foreign Origin), a Host header of the test's choosing, a
 * request without Host, repeated header lines, the local address the request comes from.
 */
public final class RawHttp {
    /** {@code body} is empty for a 101 (the connection then belongs to the WebSocket). */
    public record Response(int status, Map<String, String> headers, String head, String body) {
        public String header(String name) {
            return headers.get(name.toLowerCase(Locale.ROOT));
        }
    }

    /** The handshake headers of a WebSocket upgrade (RFC 6455 §4.1), each line ending in CRLF. */
    public static final String UPGRADE_HEADERS = "Upgrade: websocket\r\nConnection: Upgrade\r\n"
            + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n";

    private RawHttp() {}

    /** Sends a WebSocket upgrade request for {@code path} and returns the status line and headers. */
    public static Response upgrade(String httpUrl, String path, String origin) throws IOException {
        URI u = URI.create(httpUrl);
        return send(httpUrl, null, "GET " + path + " HTTP/1.1\r\n"
                + "Host: " + u.getHost() + ":" + u.getPort() + "\r\n"
                + UPGRADE_HEADERS
                + (origin != null ? "Origin: " + origin + "\r\n" : "")
                + "\r\n");
    }

    /**
     * Writes {@code request} exactly as given (head, blank line, body) to the server of {@code httpUrl},
     * from {@code localAddress} (null: the default), and reads the answer: the head, and the body unless it is
     * a 101 (the connection then belongs to the WebSocket).
     */
    public static Response send(String httpUrl, String localAddress, String request) throws IOException {
        URI u = URI.create(httpUrl);
        try (Socket s = new Socket()) {
            if (localAddress != null) {
                s.bind(new InetSocketAddress(localAddress, 0));
            }
            s.connect(new InetSocketAddress(u.getHost(), u.getPort()), 10_000);
            s.setSoTimeout(10_000);
            return exchange(s, request);
        }
    }

    /**
     * Writes {@code request} to a connected socket (a TLS one too) and reads one answer, leaving the
     * connection open for the next request (when the answer has a length).
     */
    public static Response exchange(Socket s, String request) throws IOException {
        OutputStream out = s.getOutputStream();
        out.write(request.getBytes(StandardCharsets.UTF_8));
        out.flush();
        InputStream in = s.getInputStream();
        String head = readHead(in);
        String[] lines = head.split("\r\n");
        int status = Integer.parseInt(lines[0].split(" ")[1]);
        Map<String, String> headers = new LinkedHashMap<>();
        for (int i = 1; i < lines.length; i++) {
            int colon = lines[i].indexOf(':');
            if (colon > 0) {
                headers.merge(lines[i].substring(0, colon).trim().toLowerCase(Locale.ROOT),
                        lines[i].substring(colon + 1).trim(), (a, b) -> a + "\n" + b);
            }
        }
        return new Response(status, headers, head, body(in, status, headers));
    }

    /** The body as RFC 9112 §6.3 delimits it: none for a 101, Content-Length, chunked, else to the end. */
    private static String body(InputStream in, int status, Map<String, String> headers) throws IOException {
        if (status == 101 || status == 204 || status == 304) {
            return "";
        }
        if ("chunked".equalsIgnoreCase(headers.getOrDefault("transfer-encoding", ""))) {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            while (true) {
                int size = Integer.parseInt(readLine(in).split(";")[0].trim(), 16);
                if (size == 0) {
                    readLine(in); // the empty line after the last chunk (no trailers expected)
                    return out.toString(StandardCharsets.UTF_8);
                }
                out.write(in.readNBytes(size));
                readLine(in);
            }
        }
        String length = headers.get("content-length");
        byte[] bytes = length != null ? in.readNBytes(Integer.parseInt(length)) : in.readAllBytes();
        return new String(bytes, StandardCharsets.UTF_8);
    }

    private static String readLine(InputStream in) throws IOException {
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        int b;
        while ((b = in.read()) >= 0 && b != '\n') {
            if (b != '\r') {
                line.write(b);
            }
        }
        return line.toString(StandardCharsets.US_ASCII);
    }

    private static String readHead(InputStream in) throws IOException {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        int matched = 0;
        byte[] end = {'\r', '\n', '\r', '\n'};
        while (matched < 4) {
            int b = in.read();
            if (b < 0) {
                break;
            }
            buf.write(b);
            matched = b == end[matched] ? matched + 1 : (b == '\r' ? 1 : 0);
        }
        return buf.toString(StandardCharsets.US_ASCII);
    }
}
