package io.webrtcgateway.sip;

import io.webrtcgateway.config.IpLiteral;
import java.net.InetAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.net.UnknownHostException;
import java.util.Collections;
import java.util.HashSet;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Host name -> addresses for the SIP source check ({@link TrustedSipSources}), looked up on a thread of its
 * own so that no SIP thread ever waits for DNS: {@link #known} answers from what is cached and, for a name
 * it has not seen or saw too long ago, asks for a lookup in the background. IP literals are parsed, never
 * looked up. The JVM caches lookups too (networkaddress.cache.ttl, 30 s by default).
 */
final class SipHostResolver implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(SipHostResolver.class);

    /** A name looked up longer ago than this is looked up again on its next use. */
    static final long STALE_NANOS = TimeUnit.SECONDS.toNanos(60);
    /** Names cached at most: past this, the cache is cleared (names only come from trusted messages and config). */
    static final int MAX_NAMES = 1024;

    /** What a name resolved to (empty: the lookup failed) and when. */
    private record Entry(Set<InetAddress> addresses, long resolvedAtNanos) {}

    private final ExecutorService lookups;
    private final Map<String, Entry> cache = new ConcurrentHashMap<>();
    /** Names with a lookup queued or running, so a burst of requests asks once. */
    private final Set<String> pending = ConcurrentHashMap.newKeySet();

    SipHostResolver(String threadName) {
        this.lookups = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, threadName);
            t.setDaemon(true);
            return t;
        });
    }

    /**
     * The addresses {@code host} is known by, without blocking: an IP literal's own; a name's from the
     * cache, empty until its first lookup finished.
     */
    Set<InetAddress> known(String host) {
        InetAddress literal = literal(host);
        if (literal != null) {
            return Set.of(literal);
        }
        String name = host.toLowerCase(Locale.ROOT);
        Entry e = cache.get(name);
        if (e == null || System.nanoTime() - e.resolvedAtNanos > STALE_NANOS) {
            lookUpLater(name);
        }
        return e == null ? Set.of() : e.addresses;
    }

    /** Looks {@code host} up now, on the calling thread (at start, before any request is taken). */
    Set<InetAddress> resolveNow(String host) {
        if (literal(host) == null) {
            lookUp(host.toLowerCase(Locale.ROOT));
        }
        return known(host);
    }

    /** Asks for a fresh lookup of {@code host} in the background (a SIP Server's name, at every keepalive). */
    void refresh(String host) {
        if (literal(host) == null) {
            lookUpLater(host.toLowerCase(Locale.ROOT));
        }
    }

    private void lookUpLater(String name) {
        if (!pending.add(name)) {
            return;
        }
        try {
            lookups.execute(() -> {
                try {
                    lookUp(name);
                } finally {
                    pending.remove(name);
                }
            });
        } catch (RejectedExecutionException e) {
            pending.remove(name); // closed
        }
    }

    /** Blocking; keeps the last good answer when a lookup fails, so a DNS outage does not lock SIP Server out. */
    private void lookUp(String name) {
        Set<InetAddress> found;
        try {
            Set<InetAddress> all = new HashSet<>();
            for (InetAddress a : InetAddress.getAllByName(name)) {
                all.add(a);
            }
            found = Set.copyOf(all);
        } catch (UnknownHostException | SecurityException e) {
            found = null;
        }
        Entry old = cache.get(name);
        if (found == null) {
            if (old == null || old.addresses.isEmpty()) {
                LOG.warn("cannot resolve {}: requests from it are not accepted until it resolves", name);
            } else {
                LOG.debug("cannot resolve {} now; keeping {}", name, old.addresses);
            }
            found = old == null ? Set.of() : old.addresses;
        } else if (old != null && !old.addresses.equals(found)) {
            LOG.info("{} now resolves to {} (was {})", name, found, old.addresses);
        }
        if (old == null && cache.size() >= MAX_NAMES) {
            cache.clear(); // crude, but bounded; SIP Servers' names are looked up again at the next keepalive
        }
        cache.put(name, new Entry(found, System.nanoTime()));
    }

    /** Every address of this machine's interfaces: what a server bound to the wildcard sends from. */
    static Set<InetAddress> localAddresses() {
        Set<InetAddress> all = new HashSet<>();
        try {
            for (NetworkInterface nif : Collections.list(NetworkInterface.getNetworkInterfaces())) {
                all.addAll(Collections.list(nif.getInetAddresses()));
            }
        } catch (SocketException e) {
            LOG.debug("cannot list interfaces: {}", e.toString());
        }
        all.add(InetAddress.getLoopbackAddress());
        return all;
    }

    /** An IPv4 dotted quad or an IPv6 literal (brackets allowed, as in a SIP URI), never a DNS lookup. */
    static InetAddress literal(String host) {
        return IpLiteral.parse(host);
    }

    @Override
    public void close() {
        lookups.shutdownNow();
    }
}
