package io.webrtcgateway.cluster;

/**
 * Whether this instance takes new sessions: not while draining (operator's choice; existing sessions and
 * calls go on) nor while stopping.
 */
public final class Admission {
    private volatile boolean draining;
    private volatile boolean stopping;

    public boolean acceptingSessions() {
        return !draining && !stopping;
    }

    public void drain(boolean on) {
        draining = on;
    }

    public void stopping() {
        stopping = true;
    }

    public boolean isDraining() {
        return draining;
    }

    public boolean isStopping() {
        return stopping;
    }

    public String stateName() {
        return stopping ? "stopping" : draining ? "draining" : "accepting";
    }
}
