package io.webrtcgateway.media.ice;

import com.typesafe.config.ConfigFactory;
import org.ice4j.StackProperties;
import org.ice4j.ice.AgentConfig;
import org.ice4j.ice.harvest.HarvestConfig;
import org.ice4j.ice.harvest.MappingCandidateHarvesters;
import org.ice4j.stack.StunClientTransaction;
import org.jitsi.config.JitsiConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.logging.Level;

/**
 * The one place where the gateway configures ice4j. Call {@link #apply(IceConfig)} once at start-up, before
 * the first {@link IceTransport}; the transport refuses to be created otherwise.
 *
 * <p>Why system properties: ice4j 3.2 reads its settings through jitsi-metaconfig from a Typesafe config whose
 * precedence is system properties over ice4j's reference.conf, and caches every value the first time it is
 * read (static {@code AgentConfig.config} / {@code HarvestConfig.config}, and the JVM-wide
 * {@link MappingCandidateHarvesters} list built by the first {@code Agent}). So these values are per class
 * loader (per deployed WAR), not per transport, and must be in place before ice4j looks. {@code apply} sets
 * them, reloads ice4j's config source, then reads back what ice4j will really use and throws if ice4j had
 * already cached something else (an Agent created earlier, or an {@code application.conf} on the class path
 * overriding us).
 */
public final class IceSystemProperties {

    private static final Logger LOG = LoggerFactory.getLogger(IceSystemProperties.class);

    /**
     * ice4j and jitsi-utils log through java.util.logging, every candidate pair's state change at INFO (some 20
     * lines per call). Held here because JUL keeps loggers only weakly: a level set on a collected logger is lost.
     */
    private static final List<java.util.logging.Logger> QUIET = List.of(
            java.util.logging.Logger.getLogger("org.ice4j"), java.util.logging.Logger.getLogger("org.jitsi"));

    /** Longest wait between retransmissions of a consent check (RFC 7675 §5.1: 500 ms). */
    private static final int CONSENT_MAX_RTO_MS = 500;

    private IceSystemProperties() {}

    /**
     * Sets every ice4j property the gateway depends on and verifies ice4j took them.
     *
     * @throws IllegalStateException if ice4j had already read different values (then nothing can fix it short
     *                               of a new class loader)
     */
    public static synchronized void apply(IceConfig config) {
        Map<String, String> properties = properties(config);
        properties.forEach(System::setProperty);
        // ice4j's config source is built from ConfigFactory's cached system properties: drop the cache and
        // rebuild the source, so properties set just now are seen even if JitsiConfig was loaded earlier.
        ConfigFactory.invalidateCaches();
        JitsiConfig.Companion.reloadNewConfig();
        for (java.util.logging.Logger logger : QUIET) {
            // Warnings and errors only, unless the deployment configured these loggers itself.
            if (logger.getLevel() == null) {
                logger.setLevel(Level.WARNING);
            }
        }
        List<String> wrong = mismatches(config);
        if (!wrong.isEmpty()) {
            throw new IllegalStateException("ice4j was configured before IceSystemProperties.apply, or something"
                    + " overrides the gateway's ice4j settings: " + String.join("; ", wrong));
        }
        LOG.info("ice4j configured: {}", properties);
    }

    /** True once {@link #apply} has run in this JVM: checked by every new transport, reads no ice4j state. */
    static boolean applied() {
        return "false".equals(System.getProperty("ice4j.harvest.mapping.aws.enabled"))
                && "false".equals(System.getProperty("ice4j.harvest.udp.use-dynamic-ports"));
    }

    /** Upper bound of the time between a peer's last consent response and DISCONNECTED, with ice4j's values. */
    public static Duration consentDetectionBound() {
        return AgentConfig.config.getConsentFreshnessInterval().multipliedBy(12).dividedBy(10)
                .plus(consentCheckLifetime());
    }

    /** How long ice4j waits for the answer to one consent check before it reports the check timed out. */
    static Duration consentCheckLifetime() {
        AgentConfig agent = AgentConfig.config;
        return Duration.ofMillis(checkTimeoutMillis((int) agent.getConsentFreshnessMaxWaitInterval().toMillis(),
                agent.getMaxConsentFreshnessRetransmissions()));
    }

    static Map<String, String> properties(IceConfig config) {
        Map<String, String> p = new LinkedHashMap<>();
        // AWS harvester: when enabled, ice4j probes http://169.254.169.254 (EC2 metadata) from the first Agent,
        // traffic off this machine (STACK.md). Public addresses come from gateway.media.public-address instead.
        p.put("ice4j.harvest.mapping.aws.enabled", "false");
        // ...and never force it on regardless of detection.
        p.put("ice4j.harvest.mapping.aws.force", "false");
        // ice4j's own host harvester binds ephemeral ports on every non-loopback interface, outside
        // gateway.media.rtp-port-range. Each Agent also gets setUseDynamicPorts(false); this is the default for
        // any Agent created elsewhere.
        p.put("ice4j.harvest.udp.use-dynamic-ports", "false");
        // Defence in depth for any ice4j code path that enumerates interfaces itself: no IPv6/IPv4 link-local
        // addresses (never reachable by a browser, and fe80:: needs a scope id).
        p.put("ice4j.harvest.use-link-local-addresses", "false");
        // Each host socket is read by a receive loop (HostSocket), which hands STUN to ice4j's Connector; ice4j's
        // merging "component socket" (a reader thread per candidate plus a lock hand-off) is not used.
        p.put("ice4j.use-component-socket", "false");
        // Payload goes to the selected pair only, not to whichever address last sent something (that would let
        // a spoofed packet redirect media).
        p.put("ice4j.send-to-last-received-from-address", "false");
        // No SOFTWARE attribute in STUN messages: it tells scanners which library and version answer.
        p.put("ice4j.software", "");
        // Consent freshness (RFC 7675 §5.1): a check every consentInterval, randomized 0.8-1.2...
        p.put("ice4j.consent-freshness.interval", config.consentInterval().toMillis() + "ms");
        p.put("ice4j.consent-freshness.randomize-interval", "true");
        // ...retransmitted after 100, 200, 400 ms, then every 500 ms. The first delay is ice4j's client
        // transaction default (org.ice4j.FIRST_CTRAN_RETRANS_AFTER): in 3.2 a consent check's
        // original-wait-interval is ignored (StunClientTransaction builds its timer before StunStack sets the
        // field), so it is set to the value really used.
        p.put("ice4j.consent-freshness.original-wait-interval", firstRetransmissionMillis() + "ms");
        p.put("ice4j.consent-freshness.max-wait-interval", CONSENT_MAX_RTO_MS + "ms");
        // ...until the check times out, which ice4j reports as the selected pair FAILED (IceTransport:
        // DISCONNECTED). Chosen so that a new check (at most 1.2 intervals late) plus its timeout fit in
        // consentTimeout: consent then expires no later than consentTimeout after the last response.
        p.put("ice4j.consent-freshness.max-retransmissions", Integer.toString(consentRetransmissions(config)));
        return p;
    }

    /** Most retransmissions whose total timeout fits in consentTimeout minus the latest start of a check. */
    private static int consentRetransmissions(IceConfig config) {
        long budget = config.consentTimeout().minus(config.consentInterval().multipliedBy(12).dividedBy(10)).toMillis();
        int n = 0;
        while (n < 1000 && checkTimeoutMillis(CONSENT_MAX_RTO_MS, n + 1) <= budget) {
            n++;
        }
        return n;
    }

    /**
     * When an unanswered check times out: ice4j waits the first delay, retransmits, doubles the delay up to
     * {@code maxWait}, and gives up one delay after the last retransmission.
     */
    private static long checkTimeoutMillis(int maxWait, int retransmissions) {
        long total = 0;
        long delay = firstRetransmissionMillis();
        for (int i = 0; i <= retransmissions; i++) {
            total += delay;
            delay = Math.min(maxWait, 2 * delay);
        }
        return total;
    }

    private static int firstRetransmissionMillis() {
        return Integer.getInteger(StackProperties.FIRST_CTRAN_RETRANS_AFTER,
                StunClientTransaction.DEFAULT_ORIGINAL_WAIT_INTERVAL);
    }

    private static List<String> mismatches(IceConfig config) {
        List<String> wrong = new ArrayList<>();
        HarvestConfig harvest = HarvestConfig.config;
        AgentConfig agent = AgentConfig.config;
        expect(wrong, "ice4j.harvest.mapping.aws.enabled", false, harvest.enableAwsHarvester());
        expect(wrong, "ice4j.harvest.udp.use-dynamic-ports", false, harvest.useDynamicPorts());
        expect(wrong, "ice4j.harvest.use-link-local-addresses", false, harvest.useLinkLocalAddresses());
        expect(wrong, "ice4j.use-component-socket", false, agent.getUseComponentSocket());
        expect(wrong, "ice4j.send-to-last-received-from-address", false, agent.getSendToLastReceivedFromAddress());
        // Lists cannot be emptied through system properties: check nothing configured them.
        expect(wrong, "ice4j.harvest.mapping.stun.addresses", List.of(),
                harvest.stunMappingCandidateHarvesterAddresses());
        expect(wrong, "ice4j.harvest.mapping.static-mappings", 0, harvest.getStaticMappings().size());
        expect(wrong, "ice4j.consent-freshness.interval", config.consentInterval(),
                agent.getConsentFreshnessInterval());
        expect(wrong, "ice4j.consent-freshness.max-wait-interval", Duration.ofMillis(CONSENT_MAX_RTO_MS),
                agent.getConsentFreshnessMaxWaitInterval());
        expect(wrong, "ice4j.consent-freshness.max-retransmissions", consentRetransmissions(config),
                agent.getMaxConsentFreshnessRetransmissions());
        // The JVM-wide mapping harvesters every Agent adds to itself (AWS, STUN mapping, static mappings):
        // built here, from the values just checked, so it must come out empty.
        int mapping = MappingCandidateHarvesters.getHarvesters().length;
        expect(wrong, "MappingCandidateHarvesters (AWS/STUN/static)", 0, mapping);
        return wrong;
    }

    private static void expect(List<String> wrong, String what, Object expected, Object actual) {
        if (!expected.equals(actual)) {
            wrong.add(what + " is " + actual + ", expected " + expected);
        }
    }
}
