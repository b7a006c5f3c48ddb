package io.webrtcgateway.bench.load;

import java.time.Duration;

/** One fake browser's signaling toward a gateway: the same steps whichever gateway's API it speaks. */
public interface Phone extends AutoCloseable {
    /** Registers {@code user} with the SIP registrar through the gateway; returns when it answered 200. */
    void register(String user, Duration timeout) throws Exception;

    /** Places a call with {@code offer}; returns the answer SDP once the call is connected (200 OK relayed). */
    String call(String target, String offer, Duration timeout) throws Exception;

    /** Hangs the current call up and waits for the gateway to confirm it ended. */
    void hangup(Duration timeout) throws Exception;

    /** The gateway's own statistics of the current call (JSON), where its API has them; else null. */
    default String stats() throws Exception {
        return null;
    }

    @Override
    void close();

    /** Opens a signaling connection (and session) to one gateway. */
    interface Factory {
        Phone connect() throws Exception;

        /** The SIP URI (or DN) to call so that the SIP side's RTP echo answers. */
        String echoTarget();

        String name();
    }
}
