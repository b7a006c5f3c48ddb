package io.webrtcgateway.cluster;

import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

/**
 * The cookie that pins a browser to this instance (SPEC §7): {@code <name>=<instance-id>}. Load balancers
 * route on it (deploy/haproxy, deploy/nginx). Over HTTPS it is {@code SameSite=None; Secure} so that
 * cross-origin legacy apps (grtc.js, with credentials) send it back; over plain HTTP browsers would drop
 * such a cookie, so it stays a default (Lax) cookie there.
 */
public final class AffinityCookie {
    private final String name;
    private final String instanceId;

    public AffinityCookie(String name, String instanceId) {
        this.name = name;
        this.instanceId = instanceId;
    }

    public String name() {
        return name;
    }

    public String headerValue(boolean secure) {
        return name + "=" + instanceId + "; Path=/; HttpOnly" + (secure ? "; SameSite=None; Secure" : "");
    }

    public void set(HttpServletRequest request, HttpServletResponse response) {
        response.addHeader("Set-Cookie", headerValue(isSecure(request.isSecure(), request.getHeader("X-Forwarded-Proto"))));
    }

    public static boolean isSecure(boolean requestSecure, String forwardedProto) {
        return requestSecure || "https".equalsIgnoreCase(forwardedProto);
    }
}
