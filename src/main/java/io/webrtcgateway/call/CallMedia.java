package io.webrtcgateway.call;

import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * What a call needs from its media: SDP for each leg (translated, with this gateway's addresses, ICE,
 * DTLS) and the bridge between them. SDP problems throw {@link io.webrtcgateway.sdp.SdpException}; the
 * call turns them into BAD_SDP / NO_COMMON_CODEC (browser) or 488 (SIP). Called only on the call's
 * executor; callbacks may come from media threads.
 */
public interface CallMedia extends AutoCloseable {

    /**
     * Media health as the call cares about it. NEW: the SDPs of both legs are not applied yet. CONNECTING:
     * they are, ICE and DTLS are being set up (the call's setup timeout runs). CONNECTED: media flows.
     * INTERRUPTED: ICE was lost (consent expired, or a restart's checks failed) in a call that had media, or
     * while a browser's ICE restart is pending: the browser is expected to restart ICE (back to CONNECTED).
     * FAILED: for good (ICE failed before ever connecting, DTLS failed).
     */
    enum State { NEW, CONNECTING, CONNECTED, INTERRUPTED, FAILED }

    /**
     * Packets received so far (RTP + RTCP, forwarded or dropped as unusable but from the accepted source)
     * from each side, for the silence check; {@code oneWay}: some active section of either leg is not
     * sendrecv (hold), so silence is expected.
     */
    record Activity(long fromBrowser, long fromSip, boolean oneWay) {}

    /**
     * The transport of this call's SIP messages ("udp", "tcp", "tls"), told before the first SDP: SRTP keys
     * (SDES) go into the SDP toward SIP only over TLS unless gateway.sip.srtp-over-insecure-transport
     * (docs/sip.md "SRTP toward SIP Server").
     */
    default void sipTransport(String transport) {
    }

    /** Outgoing call: the browser's offer gives the INVITE's SDP; allocates the media. */
    String sipOfferFor(String browserOffer);

    /** The SIP answer (183 or 200) gives the browser's answer; media toward the browser starts. */
    String browserAnswerFor(String sipAnswer);

    /**
     * Incoming call: the INVITE's SDP gives the browser's offer; allocates the media. {@code sipOffer}
     * null: the INVITE had none (delayed offer, RFC 3261 §13.2.1), the browser is offered every audio
     * codec the bridge relays.
     */
    String browserOfferFor(String sipOffer);

    /**
     * The browser's answer gives the 200 OK's SDP: our answer, or after a delayed offer our offer, whose
     * answer (from the ACK) goes to {@link #applySipReanswer}.
     */
    String sipAnswerFor(String browserAnswer);

    /** SIP Server re-offers (hold, resume, 3PCC): our answer; {@code sipOffer} null asks for our offer. */
    String answerSipReoffer(String sipOffer);

    /** Our re-offer toward SIP to hold ({@code hold}) or resume. */
    String sipReoffer(boolean hold);

    /**
     * The answer to our (re-)offer. Throws {@link io.webrtcgateway.sdp.SdpException} without changing
     * anything when it is unparseable or leaves no audio bridged.
     */
    void applySipReanswer(String sipAnswer);

    /** A trickled browser candidate ("candidate:..."), or null for end of candidates. */
    void addBrowserCandidate(String candidate, int mLineIndex);

    /**
     * The browser re-offers on the same transport (an ICE restart, or a legacy grtc.js hold/resume
     * re-offer): our answer. The SIP leg is not renegotiated here.
     */
    String answerBrowserReoffer(String browserOffer);

    /**
     * Sends DTMF toward SIP as RFC 4733 telephone-events in the SIP-side RTP stream, in the background.
     * Returns false (and sends nothing) when the SIP side did not negotiate telephone-event.
     */
    boolean sendDtmf(String digits, int durationMs);

    /** Counters for the silence check; called on the call's executor about once a second. */
    Activity activity();

    void onState(Consumer<State> listener);

    /** DTMF digits received from the SIP side (RFC 4733). */
    void onDtmf(Consumer<Character> listener);

    /** The negotiated audio codec's encoding name, or null while none is; any thread. */
    default String codec() {
        return null;
    }

    /** Per-direction counters and transport state, for stats requests and admin. */
    Map<String, Object> stats();

    /**
     * One direction of one m-line as the gateway received it from that direction's sender: RTP packets and bytes
     * forwarded, the RFC 3550 cumulative loss (A.3, never negative), the interarrival jitter estimate now (A.8, ms),
     * and the RTT (ms; NaN while no RTCP report made it known) of the leg this direction is sent on (§6.4.1):
     * browser -> SIP carries the SIP leg's, SIP -> browser the browser leg's.
     */
    record Flow(long packets, long bytes, long lost, double jitterMs, double rttMs) {
        public static final Flow NONE = new Flow(0, 0, 0, 0, Double.NaN);
    }

    /** One bridged m-line's two directions; {@code kind} "audio" or "video". */
    record StreamCounters(String kind, Flow browserToSip, Flow sipToBrowser) {}

    /**
     * The counters of every m-line bridged so far, in m-line order; they only grow, also after {@link #close()}
     * (which leaves the last values readable). Any thread, and cheap: read by metrics at each scrape and once at
     * the call's end, so the packet path gains no work for them.
     */
    default List<StreamCounters> counters() {
        return List.of();
    }

    /** Frees ports, threads and keys; idempotent. */
    @Override
    void close();
}
