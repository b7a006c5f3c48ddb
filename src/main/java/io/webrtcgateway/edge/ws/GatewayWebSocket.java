package io.webrtcgateway.edge.ws;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.webrtcgateway.GatewayApplication;
import io.webrtcgateway.edge.http.ClientAddress;
import jakarta.websocket.CloseReason;
import jakarta.websocket.Endpoint;
import jakarta.websocket.EndpointConfig;
import jakarta.websocket.HandshakeResponse;
import jakarta.websocket.MessageHandler;
import jakarta.websocket.Session;
import jakarta.websocket.server.HandshakeRequest;
import jakarta.websocket.server.ServerEndpointConfig;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@code /ws} endpoint (docs/protocol.md). Registered programmatically; one {@link WsConnection} per
 * socket does the work.
 */
public final class GatewayWebSocket extends Endpoint {
    private static final Logger LOG = LoggerFactory.getLogger(GatewayWebSocket.class);
    public static final String PATH = "/ws";
    static final String UA = "gw.userAgent";
    static final String CLIENT = "gw.client";
    static final String CLIENT_IP = "gw.clientIp";
    /** Put in the handshake's user properties by Jetty before modifyHandshake: the TCP peer. */
    private static final String PEER = "jakarta.websocket.endpoint.remoteAddress";

    private final GatewayApplication app;
    private final ObjectMapper json;
    private final Meters meters;
    private WsConnection connection;

    /** Open sockets, sockets opened and clients cut off as too slow, shared by every endpoint instance. */
    private record Meters(AtomicInteger open, Counter opened, Map<OutboundQueue.TooSlow, Counter> tooSlow) {
        static Meters register(MeterRegistry registry) {
            AtomicInteger open = new AtomicInteger();
            Gauge.builder("gateway.websocket.connections", open, AtomicInteger::get)
                    .description("open WebSocket connections on /ws").register(registry);
            Counter opened = Counter.builder("gateway.websocket.connections.opened")
                    .description("WebSocket connections accepted on /ws").register(registry);
            Map<OutboundQueue.TooSlow, Counter> tooSlow = new java.util.EnumMap<>(OutboundQueue.TooSlow.class);
            for (OutboundQueue.TooSlow why : OutboundQueue.TooSlow.values()) {
                tooSlow.put(why, Counter.builder("gateway.websocket.too.slow")
                        .description("WebSocket connections closed with 4008 because the client did not read what it "
                                + "was sent (docs/protocol.md, Slow clients)")
                        .tag("reason", why.label()).register(registry));
            }
            return new Meters(open, opened, Map.copyOf(tooSlow));
        }
    }

    GatewayWebSocket(GatewayApplication app, ObjectMapper json, Meters meters) {
        this.app = app;
        this.json = json;
        this.meters = meters;
    }

    /** The endpoint config to add to the container's ServerContainer. */
    public static ServerEndpointConfig config(GatewayApplication app, ObjectMapper json) {
        Meters meters = Meters.register(app.metrics().registry());
        return ServerEndpointConfig.Builder.create(GatewayWebSocket.class, PATH)
                .configurator(new ServerEndpointConfig.Configurator() {
                    @Override
                    public <T> T getEndpointInstance(Class<T> endpointClass) {
                        return endpointClass.cast(new GatewayWebSocket(app, json, meters));
                    }

                    @Override
                    public boolean checkOrigin(String originHeaderValue) {
                        return true; // enforced with the Host header at hand by OriginFilter
                    }

                    /*
                     * The user properties written here reach onOpen as its EndpointConfig's. They are this
                     * handshake's own: Jetty 12 (JakartaWebSocketCreator) hands modifyHandshake a copy of the
                     * endpoint config with a fresh user-property map per upgrade request, so concurrent
                     * handshakes cannot see each other's client (HttpTrustIT checks it).
                     */
                    @Override
                    public void modifyHandshake(ServerEndpointConfig sec, HandshakeRequest request,
                                                HandshakeResponse response) {
                        Map<String, List<String>> h = request.getHeaders();
                        Map<String, Object> properties = sec.getUserProperties();
                        properties.put(UA, first(h, "User-Agent"));
                        String forwardedFor = ClientAddress.forwardedFor(h);
                        properties.put(CLIENT, client(app, properties.get(PEER), forwardedFor));
                        properties.put(CLIENT_IP, clientIp(app, properties.get(PEER), forwardedFor));
                        // Jetty 12 hands over the HTTP request's URI: "https" over TLS (HttpsIT), not "wss".
                        String scheme = request.getRequestURI() == null ? null : request.getRequestURI().getScheme();
                        boolean secure = "https".equalsIgnoreCase(scheme) || "wss".equalsIgnoreCase(scheme)
                                || "https".equalsIgnoreCase(first(h, "X-Forwarded-Proto"));
                        response.getHeaders().put("Set-Cookie", List.of(app.affinityCookie().headerValue(secure)));
                    }
                })
                .build();
    }

    private static String client(GatewayApplication app, Object peer, String forwardedFor) {
        if (peer instanceof InetSocketAddress a && a.getAddress() != null) {
            return app.clientAddress().withPort(a.getAddress().getHostAddress(), a.getPort(), forwardedFor);
        }
        return peer == null ? "" : peer.toString();
    }

    /** The client's address alone, as the per-client limits count it (gateway.limits.*-per-address). */
    private static String clientIp(GatewayApplication app, Object peer, String forwardedFor) {
        if (peer instanceof InetSocketAddress a && a.getAddress() != null) {
            return app.clientAddress().resolve(a.getAddress().getHostAddress(), forwardedFor);
        }
        return peer == null ? "" : peer.toString();
    }

    private static String first(Map<String, List<String>> headers, String name) {
        for (Map.Entry<String, List<String>> e : headers.entrySet()) {
            if (e.getKey().equalsIgnoreCase(name) && !e.getValue().isEmpty()) {
                return e.getValue().get(0);
            }
        }
        return null;
    }

    @Override
    public void onOpen(Session ws, EndpointConfig config) {
        meters.open().incrementAndGet();
        meters.opened().increment();
        ws.setMaxTextMessageBufferSize(app.config().limits().maxMessageBytes());
        ws.setMaxBinaryMessageBufferSize(1024);
        ws.setMaxIdleTimeout(app.config().session().idleTimeout().toMillis() + 10_000);
        Object ua = config.getUserProperties().get(UA);
        Object client = config.getUserProperties().get(CLIENT);
        Object clientIp = config.getUserProperties().get(CLIENT_IP);
        connection = new WsConnection(app, json, ws, clientIp == null ? "" : clientIp.toString(),
                client == null ? "" : client.toString(), ua == null ? "" : ua.toString(),
                why -> meters.tooSlow().get(why).increment());
        ws.addMessageHandler(String.class, (MessageHandler.Whole<String>) connection::onText);
        ws.addMessageHandler(ByteBuffer.class, (MessageHandler.Whole<ByteBuffer>) b -> connection.closeNow(
                CloseReason.CloseCodes.CANNOT_ACCEPT, "binary frames are not part of the protocol"));
    }

    @Override
    public void onClose(Session ws, CloseReason reason) {
        meters.open().decrementAndGet();
        if (connection != null) {
            connection.onClosed(reason);
        }
    }

    @Override
    public void onError(Session ws, Throwable error) {
        LOG.debug("websocket error: {}", error.toString());
    }
}
