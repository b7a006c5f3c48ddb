package io.webrtcgateway.arquillian;

import org.jboss.arquillian.container.spi.client.container.DeployableContainer;
import org.jboss.arquillian.core.spi.LoadableExtension;

/** Registers {@link JettyEmbeddedContainer} with Arquillian (via META-INF/services). */
public class JettyEmbeddedExtension implements LoadableExtension {
    @Override
    public void register(ExtensionBuilder builder) {
        builder.service(DeployableContainer.class, JettyEmbeddedContainer.class);
    }
}
