package io.webrtcgateway.sip;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import gov.nist.javax.sip.message.MessageFactoryImpl;
import javax.sip.message.Request;
import org.junit.jupiter.api.Test;

/** RFC 3261 §12.1.1: when an INVITE makes the dialog's Contact a sips URI ({@link SipLeg#asksForSips}). */
class SipLegSipsTest {
    private static Request invite(String requestUri, String extraHeaders) throws Exception {
        return new MessageFactoryImpl().createRequest("INVITE " + requestUri + " SIP/2.0\r\n"
                + "Via: SIP/2.0/TLS 127.0.0.1:5061;branch=z9hG4bK1\r\n"
                + "From: <sip:5000@example.com>;tag=1\r\nTo: <sip:1001@example.com>\r\n"
                + "Call-ID: c1\r\nCSeq: 1 INVITE\r\nMax-Forwards: 70\r\n" + extraHeaders + "Content-Length: 0\r\n\r\n");
    }

    @Test
    void aSipsRequestUri() throws Exception {
        assertTrue(SipLeg.asksForSips(invite("sips:1001@gw.example.com", "Contact: <sip:5000@10.0.0.9;transport=tls>\r\n")));
    }

    @Test
    void aSipsTopRecordRouteWinsOverTheContact() throws Exception {
        assertTrue(SipLeg.asksForSips(invite("sip:1001@gw.example.com;transport=tls",
                "Record-Route: <sips:proxy.example.com;lr>, <sip:10.0.0.1;lr>\r\nContact: <sip:5000@10.0.0.9>\r\n")));
        assertFalse(SipLeg.asksForSips(invite("sip:1001@gw.example.com;transport=tls",
                "Record-Route: <sip:proxy.example.com;transport=tls;lr>\r\nContact: <sips:5000@10.0.0.9>\r\n")));
    }

    @Test
    void aSipsContactWithoutRecordRoute() throws Exception {
        assertTrue(SipLeg.asksForSips(invite("sip:1001@gw.example.com;transport=tls", "Contact: <sips:5000@10.0.0.9>\r\n")));
        assertFalse(SipLeg.asksForSips(invite("sip:1001@gw.example.com;transport=tls", "Contact: <sip:5000@10.0.0.9>\r\n")));
    }
}
