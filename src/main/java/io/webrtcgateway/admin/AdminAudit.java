package io.webrtcgateway.admin;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One line per admin action on logger {@code io.webrtcgateway.admin.audit} (route it to its own file in
 * the logging config): who, through which credentials, from which address, what, on what, and how it
 * ended. Reads are not audited. Values are quoted when they could contain spaces, and stripped of line
 * breaks so one action stays one line.
 */
final class AdminAudit {
    private static final Logger AUDIT = LoggerFactory.getLogger("io.webrtcgateway.admin.audit");

    /** Who made a request: the operator, how they authenticated (cookie, basic, peer:&lt;instance&gt;). */
    record Actor(String user, String via, String address) {}

    void log(Actor who, String action, String target, String result) {
        AUDIT.info("user={} via={} from={} action={} target={} result={}", clean(who.user()), who.via(),
                who.address(), action, clean(target), clean(result));
    }

    private static String clean(String s) {
        if (s == null) {
            return "-";
        }
        String one = s.replaceAll("[\\r\\n\\t]", " ");
        return one.matches("[^\\s\"]+") ? one : "\"" + one.replace("\"", "'") + "\"";
    }
}
