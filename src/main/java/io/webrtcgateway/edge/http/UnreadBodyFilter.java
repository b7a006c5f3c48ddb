package io.webrtcgateway.edge.http;

import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletInputStream;
import jakarta.servlet.http.HttpFilter;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletRequestWrapper;
import jakarta.servlet.http.HttpServletResponse;
import jakarta.servlet.http.HttpServletResponseWrapper;
import java.io.IOException;

/**
 * Says {@code Connection: close} on an error answer given before the request's body was read to its end.
 *
 * <p>Many refusals come before the body is read: a foreign Host or Origin, a body too big by its
 * Content-Length, a missing credential, a wrong Content-Type. The container cannot tell where the next
 * request starts on such a connection, so it closes it after the answer; but the answer is committed by
 * then and nothing told the client, which may already be sending its next request on the connection it
 * thinks is still open. That request is lost (the JDK's HttpClient: "HTTP/1.1 header parser received no
 * bytes"; browsers resend only some). Saying so in the answer (RFC 9112 §9.6) lets the client open a new
 * connection instead. It is decided when the status is set, while the headers can still change.
 *
 * <p>Requests without a body pass untouched; an answer of 2xx or 3xx is left alone (the servlets read a
 * body before they accept it).
 */
public final class UnreadBodyFilter extends HttpFilter {
    @Override
    protected void doFilter(HttpServletRequest req, HttpServletResponse resp, FilterChain chain)
            throws IOException, ServletException {
        if (!hasBody(req)) {
            chain.doFilter(req, resp);
            return;
        }
        Tracked tracked = new Tracked(req);
        chain.doFilter(tracked, new HttpServletResponseWrapper(resp) {
            @Override
            public void setStatus(int sc) {
                closeIfUnread(sc);
                super.setStatus(sc);
            }

            @Override
            public void sendError(int sc) throws IOException {
                closeIfUnread(sc);
                super.sendError(sc);
            }

            @Override
            public void sendError(int sc, String msg) throws IOException {
                closeIfUnread(sc);
                super.sendError(sc, msg);
            }

            private void closeIfUnread(int sc) {
                if (sc >= 400 && !isCommitted() && !tracked.readToEnd()) {
                    setHeader("Connection", "close");
                }
            }
        });
    }

    /** A Content-Length above zero or a chunked body (RFC 9112 §6.3). */
    static boolean hasBody(HttpServletRequest req) {
        long length = req.getContentLengthLong();
        return length > 0 || (length < 0 && req.getHeader("Transfer-Encoding") != null);
    }

    /** Remembers the stream the servlet reads the body from; a Reader counts as not read to the end. */
    private static final class Tracked extends HttpServletRequestWrapper {
        /** Set on the request thread, read on whichever thread answers (an async one too). */
        private volatile ServletInputStream stream;

        Tracked(HttpServletRequest req) {
            super(req);
        }

        @Override
        public ServletInputStream getInputStream() throws IOException {
            ServletInputStream s = super.getInputStream();
            stream = s;
            return s;
        }

        /** The container saw the end of the body (a servlet that read it through a Reader is not tracked). */
        boolean readToEnd() {
            ServletInputStream s = stream;
            return s != null && s.isFinished();
        }
    }
}
