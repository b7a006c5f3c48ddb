package io.webrtcgateway.sip.sandbox;

import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Predicate;

/**
 * A SIP user agent for tests that writes every message as text over UDP, toward the sandbox only: it
 * registers a DN, places and answers calls and sends in-dialog requests, and waits for exactly the
 * message a test expects. Messages that arrive while it waits for another are kept for later; exact
 * retransmissions (the sandbox's stack repeats INVITEs and 2xx over UDP) are dropped.
 */
final class RawUserAgent implements AutoCloseable {
    static final Duration WAIT = Duration.ofSeconds(5);

    private final String user;
    private final InetSocketAddress server;
    private final DatagramSocket socket;
    private final List<SipMessage> pending = new ArrayList<>();
    private final Set<String> seen = new HashSet<>();
    private long registerCSeq;

    private RawUserAgent(String user, InetSocketAddress server, DatagramSocket socket) {
        this.user = user;
        this.server = server;
        this.socket = socket;
    }

    static RawUserAgent open(String user, InetSocketAddress server) throws IOException {
        return new RawUserAgent(user, server,
                new DatagramSocket(new InetSocketAddress(InetAddress.getByName("127.0.0.1"), 0)));
    }

    String user() {
        return user;
    }

    int port() {
        return socket.getLocalPort();
    }

    String contactUri() {
        return "sip:" + user + "@127.0.0.1:" + port();
    }

    String aor() {
        return "sip:" + user + "@127.0.0.1";
    }

    /** Registers {@link #contactUri()} for this DN; returns the status. */
    int register() throws IOException {
        registerCSeq++;
        String callId = "reg-" + user + "-" + port();
        send("REGISTER sip:" + serverHostPort() + " SIP/2.0\r\n"
                + via() + "Max-Forwards: 70\r\n"
                + "From: <" + aor() + ">;tag=r" + port() + "\r\n"
                + "To: <" + aor() + ">\r\n"
                + "Call-ID: " + callId + "\r\n"
                + "CSeq: " + registerCSeq + " REGISTER\r\n"
                + "Contact: <" + contactUri() + ">\r\n"
                + "Expires: 600\r\n"
                + "Content-Length: 0\r\n\r\n");
        return awaitFinal(callId, "REGISTER").status();
    }

    // ---- calls ----------------------------------------------------------------------------------------

    /** The caller's view of an INVITE it sent, and later of its dialog. */
    static final class Call {
        final String callId;
        final String fromTag;
        final String target;
        final String invite;
        long cseq = 1;
        String remoteTag;
        String remoteTarget;

        Call(String callId, String fromTag, String target, String invite) {
            this.callId = callId;
            this.fromTag = fromTag;
            this.target = target;
            this.invite = invite;
        }
    }

    /** Sends an INVITE to {@code dn} at the sandbox, with {@code sdp} (null: no body) and extra headers. */
    Call invite(String dn, String sdp, String... headers) throws IOException {
        String callId = "call-" + user + "-" + Long.toHexString(ThreadLocalRandom.current().nextLong());
        String tag = "t" + Long.toHexString(ThreadLocalRandom.current().nextLong());
        String target = "sip:" + dn + "@" + serverHostPort();
        String text = "INVITE " + target + " SIP/2.0\r\n"
                + via() + "Max-Forwards: 70\r\n"
                + "From: \"User " + user + "\" <" + aor() + ">;tag=" + tag + "\r\n"
                + "To: <sip:" + dn + "@127.0.0.1>\r\n"
                + "Call-ID: " + callId + "\r\n"
                + "CSeq: 1 INVITE\r\n"
                + "Contact: <" + contactUri() + ">\r\n"
                + String.join("", List.of(headers).stream().map(h -> h + "\r\n").toList())
                + body(sdp, "application/sdp");
        send(text);
        return new Call(callId, tag, target, text);
    }

    /** The next response to {@code call}'s INVITE with a status of at least {@code minStatus}. */
    SipMessage awaitInviteResponse(Call call, int minStatus) throws IOException {
        SipMessage r = await(m -> m.isResponse() && m.callId().equals(call.callId) && m.cseqMethod().equals("INVITE")
                && m.cseqNumber() == 1 && m.status() >= minStatus, WAIT);
        if (r.status() >= 200 && r.status() < 300) {
            call.remoteTag = r.toTag();
            call.remoteTarget = r.contactUri();
        }
        return r;
    }

    /** ACK for the final response to the INVITE: §17.1.1.3 (same branch) for non-2xx, §13.2.2.4 for 2xx. */
    void ack(Call call, SipMessage finalResponse, String sdp) throws IOException {
        if (finalResponse.status() >= 300) {
            String branch = branchOf(call.invite);
            send("ACK " + call.target + " SIP/2.0\r\n"
                    + "Via: SIP/2.0/UDP 127.0.0.1:" + port() + ";branch=" + branch + ";rport\r\n"
                    + "Max-Forwards: 70\r\n"
                    + "From: " + headerOf(call.invite, "From") + "\r\n"
                    + "To: " + finalResponse.header("To") + "\r\n"
                    + "Call-ID: " + call.callId + "\r\n"
                    + "CSeq: 1 ACK\r\n"
                    + "Content-Length: 0\r\n\r\n");
            return;
        }
        send(inDialog(call, "ACK", 1, sdp, "application/sdp"));
    }

    /** CANCEL for the INVITE (§9.1: same Request-URI, Call-ID, From, To, CSeq number and branch). */
    void cancel(Call call) throws IOException {
        send("CANCEL " + call.target + " SIP/2.0\r\n"
                + "Via: SIP/2.0/UDP 127.0.0.1:" + port() + ";branch=" + branchOf(call.invite) + ";rport\r\n"
                + "Max-Forwards: 70\r\n"
                + "From: " + headerOf(call.invite, "From") + "\r\n"
                + "To: " + headerOf(call.invite, "To") + "\r\n"
                + "Call-ID: " + call.callId + "\r\n"
                + "CSeq: 1 CANCEL\r\n"
                + "Content-Length: 0\r\n\r\n");
    }

    /** An in-dialog request from the caller side; returns its CSeq number. */
    long request(Call call, String method, String body, String contentType, String... headers) throws IOException {
        call.cseq++;
        send(inDialog(call, method, call.cseq, body, contentType, headers));
        return call.cseq;
    }

    private String inDialog(Call call, String method, long cseq, String body, String contentType, String... headers) {
        return method + " " + call.remoteTarget + " SIP/2.0\r\n"
                + via() + "Max-Forwards: 70\r\n"
                + "From: <" + aor() + ">;tag=" + call.fromTag + "\r\n"
                + "To: <sip:x@127.0.0.1>;tag=" + call.remoteTag + "\r\n"
                + "Call-ID: " + call.callId + "\r\n"
                + "CSeq: " + cseq + " " + method + "\r\n"
                + (method.equals("INVITE") ? "Contact: <" + contactUri() + ">\r\n" : "")
                + String.join("", List.of(headers).stream().map(h -> h + "\r\n").toList())
                + body(body, contentType);
    }

    /** The callee's view of an INVITE it received, and later of its dialog. */
    static final class Incoming {
        final SipMessage invite;
        final String localTag = "c" + Long.toHexString(ThreadLocalRandom.current().nextLong());
        long cseq = 100;

        Incoming(SipMessage invite) {
            this.invite = invite;
        }

        String callId() {
            return invite.callId();
        }
    }

    Incoming awaitInvite() throws IOException {
        return new Incoming(awaitRequest("INVITE", null));
    }

    /** Answers a received request; INVITE answers (1xx/2xx) get our To tag and Contact. */
    void respond(SipMessage request, int status, String reason, String toTag, String body, String contentType,
                 String... headers) throws IOException {
        StringBuilder sb = new StringBuilder("SIP/2.0 ").append(status).append(' ').append(reason).append("\r\n");
        for (String via : request.headers("Via")) {
            sb.append("Via: ").append(via).append("\r\n");
        }
        String to = request.header("To");
        if (!to.contains(";tag=") && toTag != null && status > 100) {
            to = to + ";tag=" + toTag;
        }
        sb.append("From: ").append(request.header("From")).append("\r\n")
                .append("To: ").append(to).append("\r\n")
                .append("Call-ID: ").append(request.callId()).append("\r\n")
                .append("CSeq: ").append(request.header("CSeq")).append("\r\n");
        if (request.method().equals("INVITE") && status > 100 && status < 300) {
            sb.append("Contact: <").append(contactUri()).append(">\r\n");
        }
        for (String h : headers) {
            sb.append(h).append("\r\n");
        }
        send(sb.append(body(body, contentType)).toString());
    }

    void respond(Incoming in, int status, String reason, String sdp) throws IOException {
        respond(in.invite, status, reason, in.localTag, sdp, "application/sdp");
    }

    /** An in-dialog request from the callee side (its own CSeq space, §12.2.1.1). */
    long request(Incoming in, String method, String body, String contentType, String... headers) throws IOException {
        in.cseq++;
        SipMessage inv = in.invite;
        send(method + " " + inv.contactUri() + " SIP/2.0\r\n"
                + via() + "Max-Forwards: 70\r\n"
                + "From: " + withoutTag(inv.header("To")) + ";tag=" + in.localTag + "\r\n"
                + "To: " + inv.header("From") + "\r\n"
                + "Call-ID: " + inv.callId() + "\r\n"
                + "CSeq: " + in.cseq + " " + method + "\r\n"
                + (method.equals("INVITE") ? "Contact: <" + contactUri() + ">\r\n" : "")
                + String.join("", List.of(headers).stream().map(h -> h + "\r\n").toList())
                + body(body, contentType));
        return in.cseq;
    }

    // ---- waiting ----------------------------------------------------------------------------------------

    SipMessage awaitRequest(String method, String callId) throws IOException {
        return await(m -> m.isRequest() && m.method().equals(method) && (callId == null || m.callId().equals(callId)), WAIT);
    }

    /** The final response to our request {@code cseqMethod} in {@code callId}. */
    SipMessage awaitFinal(String callId, String cseqMethod) throws IOException {
        return await(m -> m.isResponse() && m.callId().equals(callId) && m.cseqMethod().equals(cseqMethod)
                && m.status() >= 200, WAIT);
    }

    /** The first message (kept or new) matching {@code wanted}; fails after {@code timeout}. */
    SipMessage await(Predicate<SipMessage> wanted, Duration timeout) throws IOException {
        for (Iterator<SipMessage> it = pending.iterator(); it.hasNext(); ) {
            SipMessage m = it.next();
            if (wanted.test(m)) {
                it.remove();
                return m;
            }
        }
        long deadline = System.nanoTime() + timeout.toNanos();
        byte[] buf = new byte[65536];
        while (true) {
            long left = (deadline - System.nanoTime()) / 1_000_000;
            if (left <= 0) {
                throw new AssertionError(user + ": expected message did not arrive within " + timeout
                        + "; kept meanwhile: " + pending);
            }
            socket.setSoTimeout((int) Math.max(1, left));
            DatagramPacket packet = new DatagramPacket(buf, buf.length);
            try {
                socket.receive(packet);
            } catch (SocketTimeoutException e) {
                continue;
            }
            String text = new String(buf, 0, packet.getLength(), StandardCharsets.UTF_8);
            if (!seen.add(text)) {
                continue; // a retransmission of a message already seen
            }
            SipMessage m = SipMessage.parse(text);
            if (wanted.test(m)) {
                return m;
            }
            pending.add(m);
        }
    }

    /** True if no new message (other than retransmissions) arrives within {@code millis}. */
    boolean quietFor(int millis) throws IOException {
        try {
            SipMessage m = await(x -> true, Duration.ofMillis(millis));
            pending.add(0, m);
            return false;
        } catch (AssertionError e) {
            return true;
        }
    }

    void send(String text) throws IOException {
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        socket.send(new DatagramPacket(bytes, bytes.length, server));
    }

    @Override
    public void close() {
        socket.close();
    }

    private String serverHostPort() {
        return server.getHostString() + ":" + server.getPort();
    }

    private String via() {
        return "Via: SIP/2.0/UDP 127.0.0.1:" + port() + ";branch=z9hG4bK"
                + Long.toHexString(ThreadLocalRandom.current().nextLong()) + ";rport\r\n";
    }

    private static String body(String body, String contentType) {
        if (body == null) {
            return "Content-Length: 0\r\n\r\n";
        }
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        return "Content-Type: " + contentType + "\r\nContent-Length: " + bytes.length + "\r\n\r\n" + body;
    }

    private static String withoutTag(String nameAddr) {
        int i = nameAddr.indexOf(";tag=");
        return i < 0 ? nameAddr : nameAddr.substring(0, i);
    }

    private static String headerOf(String message, String name) {
        return SipMessage.parse(message).header(name);
    }

    private static String branchOf(String message) {
        String via = SipMessage.parse(message).header("Via");
        int i = via.indexOf("branch=");
        int end = via.indexOf(';', i);
        return via.substring(i + 7, end < 0 ? via.length() : end);
    }

    /** A parsed request or response: start line, headers in order, body. */
    record SipMessage(String startLine, List<String[]> headerLines, String body, String text) {

        static SipMessage parse(String text) {
            int split = text.indexOf("\r\n\r\n");
            String head = split < 0 ? text : text.substring(0, split);
            String body = split < 0 ? "" : text.substring(split + 4);
            String[] lines = head.split("\r\n");
            List<String[]> headers = new ArrayList<>();
            for (int i = 1; i < lines.length; i++) {
                int colon = lines[i].indexOf(':');
                if (colon > 0) {
                    headers.add(new String[] {lines[i].substring(0, colon).trim(), lines[i].substring(colon + 1).trim()});
                }
            }
            return new SipMessage(lines[0], headers, body, text);
        }

        boolean isResponse() {
            return startLine.startsWith("SIP/2.0 ");
        }

        boolean isRequest() {
            return !isResponse();
        }

        int status() {
            return isResponse() ? Integer.parseInt(startLine.split(" ")[1]) : -1;
        }

        String method() {
            return isRequest() ? startLine.split(" ")[0] : null;
        }

        String requestUri() {
            return startLine.split(" ")[1];
        }

        /** First value of a header (full or compact name), or null. */
        String header(String name) {
            List<String> all = headers(name);
            return all.isEmpty() ? null : all.get(0);
        }

        List<String> headers(String name) {
            String compact = switch (name.toLowerCase(Locale.ROOT)) {
                case "via" -> "v";
                case "from" -> "f";
                case "to" -> "t";
                case "call-id" -> "i";
                case "contact" -> "m";
                case "content-type" -> "c";
                case "content-length" -> "l";
                case "event" -> "o";
                default -> name;
            };
            List<String> values = new ArrayList<>();
            for (String[] h : headerLines) {
                if (h[0].equalsIgnoreCase(name) || h[0].equalsIgnoreCase(compact)) {
                    values.add(h[1]);
                }
            }
            return values;
        }

        String callId() {
            return header("Call-ID");
        }

        String cseqMethod() {
            return header("CSeq").trim().split("\\s+")[1];
        }

        long cseqNumber() {
            return Long.parseLong(header("CSeq").trim().split("\\s+")[0]);
        }

        String toTag() {
            return tagOf(header("To"));
        }

        String fromTag() {
            return tagOf(header("From"));
        }

        /** The URI inside the Contact header, or null. */
        String contactUri() {
            String c = header("Contact");
            if (c == null) {
                return null;
            }
            int lt = c.indexOf('<');
            return lt < 0 ? c.split(";")[0] : c.substring(lt + 1, c.indexOf('>'));
        }

        private static String tagOf(String nameAddr) {
            if (nameAddr == null) {
                return null;
            }
            int i = nameAddr.indexOf(";tag=");
            if (i < 0) {
                return null;
            }
            int end = nameAddr.indexOf(';', i + 5);
            return nameAddr.substring(i + 5, end < 0 ? nameAddr.length() : end);
        }

        @Override
        public String toString() {
            return startLine + " (" + callId() + ")";
        }
    }
}
