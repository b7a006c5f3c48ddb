package io.webrtcgateway.testsupport;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Browser offers recorded once, for tests that need an offer but no browser. */
public final class CannedOffers {
    private CannedOffers() {}

    /**
     * A Chromium offer (audio only) whose only candidate is an mDNS name, so no ICE check leaves loopback or goes
     * anywhere: the call connects on the SIP side and its media never does.
     */
    public static String audioWithoutUsableCandidates() {
        try {
            List<String> lines = new ArrayList<>();
            for (String line : Files.readAllLines(Path.of("src/test/resources/sdp/input/chrome-offer.sdp"))) {
                if (line.startsWith("m=video")) {
                    break;
                }
                if (line.contains("typ srflx")) {
                    continue;
                }
                lines.add(line.replace("203.0.113.45", "0.0.0.0").replace("BUNDLE 0 1", "BUNDLE 0"));
            }
            return String.join("\r\n", lines) + "\r\n";
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
