package io.webrtcgateway.media.ice;

import org.ice4j.ice.AgentConfig;
import org.ice4j.ice.LocalCandidate;
import org.ice4j.ice.harvest.CandidateHarvester;
import org.ice4j.ice.harvest.HarvestConfig;
import org.ice4j.ice.harvest.MappingCandidateHarvesters;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class IceSystemPropertiesTest {

    private static IceConfig config;

    @BeforeAll
    static void configure() {
        config = IceTestSupport.config();
    }

    @Test
    void noCloudOrMappingHarvesterIsEverUsed() throws Exception {
        assertFalse(HarvestConfig.config.enableAwsHarvester(), "AWS metadata probe (169.254.169.254) off");
        assertEquals(0, MappingCandidateHarvesters.getHarvesters().length, "no AWS, STUN-mapping or static harvester");
        assertTrue(HarvestConfig.config.stunMappingCandidateHarvesterAddresses().isEmpty());
        assertEquals("false", System.getProperty("ice4j.harvest.mapping.aws.enabled"));

        // Everything ice4j logs about harvesting while an agent is built, whatever the configured level.
        List<String> logged = new ArrayList<>();
        Logger ice4j = Logger.getLogger("org.ice4j");
        Level level = ice4j.getLevel();
        Handler capture = new Handler() {
            @Override
            public void publish(LogRecord record) {
                logged.add(record.getLoggerName() + " " + record.getMessage());
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        };
        ice4j.addHandler(capture);
        ice4j.setLevel(Level.ALL);
        try (IceTransport ice = new IceTransport(config, false)) {
            IceGeneration generation = ice.generations().get(0);
            List<CandidateHarvester> harvesters = new ArrayList<>();
            generation.agent().getHarvesters().forEach(harvesters::add);
            assertEquals(List.of(), harvesters, "no non-host harvester on the agent");
            for (LocalCandidate c : generation.localCandidates()) {
                assertTrue(c.getTransportAddress().getAddress().isLoopbackAddress(), c.toString());
            }
        } finally {
            ice4j.removeHandler(capture);
            ice4j.setLevel(level);
        }
        assertFalse(logged.isEmpty(), "the capture works");
        for (String line : logged) {
            assertFalse(line.contains("Aws") || line.contains("169.254") || line.contains("StunMapping"), line);
        }
    }

    @Test
    void consentTimingIsWhatTheConfigAsked() {
        AgentConfig agent = AgentConfig.config;
        assertEquals(IceTestSupport.CONSENT_INTERVAL, agent.getConsentFreshnessInterval());
        assertTrue(agent.getRandomizeConsentFreshnessInterval(), "RFC 7675 §5.1 randomization");
        Duration bound = IceSystemProperties.consentDetectionBound();
        assertTrue(bound.compareTo(IceTestSupport.CONSENT_TIMEOUT) <= 0, bound.toString());
        assertTrue(bound.compareTo(IceTestSupport.CONSENT_TIMEOUT.minusMillis(500)) > 0, bound.toString());
    }

    @Test
    void productionConsentMathFitsRfc7675() {
        IceConfig production = IceConfig.onAddresses(List.of(IceTestSupport.LOOPBACK), 20000, 29999);
        var p = IceSystemProperties.properties(production);
        assertEquals("5000ms", p.get("ice4j.consent-freshness.interval"));
        assertEquals("500ms", p.get("ice4j.consent-freshness.max-wait-interval"));
        // A check times out after 100 + 200 + 400 + 46 * 500 ms = 23.7 s; it starts at most 6 s after the
        // previous answer: consent expires within 30 s of the last response.
        assertEquals("48", p.get("ice4j.consent-freshness.max-retransmissions"));
    }

    @Test
    void applyingTheSameConfigAgainIsHarmlessAndADifferentOneIsRefused() {
        IceSystemProperties.apply(config);
        IceConfig slower = config.withConsent(Duration.ofSeconds(5), Duration.ofSeconds(30));
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> IceSystemProperties.apply(slower));
        assertTrue(e.getMessage().contains("ice4j.consent-freshness.interval"), e.getMessage());
        // Put this JVM's values back for the other tests.
        IceSystemProperties.apply(config);
        assertEquals(IceTestSupport.CONSENT_INTERVAL, AgentConfig.config.getConsentFreshnessInterval());
    }
}
