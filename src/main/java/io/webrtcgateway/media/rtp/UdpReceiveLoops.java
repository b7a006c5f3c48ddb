package io.webrtcgateway.media.rtp;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedSelectorException;
import java.nio.channels.DatagramChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A few selector threads that read every media socket of the instance: each socket belongs to one loop
 * for its whole life, so everything a receiver does for it runs on one thread, in arrival order, with no
 * lock. Thousands of sockets on a handful of threads (a thread per socket would cost ~1 MB of stack and a
 * context switch per packet); the datagram goes from {@code receive} to the receiver's send without a
 * queue or a hand-off, which keeps the added latency to the work itself.
 *
 * <p>Owned by the application lifecycle: one instance, closed on undeploy (no static threads).
 */
public final class UdpReceiveLoops implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(UdpReceiveLoops.class);

    /** Largest UDP payload: a datagram never arrives truncated. */
    private static final int RECEIVE_BUFFER = 65536;
    /**
     * Datagrams read from one backlogged socket before giving the others a turn. A socket only counts as
     * backlogged when it was ready in the previous round too: an RTP socket (50 packets/s) normally holds one
     * datagram when it is reported, and reading on until {@code EAGAIN} would be a second system call per
     * packet for nothing (measured: 1.96 recvfrom per relayed packet, now 1.04). Selection is level-triggered,
     * so a datagram left behind reports the socket again in the next round.
     */
    private static final int BURST = 32;
    private static final long CONTROL_TIMEOUT_SECONDS = 5;

    private final Loop[] loops;

    public UdpReceiveLoops(String name, int threads) throws IOException {
        if (threads < 1) {
            throw new IllegalArgumentException("threads must be >= 1, not " + threads);
        }
        loops = new Loop[threads];
        try {
            for (int i = 0; i < threads; i++) {
                loops[i] = new Loop(name + "-" + i);
            }
        } catch (IOException | RuntimeException e) {
            close();
            throw e;
        }
        for (Loop loop : loops) {
            loop.thread.start();
        }
    }

    /** The loop with the fewest sockets: register all sockets of one endpoint on it. */
    public Loop leastLoaded() {
        Loop best = loops[0];
        for (Loop loop : loops) {
            if (loop.sockets.get() < best.sockets.get()) {
                best = loop;
            }
        }
        return best;
    }

    public List<Loop> loops() {
        return List.of(loops);
    }

    /** Thread ids of the loops, for CPU and allocation accounting (ThreadMXBean). */
    public long[] threadIds() {
        long[] ids = new long[loops.length];
        for (int i = 0; i < loops.length; i++) {
            ids[i] = loops[i].thread.getId();
        }
        return ids;
    }

    public int sockets() {
        int n = 0;
        for (Loop loop : loops) {
            n += loop.sockets.get();
        }
        return n;
    }

    /** Exceptions thrown by receivers (each one dropped the datagram it was handling). */
    public long receiverFailures() {
        long n = 0;
        for (Loop loop : loops) {
            n += loop.receiverFailures.sum();
        }
        return n;
    }

    /** Stops the threads; sockets still registered are dropped from the selectors, not closed. */
    @Override
    public void close() {
        for (Loop loop : loops) {
            if (loop != null) {
                loop.shutdown();
            }
        }
        for (Loop loop : loops) {
            if (loop != null) {
                loop.join();
            }
        }
    }

    /** One selector thread. */
    public static final class Loop {
        private final Selector selector;
        private final Thread thread;
        private final Queue<Runnable> tasks = new ConcurrentLinkedQueue<>();
        private final AtomicInteger sockets = new AtomicInteger();
        private final LongAdder receiverFailures = new LongAdder();
        private final byte[] receiveArray = new byte[RECEIVE_BUFFER];
        private final ByteBuffer receiveBuffer = ByteBuffer.wrap(receiveArray);
        /** One instance, so select(Consumer) allocates no lambda per round. */
        private final Consumer<SelectionKey> onReady = this::onReady;
        /** Loop thread only: selection rounds so far, to tell a backlogged socket (ready two rounds running). */
        private long round;
        private volatile boolean running = true;
        /** Loop thread only: to run once the next selection operation has dropped cancelled keys. */
        private List<Runnable> afterNextSelect = new ArrayList<>();
        /** Loop thread only: the previous afterNextSelect, being run (two lists swapped, no copying). */
        private List<Runnable> dueNow = new ArrayList<>();

        private Loop(String name) throws IOException {
            selector = Selector.open();
            thread = new Thread(this::run, name);
            thread.setDaemon(true);
        }

        public boolean inLoop() {
            return Thread.currentThread() == thread;
        }

        /**
         * Registers {@code channel} (made non-blocking) for reading; {@code receiver} gets its datagrams on
         * this loop's thread. Waits until the loop has taken it.
         */
        public SelectionKey register(DatagramChannel channel, DatagramReceiver receiver) throws IOException {
            channel.configureBlocking(false);
            return call(() -> {
                SelectionKey key = channel.register(selector, SelectionKey.OP_READ, new Socket(channel, receiver));
                sockets.incrementAndGet();
                return key;
            });
        }

        /**
         * Drops {@code keys} from the selector and runs {@code afterwards} on the loop once a selection
         * operation has really let go of their channels (a registered channel's descriptor is only closed
         * then: Selector, "deregistered during the next selection operation"). From another thread it waits
         * for that; on the loop thread itself (a receiver closing its own endpoint) it cannot, and
         * {@code afterwards} runs right after the current round. Runs {@code afterwards} directly when the
         * loop is gone or does not answer, so it must be idempotent (closing a {@link PortPair} is).
         */
        public void deregister(List<SelectionKey> keys, Runnable afterwards) {
            if (inLoop()) {
                cancel(keys);
                afterNextSelect.add(afterwards);
                return;
            }
            if (!running) {
                afterwards.run(); // the closed selector has dropped every key
                return;
            }
            CompletableFuture<Void> done = new CompletableFuture<>();
            Runnable then = () -> {
                try {
                    afterwards.run();
                } finally {
                    done.complete(null);
                }
            };
            execute(() -> {
                cancel(keys);
                afterNextSelect.add(then);
            });
            try {
                done.get(CONTROL_TIMEOUT_SECONDS, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                afterwards.run();
            } catch (ExecutionException | TimeoutException e) {
                LOG.warn("receive loop {} did not release sockets in time", thread.getName());
                afterwards.run();
            }
        }

        private void cancel(List<SelectionKey> keys) {
            for (SelectionKey key : keys) {
                if (key.isValid()) {
                    key.cancel();
                    sockets.decrementAndGet();
                }
            }
        }

        /** Runs {@code task} on this loop's thread soon (control operations only, not per packet). */
        public void execute(Runnable task) {
            tasks.add(task);
            selector.wakeup();
        }

        private interface IoCallable<T> {
            T call() throws IOException;
        }

        private <T> T call(IoCallable<T> work) throws IOException {
            if (inLoop()) {
                return work.call();
            }
            if (!running) {
                throw new IOException("receive loop " + thread.getName() + " is closed");
            }
            CompletableFuture<T> done = new CompletableFuture<>();
            execute(() -> {
                try {
                    done.complete(work.call());
                } catch (Throwable t) {
                    done.completeExceptionally(t);
                }
            });
            try {
                return done.get(CONTROL_TIMEOUT_SECONDS, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted waiting for receive loop " + thread.getName(), e);
            } catch (TimeoutException e) {
                throw new IOException("receive loop " + thread.getName() + " did not answer in "
                        + CONTROL_TIMEOUT_SECONDS + " s", e);
            } catch (ExecutionException e) {
                if (e.getCause() instanceof IOException io) {
                    throw io;
                }
                throw new IOException(e.getCause());
            }
        }

        private void run() {
            while (running) {
                try {
                    round++;
                    if (afterNextSelect.isEmpty()) {
                        selector.select(onReady);
                    } else {
                        List<Runnable> due = afterNextSelect;
                        afterNextSelect = dueNow;
                        dueNow = due;
                        selector.selectNow(onReady); // drops the cancelled keys, then `due` may run
                        runAll(due);
                    }
                    runTasks();
                } catch (ClosedSelectorException e) {
                    break;
                } catch (IOException | RuntimeException e) {
                    LOG.warn("receive loop {}: {}", thread.getName(), e.toString());
                }
            }
            try {
                selector.close(); // deregisters every key: the channels' owners can close them now
            } catch (IOException e) {
                LOG.debug("closing selector of {}", thread.getName(), e);
            }
            runTasks();
            runAll(afterNextSelect);
            runAll(dueNow);
        }

        private void runAll(List<Runnable> list) {
            for (int i = 0; i < list.size(); i++) {
                try {
                    list.get(i).run();
                } catch (RuntimeException e) {
                    LOG.warn("receive loop {} task failed", thread.getName(), e);
                }
            }
            list.clear();
        }

        private void runTasks() {
            Runnable task;
            while ((task = tasks.poll()) != null) {
                try {
                    task.run();
                } catch (RuntimeException e) {
                    LOG.warn("receive loop {} task failed", thread.getName(), e);
                }
            }
        }

        private void onReady(SelectionKey key) {
            Socket socket = (Socket) key.attachment();
            int reads = socket.readyInRound == round - 1 ? BURST : 1;
            socket.readyInRound = round;
            for (int i = 0; i < reads; i++) {
                receiveBuffer.clear();
                SocketAddress source;
                try {
                    source = socket.channel.receive(receiveBuffer);
                } catch (IOException e) {
                    // e.g. the channel was closed under us; the owner deregisters it
                    return;
                }
                if (source == null) {
                    return;
                }
                try {
                    socket.receiver.onDatagram(receiveArray, 0, receiveBuffer.position(), (InetSocketAddress) source);
                } catch (RuntimeException e) {
                    receiverFailures.increment();
                    if (receiverFailures.sum() % 1000 == 1) {
                        LOG.warn("receiver on {} threw; datagram dropped ({} so far)", thread.getName(),
                                receiverFailures.sum(), e);
                    }
                }
            }
        }

        private void shutdown() {
            running = false;
            selector.wakeup();
        }

        private void join() {
            try {
                thread.join(TimeUnit.SECONDS.toMillis(CONTROL_TIMEOUT_SECONDS));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            if (thread.isAlive()) {
                LOG.warn("receive loop {} did not stop", thread.getName());
            }
        }

        @Override
        public String toString() {
            return thread.getName();
        }
    }

    private static final class Socket {
        final DatagramChannel channel;
        final DatagramReceiver receiver;
        /** Loop thread only: the last round this socket was reported ready in. */
        long readyInRound = -2;

        Socket(DatagramChannel channel, DatagramReceiver receiver) {
            this.channel = channel;
            this.receiver = receiver;
        }
    }
}
