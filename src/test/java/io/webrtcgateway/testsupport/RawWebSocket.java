package io.webrtcgateway.testsupport;

import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.Base64;

/**
 * A WebSocket client on a plain socket (RFC 6455), for attacks a well-behaved client library cannot make:
 * it can stop reading altogether — with a receive buffer as small as the kernel allows, so the server's
 * writes back up at once — while it keeps sending. Client frames are masked (RFC 6455 §5.3); text frames
 * only. Not thread-safe: one reader, one writer.
 *
 * <pre>
 * try (RawWebSocket ws = RawWebSocket.connect(gw.httpPort(), "/ws", 4096)) {
 *     ws.sendText("{\"type\":\"hello\",\"id\":1}");
 *     String answer = ws.readText(Duration.ofSeconds(5));
 *     ... then send without ever reading again
 * }
 * </pre>
 */
public final class RawWebSocket implements AutoCloseable {
    private static final SecureRandom RANDOM = new SecureRandom();

    private final Socket socket;
    private final InputStream in;
    private final OutputStream out;

    private RawWebSocket(Socket socket) throws IOException {
        this.socket = socket;
        this.in = socket.getInputStream();
        this.out = socket.getOutputStream();
    }

    /**
     * Connects to 127.0.0.1:{@code port}, upgrades {@code path}, and returns once the 101 came.
     * {@code receiveBuffer}: SO_RCVBUF in bytes, set before connecting (0: the system's default).
     */
    public static RawWebSocket connect(int port, String path, int receiveBuffer) throws IOException {
        Socket s = new Socket();
        if (receiveBuffer > 0) {
            s.setReceiveBufferSize(receiveBuffer);
        }
        s.connect(new InetSocketAddress(FreePorts.LOOPBACK, port), 5_000);
        s.setSoTimeout(10_000);
        RawWebSocket ws = new RawWebSocket(s);
        try {
            ws.upgrade(port, path);
        } catch (IOException | RuntimeException e) {
            s.close();
            throw e;
        }
        return ws;
    }

    private void upgrade(int port, String path) throws IOException {
        byte[] key = new byte[16];
        RANDOM.nextBytes(key);
        String request = "GET " + path + " HTTP/1.1\r\n"
                + "Host: 127.0.0.1:" + port + "\r\n"
                + "Upgrade: websocket\r\n"
                + "Connection: Upgrade\r\n"
                + "Sec-WebSocket-Key: " + Base64.getEncoder().encodeToString(key) + "\r\n"
                + "Sec-WebSocket-Version: 13\r\n\r\n";
        out.write(request.getBytes(StandardCharsets.US_ASCII));
        out.flush();
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        while (!head.toString(StandardCharsets.ISO_8859_1).endsWith("\r\n\r\n")) {
            int b = in.read();
            if (b < 0) {
                throw new EOFException("connection closed during the upgrade: " + head);
            }
            head.write(b);
        }
        String response = head.toString(StandardCharsets.ISO_8859_1);
        if (!response.startsWith("HTTP/1.1 101")) {
            throw new IOException("upgrade refused: " + response.lines().findFirst().orElse(""));
        }
    }

    /** Sends one masked text frame. Blocks while the socket's send buffer is full. */
    public void sendText(String text) throws IOException {
        byte[] payload = text.getBytes(StandardCharsets.UTF_8);
        byte[] mask = new byte[4];
        RANDOM.nextBytes(mask);
        ByteArrayOutputStream frame = new ByteArrayOutputStream(payload.length + 14);
        frame.write(0x81); // FIN, text
        if (payload.length < 126) {
            frame.write(0x80 | payload.length);
        } else if (payload.length < 65536) {
            frame.write(0x80 | 126);
            frame.write(payload.length >>> 8);
            frame.write(payload.length & 0xff);
        } else {
            frame.write(0x80 | 127);
            for (int shift = 56; shift >= 0; shift -= 8) {
                frame.write((int) ((long) payload.length >>> shift) & 0xff);
            }
        }
        frame.write(mask);
        for (int i = 0; i < payload.length; i++) {
            frame.write(payload[i] ^ mask[i & 3]);
        }
        out.write(frame.toByteArray());
    }

    /**
     * The next text message, within {@code timeout}. Pings and pongs are skipped; a close frame throws
     * {@link Closed} with its code.
     */
    public String readText(Duration timeout) throws IOException {
        socket.setSoTimeout((int) Math.max(1, timeout.toMillis()));
        ByteArrayOutputStream message = new ByteArrayOutputStream();
        while (true) {
            int b0 = readByte();
            int b1 = readByte();
            int opcode = b0 & 0x0f;
            long length = b1 & 0x7f;
            if (length == 126) {
                length = (readByte() << 8) | readByte();
            } else if (length == 127) {
                length = 0;
                for (int i = 0; i < 8; i++) {
                    length = (length << 8) | readByte();
                }
            }
            byte[] mask = (b1 & 0x80) != 0 ? in.readNBytes(4) : null;
            byte[] payload = in.readNBytes((int) length);
            if (payload.length < length) {
                throw new EOFException("connection closed mid-frame");
            }
            if (mask != null) {
                for (int i = 0; i < payload.length; i++) {
                    payload[i] ^= mask[i & 3];
                }
            }
            if (opcode == 0x8) {
                int code = payload.length >= 2 ? ((payload[0] & 0xff) << 8) | (payload[1] & 0xff) : 1005;
                throw new Closed(code, new String(payload, Math.min(2, payload.length),
                        Math.max(0, payload.length - 2), StandardCharsets.UTF_8));
            }
            if (opcode == 0x9 || opcode == 0xa) {
                continue;
            }
            message.write(payload);
            if ((b0 & 0x80) != 0) {
                return message.toString(StandardCharsets.UTF_8);
            }
        }
    }

    private int readByte() throws IOException {
        int b = in.read();
        if (b < 0) {
            throw new EOFException("connection closed");
        }
        return b;
    }

    /**
     * Reads and discards whatever arrives until the server closes the connection (EOF or reset), or
     * {@code timeout}; true if it closed.
     */
    public boolean drainUntilClosed(Duration timeout) throws IOException {
        long deadline = System.nanoTime() + timeout.toNanos();
        byte[] buffer = new byte[65536];
        while (System.nanoTime() < deadline) {
            socket.setSoTimeout((int) Math.max(1, Math.min(1000, (deadline - System.nanoTime()) / 1_000_000)));
            try {
                if (in.read(buffer) < 0) {
                    return true;
                }
            } catch (SocketTimeoutException e) {
                // nothing yet
            } catch (IOException e) {
                return true; // reset
            }
        }
        return false;
    }

    @Override
    public void close() {
        try {
            socket.close();
        } catch (IOException e) {
            // closing anyway
        }
    }

    /** The server's close frame. */
    public static final class Closed extends IOException {
        private final int code;

        Closed(int code, String reason) {
            super("closed by the server: " + code + " " + reason);
            this.code = code;
        }

        public int code() {
            return code;
        }
    }
}
