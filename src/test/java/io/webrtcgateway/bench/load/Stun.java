package io.webrtcgateway.bench.load;

import java.net.Inet4Address;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.util.zip.CRC32;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * The few STUN messages a load-generating "browser" needs for ICE (RFC 8489 framing, RFC 8445 §7 attributes):
 * binding requests it sends as a connectivity check, success responses to the gateway's checks. IPv4 only.
 * Incoming messages are not authenticated: the peer is a gateway under test on a private network namespace.
 */
final class Stun {
    static final int BINDING_REQUEST = 0x0001;
    static final int BINDING_SUCCESS = 0x0101;
    static final int BINDING_ERROR = 0x0111;
    private static final int MAGIC = 0x2112A442;
    private static final int USERNAME = 0x0006;
    private static final int MESSAGE_INTEGRITY = 0x0008;
    private static final int ERROR_CODE = 0x0009;
    private static final int XOR_MAPPED_ADDRESS = 0x0020;
    private static final int PRIORITY = 0x0024;
    private static final int USE_CANDIDATE = 0x0025;
    private static final int FINGERPRINT = 0x8028;
    private static final int ICE_CONTROLLED = 0x8029;
    private static final int ICE_CONTROLLING = 0x802A;

    private Stun() {}

    static boolean isStun(ByteBuffer b) {
        return b.remaining() >= 20 && (b.get(b.position()) & 0xC0) == 0 && b.getInt(b.position() + 4) == MAGIC;
    }

    static int type(ByteBuffer b) {
        return b.getShort(b.position()) & 0xffff;
    }

    /** The 12-byte transaction id of a message at b's position. */
    static byte[] transactionId(ByteBuffer b) {
        byte[] id = new byte[12];
        b.get(b.position() + 8, id);
        return id;
    }

    /** ERROR-CODE of an error response (e.g. 487 Role Conflict, RFC 8445 §7.2.5.1), or 0. */
    static int errorCode(ByteBuffer b) {
        int p = attribute(b, ERROR_CODE);
        if (p < 0 || (b.getShort(p + 2) & 0xffff) < 4) {
            return 0;
        }
        return (b.get(p + 6) & 0x7) * 100 + (b.get(p + 7) & 0xff);
    }

    /** A check that nominates its pair (RFC 8445 §7.1.2: USE-CANDIDATE, sent by the controlling agent). */
    static boolean useCandidate(ByteBuffer b) {
        return attribute(b, USE_CANDIDATE) >= 0;
    }

    /** Where the first attribute of {@code type} starts, or -1. */
    private static int attribute(ByteBuffer b, int wanted) {
        int p = b.position() + 20;
        int end = b.position() + 20 + (b.getShort(b.position() + 2) & 0xffff);
        while (p + 4 <= end && p + 4 <= b.limit()) {
            int type = b.getShort(p) & 0xffff;
            int len = b.getShort(p + 2) & 0xffff;
            if (type == wanted) {
                return p;
            }
            p += 4 + ((len + 3) & ~3);
        }
        return -1;
    }

    /**
     * A connectivity check (RFC 8445 §7.1.1): USERNAME "remote:local", PRIORITY, the role with our tie-breaker,
     * USE-CANDIDATE when controlling (aggressive nomination), MESSAGE-INTEGRITY with the remote password.
     */
    static ByteBuffer bindingRequest(byte[] transactionId, String remoteUfrag, String localUfrag, String remotePwd,
            boolean controlling, long tieBreaker, int priority) {
        ByteBuffer b = ByteBuffer.allocate(200);
        header(b, BINDING_REQUEST, transactionId);
        attribute(b, USERNAME, (remoteUfrag + ":" + localUfrag).getBytes(StandardCharsets.UTF_8));
        attribute(b, PRIORITY, ByteBuffer.allocate(4).putInt(priority).array());
        attribute(b, controlling ? ICE_CONTROLLING : ICE_CONTROLLED, ByteBuffer.allocate(8).putLong(tieBreaker).array());
        if (controlling) {
            attribute(b, USE_CANDIDATE, new byte[0]);
        }
        return finish(b, remotePwd);
    }

    /** Answer to a check from the gateway: XOR-MAPPED-ADDRESS of its source, integrity with our own password. */
    static ByteBuffer bindingSuccess(byte[] transactionId, InetSocketAddress source, String localPwd) {
        ByteBuffer b = ByteBuffer.allocate(100);
        header(b, BINDING_SUCCESS, transactionId);
        byte[] ip = source.getAddress().getAddress();
        if (!(source.getAddress() instanceof Inet4Address)) {
            throw new IllegalArgumentException("IPv4 only: " + source);
        }
        ByteBuffer xor = ByteBuffer.allocate(8);
        xor.put((byte) 0).put((byte) 1).putShort((short) (source.getPort() ^ (MAGIC >>> 16)));
        xor.putInt(ByteBuffer.wrap(ip).getInt() ^ MAGIC);
        attribute(b, XOR_MAPPED_ADDRESS, xor.array());
        return finish(b, localPwd);
    }

    private static void header(ByteBuffer b, int type, byte[] transactionId) {
        b.putShort((short) type).putShort((short) 0).putInt(MAGIC).put(transactionId);
    }

    private static void attribute(ByteBuffer b, int type, byte[] value) {
        b.putShort((short) type).putShort((short) value.length).put(value);
        for (int pad = (4 - value.length % 4) % 4; pad > 0; pad--) {
            b.put((byte) 0);
        }
    }

    /** MESSAGE-INTEGRITY then FINGERPRINT, each computed with the length field covering it (RFC 8489 §14.5, §14.7). */
    private static ByteBuffer finish(ByteBuffer b, String password) {
        int miAt = b.position();
        b.putShort(2, (short) (miAt - 20 + 24));
        byte[] mac;
        try {
            Mac hmac = Mac.getInstance("HmacSHA1");
            hmac.init(new SecretKeySpec(password.getBytes(StandardCharsets.UTF_8), "HmacSHA1"));
            hmac.update(b.array(), 0, miAt);
            mac = hmac.doFinal();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
        attribute(b, MESSAGE_INTEGRITY, mac);
        int fpAt = b.position();
        b.putShort(2, (short) (fpAt - 20 + 8));
        CRC32 crc = new CRC32();
        crc.update(b.array(), 0, fpAt);
        attribute(b, FINGERPRINT, ByteBuffer.allocate(4).putInt((int) crc.getValue() ^ 0x5354554e).array());
        return b.flip();
    }
}
