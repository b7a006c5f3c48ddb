package io.webrtcgateway.arquillian;

import io.webrtcgateway.testsupport.FreePorts;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Gives a gateway deployed inside the test JVM its own config: a file with free loopback ports, named by the
 * {@code gateway.config} system property (the in-JVM stand-in for GATEWAY_CONFIG).
 *
 * <p>The gateway reads every {@code gateway.*} system property as a config override and rejects unknown keys,
 * so the build's own {@code gateway.*} properties (e.g. {@code gateway.war}) are moved aside until the class
 * is done; {@link #buildProperty} still answers them. Register it before {@code ArquillianExtension}, which
 * deploys in its own beforeAll.
 */
public class InJvmGatewayConfig implements BeforeAllCallback, AfterAllCallback {

    /** Guarded by the class monitor; test classes run one at a time, this is belt and braces. */
    private static final Map<String, String> movedAside = new HashMap<>();

    @Override
    public void beforeAll(ExtensionContext context) throws Exception {
        Path config = Files.createTempFile("gateway-", ".conf");
        int rtpLow = FreePorts.udpRange(10).low();
        Files.writeString(config, String.join("\n",
                "gateway.sip.listen = \"127.0.0.1:" + FreePorts.udpAndTcp() + "\"",
                "gateway.sip.sandbox.listen = \"127.0.0.1:" + FreePorts.udpAndTcp() + "\"",
                "gateway.media.rtp-port-range = \"" + rtpLow + "-" + (rtpLow + 9) + "\"",
                ""));
        context.getStore(ExtensionContext.Namespace.create(InJvmGatewayConfig.class)).put("file", config);
        synchronized (InJvmGatewayConfig.class) {
            for (String name : System.getProperties().stringPropertyNames()) {
                if (name.startsWith("gateway.")) {
                    movedAside.put(name, System.clearProperty(name));
                }
            }
            System.setProperty("gateway.config", config.toString());
        }
    }

    @Override
    public void afterAll(ExtensionContext context) throws Exception {
        synchronized (InJvmGatewayConfig.class) {
            System.clearProperty("gateway.config");
            movedAside.forEach(System::setProperty);
            movedAside.clear();
        }
        Path config = context.getStore(ExtensionContext.Namespace.create(InJvmGatewayConfig.class))
                .get("file", Path.class);
        if (config != null) {
            Files.deleteIfExists(config);
        }
    }

    /** A {@code gateway.*} property set by the build (failsafe), also while it is moved aside. */
    public static synchronized String buildProperty(String name, String fallback) {
        String value = movedAside.getOrDefault(name, System.getProperty(name));
        return value != null ? value : fallback;
    }
}
