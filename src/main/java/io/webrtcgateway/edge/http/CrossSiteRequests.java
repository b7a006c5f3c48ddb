package io.webrtcgateway.edge.http;

import io.webrtcgateway.config.GatewayConfig;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * Which requests a page of another site may not make through the user's browser. A plain
 * {@code <img src="https://gw/sign_in?1001">} on any web page would otherwise sign the visitor's browser in
 * as DN 1001, and its REGISTER would take the DN away from the agent who has it; a hidden form could do
 * the same with a POST.
 *
 * <p>The browser says where a request comes from in {@code Sec-Fetch-Site} (Fetch Metadata, W3C; sent to
 * HTTPS and localhost/loopback origins by Chromium, Firefox and Safari): {@code cross-site} is a page of
 * another site. Such a sign-in is refused unless it carries an {@code Origin} listed in
 * {@code gateway.cors.allowed-origins}: grtc.js and JS-library apps on an allowed origin call with
 * XMLHttpRequest/fetch, which always send Origin cross-site. A sign-in whose Origin is neither the gateway's
 * own nor allowed is refused too (a form of another origin, also from a browser without Fetch Metadata);
 * for WebSocket upgrades that rule was already the CORS filter's. The other legacy requests that change
 * something ({@code /message}, {@code /sign_out}) get the cross-site rule only: they need a session id
 * that another site does not know, but an {@code <img>} must still not drive them.
 */
final class CrossSiteRequests {
    /** What a path does, for the cross-site rules. */
    enum Kind {
        /** Creates a session: legacy /sign_in (also under /t/&lt;token&gt;/), POST /api/v1/sessions, the WebSocket. */
        SIGN_IN,
        /** Changes a legacy session: /message, /sign_out (also under /t/&lt;token&gt;/). */
        STATE_CHANGING,
        OTHER
    }

    /** The legacy paths, at the root or under a token prefix /t/&lt;token&gt;/ (docs/legacy-protocol.md). */
    private static final Pattern LEGACY = Pattern.compile("(/t/.+)?/(sign_in|wait|message|sign_out)");

    private CrossSiteRequests() {}

    /**
     * @param path    the decoded path the container maps (servlet path + path info), so "/%73ign_in" is a sign-in
     * @param upgrade the request asks for a WebSocket upgrade
     */
    static Kind kind(String path, boolean upgrade) {
        String p = normalize(path);
        if (upgrade || p.equals("/ws") || p.equals("/api/v1/sessions")) {
            return Kind.SIGN_IN;
        }
        if (!LEGACY.matcher(p).matches()) {
            return Kind.OTHER;
        }
        if (p.endsWith("/sign_in")) {
            return Kind.SIGN_IN;
        }
        return p.endsWith("/wait") ? Kind.OTHER : Kind.STATE_CHANGING;
    }

    /** A legacy protocol path: its errors are written in the legacy error body (LegacyServlet.errorBody). */
    static boolean isLegacyPath(String path) {
        return LEGACY.matcher(normalize(path)).matches();
    }

    /**
     * @param fetchSite  the Sec-Fetch-Site header, or null (non-browser clients, older browsers, plain HTTP to a
     *                   name: browsers send it only to potentially trustworthy origins)
     * @param origin     the Origin header, or null
     * @param sameOrigin the Origin is the gateway's own ({@link OriginFilter#isSameOrigin})
     */
    static boolean refuses(Kind kind, String fetchSite, String origin, boolean sameOrigin, GatewayConfig.Cors cors) {
        if (kind == Kind.OTHER || (origin != null && cors.allows(origin))) {
            return false;
        }
        if (fetchSite != null && fetchSite.trim().toLowerCase(Locale.ROOT).equals("cross-site")) {
            return true;
        }
        return kind == Kind.SIGN_IN && origin != null && !sameOrigin;
    }

    /** "//sign_in/" -> "/sign_in": the forms a container may still map to the same servlet or resource. */
    private static String normalize(String path) {
        String p = path.replaceAll("/{2,}", "/");
        return p.length() > 1 && p.endsWith("/") ? p.substring(0, p.length() - 1) : p;
    }
}
