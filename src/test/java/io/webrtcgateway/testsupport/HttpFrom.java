package io.webrtcgateway.testsupport;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * HTTP/1.1 over a socket bound to a chosen local address, so that a test on one machine can be a client from
 * another address of 127.0.0.0/8 (Linux's loopback answers all of them): per-client limits tell 127.0.0.1 and
 * 127.0.0.2 apart. Also the pieces for requests java.net.http will not send: a Content-Length larger than the
 * body, a body that never ends.
 */
public final class HttpFrom implements AutoCloseable {
    public record Response(int status, Map<String, String> headers, String body) {
        public String header(String name) {
            return headers.get(name.toLowerCase(Locale.ROOT));
        }
    }

    private final Socket socket;
    private final String hostHeader;

    /** Connects from {@code local} (any port) to the host and port of {@code httpUrl}. */
    public HttpFrom(InetAddress local, String httpUrl) {
        URI u = URI.create(httpUrl);
        try {
            socket = new Socket();
            socket.bind(new InetSocketAddress(local, 0));
            socket.connect(new InetSocketAddress(u.getHost(), u.getPort()), 5_000);
            socket.setSoTimeout(15_000);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot connect from " + local + " to " + httpUrl, e);
        }
        hostHeader = u.getHost() + ":" + u.getPort();
    }

    /** One request on the connection (kept alive), with a body (may be null) of type {@code application/json}. */
    public Response send(String method, String path, String body, Map<String, String> headers) {
        byte[] bytes = body == null ? new byte[0] : body.getBytes(StandardCharsets.UTF_8);
        StringBuilder head = new StringBuilder(method + " " + path + " HTTP/1.1\r\nHost: " + hostHeader + "\r\n");
        headers.forEach((k, v) -> head.append(k).append(": ").append(v).append("\r\n"));
        if (body != null) {
            head.append("Content-Type: application/json\r\n");
        }
        head.append("Content-Length: ").append(bytes.length).append("\r\n\r\n");
        write(head.toString().getBytes(StandardCharsets.US_ASCII));
        write(bytes);
        return read();
    }

    public Response send(String method, String path, String body) {
        return send(method, path, body, Map.of());
    }

    /** Raw bytes on the connection (a head that promises more than follows, chunks...). */
    public void write(byte[] bytes) {
        try {
            OutputStream out = socket.getOutputStream();
            out.write(bytes);
            out.flush();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public void write(String text) {
        write(text.getBytes(StandardCharsets.ISO_8859_1));
    }

    /** The next response: status line, headers, and a body by Content-Length or chunked, or until close. */
    public Response read() {
        try {
            InputStream in = socket.getInputStream();
            String head = RawHttp.readHead(in);
            if (head.isEmpty()) {
                throw new IOException("connection closed before a response");
            }
            String[] lines = head.split("\r\n");
            int status = Integer.parseInt(lines[0].split(" ")[1]);
            Map<String, String> headers = new LinkedHashMap<>();
            for (int i = 1; i < lines.length; i++) {
                int colon = lines[i].indexOf(':');
                if (colon > 0) {
                    headers.put(lines[i].substring(0, colon).trim().toLowerCase(Locale.ROOT),
                            lines[i].substring(colon + 1).trim());
                }
            }
            byte[] body;
            if (headers.containsKey("content-length")) {
                body = in.readNBytes(Integer.parseInt(headers.get("content-length")));
            } else if ("chunked".equalsIgnoreCase(headers.get("transfer-encoding"))) {
                body = readChunked(in);
            } else {
                body = in.readAllBytes();
            }
            return new Response(status, headers, new String(body, StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Whether the server closed the connection (a read sees its end within {@code millis}). */
    public boolean closedByServer(int millis) {
        try {
            socket.setSoTimeout(millis);
            return socket.getInputStream().read() < 0;
        } catch (IOException e) {
            return e instanceof java.net.SocketException; // reset: closed too; a timeout: still open
        }
    }

    private static byte[] readChunked(InputStream in) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        while (true) {
            String size = RawHttp.readLine(in).split(";")[0].trim();
            int n = Integer.parseInt(size, 16);
            if (n == 0) {
                RawHttp.readLine(in);
                return out.toByteArray();
            }
            out.write(in.readNBytes(n));
            RawHttp.readLine(in);
        }
    }

    @Override
    public void close() {
        try {
            socket.close();
        } catch (IOException e) {
            // closing anyway
        }
    }
}
