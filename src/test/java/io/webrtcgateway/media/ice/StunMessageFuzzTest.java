package io.webrtcgateway.media.ice;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.webrtcgateway.media.dtls.PacketKind;
import io.webrtcgateway.testsupport.FuzzBudget;
import org.ice4j.StunException;
import org.ice4j.attribute.Attribute;
import org.ice4j.message.Message;
import org.junit.jupiter.api.Tag;

/**
 * STUN parsing on the browser's ICE socket: the demultiplexing HostSocket does (RFC 7983 §7 first byte via
 * {@link PacketKind}, then {@link StunShape}), its own reading of Binding error responses, then ice4j's
 * decoder, which parses every STUN datagram that gets past it. A datagram is either decoded or refused with StunException;
 * anything else would escape into ice4j's reader thread.
 */
@Tag("fuzz")
class StunMessageFuzzTest {
    @FuzzTest(maxDuration = FuzzBudget.MAX_DURATION, maxExecutions = FuzzBudget.EXECUTIONS)
    void decodesOrRefuses(byte[] datagram) {
        int len = datagram.length;
        if (PacketKind.of(datagram, 0, len) != PacketKind.STUN || !StunShape.wellFormed(datagram, 0, len)) {
            return; // HostSocket hands it elsewhere or drops it
        }
        // The gateway's own reading of a Binding error response, before ice4j sees it.
        HostSocket.parseErrorResponse(datagram, len, null, 0);
        Message message;
        try {
            message = Message.decode(datagram, 0, len);
        } catch (StunException refused) {
            return;
        }
        for (Attribute a : message.getAttributes()) {
            a.getAttributeType();
            a.getDataLength();
        }
        message.toString();
    }
}
