package io.webrtcgateway.edge.legacy;

import jakarta.servlet.AsyncContext;
import jakarta.servlet.ServletOutputStream;
import jakarta.servlet.WriteListener;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Answers an asynchronous legacy request (a long poll, a sign-in waiting for its REGISTER) without the
 * calling thread ever waiting for the client: the body is written by the container's threads through a
 * {@link WriteListener} (Servlet 6.0 §5.7, non-blocking IO), so a gw-timer or gw-worker thread that answers
 * a client that does not read returns at once. Such an answer stays with the container until its idle
 * timeout closes the connection; the client has then lost that answer, nothing else.
 */
final class AsyncAnswer {
    private static final Logger LOG = LoggerFactory.getLogger(AsyncAnswer.class);

    private AsyncAnswer() {}

    /**
     * Sends status, headers and body, then completes {@code ctx}. {@code peer} (may be null) goes in the
     * {@code Pragma} header. {@code unwritten} runs if the client never took the answer.
     */
    static void send(AsyncContext ctx, int status, String peer, String body, Runnable unwritten) {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        ServletOutputStream out;
        try {
            HttpServletResponse resp = (HttpServletResponse) ctx.getResponse();
            resp.setStatus(status);
            resp.setContentType("text/plain;charset=utf-8");
            resp.setHeader("Cache-Control", "no-cache, no-store");
            if (peer != null) {
                resp.setHeader("Pragma", peer);
            }
            resp.setContentLength(bytes.length);
            out = resp.getOutputStream();
        } catch (IOException | IllegalStateException e) {
            // The request is already over (the client went away and the container completed it).
            LOG.debug("legacy answer not sent: {}", e.toString());
            complete(ctx);
            return;
        }
        try {
            out.setWriteListener(new WriteListener() {
                /** Called by one container thread at a time (Servlet 6.0 §5.7). */
                private boolean written = bytes.length == 0;

                @Override
                public void onWritePossible() throws IOException {
                    while (out.isReady()) {
                        if (written) {
                            complete(ctx);
                            return;
                        }
                        written = true;
                        out.write(bytes);
                    }
                    // Not ready: the container calls again once the client took what was written.
                }

                @Override
                public void onError(Throwable t) {
                    LOG.debug("legacy answer not written: {}", t.toString());
                    unwritten.run();
                    complete(ctx);
                }
            });
        } catch (IllegalStateException e) {
            LOG.debug("legacy answer not sent: {}", e.toString());
            complete(ctx);
        }
    }

    private static void complete(AsyncContext ctx) {
        try {
            ctx.complete();
        } catch (IllegalStateException e) {
            LOG.debug("legacy request already completed");
        }
    }
}
