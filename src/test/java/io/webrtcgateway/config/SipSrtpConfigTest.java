package io.webrtcgateway.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.webrtcgateway.testsupport.TestCa;
import java.io.IOException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** gateway.sip.srtp and gateway.sip.srtp-over-insecure-transport (docs/sip.md "SRTP toward SIP Server"). */
class SipSrtpConfigTest {
    private static final String UDP_SERVER = "gateway.auth.mode = none\ngateway.sip.servers = [\"10.0.0.1:5060\"]\n";

    @Test
    void offByDefault() {
        GatewayConfig.Sip.Srtp srtp = ConfigLoader.parse("").sip().srtp();
        assertEquals(GatewayConfig.Sip.SrtpMode.OFF, srtp.mode());
        assertFalse(srtp.overInsecureTransport());
    }

    @TempDir
    Path dir;

    @Test
    void optionalAndRequiredWithATlsServer() throws IOException {
        // A TLS server needs the gateway's own certificate (gateway.sip.tls).
        Path chain = dir.resolve("gw.pem");
        Path key = dir.resolve("gw.key");
        TestCa.create("SipSrtpConfigTest CA").issue("localhost").writePem(chain, key, TestCa.KeyFormat.PKCS8);
        String tls = "gateway.sip.tls { certificate-chain = \"" + chain + "\", private-key = \"" + key + "\" }\n";
        for (String mode : new String[] {"optional", "required"}) {
            GatewayConfig c = ConfigLoader.parse(tls + "gateway.auth.mode = none\ngateway.sip.servers = "
                    + "[\"sip1.example.com:5061;transport=tls\", \"10.0.0.2:5060\"]\ngateway.sip.srtp = " + mode);
            assertEquals(mode, c.sip().srtp().mode().configName());
            assertFalse(c.sip().srtp().overInsecureTransport());
        }
    }

    @Test
    void keysOverUdpOrTcpOnlyWhenAllowed() {
        for (String mode : new String[] {"optional", "required"}) {
            ConfigException e = assertThrows(ConfigException.class,
                    () -> ConfigLoader.parse(UDP_SERVER + "gateway.sip.srtp = " + mode));
            assertTrue(e.getMessage().contains("'gateway.sip.srtp'"), e.getMessage());
            assertTrue(e.getMessage().contains(mode + " puts SRTP keys (a=crypto) in the SDP, which only SIP over TLS"
                    + " keeps secret, and no server of gateway.sip.servers [10.0.0.1:5060;transport=udp] uses"
                    + " ;transport=tls"), e.getMessage());
            assertTrue(e.getMessage().contains("gateway.sip.srtp-over-insecure-transport = true"), e.getMessage());

            GatewayConfig allowed = ConfigLoader.parse(UDP_SERVER + "gateway.sip.srtp = " + mode
                    + "\ngateway.sip.srtp-over-insecure-transport = true");
            assertTrue(allowed.sip().srtp().overInsecureTransport());
        }
        // the sandbox is plain UDP too
        assertThrows(ConfigException.class, () -> ConfigLoader.parse("gateway.sip.srtp = optional"));
        // off needs nothing
        assertEquals(GatewayConfig.Sip.SrtpMode.OFF, ConfigLoader.parse(UDP_SERVER + "gateway.sip.srtp = off")
                .sip().srtp().mode());
    }

    @Test
    void badValuesNameTheKey() {
        ConfigException e = assertThrows(ConfigException.class,
                () -> ConfigLoader.parse(UDP_SERVER + "gateway.sip.srtp = mandatory"));
        assertTrue(e.getMessage().contains("'gateway.sip.srtp'") && e.getMessage().contains("\"mandatory\": use off,"
                + " optional or required"), e.getMessage());
        ConfigException b = assertThrows(ConfigException.class,
                () -> ConfigLoader.parse(UDP_SERVER + "gateway.sip.srtp-over-insecure-transport = perhaps"));
        assertTrue(b.getMessage().contains("gateway.sip.srtp-over-insecure-transport"), b.getMessage());
        ConfigException typo = assertThrows(ConfigException.class,
                () -> ConfigLoader.parse(UDP_SERVER + "gateway.sip.srtp-over-insecure = true"));
        assertTrue(typo.getMessage().contains("unknown config key 'gateway.sip.srtp-over-insecure'"), typo.getMessage());
    }
}
