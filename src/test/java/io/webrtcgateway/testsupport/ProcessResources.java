package io.webrtcgateway.testsupport;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;

/**
 * What a process holds, read from Linux's /proc, for leak checks: its thread count, open files, the UDP
 * ports of its sockets (a call's RTP and ICE ports) and its TCP connections on a port. Sockets are matched by inode: the process's fd links
 * ("socket:[inode]") against the socket tables of its network namespace ({@code /proc/<pid>/net/udp},
 * {@code udp6}).
 */
public final class ProcessResources {

    private ProcessResources() {}

    /** "Threads:" of /proc/&lt;pid&gt;/status. */
    public static int threads(long pid) {
        for (String line : read(Path.of("/proc", String.valueOf(pid), "status"))) {
            if (line.startsWith("Threads:")) {
                return Integer.parseInt(line.substring("Threads:".length()).trim());
            }
        }
        throw new IllegalStateException("no Threads: line for pid " + pid);
    }

    /**
     * The process's threads counted by name, digits left out ("qtp123-45" and "qtp123-46" count as "qtp-"):
     * for a leak check's message, which names the pool that grew. Names are Linux's 15-character comm.
     */
    public static java.util.SortedMap<String, Integer> threadNames(long pid) {
        java.util.SortedMap<String, Integer> names = new java.util.TreeMap<>();
        try (Stream<Path> tasks = Files.list(Path.of("/proc", String.valueOf(pid), "task"))) {
            for (Path task : tasks.toList()) {
                try {
                    String name = Files.readString(task.resolve("comm")).trim().replaceAll("[0-9]+", "");
                    names.merge(name, 1, Integer::sum);
                } catch (NoSuchFileException gone) {
                    // the thread ended while listed
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list the threads of " + pid, e);
        }
        return names;
    }

    /**
     * Pools that grow under load and give idle threads back only after a keep-alive of about a minute: Jetty's
     * request threads (bounded by its maximum), ice4j's agent executors and STUN client, the DTLS handshake
     * pool. A leak check right after an attack sees them high without anything being wrong.
     */
    public static final Set<String> ELASTIC_POOLS = Set.of("qtp-", "icej.Agent-exe", "icej.StunClien", "dtls-handshake-");

    /**
     * The thread names of {@code now} (from {@link #threadNames}) that have more threads than in {@code baseline},
     * with how many more, the {@link #ELASTIC_POOLS} left out: threads someone started and never ended.
     */
    public static java.util.SortedMap<String, Integer> threadsGrown(java.util.Map<String, Integer> baseline,
                                                                   java.util.Map<String, Integer> now) {
        java.util.SortedMap<String, Integer> grown = new java.util.TreeMap<>();
        now.forEach((name, n) -> {
            int more = n - baseline.getOrDefault(name, 0);
            if (more > 0 && !ELASTIC_POOLS.contains(name)) {
                grown.put(name, more);
            }
        });
        return grown;
    }

    /** The local ports of the UDP sockets the process has open, sorted (a port bound twice, v4 and v6, once). */
    public static Set<Integer> udpPorts(long pid) {
        Set<String> inodes = socketInodes(pid);
        Set<Integer> ports = new TreeSet<>();
        for (String table : List.of("udp", "udp6")) {
            List<String> lines = read(Path.of("/proc", String.valueOf(pid), "net", table));
            for (String line : lines.subList(Math.min(1, lines.size()), lines.size())) {
                // sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode ...
                String[] f = line.trim().split("\\s+");
                if (f.length > 9 && inodes.contains(f[9])) {
                    String local = f[1];
                    ports.add(Integer.parseInt(local.substring(local.lastIndexOf(':') + 1), 16));
                }
            }
        }
        return ports;
    }

    /** How many UDP sockets the process has open (each v4/v6 socket counted once). */
    public static int udpSocketCount(long pid) {
        Set<String> inodes = socketInodes(pid);
        int count = 0;
        for (String table : List.of("udp", "udp6")) {
            List<String> lines = read(Path.of("/proc", String.valueOf(pid), "net", table));
            for (String line : lines.subList(Math.min(1, lines.size()), lines.size())) {
                String[] f = line.trim().split("\\s+");
                if (f.length > 9 && inodes.contains(f[9])) {
                    count++;
                }
            }
        }
        return count;
    }

    /** How many file descriptors the process has open (sockets included). */
    public static int openFiles(long pid) {
        try (Stream<Path> fds = Files.list(Path.of("/proc", String.valueOf(pid), "fd"))) {
            return (int) fds.count();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list the fds of " + pid, e);
        }
    }

    /**
     * How many TCP connections of the process have {@code localPort} as their local port (accepted on a
     * listening port; the listening socket itself is not counted).
     */
    public static int tcpConnectionsOn(long pid, int localPort) {
        Set<String> inodes = socketInodes(pid);
        int count = 0;
        for (String table : List.of("tcp", "tcp6")) {
            List<String> lines = read(Path.of("/proc", String.valueOf(pid), "net", table));
            for (String line : lines.subList(Math.min(1, lines.size()), lines.size())) {
                // sl local_address rem_address st ...; st 0A = LISTEN
                String[] f = line.trim().split("\\s+");
                if (f.length > 9 && inodes.contains(f[9]) && !f[3].equals("0A")) {
                    String local = f[1];
                    if (Integer.parseInt(local.substring(local.lastIndexOf(':') + 1), 16) == localPort) {
                        count++;
                    }
                }
            }
        }
        return count;
    }

    /**
     * Bytes the kernel holds unsent on the TCP connection from local port {@code localPort} to remote port
     * {@code remotePort} (tx_queue of {@code /proc/<pid>/net/tcp}, {@code tcp6}): more than 0 for long means
     * the peer does not read. -1 when there is no such connection.
     */
    public static long tcpSendQueue(long pid, int localPort, int remotePort) {
        for (String table : List.of("tcp", "tcp6")) {
            List<String> lines = read(Path.of("/proc", String.valueOf(pid), "net", table));
            for (String line : lines.subList(Math.min(1, lines.size()), lines.size())) {
                // sl local_address rem_address st tx_queue:rx_queue ...
                String[] f = line.trim().split("\\s+");
                if (f.length > 4 && port(f[1]) == localPort && port(f[2]) == remotePort) {
                    return Long.parseLong(f[4].substring(0, f[4].indexOf(':')), 16);
                }
            }
        }
        return -1;
    }

    private static int port(String hexAddress) {
        return Integer.parseInt(hexAddress.substring(hexAddress.lastIndexOf(':') + 1), 16);
    }

    private static Set<String> socketInodes(long pid) {
        Set<String> inodes = new HashSet<>();
        Path fds = Path.of("/proc", String.valueOf(pid), "fd");
        try (Stream<Path> links = Files.list(fds)) {
            for (Path link : (Iterable<Path>) links::iterator) {
                try {
                    String target = Files.readSymbolicLink(link).toString();
                    if (target.startsWith("socket:[")) {
                        inodes.add(target.substring("socket:[".length(), target.length() - 1));
                    }
                } catch (NoSuchFileException closedMeanwhile) {
                    // the fd was closed while we listed
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + fds, e);
        }
        return inodes;
    }

    private static List<String> read(Path file) {
        try {
            return Files.readAllLines(file);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file, e);
        }
    }
}
