package io.webrtcgateway.sip;

import java.util.List;
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

    /**
     * The hosts the dialog's peer sends its requests from, as far as known yet: the host of the first hop of
     * the route set and of the remote target (the peer's Contact). {@link TrustedSipSources} accepts requests
     * of this dialog from them. Called on a SIP thread, before the request is routed: must not block.
     */
    List<String> peerHosts();
}
