package io.webrtcgateway.sip;

import java.util.Locale;
import java.util.ListIterator;
import java.util.concurrent.ScheduledFuture;
import javax.sip.ClientTransaction;
import javax.sip.header.Header;
import javax.sip.header.HeaderFactory;
import javax.sip.message.Message;
import javax.sip.message.Request;
import javax.sip.message.Response;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The RFC 4028 session timer of one INVITE dialog: the negotiated interval, who refreshes, the two
 * timers (our refresh at half the interval; the expiry that ends a dialog nobody refreshed), and what a
 * refresh's answer means. Sending, acknowledging and ending are the dialog's ({@link SipLeg}, through
 * {@link Dialog}). Confined to the call's executor, like the leg.
 */
final class SessionTimer {
    private static final Logger LOG = LoggerFactory.getLogger(SessionTimer.class);

    /** RFC 4028 §4: "x" and "k" are the compact forms of Session-Expires and Supported. */
    static final String SESSION_EXPIRES = "Session-Expires";
    static final String MIN_SE = "Min-SE";
    static final String TIMER = "timer";
    /** RFC 4028 §8.1. */
    static final int SESSION_INTERVAL_TOO_SMALL = 422;

    /** Configured values in seconds; {@code sessionExpires} 0: the extension is off (not even Supported). */
    record Settings(int sessionExpires, int minSe) {
        static final Settings OFF = new Settings(0, 90);

        boolean enabled() {
            return sessionExpires > 0;
        }
    }

    /** What a Session-Expires header says: the interval and the refresher role, null when absent. */
    record Expires(int seconds, String refresher) {}

    /** What the timer needs from its dialog; all called on the call's executor. */
    interface Dialog {
        String callId();

        /** A re-INVITE (ours or the peer's) is in flight: a refresh waits, as that one refreshes too. */
        boolean offerAnswerInProgress();

        /** Sends the refresh request (UPDATE or INVITE); its answer comes to {@link #onRefreshResponse}. */
        ClientTransaction sendRefresh(String method) throws Exception;

        /** ACKs a 2xx to a re-INVITE refresh. */
        void acknowledge(Response ok);

        /** 481/408 to a refresh: the dialog is gone (BYE where due, end, tell the call). */
        void lost(String method, int status, String reason);

        /** Nobody refreshed in time: BYE, end, tell the call (RFC 4028 §10). */
        void expired();

        /** Runs {@code task} on the call's executor later, unless the dialog has ended. */
        ScheduledFuture<?> schedule(Runnable task, long delayMs);

        long glareRetryDelayMillis();
    }

    private final Settings settings;
    private final Dialog dialog;
    /** The refresh in flight (UPDATE or re-INVITE), or null. */
    private ClientTransaction refreshTransaction;
    /** The peer's Allow names UPDATE (and it did not refuse one): refreshes need no SDP then. */
    private boolean refreshByUpdate;
    /** Negotiated interval in seconds; 0 while no timer runs. */
    private int interval;
    private boolean weRefresh;
    /** Raised after a 422: the Min-SE the peer demands (RFC 4028 §7.3), never below ours. */
    private int minSe;
    private ScheduledFuture<?> refreshTask;
    private ScheduledFuture<?> expiryTask;

    SessionTimer(Settings settings, Dialog dialog) {
        this.settings = settings;
        this.dialog = dialog;
        this.minSe = settings.minSe();
    }

    boolean enabled() {
        return settings.enabled();
    }

    int interval() {
        return interval;
    }

    boolean weRefresh() {
        return weRefresh;
    }

    /** The interval our requests ask for: the running one, else the configured one (raised by a 422). */
    int requestedInterval() {
        return Math.max(interval > 0 ? interval : settings.sessionExpires(), minSe);
    }

    int minSe() {
        return minSe;
    }

    /** Our own Min-SE (gateway.calls.min-se), what a 422 from us names. */
    int configuredMinSe() {
        return settings.minSe();
    }

    /** After a 422: ask again with the peer's Min-SE if it is larger (RFC 4028 §7.3). */
    void raiseMinSe(int peerMinSe) {
        minSe = Math.max(minSe, peerMinSe);
    }

    /**
     * Headers for a request we send (INVITE, re-INVITE, UPDATE): Supported: timer, Session-Expires with the
     * refresher role when one is running (uac = us, as the sender of this request), Min-SE (RFC 4028 §7.1, §7.4).
     */
    void addRequestHeaders(Request request, HeaderFactory headers) throws Exception {
        if (!enabled()) {
            return;
        }
        request.addHeader(headers.createSupportedHeader(TIMER));
        String refresher = interval == 0 ? "" : weRefresh ? ";refresher=uac" : ";refresher=uas";
        request.addHeader(headers.createHeader(SESSION_EXPIRES, requestedInterval() + refresher));
        request.addHeader(headers.createHeader(MIN_SE, Integer.toString(minSe)));
    }

    /**
     * RFC 4028 §8.1 (as UAS): the request asks for an interval below our Min-SE, so it is refused with 422
     * and our Min-SE. Only when we support the extension at all.
     */
    boolean tooBrief(Request request) {
        return tooBrief(settings, request);
    }

    static boolean tooBrief(Settings settings, Request request) {
        Expires asked = expiresOf(request);
        return settings.enabled() && asked != null && asked.seconds() < settings.minSe();
    }

    /**
     * As UAS of an INVITE, re-INVITE or UPDATE we answer 2xx: decides interval and refresher (RFC 4028 §9) and
     * returns the Session-Expires value for the 2xx, or null when no timer runs (then none is written and
     * the timer is off, §9). Call {@link #started} once the 2xx is out.
     */
    String negotiateAsUas(Request request) {
        interval = 0;
        if (!enabled()) {
            return null;
        }
        Expires asked = expiresOf(request);
        boolean peerSupports = supportsTimer(request);
        int peerMinSe = intHeader(request, MIN_SE);
        int seconds;
        String refresher;
        if (asked != null) {
            // §9: we may lower the interval, down to the larger Min-SE; never raise it.
            seconds = Math.min(asked.seconds(), Math.max(settings.sessionExpires(), Math.max(peerMinSe, minSe)));
            refresher = asked.refresher();
        } else {
            seconds = Math.max(settings.sessionExpires(), Math.max(peerMinSe, minSe));
            refresher = null;
        }
        if (refresher == null) {
            // §9: the UAS picks. A peer that knows the extension refreshes (it sent the request, it can send the
            // next one); one that does not would never refresh, so we do.
            refresher = peerSupports ? "uac" : "uas";
        }
        if (!peerSupports && asked == null && refresher.equals("uac")) {
            refresher = "uas";
        }
        interval = seconds;
        weRefresh = refresher.equals("uas");
        return seconds + ";refresher=" + refresher;
    }

    /** §9: Require: timer goes in the 2xx when the peer supports the extension. */
    static boolean requireInAnswer(Request request) {
        return supportsTimer(request);
    }

    /**
     * As UAC, a 2xx to our INVITE, re-INVITE or UPDATE: its Session-Expires sets interval and refresher; a 2xx
     * without one turns the timer off (RFC 4028 §7.2). Returns whether a timer now runs.
     */
    boolean negotiateAsUac(Message response) {
        interval = 0;
        if (!enabled()) {
            return false;
        }
        Expires granted = expiresOf(response);
        if (granted == null || granted.seconds() <= 0) {
            return false;
        }
        interval = granted.seconds();
        // §7.2: a 2xx with Session-Expires names the refresher; if a broken peer does not, we refresh.
        weRefresh = granted.refresher() == null || granted.refresher().equals("uac");
        return true;
    }

    /** Sets the two timers' tasks (cancelling earlier ones); {@code refresh} null when the peer refreshes. */
    void started(ScheduledFuture<?> refresh, ScheduledFuture<?> expiry) {
        cancel();
        refreshTask = refresh;
        expiryTask = expiry;
    }

    /**
     * When to give up on a session nobody refreshed: the refresher sends its refresh at half the interval;
     * the other side sends BYE at the interval minus min(32 s, a third of it) (RFC 4028 §10). As refresher we
     * wait the whole interval for our own refresh to succeed.
     */
    long expiryMillis() {
        long full = interval * 1000L;
        return weRefresh ? full : full - Math.min(32_000L, full / 3);
    }

    long refreshMillis() {
        return interval * 1000L / 2;
    }

    void cancel() {
        if (refreshTask != null) {
            refreshTask.cancel(false);
            refreshTask = null;
        }
        if (expiryTask != null) {
            expiryTask.cancel(false);
            expiryTask = null;
        }
    }

    // ---- running ---------------------------------------------------------------------------------------

    /** Reads the peer's Allow (its INVITE, or its 2xx to ours): UPDATE there means refresh by UPDATE. */
    void peerAllows(Message m) {
        refreshByUpdate = listHeaderContains(m, "Allow", null, Request.UPDATE);
    }

    /** After a 2xx was sent or received: (re)start the timers, or stop them when none was negotiated. */
    void start(boolean running) {
        if (!running) {
            cancel();
            return;
        }
        started(weRefresh ? dialog.schedule(this::refresh, refreshMillis()) : null,
                dialog.schedule(this::expire, expiryMillis()));
        LOG.debug("call {}: session timer {} s, refresher {}", dialog.callId(), interval, weRefresh ? "us" : "peer");
    }

    boolean owns(ClientTransaction ct) {
        return ct != null && ct == refreshTransaction;
    }

    /** The refresh {@code challenged} went again as {@code retry} (with credentials): that one is the refresh now. */
    void resent(ClientTransaction challenged, ClientTransaction retry) {
        if (owns(challenged)) {
            refreshTransaction = retry;
        }
    }

    /** A refresh by re-INVITE is in flight: no other INVITE may start (RFC 3261 §14.1). */
    boolean refreshingByInvite() {
        return refreshTransaction != null && Request.INVITE.equals(refreshTransaction.getRequest().getMethod());
    }

    /** RFC 4028 §10: at half the interval the refresher sends UPDATE (no SDP) if allowed, else a re-INVITE. */
    private void refresh() {
        if (interval == 0 || refreshTransaction != null) {
            return;
        }
        if (dialog.offerAnswerInProgress()) {
            dialog.schedule(this::refresh, 2000); // that re-INVITE refreshes the session if it succeeds
            return;
        }
        try {
            refreshTransaction = dialog.sendRefresh(refreshByUpdate ? Request.UPDATE : Request.INVITE);
        } catch (Exception e) {
            LOG.info("call {}: session refresh not sent: {}", dialog.callId(), e.toString());
        }
    }

    void onRefreshResponse(String method, Response response) {
        refreshTransaction = null;
        int status = response.getStatusCode();
        if (status < 300) {
            if (method.equals(Request.INVITE)) {
                dialog.acknowledge(response);
            }
            start(negotiateAsUac(response));
        } else if (status == Response.CALL_OR_TRANSACTION_DOES_NOT_EXIST || status == Response.REQUEST_TIMEOUT) {
            dialog.lost(method, status, response.getReasonPhrase());
        } else if (method.equals(Request.UPDATE)
                && (status == Response.NOT_IMPLEMENTED || status == Response.METHOD_NOT_ALLOWED)) {
            refreshByUpdate = false; // it said UPDATE but does not take it: re-INVITE instead
            refresh();
        } else if (status == Response.REQUEST_PENDING) {
            dialog.schedule(this::refresh, dialog.glareRetryDelayMillis()); // RFC 3261 §14.1
        } else if (status == SESSION_INTERVAL_TOO_SMALL) {
            raiseMinSe(intHeader(response, MIN_SE));
            refresh();
        } else {
            // Other refusals leave the session as it was (RFC 4028 §10): try again in a quarter interval; the
            // expiry ends it if no refresh gets through before the interval is over.
            LOG.info("call {}: session refresh ({}) refused: {} {}", dialog.callId(), method, status,
                    response.getReasonPhrase());
            dialog.schedule(this::refresh, Math.max(2000, refreshMillis() / 2));
        }
    }

    /** No answer to the refresh; the dialog treats it as lost. */
    void onRefreshFailed() {
        refreshTransaction = null;
    }

    private void expire() {
        LOG.info("call {}: session expired ({} s without a refresh)", dialog.callId(), interval);
        dialog.expired();
    }

    /**
     * As UAS, a 2xx about to go out for an INVITE, re-INVITE or UPDATE: Session-Expires, Require and Supported
     * as RFC 4028 §9 has them. Returns whether a session timer runs after it.
     */
    boolean addAnswerHeaders(Request request, Response ok, HeaderFactory headers) throws Exception {
        String expires = negotiateAsUas(request);
        if (expires == null) {
            return false;
        }
        ok.addHeader(headers.createSupportedHeader(TIMER));
        ok.addHeader(headers.createHeader(SESSION_EXPIRES, expires));
        if (requireInAnswer(request)) {
            ok.addHeader(headers.createRequireHeader(TIMER));
        }
        return true;
    }

    // ---- header reading ------------------------------------------------------------------------------

    static Expires expiresOf(Message m) {
        String value = headerValue(m, SESSION_EXPIRES, "x");
        if (value == null) {
            return null;
        }
        String[] parts = value.split(";");
        int seconds;
        try {
            seconds = Integer.parseInt(parts[0].trim());
        } catch (NumberFormatException e) {
            return null;
        }
        String refresher = null;
        for (int i = 1; i < parts.length; i++) {
            String[] kv = parts[i].trim().split("=", 2);
            if (kv.length == 2 && kv[0].trim().equalsIgnoreCase("refresher")) {
                refresher = kv[1].trim().toLowerCase(Locale.ROOT);
            }
        }
        if (refresher != null && !refresher.equals("uac") && !refresher.equals("uas")) {
            refresher = null;
        }
        return new Expires(seconds, refresher);
    }

    /** An integer header such as Min-SE, 0 when absent or not a number. */
    static int intHeader(Message m, String name) {
        String value = headerValue(m, name, null);
        if (value == null) {
            return 0;
        }
        try {
            return Integer.parseInt(value.split(";")[0].trim());
        } catch (NumberFormatException e) {
            return 0;
        }
    }

    static boolean supportsTimer(Message m) {
        return listHeaderContains(m, "Supported", "k", TIMER) || listHeaderContains(m, "Require", null, TIMER);
    }

    /** Whether a comma-list header (Supported, Allow, Require), in any of its occurrences, names {@code token}. */
    static boolean listHeaderContains(Message m, String name, String compact, String token) {
        for (String n : compact == null ? new String[] {name} : new String[] {name, compact}) {
            ListIterator<?> it = m.getHeaders(n);
            while (it != null && it.hasNext()) {
                for (String item : valueOf((Header) it.next()).split(",")) {
                    if (item.trim().equalsIgnoreCase(token)) {
                        return true;
                    }
                }
            }
        }
        return false;
    }

    private static String headerValue(Message m, String name, String compact) {
        Header h = m.getHeader(name);
        if (h == null && compact != null) {
            h = m.getHeader(compact);
        }
        return h == null ? null : valueOf(h);
    }

    /** JAIN-SIP parses known headers into classes of its own; their text form is "Name: value". */
    private static String valueOf(Header h) {
        String text = h.toString().trim();
        int colon = text.indexOf(':');
        return colon < 0 ? text : text.substring(colon + 1).trim();
    }
}
