package io.webrtcgateway.edge.http;

import io.webrtcgateway.testsupport.ItLogs;
import io.webrtcgateway.testsupport.JsonLineHarness;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * A page of another site in headless Chromium ({@code src/test/js/e2e/cross-site-page.mjs}, whose header
 * documents the line protocol): it loads images and submits forms wherever it is told, as any web page may,
 * and Chromium adds its own Sec-Fetch-Site and Origin. Lines go to {@code target/it-logs/<test>-<name>.log}.
 */
final class CrossSitePage extends JsonLineHarness {
    static final Path SCRIPT = Path.of("src/test/js/e2e/cross-site-page.mjs");

    private CrossSitePage(Launch launch) {
        super("cross-site-page", launch.command(), launch.environment(), launch.workDir(),
                ItLogs.file("cross-site-page", "log"), Duration.ofSeconds(45), Duration.ofSeconds(30));
    }

    /** Serves the page from http://{@code host}:&lt;any port&gt;/ and opens it. */
    static CrossSitePage open(String host) {
        CrossSitePage page = new CrossSitePage(chromiumHarness(SCRIPT, List.of(host)));
        page.launch();
        page.awaitReady();
        return page;
    }

    /** The page's origin, "http://host:port". */
    String origin() {
        return linesFrom(0, l -> "ready".equals(l.path("harness").asText(null))).get(0).path("origin").asText();
    }

    /** Adds {@code <img src=url>}; "load" or "error" (what an image tag learns of the answer). */
    String img(String url) {
        return sendOk("img " + json(url)).path("value").asText();
    }

    /** POSTs a text/plain form with one field into an iframe and waits until the iframe loaded the answer. */
    void postForm(String action, String name, String value) {
        sendOk("form " + JSON.createObjectNode().put("action", action).put("name", name).put("value", value));
    }
}
