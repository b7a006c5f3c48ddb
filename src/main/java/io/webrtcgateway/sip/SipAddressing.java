package io.webrtcgateway.sip;

import io.webrtcgateway.config.GatewayConfig;
import io.webrtcgateway.config.SipServerAddress;
import java.text.ParseException;
import javax.sip.InvalidArgumentException;
import javax.sip.address.SipURI;
import javax.sip.header.ContactHeader;
import javax.sip.header.RouteHeader;
import javax.sip.message.Request;

/**
 * How the gateway addresses SIP Server: address-of-record {@code sip:<user>@<domain>}, where the domain is
 * {@code gateway.sip.domain} or else the server's host; with a domain, requests go to the server through a
 * loose route (RFC 3261 §16.12), without one the Request-URI names the server itself. Contact is always
 * this instance.
 */
final class SipAddressing {
    private final SipEndpoint sip;
    private final GatewayConfig.Sip config;

    SipAddressing(SipEndpoint sip, GatewayConfig.Sip config) {
        this.sip = sip;
        this.config = config;
    }

    String domain(SipServerAddress server) {
        return config.domain().isEmpty() ? server.address().host() : config.domain();
    }

    /** {@code sip:<user>@<domain>} (no port: an address-of-record). */
    SipURI aor(String user, SipServerAddress server) throws ParseException {
        return sip.addresses().createSipURI(user, domain(server));
    }

    /** The Request-URI for {@code user} at {@code server} (user null: the registrar itself). */
    SipURI requestUri(String user, SipServerAddress server) throws ParseException {
        SipURI uri = sip.addresses().createSipURI(user, domain(server));
        if (config.domain().isEmpty()) {
            uri.setPort(server.address().port());
            if (!"udp".equals(server.transport())) {
                uri.setTransportParam(server.transport());
            }
        }
        return uri;
    }

    /** Adds the loose route to {@code server} when the domain is not the server's address. */
    void routeTo(Request request, SipServerAddress server) throws ParseException {
        if (config.domain().isEmpty()) {
            return;
        }
        SipURI route = sip.addresses().createSipURI(null, server.address().host());
        route.setPort(server.address().port());
        route.setLrParam();
        if (!"udp".equals(server.transport())) {
            route.setTransportParam(server.transport());
        }
        RouteHeader header = sip.headers().createRouteHeader(sip.addresses().createAddress(route));
        request.addHeader(header);
    }

    /** {@code <sip:<user>@<this instance>>}, with the transport SIP Server uses toward us (and its port). */
    ContactHeader contact(String user, String transport) throws ParseException, InvalidArgumentException {
        return contact(user, transport, false);
    }

    /**
     * {@link #contact(String, String)}, or with {@code sips} a {@code sips:} URI on the TLS port: a dialog whose
     * request or route was {@code sips:} must be answered so (RFC 3261 §8.1.1.8, §12.1.1); sips implies TLS,
     * so no transport parameter (RFC 5630 §3.1.3).
     */
    ContactHeader contact(String user, String transport, boolean sips) throws ParseException, InvalidArgumentException {
        SipURI uri = sip.addresses().createSipURI(user, sip.advertisedHost());
        if (sips) {
            uri.setSecure(true);
            uri.setPort(sip.advertisedPort("tls"));
        } else {
            uri.setPort(sip.advertisedPort(transport));
            if (!"udp".equals(transport)) {
                uri.setTransportParam(transport);
            }
        }
        return sip.headers().createContactHeader(sip.addresses().createAddress(uri));
    }
}
