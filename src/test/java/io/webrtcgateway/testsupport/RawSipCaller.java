package io.webrtcgateway.testsupport;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A hand-written SIP caller over UDP for bad-input tests: one INVITE dialog toward a SIP peer (the
 * gateway), with full control of what is sent and when — several re-INVITEs in flight at once, requests
 * for dialogs that do not exist, bodies no phone would send. No SIP stack on purpose.
 *
 * <p>A receive thread answers the peer's requests in the dialog: BYE, INFO, OPTIONS 200; INVITE (a
 * re-INVITE) 200 with this side's SDP, or 491 while one of ours is in flight (RFC 3261 §14.2 glare), or
 * whatever {@link #onReinvite} decides; ACK is noted. Responses go to whoever waits for their Via branch.
 * Loopback loses nothing, so nothing is retransmitted by us; a peer's retransmitted request is answered
 * again with the same response.
 */
public final class RawSipCaller implements AutoCloseable {

    private static final Pattern BRANCH = Pattern.compile(";\\s*branch=([^;,\\s]+)");
    private static final Pattern TAG = Pattern.compile(";\\s*tag=([^;,\\s>]+)");
    private static final Pattern URI_IN_BRACKETS = Pattern.compile("<([^>]+)>");

    private final DatagramSocket socket;
    private final InetSocketAddress target;
    private final String user;
    private final String fromTag = hex();
    private final Map<String, LinkedBlockingQueue<SipMessage>> waiting = new ConcurrentHashMap<>();
    /** Responses already sent, by the request's branch + method (retransmissions get the same). */
    private final Map<String, String> answered = new ConcurrentHashMap<>();
    private final List<SipMessage> received = new CopyOnWriteArrayList<>();
    private final Thread receiver;

    /** Guarded by this: the dialog once established. */
    private String callId;
    private String toHeader;
    private String remoteTarget;
    private long cseq;
    private String localSdp;
    /** Branches of our re-INVITEs without a final response yet (guarded by this). */
    private final Set<String> reinvitesInFlight = new HashSet<>();
    /** Re-INVITEs of the peer left unanswered on purpose (status 0 from the chooser), by branch. */
    private final Map<String, SipMessage> unanswered = new ConcurrentHashMap<>();
    private volatile Function<SipMessage, Integer> reinviteAnswer = r -> null;

    private RawSipCaller(String target, String user) {
        this.user = user;
        int colon = target.lastIndexOf(':');
        this.target = new InetSocketAddress(target.substring(0, colon), Integer.parseInt(target.substring(colon + 1)));
        try {
            socket = new DatagramSocket(new InetSocketAddress(FreePorts.LOOPBACK, 0));
        } catch (SocketException e) {
            throw new UncheckedIOException("cannot open a UDP socket", e);
        }
        receiver = new Thread(this::receive, "raw-sip-caller-" + socket.getLocalPort());
        receiver.setDaemon(true);
        receiver.start();
    }

    /** A caller "user" (the From user) sending to {@code target} ("127.0.0.1:port"). */
    public static RawSipCaller toward(String target, String user) {
        return new RawSipCaller(target, user);
    }

    public int localPort() {
        return socket.getLocalPort();
    }

    /** Every request the peer sent us, in order (responses are not kept). */
    public List<SipMessage> receivedRequests() {
        return List.copyOf(received);
    }

    public List<SipMessage> receivedRequests(String method) {
        return received.stream().filter(m -> m.method().equals(method)).toList();
    }

    /**
     * How the next re-INVITEs from the peer are answered: the status to send (200 carries our SDP), 0 to
     * leave it unanswered until {@link #answerUnanswered}, or null for the default (491 while one of ours
     * is in flight, else 200).
     */
    public void onReinvite(Function<SipMessage, Integer> status) {
        reinviteAnswer = status;
    }

    /** How many of the peer's re-INVITEs wait for {@link #answerUnanswered}. */
    public int unansweredCount() {
        return unanswered.size();
    }

    /** Answers every re-INVITE left unanswered with {@code status} (200 carries our SDP). */
    public void answerUnanswered(int status) {
        for (String branch : List.copyOf(unanswered.keySet())) {
            SipMessage request = unanswered.remove(branch);
            String sdp;
            synchronized (this) {
                sdp = localSdp;
            }
            String response = response(request, status, status == 200 ? sdp : null);
            answered.put(branch + " INVITE", response);
            send(response);
        }
    }

    /** An SDP offering PCMU + telephone-event on {@code rtpPort} of 127.0.0.1 ({@code direction}: sendrecv...). */
    public static String audioSdp(int rtpPort, long version, String direction) {
        return "v=0\r\n"
                + "o=raw 4242 " + version + " IN IP4 127.0.0.1\r\n"
                + "s=-\r\n"
                + "c=IN IP4 127.0.0.1\r\n"
                + "t=0 0\r\n"
                + "m=audio " + rtpPort + " RTP/AVP 0 101\r\n"
                + "a=rtpmap:0 PCMU/8000\r\n"
                + "a=rtpmap:101 telephone-event/8000\r\n"
                + "a=fmtp:101 0-15\r\n"
                + "a=" + direction + "\r\n";
    }

    // ---- the dialog ---------------------------------------------------------------------------------

    /**
     * Sends an INVITE to sip:{@code dn}@target with {@code sdp} and waits for the final response: a 2xx
     * establishes the dialog (ACKed); anything else is ACKed on the INVITE's branch (RFC 3261 §17.1.1.3).
     */
    public SipMessage invite(String dn, String sdp, Duration timeout) {
        return invite(dn, sdp, "", timeout);
    }

    /** {@link #invite(String, String, Duration)} with {@code extraHeaders} (lines ending in CRLF) in the INVITE. */
    public SipMessage invite(String dn, String sdp, String extraHeaders, Duration timeout) {
        String uri = "sip:" + dn + "@" + hostPort();
        String id = java.util.UUID.randomUUID() + "@127.0.0.1";
        String to = "<" + uri + ">";
        String branch = branch();
        synchronized (this) {
            callId = id;
            cseq = 1;
            localSdp = sdp;
        }
        String invite = request("INVITE", uri, branch, id, to, 1,
                "Contact: <sip:" + user + "@127.0.0.1:" + localPort() + ">\r\n" + extraHeaders, sdp);
        SipMessage response = exchange(invite, branch, timeout);
        String toWithTag = response.header("To").orElse(to);
        if (response.status() < 300) {
            synchronized (this) {
                toHeader = toWithTag;
                remoteTarget = uriOf(response.header("Contact").orElse(uri));
            }
            send(request("ACK", remoteTarget(), branch(), id, toWithTag, 1, "", null));
        } else {
            send(request("ACK", uri, branch, id, toWithTag, 1, "", null));
        }
        return response;
    }

    /** A re-INVITE in the dialog, sent without waiting: returns its branch for {@link #awaitFinal}. */
    public String sendReinvite(String sdp) {
        long n;
        synchronized (this) {
            requireDialog();
            n = ++cseq;
            localSdp = sdp;
        }
        String branch = branch();
        synchronized (this) {
            reinvitesInFlight.add(branch);
        }
        waiting.put(branch, new LinkedBlockingQueue<>());
        send(request("INVITE", remoteTarget(), branch, callId(), toHeader(), n,
                "Contact: <sip:" + user + "@127.0.0.1:" + localPort() + ">\r\n", sdp));
        return branch;
    }

    /** The final response to the re-INVITE sent on {@code branch}, ACKed (2xx: new branch; else the same). */
    public SipMessage awaitFinal(String branch, Duration timeout) {
        SipMessage response = awaitResponse(branch, timeout);
        long n = response.cseq();
        send(request("ACK", remoteTarget(), response.status() < 300 ? branch() : branch, callId(), toHeader(), n,
                "", null));
        return response;
    }

    public SipMessage reinvite(String sdp, Duration timeout) {
        return awaitFinal(sendReinvite(sdp), timeout);
    }

    /** A request in the dialog (BYE, INFO...); returns the final response. */
    public SipMessage inDialog(String method, String contentType, String body, Duration timeout) {
        long n;
        synchronized (this) {
            requireDialog();
            n = ++cseq;
        }
        String branch = branch();
        String extra = contentType == null ? "" : "Content-Type: " + contentType + "\r\n";
        return exchange(request(method, remoteTarget(), branch, callId(), toHeader(), n, extra, body), branch,
                timeout);
    }

    /**
     * An out-of-dialog request as if in a dialog nobody knows: a Call-ID of its own and a To tag, so the
     * peer must answer 481 (RFC 3261 §12.2.2).
     */
    public SipMessage strayRequest(String method, String dn, Duration timeout) {
        String uri = "sip:" + dn + "@" + hostPort();
        String branch = branch();
        String body = method.equals("INFO") ? "stray" : null;
        String extra = body == null ? "" : "Content-Type: text/plain\r\n";
        return exchange(request(method, uri, branch, java.util.UUID.randomUUID() + "@127.0.0.1",
                "<" + uri + ">;tag=" + hex(), 7, extra, body), branch, timeout);
    }

    /** Any bytes to the peer (a garbage datagram). */
    public void sendRaw(String text) {
        send(text);
    }

    // ---- plumbing -----------------------------------------------------------------------------------

    private SipMessage exchange(String request, String branch, Duration timeout) {
        waiting.put(branch, new LinkedBlockingQueue<>());
        send(request);
        return awaitResponse(branch, timeout);
    }

    private SipMessage awaitResponse(String branch, Duration timeout) {
        LinkedBlockingQueue<SipMessage> queue = waiting.get(branch);
        if (queue == null) {
            throw new IllegalStateException("nothing was sent on branch " + branch);
        }
        long deadline = System.nanoTime() + timeout.toNanos();
        try {
            while (true) {
                long left = deadline - System.nanoTime();
                SipMessage m = left <= 0 ? null : queue.poll(left, TimeUnit.NANOSECONDS);
                if (m == null) {
                    throw new AssertionError("no final response on branch " + branch + " within " + timeout);
                }
                if (m.status() >= 200) {
                    waiting.remove(branch);
                    return m;
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        }
    }

    private String request(String method, String uri, String branch, String id, String to, long n, String extra,
            String body) {
        String content = body == null ? "" : body;
        return method + " " + uri + " SIP/2.0\r\n"
                + "Via: SIP/2.0/UDP 127.0.0.1:" + localPort() + ";branch=" + branch + ";rport\r\n"
                + "Max-Forwards: 70\r\n"
                + "From: \"Raw\" <sip:" + user + "@127.0.0.1:" + localPort() + ">;tag=" + fromTag + "\r\n"
                + "To: " + to + "\r\n"
                + "Call-ID: " + id + "\r\n"
                + "CSeq: " + n + " " + method + "\r\n"
                + extra
                + (body != null && !extra.contains("Content-Type") ? "Content-Type: application/sdp\r\n" : "")
                + "User-Agent: RawSipCaller\r\n"
                + "Content-Length: " + content.getBytes(StandardCharsets.UTF_8).length + "\r\n\r\n"
                + content;
    }

    private void receive() {
        byte[] buffer = new byte[65535];
        while (!socket.isClosed()) {
            DatagramPacket packet = new DatagramPacket(buffer, buffer.length);
            try {
                socket.receive(packet);
            } catch (IOException e) {
                return; // closed
            }
            SipMessage m = new SipMessage(new String(packet.getData(), 0, packet.getLength(), StandardCharsets.UTF_8));
            try {
                if (m.isRequest()) {
                    onRequest(m);
                } else {
                    if (m.status() >= 200 && m.method().equals("INVITE")) {
                        synchronized (this) {
                            reinvitesInFlight.remove(branchOf(m));
                        }
                    }
                    LinkedBlockingQueue<SipMessage> queue = waiting.get(branchOf(m));
                    if (queue != null) {
                        queue.add(m);
                    }
                }
            } catch (RuntimeException e) {
                // a message we cannot make sense of: a test's assertion will notice what is missing
            }
        }
    }

    private void onRequest(SipMessage request) {
        String method = request.method();
        if (method.equals("ACK")) {
            received.add(request);
            return;
        }
        String key = branchOf(request) + " " + method;
        String earlier = answered.get(key);
        if (earlier != null) {
            send(earlier); // a retransmission
            return;
        }
        if (method.equals("INVITE") && unanswered.containsKey(branchOf(request))) {
            return; // a retransmission of one we keep waiting
        }
        received.add(request);
        String response;
        if (method.equals("INVITE")) {
            Integer chosen = reinviteAnswer.apply(request);
            int status;
            String sdp;
            synchronized (this) {
                status = chosen != null ? chosen : reinvitesInFlight.isEmpty() ? 200 : 491;
                sdp = localSdp;
            }
            if (status == 0) {
                unanswered.put(branchOf(request), request);
                return;
            }
            response = response(request, status, status == 200 ? sdp : null);
        } else {
            response = response(request, 200, null);
        }
        answered.put(key, response);
        send(response);
    }

    private String response(SipMessage request, int status, String sdp) {
        StringBuilder out = new StringBuilder("SIP/2.0 ").append(status).append(' ').append(reason(status)).append("\r\n");
        for (String via : request.headers("Via")) {
            out.append("Via: ").append(via).append("\r\n");
        }
        out.append("From: ").append(request.header("From").orElse("")).append("\r\n");
        String to = request.header("To").orElse("");
        out.append("To: ").append(to).append(TAG.matcher(to).find() ? "" : ";tag=" + fromTag).append("\r\n");
        out.append("Call-ID: ").append(request.callId()).append("\r\n");
        out.append("CSeq: ").append(request.header("CSeq").orElse("")).append("\r\n");
        if (request.method().equals("INVITE") && status < 300) {
            out.append("Contact: <sip:").append(user).append("@127.0.0.1:").append(localPort()).append(">\r\n");
        }
        String content = sdp == null ? "" : sdp;
        if (sdp != null) {
            out.append("Content-Type: application/sdp\r\n");
        }
        out.append("Content-Length: ").append(content.getBytes(StandardCharsets.UTF_8).length).append("\r\n\r\n")
                .append(content);
        return out.toString();
    }

    private static String reason(int status) {
        return switch (status) {
            case 200 -> "OK";
            case 488 -> "Not Acceptable Here";
            case 491 -> "Request Pending";
            default -> "Status";
        };
    }

    private void send(String text) {
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        try {
            socket.send(new DatagramPacket(bytes, bytes.length, target));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot send to " + target, e);
        }
    }

    private synchronized void requireDialog() {
        if (toHeader == null) {
            throw new IllegalStateException("no dialog: invite() was not answered 2xx");
        }
    }

    private synchronized String callId() {
        return callId;
    }

    private synchronized String toHeader() {
        return toHeader;
    }

    private synchronized String remoteTarget() {
        return remoteTarget;
    }

    private String hostPort() {
        return target.getHostString() + ":" + target.getPort();
    }

    private static String uriOf(String contact) {
        Matcher m = URI_IN_BRACKETS.matcher(contact);
        return m.find() ? m.group(1) : contact.split(";")[0].trim();
    }

    private static String branchOf(SipMessage m) {
        Matcher matcher = BRANCH.matcher(m.header("Via").orElse(""));
        return matcher.find() ? matcher.group(1) : "";
    }

    private static String branch() {
        return "z9hG4bK" + hex();
    }

    private static String hex() {
        return Long.toHexString(ThreadLocalRandom.current().nextLong() & Long.MAX_VALUE);
    }

    @Override
    public void close() {
        socket.close();
        try {
            receiver.join(2000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
