package io.webrtcgateway.sip;

import java.util.Properties;

import javax.net.ssl.KeyManager;
import javax.net.ssl.TrustManager;

import gov.nist.core.net.SecurityManagerProvider;

/**
 * For stacks without TLS listening points. JAIN-SIP's default provider initialises key and trust
 * stores for every stack and logs six TLS warnings at each start even when no TLS is used; the
 * stack instantiates this class by name (gov.nist.javax.sip.SECURITY_MANAGER_PROVIDER).
 */
public final class NoTlsSecurityManagerProvider implements SecurityManagerProvider {

    @Override
    public void init(Properties properties) {
    }

    @Override
    public KeyManager[] getKeyManagers(boolean client) {
        return null;
    }

    @Override
    public TrustManager[] getTrustManagers(boolean client) {
        return null;
    }
}
