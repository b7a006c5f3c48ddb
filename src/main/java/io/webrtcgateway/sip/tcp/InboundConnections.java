package io.webrtcgateway.sip.tcp;

import java.net.InetAddress;
import java.util.HashMap;
import java.util.Map;

/**
 * The caps on accepted SIP TCP connections (gateway.sip.tcp.max-connections, max-connections-per-source):
 * every source address may hold {@code maxPerSource}; all sources that are neither SIP Servers nor
 * trusted-sources together {@code maxOthers}. SIP Servers count only against their own per-source cap, so
 * strangers filling the table never keep SIP Server out. O(1) under this object's lock.
 */
final class InboundConnections {
    /** What {@link #admit} decided; the refusals name their gateway_sip_tcp_connections_closed_total reason. */
    enum Admission {
        ADMITTED(null), OVER_MAX_CONNECTIONS("max-connections"), OVER_PER_SOURCE("max-connections-per-source");

        final String reason;

        Admission(String reason) {
            this.reason = reason;
        }
    }

    private final int maxOthers;
    private final int maxPerSource;
    /** Connections held, by source address. Guarded by this. */
    private final Map<InetAddress, Integer> bySource = new HashMap<>();
    /** Connections held by sources that are not trusted. Guarded by this. */
    private int others;
    /** All connections held. Guarded by this. */
    private int total;

    InboundConnections(int maxOthers, int maxPerSource) {
        this.maxOthers = maxOthers;
        this.maxPerSource = maxPerSource;
    }

    /** A connection from {@code source} was accepted; it holds a place until {@link #release} if admitted. */
    synchronized Admission admit(InetAddress source, boolean trusted) {
        int held = bySource.getOrDefault(source, 0);
        if (held >= maxPerSource) {
            return Admission.OVER_PER_SOURCE;
        }
        if (!trusted && others >= maxOthers) {
            return Admission.OVER_MAX_CONNECTIONS;
        }
        bySource.put(source, held + 1);
        if (!trusted) {
            others++;
        }
        total++;
        return Admission.ADMITTED;
    }

    /** An admitted connection closed; {@code trusted} as when it was admitted. */
    synchronized void release(InetAddress source, boolean trusted) {
        Integer held = bySource.get(source);
        if (held == null) {
            return;
        }
        if (held <= 1) {
            bySource.remove(source);
        } else {
            bySource.put(source, held - 1);
        }
        if (!trusted) {
            others--;
        }
        total--;
    }

    /** Connections held now (gateway_sip_tcp_connections). */
    synchronized int count() {
        return total;
    }

    /** Source addresses holding connections now (the table's size). */
    synchronized int sources() {
        return bySource.size();
    }
}
