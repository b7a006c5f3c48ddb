package io.webrtcgateway.media.rtp;

import java.io.IOException;
import java.net.BindException;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ProtocolFamily;
import java.net.StandardProtocolFamily;
import java.nio.channels.DatagramChannel;
import java.util.BitSet;

/**
 * Hands out UDP port pairs from {@code gateway.media.rtp-port-range}: RTP on an even port, RTCP on the next
 * odd one (RFC 3550 §11), both bound on one local address. A port the OS refuses (another process, or a
 * socket still closing) is skipped, not fatal.
 *
 * <p>Allocation happens at call setup, never on the packet path, so a monitor on this object is enough.
 * The search starts after the last pair handed out: a port just released is reused last, which keeps late
 * packets of an ended call away from the next one.
 */
public final class RtpPortAllocator {

    private final InetAddress bindAddress;
    private final ProtocolFamily family;
    private final int low;
    private final int high;
    private final int firstPort;
    private final int pairs;

    /** Guarded by {@code this}: bit i set = pair (firstPort + 2i, +1) handed out and not yet released. */
    private final BitSet used;
    /** Guarded by {@code this}. */
    private int cursor;
    /** Guarded by {@code this}. */
    private int inUse;

    public RtpPortAllocator(InetAddress bindAddress, int low, int high) {
        if (low < 1 || high > 65535 || low > high) {
            throw new IllegalArgumentException("RTP port range must be within 1-65535 with low <= high, not "
                    + low + "-" + high);
        }
        this.bindAddress = bindAddress;
        this.family = bindAddress instanceof Inet6Address ? StandardProtocolFamily.INET6 : StandardProtocolFamily.INET;
        this.low = low;
        this.high = high;
        this.firstPort = low % 2 == 0 ? low : low + 1;
        this.pairs = high > firstPort ? (high - firstPort + 1) / 2 : 0;
        if (pairs == 0) {
            throw new IllegalArgumentException("RTP port range " + low + "-" + high
                    + " holds no even/odd port pair");
        }
        this.used = new BitSet(pairs);
    }

    public InetAddress bindAddress() {
        return bindAddress;
    }

    public int pairsTotal() {
        return pairs;
    }

    public synchronized int pairsInUse() {
        return inUse;
    }

    public synchronized int pairsFree() {
        return pairs - inUse;
    }

    /**
     * Binds the next free pair. The caller owns the result and must close it (try-with-resources or the
     * endpoint's close): that is what returns the ports.
     *
     * @throws RtpPortsExhaustedException when every pair is in use or refused by the OS
     * @throws IOException                when binding fails for another reason than the port being taken
     */
    public PortPair allocate() throws IOException {
        int refused = 0;
        for (int attempt = 0; attempt < pairs; attempt++) {
            int index = reserve();
            if (index < 0) {
                break;
            }
            int rtpPort = firstPort + 2 * index;
            DatagramChannel rtp = null;
            DatagramChannel rtcp = null;
            try {
                rtp = bind(rtpPort);
                rtcp = bind(rtpPort + 1);
                return new PortPair(this, rtp, rtcp, rtpPort);
            } catch (BindException e) {
                refused++;
                closeQuietly(rtp);
                closeQuietly(rtcp);
                release(rtpPort);
            } catch (IOException | RuntimeException | Error e) {
                closeQuietly(rtp);
                closeQuietly(rtcp);
                release(rtpPort);
                throw e;
            }
        }
        int busy = pairsInUse();
        throw new RtpPortsExhaustedException("no free RTP/RTCP port pair in " + low + "-" + high + " on "
                + bindAddress.getHostAddress() + ": " + busy + " of " + pairs + " pairs in use"
                + (refused > 0 ? ", " + refused + " refused by the OS (taken by another socket)" : ""));
    }

    private synchronized int reserve() {
        if (inUse == pairs) {
            return -1;
        }
        int index = used.nextClearBit(cursor);
        if (index >= pairs) {
            index = used.nextClearBit(0);
        }
        used.set(index);
        inUse++;
        cursor = index + 1 == pairs ? 0 : index + 1;
        return index;
    }

    /** Called once per pair by {@link PortPair#close()}. */
    synchronized void release(int rtpPort) {
        int index = (rtpPort - firstPort) / 2;
        if (used.get(index)) {
            used.clear(index);
            inUse--;
        }
    }

    private DatagramChannel bind(int port) throws IOException {
        DatagramChannel channel = DatagramChannel.open(family);
        try {
            channel.bind(new InetSocketAddress(bindAddress, port));
            return channel;
        } catch (IOException | RuntimeException e) {
            channel.close();
            throw e;
        }
    }

    private static void closeQuietly(DatagramChannel channel) {
        if (channel != null) {
            try {
                channel.close();
            } catch (IOException ignored) {
                // closing an unregistered channel only releases the descriptor
            }
        }
    }

    @Override
    public String toString() {
        return "RtpPortAllocator[" + low + "-" + high + " on " + bindAddress.getHostAddress() + "]";
    }
}
