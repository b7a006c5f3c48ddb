package io.webrtcgateway.admin;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.webrtcgateway.GatewayApplication;
import io.webrtcgateway.call.Call;
import io.webrtcgateway.call.CallRecord;
import io.webrtcgateway.media.MediaEngine;
import io.webrtcgateway.media.ice.IceStats;
import io.webrtcgateway.media.rtp.MediaRelay;
import io.webrtcgateway.media.rtp.StreamStats;
import io.webrtcgateway.session.Session;
import io.webrtcgateway.sip.Registration;
import io.webrtcgateway.sip.SipServerPool;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryUsage;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** The JSON shapes of the admin API (docs/admin.md), built from the live objects of this instance. */
final class AdminViews {
    private final GatewayApplication app;
    private final ObjectMapper json;
    private final ActivityHistory history;

    AdminViews(GatewayApplication app, ObjectMapper json, ActivityHistory history) {
        this.app = app;
        this.json = json;
        this.history = history;
    }

    private String self() {
        return app.config().instanceId();
    }

    /** {@code GET /admin/api/instance}. */
    ObjectNode instance() {
        Instant now = Instant.now();
        List<String> reasons = app.readiness().notReadyReasons();
        boolean draining = app.admission().isDraining();
        ObjectNode out = json.createObjectNode();
        out.put("instance", self());
        out.put("version", app.version());
        out.put("startedAt", app.startedAt().toString());
        out.put("uptimeSeconds", Duration.between(app.startedAt(), now).toSeconds());
        String state = app.admission().isStopping() ? "stopping" : draining ? "draining"
                : reasons.isEmpty() ? "ready" : "not-ready";
        out.put("state", state);
        out.put("ready", reasons.isEmpty());
        out.put("draining", draining);
        ArrayNode reasonArray = out.putArray("readyReasons");
        reasons.forEach(reasonArray::add);
        ArrayNode servers = out.putArray("sipServers");
        List<SipServerPool.ServerState> states = app.servers().states();
        for (int i = 0; i < states.size(); i++) {
            SipServerPool.ServerState s = states.get(i);
            ObjectNode server = servers.addObject();
            server.put("uri", "sip:" + s.address());
            server.put("role", i == 0 ? "primary" : "backup");
            server.put("active", s.active());
            server.put("reachable", s.reachable());
        }
        ObjectNode load = out.putObject("load");
        load.put("sessions", app.sessions().count());
        load.put("registrations", app.registrations().count());
        load.put("calls", app.calls() == null ? 0 : app.calls().count());
        load.put("maxSessions", app.config().limits().maxSessions());
        load.put("maxCalls", app.config().limits().maxCalls());
        double cpu = processCpuLoad();
        if (cpu < 0) {
            load.putNull("cpu");
        } else {
            load.put("cpu", Math.round(cpu * 1000) / 1000.0);
        }
        MemoryUsage heap = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage();
        load.put("heapUsedBytes", heap.getUsed());
        load.put("heapMaxBytes", heap.getMax());
        // The fingerprint new calls get: the instances of a cluster sharing gateway.media.dtls's files show one.
        ObjectNode dtls = out.putObject("dtls");
        MediaEngine media = app.media();
        dtls.put("fingerprint", media == null ? null : media.dtlsFingerprint());
        dtls.put("certificate", media == null ? null : media.dtlsCertificateFromFiles() ? "files" : "generated");
        ArrayNode minutes = out.putArray("history");
        for (ActivityHistory.Minute m : history.minutes(now)) {
            ObjectNode n = minutes.addObject();
            n.put("at", m.at().toString());
            n.put("setups", m.setups());
            n.put("failures", m.failures());
        }
        return out;
    }

    /** Share of the machine's CPU time this process used recently, 0-1; -1 when unknown. */
    private static double processCpuLoad() {
        try {
            var os = ManagementFactory.getPlatformMXBean(com.sun.management.OperatingSystemMXBean.class);
            return os == null ? -1 : os.getProcessCpuLoad();
        } catch (RuntimeException | LinkageError e) {
            return -1; // not a HotSpot-style runtime
        }
    }

    static String dnOf(Session s) {
        Registration r = s.registration();
        return r == null ? null : r.dn();
    }

    ObjectNode session(Session s) {
        ObjectNode out = json.createObjectNode();
        out.put("id", s.id());
        out.put("logId", s.logId());
        out.put("instance", self());
        out.put("kind", s.kind().name().toLowerCase(Locale.ROOT));
        out.put("dn", dnOf(s));
        out.put("userAgent", s.userAgent());
        out.put("remoteAddress", s.remoteAddress());
        out.put("since", s.createdAt().toString());
        out.put("calls", app.calls() == null ? 0 : app.calls().forSession(s).size());
        return out;
    }

    ObjectNode registration(Registration r) {
        ObjectNode out = json.createObjectNode();
        out.put("dn", r.dn());
        out.put("instance", self());
        out.put("sessionId", r.owner() instanceof Session s ? s.id() : null);
        out.put("sipServer", r.server().isEmpty() ? null : r.server());
        out.put("state", r.state().name().toLowerCase(Locale.ROOT));
        Instant expires = r.expiresAt();
        out.put("expiresAt", expires == null ? null : expires.toString());
        Instant at = r.lastResultAt();
        String last = r.lastResult();
        if (at == null || last.isEmpty()) {
            out.putNull("lastResult");
        } else {
            ObjectNode result = out.putObject("lastResult");
            result.put("at", at.toString());
            int space = last.indexOf(' ');
            String code = space < 0 ? last : last.substring(0, space);
            try {
                result.put("status", Integer.parseInt(code));
            } catch (NumberFormatException e) {
                result.putNull("status");
            }
            result.put("reason", space < 0 ? "" : last.substring(space + 1));
        }
        return out;
    }

    ObjectNode call(Call c, Instant now) {
        ObjectNode out = json.createObjectNode();
        out.put("id", c.id());
        out.put("instance", self());
        out.put("sessionId", c.session().id());
        out.put("dn", dnOf(c.session()));
        out.put("remote", c.remote());
        out.put("direction", c.direction().name().toLowerCase(Locale.ROOT));
        out.put("state", c.state().wireName());
        out.put("createdAt", c.createdAt().toString());
        Instant connected = c.connectedAt();
        out.put("connectedAt", connected == null ? null : connected.toString());
        out.put("durationSeconds", connected == null ? 0 : Duration.between(connected, now).toSeconds());
        out.put("codec", c.codec());
        return out;
    }

    /**
     * The call item plus {@code media} and {@code sip} from {@code detail}, the map of
     * {@code CallService.adminDetail}: what CallMedia.stats() holds (ice: IceStats, dtls: state name,
     * srtp: {profile,...}, streams: MediaRelay.Stats, the audio one first) and the dialog's ids.
     */
    ObjectNode callDetail(Call c, Map<String, Object> detail, Instant now) {
        ObjectNode out = call(c, now);
        ObjectNode media = out.putObject("media");
        ObjectNode ice = media.putObject("ice");
        if (detail.get("ice") instanceof IceStats i) {
            ice.put("state", i.state().name().toLowerCase(Locale.ROOT));
            ice.put("localCandidate", candidate(i.localCandidateType(), i.localAddress()));
            ice.put("remoteCandidate", candidate(i.remoteCandidateType(), i.remoteAddress()));
        } else {
            ice.putNull("state");
            ice.putNull("localCandidate");
            ice.putNull("remoteCandidate");
        }
        ObjectNode dtls = media.putObject("dtls");
        dtls.put("state", detail.get("dtls") instanceof String d ? d : null);
        dtls.put("srtpProfile", detail.get("srtp") instanceof Map<?, ?> srtp && srtp.get("profile") != null
                ? String.valueOf(srtp.get("profile")) : null);
        MediaRelay.Stats audio = null;
        if (detail.get("streams") instanceof List<?> streams && !streams.isEmpty()
                && streams.get(0) instanceof MediaRelay.Stats first) {
            audio = first;
        }
        stream(media.putObject("browserToSip"), audio == null ? null : audio.browserToSip());
        stream(media.putObject("sipToBrowser"), audio == null ? null : audio.sipToBrowser());
        // Every bridged m-line (audio, and video when the call has it), in m-line order.
        ArrayNode all = media.putArray("streams");
        if (detail.get("streams") instanceof List<?> streams) {
            for (Object o : streams) {
                if (o instanceof MediaRelay.Stats st) {
                    ObjectNode item = all.addObject();
                    item.put("kind", st.kind());
                    stream(item.putObject("browserToSip"), st.browserToSip());
                    stream(item.putObject("sipToBrowser"), st.sipToBrowser());
                }
            }
        }
        Double rtt = null;
        if (audio != null) {
            // RTT is known from the RTCP reports of whichever side sends them (RFC 3550 §6.4.1).
            for (StreamStats.Snapshot s : new StreamStats.Snapshot[] {audio.sipToBrowser(), audio.browserToSip()}) {
                if (s != null && !Double.isNaN(s.rttMs())) {
                    rtt = Math.round(s.rttMs() * 10) / 10.0;
                    break;
                }
            }
        }
        if (rtt == null) {
            media.putNull("rttMs");
        } else {
            media.put("rttMs", rtt);
        }
        ObjectNode sip = out.putObject("sip");
        sip.put("callId", (String) detail.get("sipCallId"));
        sip.put("localTag", (String) detail.get("sipLocalTag"));
        sip.put("remoteTag", (String) detail.get("sipRemoteTag"));
        return out;
    }

    private static String candidate(String type, InetSocketAddress address) {
        if (address == null) {
            return null;
        }
        String host = address.getAddress() != null ? address.getAddress().getHostAddress() : address.getHostString();
        return (type == null ? "" : type + " ") + host + ":" + address.getPort();
    }

    private static void stream(ObjectNode out, StreamStats.Snapshot s) {
        // The SSRC this direction sends with and the one it forwards: what finds the stream in a capture.
        if (s == null) {
            out.putNull("ssrc");
        } else {
            out.put("ssrc", s.ssrc());
        }
        if (s == null || s.sourceSsrc() == null) {
            out.putNull("sourceSsrc");
        } else {
            out.put("sourceSsrc", s.sourceSsrc());
        }
        out.put("packets", s == null ? 0 : s.packets());
        out.put("bytes", s == null ? 0 : s.bytes());
        out.put("lost", s == null ? 0 : s.lost());
        out.put("jitterMs", s == null ? 0 : Math.round(s.jitterMs() * 100) / 100.0);
    }

    /** An item of {@code GET /admin/api/call-records}: the call's record (docs/admin.md). */
    ObjectNode record(CallRecord r) {
        ObjectNode out = json.createObjectNode();
        out.put("id", r.id());
        out.put("instance", r.instance());
        out.put("sessionLogId", r.sessionLogId());
        out.put("sipCallId", r.sipCallId());
        out.put("dn", r.dn());
        out.put("remote", r.remote());
        out.put("direction", r.direction().name().toLowerCase(Locale.ROOT));
        out.put("result", r.result());
        out.put("endReason", r.endReason());
        if (r.sipStatus() == null) {
            out.putNull("sipStatus");
        } else {
            out.put("sipStatus", r.sipStatus());
        }
        out.put("sipReason", r.sipReason());
        out.put("codec", r.codec());
        out.put("startedAt", r.startedAt().toString());
        out.put("connectedAt", r.connectedAt() == null ? null : r.connectedAt().toString());
        out.put("endedAt", r.endedAt().toString());
        out.put("durationSeconds", r.durationSeconds());
        putRounded(out, "mos", r.mos(), 100);
        ObjectNode rtt = out.putObject("rttMs");
        putRounded(rtt, "browserLeg", r.browserLegRttMs(), 10);
        putRounded(rtt, "sipLeg", r.sipLegRttMs(), 10);
        flow(out.putObject("browserToSip"), r.browserToSip());
        flow(out.putObject("sipToBrowser"), r.sipToBrowser());
        return out;
    }

    private static void flow(ObjectNode out, CallRecord.Flow f) {
        out.put("packets", f.packets());
        out.put("bytes", f.bytes());
        out.put("lost", f.lost());
        putRounded(out, "lossPercent", f.lossPercent(), 100);
        putRounded(out, "jitterMs", f.jitterMs(), 100);
        putRounded(out, "mos", f.mos(), 100);
    }

    /** {@code value} rounded to 1/{@code scale}, or null. */
    private static void putRounded(ObjectNode out, String field, Double value, int scale) {
        if (value == null) {
            out.putNull(field);
        } else {
            out.put(field, Math.round(value * scale) / (double) scale);
        }
    }

    ObjectNode failure(ActivityHistory.Failure f) {
        ObjectNode out = json.createObjectNode();
        out.put("at", f.at().toString());
        out.put("instance", self());
        out.put("kind", f.kind());
        out.put("dn", f.dn());
        out.put("remote", f.remote());
        if (f.sipStatus() == null) {
            out.putNull("sipStatus");
        } else {
            out.put("sipStatus", f.sipStatus());
        }
        out.put("sipReason", f.sipReason());
        out.put("cause", f.cause());
        return out;
    }
}
