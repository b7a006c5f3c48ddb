package io.webrtcgateway.media.rtp;

import java.io.IOException;
import java.net.BindException;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ProtocolFamily;
import java.net.StandardProtocolFamily;
import java.nio.channels.DatagramChannel;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * Hands out UDP port pairs from {@code gateway.media.rtp-port-range}: RTP on an even port, RTCP on the next
 * odd one (RFC 3550 §11), both bound on one local address. A port the OS refuses (another process, or a
 * socket still closing) is skipped, not fatal.
 *
 * <p>Which free pair a call gets is drawn at random, uniformly among the free pairs ({@link SecureRandom}):
 * ports handed out in order let anyone who saw one call's port guess the next call's and send to it first
 * (RTP bleed, docs/media.md "Which senders are accepted"). The free pairs are kept in an array with each
 * pair's position in it, so taking a random one and giving one back are O(1), whatever the range's size.
 * A port just released is as likely as any other to be drawn next (1 in the number of free pairs); late
 * packets of an ended call that reach a new one are dropped by the source policy unless they come from the
 * new call's SDP address.
 *
 * <p>Allocation happens at call setup, never on the packet path, so a monitor on this object is enough.
 */
public final class RtpPortAllocator {

    private final InetAddress bindAddress;
    private final ProtocolFamily family;
    private final int low;
    private final int high;
    private final int firstPort;
    private final int pairs;

    private final Random random;
    /**
     * Guarded by {@code this}: the indexes of the free pairs (pair i = ports firstPort + 2i, +1) in
     * {@code free[0..freeCount)}, in no order; the rest of the array holds the pairs handed out.
     */
    private final int[] free;
    /** Guarded by {@code this}: where pair i is in {@link #free}. */
    private final int[] position;
    /** Guarded by {@code this}. */
    private int freeCount;

    public RtpPortAllocator(InetAddress bindAddress, int low, int high) {
        this(bindAddress, low, high, new SecureRandom());
    }

    /** With the given source of randomness (tests). */
    RtpPortAllocator(InetAddress bindAddress, int low, int high, Random random) {
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
        this.random = random;
        this.free = new int[pairs];
        this.position = new int[pairs];
        for (int i = 0; i < pairs; i++) {
            free[i] = i;
            position[i] = i;
        }
        this.freeCount = pairs;
    }

    public InetAddress bindAddress() {
        return bindAddress;
    }

    public int pairsTotal() {
        return pairs;
    }

    public synchronized int pairsInUse() {
        return pairs - freeCount;
    }

    public synchronized int pairsFree() {
        return freeCount;
    }

    /**
     * Binds a free pair drawn at random. The caller owns the result and must close it (try-with-resources or the
     * endpoint's close): that is what returns the ports.
     *
     * @throws RtpPortsExhaustedException when every pair is in use or refused by the OS
     * @throws IOException                when binding fails for another reason than the port being taken
     */
    public PortPair allocate() throws IOException {
        // Pairs the OS refused in this call stay reserved until it returns, so that each is tried once.
        List<Integer> refusedPorts = new ArrayList<>();
        try {
            while (true) {
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
                    closeQuietly(rtp);
                    closeQuietly(rtcp);
                    refusedPorts.add(rtpPort);
                } catch (IOException | RuntimeException | Error e) {
                    closeQuietly(rtp);
                    closeQuietly(rtcp);
                    release(rtpPort);
                    throw e;
                }
            }
        } finally {
            refusedPorts.forEach(this::release);
        }
        int refused = refusedPorts.size();
        int busy = pairsInUse();
        throw new RtpPortsExhaustedException("no free RTP/RTCP port pair in " + low + "-" + high + " on "
                + bindAddress.getHostAddress() + ": " + busy + " of " + pairs + " pairs in use"
                + (refused > 0 ? ", " + refused + " refused by the OS (taken by another socket)" : ""));
    }

    /** A free pair drawn uniformly at random, now marked used; -1 when none is free. */
    private synchronized int reserve() {
        if (freeCount == 0) {
            return -1;
        }
        int index = free[random.nextInt(freeCount)];
        // Swap it with the last free one, then shrink the free part by one.
        moveTo(index, freeCount - 1);
        freeCount--;
        return index;
    }

    /** Called once per pair by {@link PortPair#close()}, and for pairs not bound after all. */
    synchronized void release(int rtpPort) {
        int index = (rtpPort - firstPort) / 2;
        if (position[index] >= freeCount) { // handed out: grow the free part by one and put it there
            moveTo(index, freeCount);
            freeCount++;
        }
    }

    /** Under the monitor: swaps pair {@code index} with whatever is at {@code slot} of {@link #free}. */
    private void moveTo(int index, int slot) {
        int from = position[index];
        int other = free[slot];
        free[slot] = index;
        position[index] = slot;
        free[from] = other;
        position[other] = from;
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
