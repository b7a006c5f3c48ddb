package io.webrtcgateway.call;

/** Makes the media of a new call (the real bridge in production, something simpler in unit tests). */
@FunctionalInterface
public interface CallMediaFactory {
    CallMedia create(String callId);
}
