package io.webrtcgateway.session;

/** Where an edge receives its session's events. Must not block: hand off to the edge's own I/O. */
public interface SessionEventSink {
    void deliver(SessionEvent event);
}
