package io.webrtcgateway.sip;

import javax.sip.RequestEvent;
import javax.sip.ResponseEvent;

/**
 * The owner of a dialog (a call's SIP leg), set as the dialog's application data and registered by Call-ID,
 * so the {@link SipEndpoint} listener routes in-dialog requests, CANCEL and retransmitted 2xx to it.
 * Called on a JAIN-SIP thread: implementations hand the event to their call's serial executor.
 */
public interface SipRequestHandler {
    void onRequest(RequestEvent event);

    /** A response no client transaction claims: a retransmitted 2xx to our INVITE (re-ACK it). */
    void onStrayResponse(ResponseEvent event);
}
