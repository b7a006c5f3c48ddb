package io.webrtcgateway.edge.ws;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.junit.FuzzTest;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.webrtcgateway.GatewayApplication;
import io.webrtcgateway.config.ConfigLoader;
import io.webrtcgateway.testsupport.FreePorts;
import io.webrtcgateway.testsupport.FuzzBudget;
import jakarta.websocket.CloseReason;
import jakarta.websocket.RemoteEndpoint;
import jakarta.websocket.SendResult;
import jakarta.websocket.Session;
import java.lang.reflect.Proxy;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Tag;

/**
 * Text frames on {@code /ws} (docs/protocol.md) through the dispatcher ({@link WsConnection#onText}) of a real
 * gateway started in this JVM: sandbox SIP server, SIP stack and media on loopback, no HTTP listener (the
 * socket is a fake that keeps what is sent). Every remote ICE candidate is denied, so whatever an SDP or a
 * trickled candidate names, nothing is sent beyond the sandbox on 127.0.0.1.
 *
 * <p>Input: up to 8 frames separated by LF, sent on one socket, then {@code bye} and close (the session ends).
 * Every frame gets a reply whose error code, if any, is one of the protocol's; INTERNAL (an exception the
 * dispatcher did not expect) fails, whether it comes at once or later from a request that completes
 * asynchronously.
 *
 * <p>Like every fuzz target it runs apart from the unit tests (tag "fuzz", pom.xml): the gateway it starts sets
 * ice4j's JVM-wide settings, which the ICE unit tests set otherwise.
 */
@Tag("fuzz")
class WsRequestFuzzTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Queue<String> INTERNAL_ERRORS = new ConcurrentLinkedQueue<>();
    private static GatewayApplication app;
    private static FreePorts.Range rtp;

    /**
     * Started by the first input rather than in a BeforeAll: Jazzer's agent is installed just before the first
     * input, and classes it finds already loaded cost far more to instrument than classes loaded after it.
     */
    private static void start() throws Exception {
        rtp = FreePorts.udpRange(20);
        app = new GatewayApplication(ConfigLoader.parse(String.join("\n",
                "gateway.sip.listen = \"127.0.0.1:" + FreePorts.udpAndTcp() + "\"",
                "gateway.sip.sandbox.listen = \"127.0.0.1:" + FreePorts.udpAndTcp() + "\"",
                "gateway.media.rtp-port-range = \"" + rtp.low() + "-" + rtp.high() + "\"",
                "gateway.media.ice-addresses = [\"127.0.0.1\"]",
                "gateway.media.ice-remote-deny = [\"0.0.0.0/0\", \"::/0\"]",
                "gateway.auth.mode = none",
                "gateway.calls.anonymous-dial-plan = [\"*\"]",
                // Every input signs in from this one address, many times a second, and may register a DN.
                "gateway.limits.sign-ins-per-address-per-second = 0",
                "gateway.limits.registrations-per-dn-per-minute = 0",
                "")));
        app.start();
    }

    @AfterAll
    static void stop() {
        if (app != null) {
            app.stop();
        }
        if (rtp != null) {
            FreePorts.release(rtp);
        }
    }

    @FuzzTest(maxDuration = FuzzBudget.MAX_DURATION, maxExecutions = FuzzBudget.EXECUTIONS)
    void dispatchesAnyFrames(byte[] input) throws Exception {
        if (app == null) {
            start();
        }
        checkNoInternalError();
        Queue<String> sent = new ConcurrentLinkedQueue<>();
        WsConnection connection = new WsConnection(app, JSON, fakeSocket(sent), "127.0.0.1", "127.0.0.1:50000",
                "fuzz", why -> { });
        String[] frames = new String(input, StandardCharsets.UTF_8).split("\n", 8);
        for (String frame : frames) {
            connection.onText(frame);
        }
        connection.onText("{\"type\":\"bye\",\"id\":\"end\"}");
        connection.onClosed(new CloseReason(CloseReason.CloseCodes.NORMAL_CLOSURE, "fuzz"));
        for (String message : sent) {
            check(message);
        }
        checkNoInternalError();
    }

    private static void check(String message) throws Exception {
        JsonNode m = JSON.readTree(message);
        String type = m.path("type").asText();
        assertTrue(type.equals("result") || type.equals("error") || type.equals("event"), message);
        if (type.equals("error") && m.path("code").asText().equals("INTERNAL")) {
            INTERNAL_ERRORS.add(message);
        }
    }

    private static void checkNoInternalError() {
        String first = INTERNAL_ERRORS.poll();
        assertEquals(null, first, "the dispatcher answered INTERNAL");
    }

    /** A socket that is open until closed and keeps every text sent (completing each send at once). */
    private static Session fakeSocket(Queue<String> sent) {
        boolean[] open = {true};
        RemoteEndpoint.Async async = (RemoteEndpoint.Async) Proxy.newProxyInstance(
                WsRequestFuzzTest.class.getClassLoader(), new Class<?>[] {RemoteEndpoint.Async.class},
                (proxy, method, args) -> {
                    if (method.getName().equals("sendText") && args.length == 2) {
                        sent.add((String) args[0]);
                        try {
                            check((String) args[0]);
                        } catch (Exception e) {
                            INTERNAL_ERRORS.add("not JSON: " + args[0]);
                        }
                        ((jakarta.websocket.SendHandler) args[1]).onResult(new SendResult());
                    }
                    return defaultValue(method.getReturnType());
                });
        return (Session) Proxy.newProxyInstance(WsRequestFuzzTest.class.getClassLoader(),
                new Class<?>[] {Session.class}, (proxy, method, args) -> switch (method.getName()) {
                    case "getAsyncRemote" -> async;
                    case "isOpen" -> open[0];
                    case "close" -> {
                        open[0] = false;
                        yield null;
                    }
                    case "getId" -> "fuzz";
                    case "toString" -> "fuzz socket";
                    case "hashCode" -> System.identityHashCode(proxy);
                    case "equals" -> proxy == args[0];
                    default -> defaultValue(method.getReturnType());
                });
    }

    private static Object defaultValue(Class<?> type) {
        if (type == boolean.class) {
            return false;
        }
        if (type == int.class || type == long.class || type == short.class || type == byte.class) {
            return type == long.class ? (Object) 0L : type == int.class ? (Object) 0 : type == short.class
                    ? (Object) (short) 0 : (Object) (byte) 0;
        }
        return type.isPrimitive() ? null : type == List.class ? List.of() : null;
    }
}
