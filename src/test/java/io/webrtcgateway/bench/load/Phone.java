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

    /**
     * A call offered to this phone: the gateway's SDP offer, and when the SIP side sent its INVITE (epoch ms:
     * uac-incoming.xml writes it as the From display name, which both gateways pass on; NaN if it is no number).
     */
    record Incoming(String offer, double invitedAtMillis) {}

    /** Waits for a call to this phone's user; null if none came within {@code timeout}. */
    Incoming awaitIncoming(Duration timeout) throws Exception;

    /** Answers the offered call with {@code answer}; returns once the gateway has sent its 200 OK. */
    void answer(String answer, Duration timeout) throws Exception;

    /** Waits until the SIP side has hung up the current call and the gateway has reported it over. */
    void awaitRemoteHangup(Duration timeout) throws Exception;

    /** The gateway's own statistics of the current call (JSON), where its API has them; else null. */
    default String stats() throws Exception {
        return null;
    }

    /**
     * Signs the session out (its DN is un-registered) and closes the connection. Where the API has no sign-out,
     * closing is all there is.
     */
    default void signOut(Duration timeout) throws Exception {
        close();
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
