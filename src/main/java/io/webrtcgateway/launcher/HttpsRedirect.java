package io.webrtcgateway.launcher;

import io.webrtcgateway.edge.http.AllowedHosts;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.HttpStatus;
import org.eclipse.jetty.http.HttpURI;
import org.eclipse.jetty.server.Connector;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;

/**
 * {@code gateway.http.tls.redirect-http}: on the plain-HTTP listener, every request gets a 308 Permanent
 * Redirect (RFC 9110 §15.4.9: the method and body are kept) to the same URL on the HTTPS port, except
 * {@code /health/*}, which load balancers probe over plain HTTP and which is served as before. A request for a
 * host the gateway does not serve is not redirected either: the webapp answers it 421 (gateway.http.allowed-hosts),
 * so no Location ever names a host an attacker chose. Other listeners (HTTPS, admin) pass through.
 */
final class HttpsRedirect extends Handler.Wrapper {
    private final Connector plain;
    private final int httpsPort;
    private final AllowedHosts hosts;

    HttpsRedirect(Handler next, Connector plain, int httpsPort, AllowedHosts hosts) {
        super(next);
        this.plain = plain;
        this.httpsPort = httpsPort;
        this.hosts = hosts;
    }

    @Override
    public boolean handle(Request request, Response response, Callback callback) throws Exception {
        String host = request.getHeaders().get(HttpHeader.HOST);
        if (request.isSecure() || request.getConnectionMetaData().getConnector() != plain
                || isHealth(request.getHttpURI()) || !hosts.allows(host)) {
            return super.handle(request, response, callback);
        }
        Response.sendRedirect(request, response, callback, HttpStatus.PERMANENT_REDIRECT_308,
                location(host, request.getHttpURI(), httpsPort), true);
        return true;
    }

    private static boolean isHealth(HttpURI uri) {
        // Decoded and normalised, as the webapp will map it: "/%68ealth/live" is a health probe too.
        String path = uri.getCanonicalPath();
        return path != null && (path.equals("/health") || path.startsWith("/health/"));
    }

    /** {@code https://<the Host's host>[:port]<path>[?query]}; {@code host} is a Host header AllowedHosts accepted. */
    static String location(String host, HttpURI uri, int httpsPort) {
        String h = host.trim();
        h = h.startsWith("[") ? h.substring(0, h.indexOf(']') + 1)
                : h.indexOf(':') < 0 ? h : h.substring(0, h.indexOf(':'));
        String pathQuery = uri.getPathQuery();
        if (pathQuery == null || pathQuery.isEmpty() || pathQuery.charAt(0) != '/') {
            pathQuery = "/" + (pathQuery == null ? "" : pathQuery);
        }
        return "https://" + h + (httpsPort == 443 ? "" : ":" + httpsPort) + pathQuery;
    }
}
