package io.webrtcgateway.auth;

import java.time.Instant;
import java.util.List;

/**
 * What a session was allowed when it signed in: the claims of its token, or everything in
 * {@code gateway.auth.mode = none}.
 *
 * @param dn        the only DN the session may register ({@code sub}); null: none (an anonymous token)
 * @param dial      destination patterns the session may call ({@code dial}); null: no narrowing
 * @param expiresAt when the token runs out ({@code exp}); null: never (none mode)
 * @param jti       the token's id, for logs and the admin API; null if it has none
 */
public record Grant(String dn, List<String> dial, Instant expiresAt, String jti) {
    /** none mode: no token, nothing narrowed, no expiry. */
    public static final Grant UNRESTRICTED = new Grant(null, null, null, null);

    public Grant {
        dial = dial == null ? null : List.copyOf(dial);
    }

    public boolean fromToken() {
        return expiresAt != null;
    }

    /** Whether the token ran out, {@code skew} after its exp. */
    public boolean expired(Instant now, java.time.Duration skew) {
        return expiresAt != null && now.isAfter(expiresAt.plus(skew));
    }
}
