package io.webrtcgateway.edge.rest;

import io.webrtcgateway.error.ErrorCode;
import io.webrtcgateway.error.GatewayException;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ReadListener;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletInputStream;
import jakarta.servlet.http.HttpFilter;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletRequestWrapper;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.nio.charset.StandardCharsets;

/**
 * {@code gateway.limits.max-message-bytes} for the REST edge, in front of Jersey, which reads and parses bodies
 * itself: a request whose Content-Length is larger is answered 413 MESSAGE_TOO_BIG at once, before a byte of
 * the body is read; a body without a length (chunked) or with a false one is counted while it is read and
 * the read fails at the first byte past the limit, which {@link RestErrors} answers 413 MESSAGE_TOO_BIG. So
 * no body larger than the limit is ever buffered or parsed.
 */
public final class BodyLimitFilter extends HttpFilter {
    private final transient int maxBytes;
    private final transient Runnable onRefused;

    /** @param onRefused told of each refused body (the refusal metric) */
    public BodyLimitFilter(int maxBytes, Runnable onRefused) {
        this.maxBytes = maxBytes;
        this.onRefused = onRefused;
    }

    /** The read past the limit: {@link RestErrors} finds it in the cause chain of whatever Jersey makes of it. */
    static final class TooBig extends IOException {
        TooBig(int maxBytes) {
            super("body larger than " + maxBytes + " bytes (gateway.limits.max-message-bytes)", null);
        }

        GatewayException error() {
            return new GatewayException(ErrorCode.MESSAGE_TOO_BIG, getMessage());
        }
    }

    @Override
    protected void doFilter(HttpServletRequest req, HttpServletResponse resp, FilterChain chain)
            throws IOException, ServletException {
        if (req.getContentLengthLong() > maxBytes) {
            onRefused.run();
            byte[] body = RestErrors.body(new TooBig(maxBytes).error()).toString().getBytes(StandardCharsets.UTF_8);
            resp.setStatus(413);
            resp.setHeader("Connection", "close"); // the body is never read (RFC 9110 §15.5.14)
            resp.setContentType("application/json");
            resp.setContentLength(body.length);
            resp.getOutputStream().write(body);
            return;
        }
        chain.doFilter(new HttpServletRequestWrapper(req) {
            private ServletInputStream limited;

            @Override
            public ServletInputStream getInputStream() throws IOException {
                if (limited == null) {
                    limited = new Limited(super.getInputStream(), maxBytes, onRefused);
                }
                return limited;
            }
        }, resp);
    }

    /** Counts what is read; the read that would pass {@code maxBytes} fails with {@link TooBig}. */
    private static final class Limited extends ServletInputStream {
        private final ServletInputStream in;
        private final int maxBytes;
        private final Runnable onRefused;
        /** Bytes read so far; only the thread reading the request touches it. */
        private long count;
        /** The limit was passed (told once). */
        private boolean refused;

        Limited(ServletInputStream in, int maxBytes, Runnable onRefused) {
            this.in = in;
            this.maxBytes = maxBytes;
            this.onRefused = onRefused;
        }

        @Override
        public int read() throws IOException {
            int b = in.read();
            if (b >= 0) {
                counted(1);
            }
            return b;
        }

        @Override
        public int read(byte[] buf, int off, int len) throws IOException {
            // Never ask for more than one byte past the limit: that byte alone says the body is too big.
            int n = in.read(buf, off, (int) Math.min(len, Math.max(1, maxBytes + 1L - count)));
            if (n > 0) {
                counted(n);
            }
            return n;
        }

        private void counted(int n) throws IOException {
            count += n;
            if (count > maxBytes) {
                if (!refused) {
                    refused = true;
                    onRefused.run();
                }
                throw new TooBig(maxBytes);
            }
        }

        @Override
        public boolean isFinished() {
            return in.isFinished();
        }

        @Override
        public boolean isReady() {
            return in.isReady();
        }

        @Override
        public void setReadListener(ReadListener listener) {
            in.setReadListener(listener);
        }

        @Override
        public int available() throws IOException {
            return in.available();
        }

        @Override
        public void close() throws IOException {
            in.close();
        }
    }
}
