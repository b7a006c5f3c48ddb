package io.webrtcgateway.edge.http;

import static io.webrtcgateway.edge.http.CrossSiteRequests.Kind.OTHER;
import static io.webrtcgateway.edge.http.CrossSiteRequests.Kind.SIGN_IN;
import static io.webrtcgateway.edge.http.CrossSiteRequests.Kind.STATE_CHANGING;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.webrtcgateway.config.GatewayConfig;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class CrossSiteRequestsTest {
    private static final String APP = "https://agent.example.com";
    private final GatewayConfig.Cors cors = new GatewayConfig.Cors(List.of(APP));

    @ParameterizedTest
    @CsvSource({
        "/sign_in, SIGN_IN", "/sign_in/, SIGN_IN", "//sign_in, SIGN_IN",
        "/t/abc/sign_in, SIGN_IN", "/t/x/sign_in, SIGN_IN", "/t/a/b/sign_in, SIGN_IN",
        "/api/v1/sessions, SIGN_IN", "/api/v1/sessions/, SIGN_IN", "/ws, SIGN_IN",
        "/message, STATE_CHANGING", "/sign_out, STATE_CHANGING", "/t/abc/message, STATE_CHANGING",
        "/t/abc/sign_out, STATE_CHANGING",
        "/wait, OTHER", "/t/abc/wait, OTHER", "/api/v1/sessions/s1.gw1, OTHER", "/api/v1/sessions/s1/keepalive, OTHER",
        "/health/ready, OTHER", "/metrics, OTHER", "/demo/, OTHER", "/, OTHER", "/t/sign_in, OTHER",
        "/sign_in.html, OTHER", "/xsign_in, OTHER", "/SIGN_IN, OTHER", "/admin/api/sessions, OTHER",
    })
    void pathsAreClassifiedAsTheContainerDecodedThem(String path, CrossSiteRequests.Kind kind) {
        // The filter passes servlet path + path info, already decoded: "/%73ign_in" arrives as "/sign_in".
        assertEquals(kind, CrossSiteRequests.kind(path, false), path);
    }

    @Test
    void everyWebSocketUpgradeIsASignIn() {
        assertEquals(SIGN_IN, CrossSiteRequests.kind("/ws", true));
        assertEquals(SIGN_IN, CrossSiteRequests.kind("/t/abc/ws", true));
    }

    @Test
    void legacyPathsAreKnownForTheirErrorBody() {
        assertTrue(CrossSiteRequests.isLegacyPath("/sign_in"));
        assertTrue(CrossSiteRequests.isLegacyPath("/t/tok/wait"));
        assertFalse(CrossSiteRequests.isLegacyPath("/api/v1/sessions"));
        assertFalse(CrossSiteRequests.isLegacyPath("/ws"));
    }

    @Test
    void aCrossSiteSignInIsRefusedUnlessItsOriginIsAllowed() {
        // <img src=".../sign_in?1001"> or a link: no Origin.
        assertTrue(CrossSiteRequests.refuses(SIGN_IN, "cross-site", null, false, cors));
        assertTrue(CrossSiteRequests.refuses(SIGN_IN, "Cross-Site ", null, false, cors));
        // A form of another site posting to /sign_in.
        assertTrue(CrossSiteRequests.refuses(SIGN_IN, "cross-site", "https://evil.example", false, cors));
        assertTrue(CrossSiteRequests.refuses(SIGN_IN, "cross-site", "null", false, cors));
        // grtc.js or the JS library on an allowed origin.
        assertFalse(CrossSiteRequests.refuses(SIGN_IN, "cross-site", APP, false, cors));
        // "*" allows every origin, but an <img> has none.
        GatewayConfig.Cors any = new GatewayConfig.Cors(List.of("*"));
        assertFalse(CrossSiteRequests.refuses(SIGN_IN, "cross-site", "https://evil.example", false, any));
        assertTrue(CrossSiteRequests.refuses(SIGN_IN, "cross-site", null, false, any));
    }

    @Test
    void sameSiteAndDirectSignInsPass() {
        for (String site : new String[] {"same-origin", "same-site", "none", null, "", "bogus"}) {
            assertFalse(CrossSiteRequests.refuses(SIGN_IN, site, null, false, cors), String.valueOf(site));
        }
        assertFalse(CrossSiteRequests.refuses(SIGN_IN, "same-origin", "https://gw.example.com", true, cors));
    }

    @Test
    void aSignInFromAnotherOriginThatIsNotAllowedIsRefusedWithoutFetchMetadataToo() {
        assertTrue(CrossSiteRequests.refuses(SIGN_IN, null, "https://evil.example", false, cors));
        assertTrue(CrossSiteRequests.refuses(SIGN_IN, "same-site", "https://other.example.com", false, cors));
        assertFalse(CrossSiteRequests.refuses(SIGN_IN, null, APP, false, cors));
    }

    @Test
    void legacyChangesGetTheCrossSiteRuleOnly() {
        assertTrue(CrossSiteRequests.refuses(STATE_CHANGING, "cross-site", null, false, cors));
        assertTrue(CrossSiteRequests.refuses(STATE_CHANGING, "cross-site", "https://evil.example", false, cors));
        assertFalse(CrossSiteRequests.refuses(STATE_CHANGING, "cross-site", APP, false, cors));
        assertFalse(CrossSiteRequests.refuses(STATE_CHANGING, "same-site", "https://other.example.com", false, cors));
        assertFalse(CrossSiteRequests.refuses(STATE_CHANGING, null, null, false, cors));
    }

    @Test
    void otherPathsAreNeverRefusedHere() {
        assertFalse(CrossSiteRequests.refuses(OTHER, "cross-site", null, false, cors));
        assertFalse(CrossSiteRequests.refuses(OTHER, "cross-site", "https://evil.example", false, cors));
    }
}
