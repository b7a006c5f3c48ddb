package io.webrtcgateway.admin;

import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * The query of a list request, {@code ?dn=<substring>&offset=0&limit=50&scope=local|cluster}, validated:
 * anything else is a 400 BAD_REQUEST naming the parameter. A peer asking for its part of a cluster list
 * may ask for more than {@link #MAX_LIMIT} items ({@code offset + limit} of the operator's page).
 */
public record ListQuery(String dn, int offset, int limit, boolean cluster) {
    public static final int DEFAULT_LIMIT = 50;
    public static final int MAX_LIMIT = 500;
    static final int MAX_OFFSET = 1_000_000;
    /** What one instance answers a peer at most: a cluster page never needs more from it. */
    static final int MAX_PEER_LIMIT = MAX_OFFSET + MAX_LIMIT;

    /** Parses the request's parameters ({@code HttpServletRequest.getParameterMap()}). */
    public static ListQuery parse(Map<String, String[]> params, boolean fromPeer) {
        String dn = single(params, "dn");
        if (dn != null && !dn.matches("[A-Za-z0-9._+*#@\\-]{0,64}")) {
            throw AdminException.badRequest("'dn' must be at most 64 of A-Z a-z 0-9 . _ + * # @ -");
        }
        int offset = integer(params, "offset", 0, 0, MAX_OFFSET);
        int limit = integer(params, "limit", DEFAULT_LIMIT, 1, fromPeer ? MAX_PEER_LIMIT : MAX_LIMIT);
        String scope = single(params, "scope");
        if (scope != null && !scope.equals("local") && !scope.equals("cluster")) {
            throw AdminException.badRequest("'scope' must be local or cluster");
        }
        return new ListQuery(dn == null || dn.isEmpty() ? null : dn, offset, limit, "cluster".equals(scope));
    }

    private static String single(Map<String, String[]> params, String name) {
        String[] values = params.get(name);
        if (values == null || values.length == 0) {
            return null;
        }
        if (values.length > 1) {
            throw AdminException.badRequest("'" + name + "' given more than once");
        }
        return values[0];
    }

    private static int integer(Map<String, String[]> params, String name, int absent, int min, int max) {
        String text = single(params, name);
        if (text == null) {
            return absent;
        }
        int v;
        try {
            v = Integer.parseInt(text.trim());
        } catch (NumberFormatException e) {
            throw AdminException.badRequest("'" + name + "' must be a whole number from " + min + " to " + max);
        }
        if (v < min || v > max) {
            throw AdminException.badRequest("'" + name + "' must be from " + min + " to " + max + ", not " + v);
        }
        return v;
    }

    /** Whether {@code values} (a DN, a remote party...) match the dn filter: any contains it, ignoring case. */
    public boolean matches(String... values) {
        if (dn == null) {
            return true;
        }
        String needle = dn.toLowerCase(java.util.Locale.ROOT);
        for (String v : values) {
            if (v != null && v.toLowerCase(java.util.Locale.ROOT).contains(needle)) {
                return true;
            }
        }
        return false;
    }

    /** The page of {@code all} (already filtered and ordered) this query asks for. */
    public <T> List<T> page(List<T> all) {
        if (offset >= all.size()) {
            return List.of();
        }
        return all.subList(offset, Math.min(all.size(), offset + limit));
    }

    /** The query a peer is asked for its part of a cluster list: local scope, the first offset+limit items. */
    public String peerQueryString(Function<String, String> encode) {
        StringBuilder q = new StringBuilder("scope=local&offset=0&limit=").append(offset + limit);
        if (dn != null) {
            q.append("&dn=").append(encode.apply(dn));
        }
        return q.toString();
    }
}
