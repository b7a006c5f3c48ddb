package io.webrtcgateway.sip;

import javax.sip.ResponseEvent;

/**
 * Receives the outcome of one client transaction. Set as the transaction's application data, so the
 * {@link SipEndpoint} listener only routes and never decides. Called on a JAIN-SIP thread: implementations
 * hand the event to their owner's serial executor.
 */
public interface ClientTransactionHandler {
    void onResponse(ResponseEvent event);

    /** No final response (JAIN-SIP timeout or transport error). */
    void onFailure(String why);
}
