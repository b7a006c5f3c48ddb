package io.webrtcgateway.media.ice;

import org.ice4j.ResponseCollector;
import org.ice4j.StunResponseEvent;
import org.ice4j.StunTimeoutEvent;
import org.ice4j.Transport;
import org.ice4j.TransportAddress;
import org.ice4j.attribute.Attribute;
import org.ice4j.attribute.MappedAddressAttribute;
import org.ice4j.attribute.XorMappedAddressAttribute;
import org.ice4j.ice.CandidateExtendedType;
import org.ice4j.ice.Component;
import org.ice4j.ice.HostCandidate;
import org.ice4j.ice.LocalCandidate;
import org.ice4j.ice.ServerReflexiveCandidate;
import org.ice4j.message.Message;
import org.ice4j.message.MessageFactory;
import org.ice4j.message.Response;
import org.ice4j.stack.StunStack;
import org.ice4j.stack.TransactionID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.Inet4Address;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

/**
 * One STUN Binding round (RFC 8489 §6, RFC 8445 §5.1.1.2) per host candidate and configured STUN server, sent
 * from the host socket itself so the server sees the NAT mapping media will use. Asynchronous: requests go
 * out through the agent's STUN stack and answers come back on ice4j's threads, so creating a transport never
 * waits for a STUN server (ice4j's own StunCandidateHarvester blocks its caller until every server answered
 * or timed out).
 */
final class ServerReflexiveGathering implements ResponseCollector {

    private static final Logger LOG = LoggerFactory.getLogger(ServerReflexiveGathering.class);

    private final Component component;
    private final Consumer<LocalCandidate> onCandidate;
    private final Runnable onDone;
    private final AtomicInteger outstanding = new AtomicInteger();

    private record Request(HostCandidate host, TransportAddress server) {}

    private ServerReflexiveGathering(Component component, Consumer<LocalCandidate> onCandidate, Runnable onDone) {
        this.component = component;
        this.onCandidate = onCandidate;
        this.onDone = onDone;
    }

    /**
     * Starts the round; {@code onCandidate} gets each new server-reflexive candidate, then {@code onDone} runs
     * once, when every request was answered or timed out (at once if there is nothing to ask).
     */
    static void start(Component component, StunStack stunStack, List<InetSocketAddress> servers,
                      Consumer<LocalCandidate> onCandidate, Runnable onDone) {
        ServerReflexiveGathering gathering = new ServerReflexiveGathering(component, onCandidate, onDone);
        // Counts one for the loop itself, so that quick answers cannot finish the round while it is still sending.
        gathering.outstanding.incrementAndGet();
        for (LocalCandidate candidate : component.getLocalCandidates()) {
            if (!(candidate instanceof HostCandidate host)) {
                continue;
            }
            for (InetSocketAddress server : servers) {
                boolean sameFamily = (server.getAddress() instanceof Inet4Address)
                        == (host.getTransportAddress().getAddress() instanceof Inet4Address);
                if (sameFamily) {
                    gathering.send(stunStack, host, new TransportAddress(server, Transport.UDP));
                }
            }
        }
        gathering.finishOne();
    }

    private void send(StunStack stunStack, HostCandidate host, TransportAddress server) {
        TransactionID id = TransactionID.createNewTransactionID();
        id.setApplicationData(new Request(host, server));
        outstanding.incrementAndGet();
        try {
            stunStack.sendRequest(MessageFactory.createBindingRequest(), server, host.getTransportAddress(), this, id);
        } catch (Exception e) {
            LOG.warn("ICE: STUN request to {} from {} failed: {}", server, host.getTransportAddress(), e.toString());
            finishOne();
        }
    }

    @Override
    public void processResponse(StunResponseEvent event) {
        try {
            Request request = (Request) event.getTransactionID().getApplicationData();
            Response response = event.getResponse();
            TransportAddress mapped = mappedAddress(response);
            if (response.getMessageType() != Message.BINDING_SUCCESS_RESPONSE || mapped == null) {
                LOG.info("ICE: STUN server {} gave no mapped address (type {})", request.server(),
                        (int) response.getMessageType());
                return;
            }
            ServerReflexiveCandidate candidate = new ServerReflexiveCandidate(mapped, request.host(),
                    request.server(), CandidateExtendedType.STUN_SERVER_REFLEXIVE_CANDIDATE);
            // false when redundant (no NAT: the mapped address is the host address, RFC 8445 §5.1.3)
            if (component.addLocalCandidate(candidate)) {
                onCandidate.accept(candidate);
            }
        } catch (RuntimeException e) {
            LOG.warn("ICE: bad STUN response", e);
        } finally {
            finishOne();
        }
    }

    @Override
    public void processTimeout(StunTimeoutEvent event) {
        Request request = (Request) event.getTransactionID().getApplicationData();
        LOG.info("ICE: no answer from STUN server {} to {}", request.server(), request.host().getTransportAddress());
        finishOne();
    }

    private static TransportAddress mappedAddress(Response response) {
        if (response.getAttribute(Attribute.XOR_MAPPED_ADDRESS) instanceof XorMappedAddressAttribute xor) {
            return xor.getAddress(response.getTransactionID());
        }
        // RFC 8489 §14.1: servers answering RFC 3489 clients may only send MAPPED-ADDRESS.
        if (response.getAttribute(Attribute.MAPPED_ADDRESS) instanceof MappedAddressAttribute plain) {
            return plain.getAddress();
        }
        return null;
    }

    private void finishOne() {
        if (outstanding.decrementAndGet() == 0) {
            onDone.run();
        }
    }
}
