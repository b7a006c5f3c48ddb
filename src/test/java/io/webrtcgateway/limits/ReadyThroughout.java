package io.webrtcgateway.limits;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.webrtcgateway.testsupport.GatewayProcess;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

/**
 * Asks {@code /health/ready} about every 200 ms on a thread of its own while attacks run, and keeps every answer
 * that was not 200: one client's limits and bad input must never make an instance look unready (nor may it stay
 * ready while stuck, which is not what these tests attack).
 */
final class ReadyThroughout implements AutoCloseable {
    private final GatewayProcess gateway;
    private final List<Integer> notReady = new CopyOnWriteArrayList<>();
    private final AtomicInteger polls = new AtomicInteger();
    private final Thread poller;
    private volatile boolean running = true;

    ReadyThroughout(GatewayProcess gateway) {
        this.gateway = gateway;
        this.poller = new Thread(this::poll, "ready-throughout");
        poller.setDaemon(true);
        poller.start();
    }

    private void poll() {
        while (running) {
            int status = gateway.httpStatus("/health/ready");
            if (!running) {
                return;
            }
            polls.incrementAndGet();
            if (status != 200) {
                notReady.add(status);
            }
            LockSupport.parkNanos(200_000_000L);
        }
    }

    /** Every answer so far was 200, and there were some. */
    void assertAlwaysReady() {
        assertTrue(polls.get() > 0, "/health/ready was asked");
        assertTrue(notReady.isEmpty(), "/health/ready answered " + notReady + " in " + polls.get() + " polls");
    }

    int polls() {
        return polls.get();
    }

    @Override
    public void close() {
        running = false;
        poller.interrupt();
    }
}
