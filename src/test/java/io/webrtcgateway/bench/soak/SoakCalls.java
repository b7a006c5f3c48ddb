package io.webrtcgateway.bench.soak;

import io.webrtcgateway.bench.load.LoadMedia;
import io.webrtcgateway.bench.load.MediaLeg;
import io.webrtcgateway.bench.load.Phone;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;

/**
 * The soak's callers. Each of {@code lines} threads is one desk: an agent's phone (a session with a DN
 * registered) places a call to the SIP side's echo, holds it a random time, hangs up, and places the next; after a
 * call the agent signs out now and then ({@code signOutFraction}) and another signs in and registers. Beside them,
 * idle registered sessions (agents without a call), a fraction of which {@link #rotateIdle} signs out and replaces.
 * Of the sessions that leave, one in {@link #ABANDON_ONE_IN} only closes its socket, as a closed tab does: the
 * gateway ends it after its idle timeout.
 *
 * <p>Agents come back: DNs are taken from a pool a quarter larger than the sessions, the one free longest first, as
 * a contact centre's agents sign in again with their own number. (New DNs without end would grow the gateway's
 * per-DN registration allowances, which it keeps for up to gateway.limits.max-tracked-clients DNs: growth by
 * design, not what a soak looks for.) An abandoned agent's DN may come back while its old session still waits for
 * its idle timeout: the new session takes the DN over, as after a page reload.
 *
 * <p>Counters are cumulative; the soak takes their differences per minute.
 */
final class SoakCalls {
    private static final Duration STEP = Duration.ofSeconds(15);
    /** Between a call's last packet and its hang-up: the echoes of the last packets come back first. */
    private static final Duration LAST_ECHOES = Duration.ofMillis(200);
    private static final int ABANDON_ONE_IN = 4;
    private static final int FAILURES_KEPT = 20;

    private final Phone.Factory phones;
    private final LoadMedia media;
    private final int lines;
    private final Duration minHold;
    private final Duration maxHold;
    private final double signOutFraction;
    private final CountDownLatch stop = new CountDownLatch(1);
    private final List<Thread> threads = new ArrayList<>();
    private final AtomicInteger dns = new AtomicInteger();
    /** DNs no session holds, the one free longest first. */
    private final ConcurrentLinkedQueue<String> freeDns = new ConcurrentLinkedQueue<>();
    /** Idle registered agents. Guarded by itself. */
    private final List<Agent> idle = new ArrayList<>();

    /** A signed-in session and the DN it registered. */
    private record Agent(Phone phone, String dn) {}

    final AtomicInteger up = new AtomicInteger();
    final LongAdder started = new LongAdder();
    final LongAdder ended = new LongAdder();
    final LongAdder failed = new LongAdder();
    final LongAdder signIns = new LongAdder();
    final LongAdder signInFailures = new LongAdder();
    final LongAdder signOuts = new LongAdder();
    final LongAdder abandoned = new LongAdder();
    final ConcurrentLinkedQueue<String> failures = new ConcurrentLinkedQueue<>();
    private final AtomicInteger failuresSeen = new AtomicInteger();

    /** {@code sessions}: how many will be signed in at once (lines and idle ones), for the size of the DN pool. */
    SoakCalls(Phone.Factory phones, LoadMedia media, int lines, int sessions, Duration minHold, Duration maxHold,
            double signOutFraction) {
        this.phones = phones;
        this.media = media;
        this.lines = lines;
        this.minHold = minHold;
        this.maxHold = maxHold;
        this.signOutFraction = signOutFraction;
        for (int i = 0; i < sessions + Math.max(8, sessions / 4); i++) {
            freeDns.add("soak-" + dns.incrementAndGet());
        }
    }

    /** Starts the lines, one every {@code ramp / lines}, so that the setups of the ramp are spread over it. */
    void start(Duration ramp) {
        for (int i = 0; i < lines; i++) {
            long delay = ramp.toNanos() * i / lines;
            Thread t = new Thread(() -> line(delay), "soak-line-" + i);
            t.setDaemon(true);
            threads.add(t);
            t.start();
        }
    }

    /** Signs {@code n} idle sessions in (32 at a time would be faster; the ramp has time). */
    void startIdle(int n) {
        for (int i = 0; i < n && !stopping(); i++) {
            try {
                Agent a = signIn();
                synchronized (idle) {
                    idle.add(a);
                }
            } catch (Exception e) {
                failure("idle sign-in", e);
            }
        }
    }

    /** Signs out {@code fraction} of the idle sessions, chosen at random, and signs as many new ones in. */
    void rotateIdle(double fraction) {
        List<Agent> leaving = new ArrayList<>();
        synchronized (idle) {
            int k = (int) Math.round(idle.size() * fraction);
            for (int i = 0; i < k; i++) {
                leaving.add(idle.remove(ThreadLocalRandom.current().nextInt(idle.size())));
            }
        }
        for (Agent a : leaving) {
            leave(a);
        }
        startIdle(leaving.size());
    }

    int idleCount() {
        synchronized (idle) {
            return idle.size();
        }
    }

    /**
     * Ends every line's call (hung up as usual) and signs every phone out with {@code bye}; returns when all
     * lines are done or {@code timeout} passed (then false).
     */
    boolean stop(Duration timeout) throws InterruptedException {
        stop.countDown();
        long deadline = System.nanoTime() + timeout.toNanos();
        for (Thread t : threads) {
            t.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime())));
        }
        List<Agent> left;
        synchronized (idle) {
            left = new ArrayList<>(idle);
            idle.clear();
        }
        for (Agent a : left) {
            signOut(a);
        }
        return threads.stream().noneMatch(Thread::isAlive);
    }

    private boolean stopping() {
        return stop.getCount() == 0;
    }

    /** Waits {@code d} unless the soak stops first; true if it stopped. */
    private boolean awaitStop(Duration d) {
        try {
            return stop.await(d.toNanos(), TimeUnit.NANOSECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return true;
        }
    }

    private void line(long startDelayNanos) {
        if (awaitStop(Duration.ofNanos(startDelayNanos))) {
            return;
        }
        Agent agent = null;
        while (!stopping()) {
            if (agent == null) {
                try {
                    agent = signIn();
                } catch (Exception e) {
                    failure("sign-in", e);
                    awaitStop(Duration.ofSeconds(1));
                    continue;
                }
            }
            if (!call(agent.phone())) {
                abandon(agent); // in a state the line does not know: another agent (this session expires)
                agent = null;
                awaitStop(Duration.ofSeconds(1));
                continue;
            }
            if (!stopping() && ThreadLocalRandom.current().nextDouble() < signOutFraction) {
                leave(agent);
                agent = null;
            }
        }
        if (agent != null) {
            signOut(agent);
        }
    }

    /** One call: placed, media up, held, hung up. False if any of it failed. */
    private boolean call(Phone phone) {
        MediaLeg leg;
        try {
            leg = media.newLeg();
        } catch (Exception e) {
            failed.increment();
            failure("media socket", e);
            return false;
        }
        try {
            try {
                leg.answer(phone.call(phones.echoTarget(), leg.offer(), STEP));
                leg.mediaUp().get(STEP.toSeconds(), TimeUnit.SECONDS);
            } catch (Exception e) {
                failed.increment();
                failure("setup", e + " " + leg);
                try {
                    phone.hangup(STEP);
                } catch (Exception ignored) {
                    // the call may never have existed or be gone already; the phone is replaced anyway
                }
                return false;
            }
            started.increment();
            up.incrementAndGet();
            try {
                long holdMs = ThreadLocalRandom.current().nextLong(minHold.toMillis(), maxHold.toMillis() + 1);
                awaitStop(Duration.ofMillis(holdMs));
                leg.stopSending();
                parkQuietly(LAST_ECHOES);
                try {
                    phone.hangup(STEP);
                } catch (Exception e) {
                    // CALL_UNKNOWN: the gateway had ended the call (media timeout, ICE failure...); or no answer
                    failed.increment();
                    failure("hang-up", e + " " + leg);
                    return false;
                }
                ended.increment();
                return true;
            } finally {
                up.decrementAndGet();
            }
        } finally {
            leg.close();
        }
    }

    /** A new session: connected, {@code hello}, and a free DN registered. */
    private Agent signIn() throws Exception {
        String dn = freeDns.poll();
        if (dn == null) {
            dn = "soak-" + dns.incrementAndGet(); // every DN of the pool taken: a stop is slow to give them back
        }
        Phone p = null;
        try {
            p = phones.connect();
            p.register(dn, STEP);
        } catch (Exception e) {
            if (p != null) {
                p.close();
            }
            freeDns.add(dn);
            signInFailures.increment();
            throw e;
        }
        signIns.increment();
        return new Agent(p, dn);
    }

    /** An agent leaves: {@code bye} mostly; one in {@link #ABANDON_ONE_IN} just goes away. */
    private void leave(Agent a) {
        if (ThreadLocalRandom.current().nextInt(ABANDON_ONE_IN) == 0) {
            abandon(a);
        } else {
            signOut(a);
        }
    }

    private void abandon(Agent a) {
        a.phone().close();
        abandoned.increment();
        freeDns.add(a.dn());
    }

    private void signOut(Agent a) {
        try {
            a.phone().signOut(STEP);
            signOuts.increment();
        } catch (Exception e) {
            failure("sign-out", e);
        } finally {
            freeDns.add(a.dn());
        }
    }

    private void failure(String what, Object why) {
        if (failuresSeen.incrementAndGet() <= FAILURES_KEPT) {
            failures.add(what + ": " + why);
        }
    }

    /** Lets time pass (nothing to wait for: the last echoes are on their way). */
    private static void parkQuietly(Duration d) {
        long deadline = System.nanoTime() + d.toNanos();
        for (long left; (left = deadline - System.nanoTime()) > 0; ) {
            LockSupport.parkNanos(left);
        }
    }
}
