package io.webrtcgateway.arquillian;

import org.jboss.arquillian.container.spi.ConfigurationException;
import org.jboss.arquillian.container.spi.client.container.ContainerConfiguration;

/** Settings of {@link JettyEmbeddedContainer}, set from arquillian.xml container properties. */
public class JettyEmbeddedConfiguration implements ContainerConfiguration {

    private String bindAddress = "127.0.0.1";
    /** 0: the kernel picks a free port when the connector opens, so parallel builds never collide. */
    private int httpPort = 0;

    public String getBindAddress() {
        return bindAddress;
    }

    public void setBindAddress(String bindAddress) {
        this.bindAddress = bindAddress;
    }

    public int getHttpPort() {
        return httpPort;
    }

    public void setHttpPort(int httpPort) {
        this.httpPort = httpPort;
    }

    @Override
    public void validate() throws ConfigurationException {
        if (bindAddress == null || bindAddress.isBlank()) {
            throw new ConfigurationException("bindAddress must not be empty");
        }
        if (httpPort < 0 || httpPort > 65535) {
            throw new ConfigurationException("httpPort " + httpPort + " is not 0-65535");
        }
    }
}
