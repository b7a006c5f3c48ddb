package io.webrtcgateway.media.ice;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.webrtcgateway.media.dtls.PacketKind;
import io.webrtcgateway.testsupport.FuzzBudget;
import org.ice4j.StunException;
import org.ice4j.attribute.Attribute;
import org.ice4j.message.Message;

/**
 * STUN parsing on the browser's ICE socket: the demultiplexing HostSocket does (RFC 7983 §7 first byte via
 * {@link PacketKind}, at least a 20-byte header with the magic cookie, RFC 5389 §6), then ice4j's decoder, which
 * parses every STUN datagram that gets past it. A datagram is either decoded or refused with StunException;
 * anything else would escape into ice4j's reader thread.
 */
class StunMessageFuzzTest {
    private static final int MAGIC_COOKIE = 0x2112A442;

    @FuzzTest(maxDuration = FuzzBudget.MAX_DURATION, maxExecutions = FuzzBudget.EXECUTIONS)
    void decodesOrRefuses(byte[] datagram) {
        int len = datagram.length;
        if (PacketKind.of(datagram, 0, len) != PacketKind.STUN || len < 20 || cookie(datagram) != MAGIC_COOKIE) {
            return; // HostSocket hands it elsewhere or drops it
        }
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

    private static int cookie(byte[] b) {
        return ((b[4] & 0xff) << 24) | ((b[5] & 0xff) << 16) | ((b[6] & 0xff) << 8) | (b[7] & 0xff);
    }
}
