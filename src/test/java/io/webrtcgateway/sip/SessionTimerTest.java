package io.webrtcgateway.sip;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import gov.nist.javax.sip.message.SIPRequest;
import gov.nist.javax.sip.message.SIPResponse;
import gov.nist.javax.sip.parser.StringMsgParser;
import javax.sip.message.Request;
import javax.sip.message.Response;
import org.junit.jupiter.api.Test;

/** RFC 4028 negotiation rules of {@link SessionTimer}, on messages parsed by JAIN-SIP itself (no dialog needed). */
class SessionTimerTest {
    private static final SessionTimer.Settings OURS = new SessionTimer.Settings(1800, 90);

    @Test
    void uasKeepsTheRequestedIntervalAndRefresherAndRequiresTimerFromAPeerThatSupportsIt() throws Exception {
        SessionTimer t = new SessionTimer(OURS, null);
        Request invite = request("Supported: timer\r\nSession-Expires: 600;refresher=uac\r\nMin-SE: 120\r\n");
        assertEquals("600;refresher=uac", t.negotiateAsUas(invite));
        assertFalse(t.weRefresh());
        assertTrue(SessionTimer.requireInAnswer(invite));
        // RFC 4028 §10: the side that does not refresh sends BYE at interval - min(32 s, interval / 3).
        assertEquals(568_000, t.expiryMillis());
    }

    @Test
    void uasLowersALongIntervalToItsOwnButNotBelowThePeersMinSe() throws Exception {
        SessionTimer t = new SessionTimer(new SessionTimer.Settings(300, 90), null);
        assertEquals("300;refresher=uac", t.negotiateAsUas(request("Supported: timer\r\nSession-Expires: 7200\r\n")));
        assertEquals("400;refresher=uac",
                t.negotiateAsUas(request("Supported: timer\r\nSession-Expires: 7200\r\nMin-SE: 400\r\n")));
    }

    @Test
    void uasRefreshesItselfForAPeerWithoutTheExtension() throws Exception {
        SessionTimer t = new SessionTimer(OURS, null);
        Request invite = request("");
        assertEquals("1800;refresher=uas", t.negotiateAsUas(invite));
        assertTrue(t.weRefresh());
        assertFalse(SessionTimer.requireInAnswer(invite));
        assertEquals(900_000, t.refreshMillis());
    }

    @Test
    void tooBriefRequestsAreRefusedOnlyWhenTheExtensionIsOn() throws Exception {
        Request brief = request("Supported: timer\r\nSession-Expires: 60\r\n");
        assertTrue(new SessionTimer(OURS, null).tooBrief(brief));
        assertFalse(new SessionTimer(SessionTimer.Settings.OFF, null).tooBrief(brief));
        assertNull(new SessionTimer(SessionTimer.Settings.OFF, null).negotiateAsUas(brief));
    }

    @Test
    void uacTakesTheGrantedIntervalAndAResponseWithoutOneTurnsTheTimerOff() throws Exception {
        SessionTimer t = new SessionTimer(OURS, null);
        assertTrue(t.negotiateAsUac(response("Session-Expires: 1200;refresher=uac\r\nRequire: timer\r\n")));
        assertTrue(t.weRefresh());
        assertEquals(600_000, t.refreshMillis());
        assertTrue(t.negotiateAsUac(response("x: 1200;refresher=uas\r\n")));
        assertFalse(t.weRefresh());
        assertFalse(t.negotiateAsUac(response("")));
        assertEquals(0, t.interval());
    }

    @Test
    void a422RaisesWhatWeAskFor() {
        SessionTimer t = new SessionTimer(new SessionTimer.Settings(90, 90), null);
        t.raiseMinSe(300);
        assertEquals(300, t.requestedInterval());
        assertEquals(300, t.minSe());
        t.raiseMinSe(120);
        assertEquals(300, t.minSe(), "a smaller Min-SE does not lower ours");
    }

    @Test
    void allowListsAreReadAcrossHeaders() throws Exception {
        Request r = request("Allow: INVITE, ACK\r\nAllow: BYE, UPDATE\r\n");
        assertTrue(SessionTimer.listHeaderContains(r, "Allow", null, "UPDATE"));
        assertFalse(SessionTimer.listHeaderContains(r, "Allow", null, "PRACK"));
    }

    private static Request request(String extra) throws Exception {
        String text = "INVITE sip:1001@127.0.0.1:5070 SIP/2.0\r\n"
                + "Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK776asdhds\r\n"
                + "Max-Forwards: 70\r\nTo: <sip:1001@127.0.0.1>\r\nFrom: <sip:5000@127.0.0.1>;tag=1928301774\r\n"
                + "Call-ID: a84b4c76e66710@127.0.0.1\r\nCSeq: 1 INVITE\r\nContact: <sip:5000@127.0.0.1:5060>\r\n"
                + extra + "Content-Length: 0\r\n\r\n";
        return (SIPRequest) new StringMsgParser().parseSIPMessage(text.getBytes(), true, false, null);
    }

    private static Response response(String extra) throws Exception {
        String text = "SIP/2.0 200 OK\r\n"
                + "Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK776asdhds\r\n"
                + "To: <sip:1001@127.0.0.1>;tag=abc\r\nFrom: <sip:5000@127.0.0.1>;tag=1928301774\r\n"
                + "Call-ID: a84b4c76e66710@127.0.0.1\r\nCSeq: 1 INVITE\r\n"
                + extra + "Content-Length: 0\r\n\r\n";
        return (SIPResponse) new StringMsgParser().parseSIPMessage(text.getBytes(), true, false, null);
    }
}
