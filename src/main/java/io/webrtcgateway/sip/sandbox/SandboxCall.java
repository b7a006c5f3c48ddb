package io.webrtcgateway.sip.sandbox;

import javax.sip.ServerTransaction;
import javax.sip.message.Request;

/** A call the sandbox takes part in (a bridged call between two DNs, or a call to the echo number). */
interface SandboxCall {

    /**
     * A request carrying one of this call's Call-IDs: ACK (then {@code st} is null), CANCEL, BYE,
     * re-INVITE, INFO, NOTIFY, ... Called on a stack thread: implementations post it to their executor.
     */
    void onRequest(Request request, ServerTransaction st);

    /** The sandbox is closing: free what the call holds (sockets, timers) without signalling. */
    void abandon();
}
