package io.webrtcgateway.auth;

import static io.webrtcgateway.auth.DestinationPattern.matches;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class DestinationPatternTest {
    @Test
    void literalsDigitsAndTrailingStar() {
        assertTrue(matches("5000", "5000"));
        assertFalse(matches("5000", "50001"));
        assertTrue(matches("5xxx", "5123"));
        assertFalse(matches("5xxx", "512"));
        assertFalse(matches("5xxx", "51a3"));
        assertTrue(matches("9*", "9"));
        assertTrue(matches("9*", "900123"));
        assertFalse(matches("9*", "8"));
        assertTrue(matches("*", ""));
        assertTrue(matches("*", "+44123"));
        assertTrue(matches("+*", "+44123"));
        assertFalse(matches("+*", "44123"));
    }

    @Test
    void aStarInsideIsTheStarKey() {
        assertTrue(matches("*72", "*72"));
        assertFalse(matches("*72", "172"));
        assertTrue(matches("**", "*72"));
        assertFalse(matches("**", "72"));
        assertTrue(matches("*xx#", "*12#"));
    }
}
